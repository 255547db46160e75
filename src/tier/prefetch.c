/*
 * prefetch.c - read-ahead.
 *
 * Each store has a few read-ahead workers (1 by default) and a bounded queue of frames to load
 * into its cache. Detection is per thread: a thread reading a sequence one index after another
 * (forward or backward) for two steps gets the next `window` frames queued, and again whenever
 * it comes within half a window of what was queued, so prefetching stops when the reader
 * stops. Workers take the newest request first, which is the farthest ahead: a reader that
 * outruns them loads the frames next to it itself while they load further on, so a scan runs
 * on two threads instead of waiting behind the worker frame by frame. Workers load without
 * keeping pins (the frame is released at once, within the budget like any other) and never
 * block a reader: a full queue drops requests.
 * reel_seq_close() takes a sequence's requests out of the queue and waits for the ones in
 * flight, so no worker ever touches a closed sequence.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/error.h"
#include "tier/handles.h"
#include "tier/prefetch.h"

#define QCAP REEL__PREFETCH_MAX
#define MAX_WORKERS 16

typedef struct job {
    reel_seq *seq;
    int64_t idx;
} job;

struct reel__prefetch {
    pthread_mutex_t lock;
    pthread_cond_t work, idle;
    job queue[QCAP];
    size_t head, count;
    pthread_t threads[MAX_WORKERS];
    int nthreads, stop;
    int inflight;             /* loads running, all sequences */
    atomic_int workers, window; /* read by readers without the lock */
};

reel__prefetch *reel__prefetch_new(void)
{
    reel__prefetch *p = reel__calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    p->workers = 1;
    p->window = 8;
    return p;
}

static void stop_workers(reel__prefetch *p)
{
    int i, n;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    n = p->nthreads;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (i = 0; i < n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_lock(&p->lock);
    p->nthreads = 0;
    p->stop = 0;
    pthread_mutex_unlock(&p->lock);
}

void reel__prefetch_free(reel__prefetch *p)
{
    if (!p)
        return;
    stop_workers(p);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->idle);
    free(p);
}

static void *worker(void *arg)
{
    reel__prefetch *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        job j;
        reel__pinned pinned;
        reel__frame_ref ref;
        reel__pin_req r;
        reel_store *s;
        while (!p->stop && p->count == 0)
            pthread_cond_wait(&p->work, &p->lock);
        if (p->stop)
            break;
        j = p->queue[(p->head + p->count - 1) % QCAP]; /* the newest: the farthest ahead */
        p->count--;
        j.seq->ra.inflight++;
        p->inflight++;
        pthread_mutex_unlock(&p->lock);

        s = j.seq->store;
        ref = (reel__frame_ref){j.seq, j.idx};
        reel__seq_pin_req(j.seq, j.idx, &ref, &r);
        if (reel__cache_pin(s->cache, &r, REEL__PIN_PREFETCH, &pinned) == REEL_OK)
            reel__cache_unpin(s->cache, pinned.entry, 0);

        pthread_mutex_lock(&p->lock);
        j.seq->ra.inflight--;
        p->inflight--;
        pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Queue n indexes of seq from first, step +1 or -1 (lock held), none below 0 or past
 * INT64_MAX; starts the workers on first use. */
static void enqueue_locked(reel__prefetch *p, reel_seq *seq, int64_t first, int64_t n, int step)
{
    int64_t k;
    while (p->nthreads < atomic_load(&p->workers) &&
           pthread_create(&p->threads[p->nthreads], NULL, worker, p) == 0)
        p->nthreads++;
    if (p->nthreads == 0)
        return;
    for (k = 0; k < n && p->count < QCAP; k++) {
        if (step > 0 ? first > INT64_MAX - k : first < k)
            break;
        p->queue[(p->head + p->count) % QCAP] = (job){seq, first + k * step};
        p->count++;
    }
    pthread_cond_broadcast(&p->work);
}

int reel_seq_prefetch(reel_seq *seq, int64_t first, size_t count)
{
    reel__prefetch *p;
    if (reel__seq_check(seq, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (first < 0 || count > QCAP)
        return reel__err(REEL_INVALID, "reel_seq_prefetch: range must start >= 0 and hold at "
                                       "most %d frames",
                         QCAP);
    p = seq->store->prefetch;
    pthread_mutex_lock(&p->lock);
    enqueue_locked(p, seq, first, (int64_t)count, 1);
    pthread_mutex_unlock(&p->lock);
    return REEL_OK;
}

/* Per-thread detection of sequential reading. */
static _Thread_local struct {
    const reel_seq *seq;
    uint64_t store;
    int64_t last, frontier;
    int run, dir;
} ra;

void reel__prefetch_saw(reel_seq *seq, int64_t idx)
{
    reel__prefetch *p = seq->store->prefetch;
    int dir, window;
    if (ra.seq != seq || ra.store != seq->store->serial) {
        ra.seq = seq;
        ra.store = seq->store->serial;
        ra.run = 0;
        ra.last = idx;
        return;
    }
    dir = idx == ra.last + 1 ? 1 : idx == ra.last - 1 ? -1 : 0;
    ra.last = idx;
    if (dir == 0 || dir != ra.dir) {
        ra.dir = dir;
        ra.run = dir != 0;
        ra.frontier = idx;
        return;
    }
    if (++ra.run < 2 || atomic_load_explicit(&p->workers, memory_order_relaxed) == 0)
        return;
    window = atomic_load_explicit(&p->window, memory_order_relaxed);
    if (seq->rec.codec == REEL_CODEC_TEMPORAL && dir > 0 && window < 2 * seq->rec.keyint)
        window = 2 * seq->rec.keyint;
    /* refill when the reader is within half a window of what was queued */
    if ((idx - ra.frontier) * dir + window / 2 < 0)
        return;
    {
        int64_t from = dir > 0 ? (ra.frontier > idx ? ra.frontier : idx) + 1
                               : (ra.frontier < idx ? ra.frontier : idx) - 1;
        int64_t to = idx + (int64_t)window * dir, n;
        /* A temporal scan: the reader decodes the rest of its chain itself, one frame on the
         * next; the workers start where the next chain starts, which needs no reference, and
         * go up it in order (queued from the top: they take the newest first), each frame's
         * reference the one they loaded just before. */
        int temporal = seq->rec.codec == REEL_CODEC_TEMPORAL && dir > 0;
        if (temporal && from <= idx - idx % seq->rec.keyint + seq->rec.keyint - 1)
            from = idx - idx % seq->rec.keyint + seq->rec.keyint;
        n = (to - from) * dir + 1;
        if (n <= 0)
            return;
        pthread_mutex_lock(&p->lock);
        if (temporal)
            enqueue_locked(p, seq, to, n, -1);
        else
            enqueue_locked(p, seq, from, n, dir);
        pthread_mutex_unlock(&p->lock);
        ra.frontier = to;
    }
}

void reel__prefetch_forget(reel_seq *seq)
{
    reel__prefetch *p = seq->store->prefetch;
    size_t i, kept = 0;
    job *q = p->queue;
    pthread_mutex_lock(&p->lock);
    for (i = 0; i < p->count; i++) {
        job j = q[(p->head + i) % QCAP];
        if (j.seq != seq)
            q[(p->head + kept++) % QCAP] = j;
    }
    p->count = kept;
    while (seq->ra.inflight > 0)
        pthread_cond_wait(&p->idle, &p->lock);
    pthread_mutex_unlock(&p->lock);
    if (ra.seq == seq)
        ra.seq = NULL;
}

int reel__prefetch_configure(reel__prefetch *p, int workers, int window)
{
    if (workers < 0 || workers > MAX_WORKERS || window < 1 || window > QCAP / 2)
        return reel__err(REEL_INVALID, "read-ahead: workers 0..%d, window 1..%d", MAX_WORKERS,
                         QCAP / 2);
    stop_workers(p); /* restarted on demand with the new count */
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->workers, workers);
    atomic_store(&p->window, window);
    if (workers == 0)
        p->count = 0;
    pthread_mutex_unlock(&p->lock);
    return REEL_OK;
}

/* Requests of seq still queued (lock held). */
static size_t queued_locked(reel__prefetch *p, const reel_seq *seq)
{
    size_t i, n = 0;
    for (i = 0; i < p->count; i++)
        n += p->queue[(p->head + i) % QCAP].seq == seq;
    return n;
}

int reel_seq_prefetch_wait(reel_seq *seq, int timeout_ms)
{
    reel__prefetch *p;
    struct timespec until;
    int rc = REEL_OK;
    if (reel__seq_check(seq, __func__) != REEL_OK)
        return REEL_MISUSE;
    p = seq->store->prefetch;
    until = reel__deadline(timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&p->lock);
    while (rc == REEL_OK && (seq->ra.inflight > 0 || queued_locked(p, seq) > 0))
        if (timeout_ms < 0)
            pthread_cond_wait(&p->idle, &p->lock);
        else if (pthread_cond_timedwait(&p->idle, &p->lock, &until) != 0)
            rc = REEL_BUSY;
    pthread_mutex_unlock(&p->lock);
    return rc == REEL_OK ? REEL_OK
                         : reel__err(REEL_BUSY, "sequence '%s': read-ahead still running after "
                                                "%d ms",
                                     seq->rec.name, timeout_ms);
}

void reel__prefetch_quiesce(reel__prefetch *p)
{
    pthread_mutex_lock(&p->lock);
    p->count = 0;
    while (p->inflight > 0)
        pthread_cond_wait(&p->idle, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
