/*
 * prefetch.c - read-ahead and batch iteration.
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

#include "internal.h"

#define QCAP 1024
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
    reel__prefetch *p = calloc(1, sizeof *p);
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
        j.seq->ra_inflight++;
        p->inflight++;
        pthread_mutex_unlock(&p->lock);

        s = j.seq->store;
        ref = (reel__frame_ref){j.seq, j.idx};
        reel__seq_pin_req(j.seq, j.idx, &ref, &r);
        if (reel__cache_pin(s->cache, &r, REEL__PIN_PREFETCH, &pinned) == REEL_OK)
            reel__cache_unpin(s->cache, pinned.entry, 0);

        pthread_mutex_lock(&p->lock);
        j.seq->ra_inflight--;
        p->inflight--;
        pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Queue [first, first + n) of seq (lock held); starts the workers on first use. */
static void enqueue_locked(reel__prefetch *p, reel_seq *seq, int64_t first, int64_t n, int step)
{
    int64_t k;
    while (p->nthreads < atomic_load(&p->workers) &&
           pthread_create(&p->threads[p->nthreads], NULL, worker, p) == 0)
        p->nthreads++;
    if (p->nthreads == 0)
        return;
    for (k = 0; k < n && p->count < QCAP; k++) {
        int64_t idx = first + k * step;
        if (idx < 0)
            break;
        p->queue[(p->head + p->count) % QCAP] = (job){seq, idx};
        p->count++;
    }
    pthread_cond_broadcast(&p->work);
}

int reel_seq_prefetch(reel_seq *seq, int64_t first, size_t count)
{
    reel__prefetch *p;
    if (reel__seq_check(seq) != REEL_OK)
        return reel__err(REEL_MISUSE, "reel_seq_prefetch: NULL or closed sequence");
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
    /* refill when the reader is within half a window of what was queued */
    if ((idx - ra.frontier) * dir + window / 2 < 0)
        return;
    {
        int64_t from = dir > 0 ? (ra.frontier > idx ? ra.frontier : idx) + 1
                               : (ra.frontier < idx ? ra.frontier : idx) - 1;
        int64_t to = idx + (int64_t)window * dir;
        int64_t n = (to - from) * dir + 1;
        if (n <= 0)
            return;
        pthread_mutex_lock(&p->lock);
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
    while (seq->ra_inflight > 0)
        pthread_cond_wait(&p->idle, &p->lock);
    pthread_mutex_unlock(&p->lock);
    if (ra.seq == seq)
        ra.seq = NULL;
}

int reel_store_set_readahead(reel_store *s, int workers, int window)
{
    reel__prefetch *p;
    if (reel__store_check(s) != REEL_OK)
        return REEL_MISUSE;
    if (workers < 0 || workers > MAX_WORKERS || window < 1 || window > QCAP / 2)
        return reel__err(REEL_INVALID, "read-ahead: workers 0..%d, window 1..%d", MAX_WORKERS,
                         QCAP / 2);
    p = s->prefetch;
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
    if (reel__seq_check(seq) != REEL_OK)
        return reel__err(REEL_MISUSE, "reel_seq_prefetch_wait: NULL or closed sequence");
    p = seq->store->prefetch;
    until = reel__deadline(timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&p->lock);
    while (rc == REEL_OK && (seq->ra_inflight > 0 || queued_locked(p, seq) > 0))
        if (timeout_ms < 0)
            pthread_cond_wait(&p->idle, &p->lock);
        else if (pthread_cond_timedwait(&p->idle, &p->lock, &until) != 0)
            rc = REEL_BUSY;
    pthread_mutex_unlock(&p->lock);
    return rc == REEL_OK ? REEL_OK
                         : reel__err(REEL_BUSY, "sequence '%s': read-ahead still running after "
                                                "%d ms",
                                     seq->name, timeout_ms);
}

void reel__prefetch_quiesce(reel__prefetch *p)
{
    pthread_mutex_lock(&p->lock);
    p->count = 0;
    while (p->inflight > 0)
        pthread_cond_wait(&p->idle, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

int reel_seq_foreach(reel_seq *seq, int64_t first, int64_t count, size_t batch,
                     reel_foreach_fn cb, void *ctx, unsigned flags)
{
    reel_frame **frames;
    int64_t *idx, total, end, at;
    size_t k;
    int rc = REEL_OK;
    if (reel__seq_check(seq) != REEL_OK || !cb)
        return reel__err(REEL_MISUSE, "reel_seq_foreach: NULL or closed argument");
    if (first < 0 || batch == 0 || batch > QCAP / 2 || (flags & ~(unsigned)REEL_FOREACH_RELEASE))
        return reel__err(REEL_INVALID, "reel_seq_foreach: first >= 0, batch 1..%d, known flags",
                         QCAP / 2);
    if ((rc = reel_seq_frame_count(seq, &total)) != REEL_OK)
        return rc;
    end = count < 0 || first + count > total ? total : first + count;
    frames = malloc(batch * sizeof *frames);
    idx = malloc(batch * sizeof *idx);
    if (!frames || !idx) {
        free(frames);
        free(idx);
        return reel__err(REEL_NOMEM, "out of memory");
    }
    for (at = first; at < end && rc == REEL_OK; at += (int64_t)batch) {
        size_t n = (size_t)(end - at < (int64_t)batch ? end - at : (int64_t)batch);
        if (at + (int64_t)n < end) /* the next batch loads while the callback works */
            reel_seq_prefetch(seq, at + (int64_t)n,
                              (size_t)(end - at - (int64_t)n < (int64_t)batch
                                           ? end - at - (int64_t)n
                                           : (int64_t)batch));
        for (k = 0; k < n; k++)
            idx[k] = at + (int64_t)k;
        if ((rc = reel_frames_get(seq, idx, n, 0, frames)) != REEL_OK)
            break;
        rc = cb(ctx, frames, n);
        if (flags & REEL_FOREACH_RELEASE)
            reel_frames_release(frames, n);
    }
    free(frames);
    free(idx);
    return rc;
}

/* Load the frames of idx[] (most accessed first) into the cache, least accessed first. */
static size_t warm(reel_seq *q, const int64_t *idx, size_t n)
{
    reel_store *s = q->store;
    size_t loaded = 0;
    while (n-- > 0) {
        reel__frame_ref ref = {q, idx[n]};
        reel__pin_req r;
        reel__pinned pinned;
        reel__seq_pin_req(q, idx[n], &ref, &r);
        if (reel__cache_pin(s->cache, &r, REEL__PIN_PREFETCH, &pinned) != REEL_OK)
            break; /* no room left (or a frame that does not load) */
        reel__cache_unpin(s->cache, pinned.entry, 0);
        loaded++;
    }
    return loaded;
}

int reel_seq_open_warm(reel_store *s, const char *name, double share, reel_seq **out,
                       size_t *loaded)
{
    reel_seq *q;
    int64_t *idx = NULL;
    size_t budget = 0, limit, n = 0;
    int rc;
    if (!(share >= 0.0 && share <= 1.0)) /* NaN too */
        return reel__err(REEL_INVALID, "reel_seq_open_warm: share %g is not in 0..1", share);
    if ((rc = reel_seq_open(s, name, out)) != REEL_OK)
        return rc;
    q = *out;
    reel_cache_get_budget(s->cache, &budget);
    limit = (size_t)((double)budget * share) / (q->frame_size + REEL_CACHE_ENTRY_OVERHEAD);
    if (limit > 0 && !(idx = malloc(limit * sizeof *idx)))
        rc = reel__err(REEL_NOMEM, "out of memory");
    if (rc == REEL_OK && limit > 0)
        rc = reel__access_top(s, q->id, limit, idx, &n);
    if (rc == REEL_OK) {
        n = warm(q, idx, n);
        if (loaded)
            *loaded = n;
    }
    free(idx);
    if (rc != REEL_OK) {
        reel_seq_close(q);
        *out = NULL;
    }
    return rc;
}
