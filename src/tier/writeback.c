/*
 * writeback.c - frames put through the RAM tier (reel_frame_put) and their write-back.
 *
 * A put copies the frame into the store's cache as a dirty entry (readable at once, never
 * evicted while dirty) and queues it here. The queue is written to the store, in one
 * transaction per sequence, when it reaches the batch size, on reel_flush() (and so on the
 * flusher's timer, reel_cache_trim() and reel_cache_report_pressure()), before reel_seq_close() and
 * whenever the cache needs the room its dirty frames take. Entries become clean (evictable)
 * only after their transaction committed, so a frame leaves memory only once it is stored.
 *
 * Locks: the writer lock, then the queue lock, then the cache's shard locks.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "store/frame.h"
#include "tier/flusher.h"
#include "tier/handles.h"
#include "tier/writeback.h"

#define DEFAULT_BATCH 32
#define MAX_BATCH 4096

typedef struct pending {
    reel_seq *q;
    void *entry;      /* the dirty cache entry, holding the pixels */
    reel_frame_in in; /* metadata; in.pixels points into the entry */
} pending;

struct reel__wb {
    pthread_mutex_t lock;
    pending *v;
    size_t n, cap, batch;
};

reel__wb *reel__wb_new(void)
{
    reel__wb *w = reel__calloc(1, sizeof *w);
    if (!w)
        return NULL;
    pthread_mutex_init(&w->lock, NULL);
    w->batch = DEFAULT_BATCH;
    return w;
}

void reel__wb_free(reel__wb *w)
{
    if (!w)
        return;
    pthread_mutex_destroy(&w->lock);
    free(w->v);
    free(w);
}

int reel__wb_pending(reel_seq *q, int64_t idx)
{
    reel__wb *w = q->store->wb;
    int yes;
    if (!w || atomic_load_explicit(&q->wb.pending, memory_order_acquire) == 0)
        return 0; /* the common case, without the lock */
    pthread_mutex_lock(&w->lock);
    yes = q->wb.pending > 0 &&
          (idx < 0 || (idx < q->wb.next && idx >= q->wb.next - (int64_t)q->wb.pending));
    pthread_mutex_unlock(&w->lock);
    return yes;
}

/* Write the queued frames of q (queue locked); they leave the queue on success. */
static int flush_seq(reel_store *s, reel__wb *w, reel_seq *q)
{
    reel_frame_in *in;
    size_t *stored, n = 0, i, k;
    reel__append a;
    int rc;
    if (q->wb.pending == 0)
        return REEL_OK;
    if (!(in = reel__malloc(q->wb.pending * sizeof *in)) ||
        !(stored = reel__malloc(q->wb.pending * sizeof *stored))) {
        free(in);
        return reel__err(REEL_NOMEM, "out of memory writing back %zu frames",
                         (size_t)q->wb.pending);
    }
    for (i = 0; i < w->n; i++)
        if (w->v[i].q == q)
            in[n++] = w->v[i].in;
    memset(&a, 0, sizeof a);
    a.q = &q->rec;
    a.raw = in;
    a.n = n;
    a.expect = q->wb.next - (int64_t)n;
    a.stored = stored;
    reel__seq_ref_offer(q, &a);
    rc = reel__frames_append_locked(s->db, &a);
    if (rc == REEL_OK) {
        reel__seq_ref_keep(q, &a);
        for (i = k = n = 0; i < w->n; i++) {
            if (w->v[i].q == q)
                reel__cache_clean(s->cache, w->v[i].entry, stored[n++]);
            else
                w->v[k++] = w->v[i];
        }
        w->n = k;
        q->wb.pending = 0;
    }
    free(in);
    free(stored);
    return rc;
}

/* Every sequence with queued frames is tried once, in queue order, even after one fails: a
 * sequence whose frames cannot be written does not hold back the others. */
int reel__wb_flush_locked(reel_store *s, reel_seq *only)
{
    reel__wb *w = s->wb;
    reel_seq **seqs = NULL;
    size_t i, k, m = 0;
    int rc = REEL_OK, r;
    if (!w)
        return REEL_OK;
    pthread_mutex_lock(&w->lock);
    if (only) {
        rc = flush_seq(s, w, only);
    } else if (w->n > 0 && !(seqs = reel__malloc(w->n * sizeof *seqs))) {
        rc = reel__err(REEL_NOMEM, "out of memory writing back frames");
    } else {
        for (i = 0; i < w->n; i++) { /* the distinct sequences, in queue order */
            for (k = 0; k < m && seqs[k] != w->v[i].q; k++)
                ;
            if (k == m)
                seqs[m++] = w->v[i].q;
        }
        for (k = 0; k < m; k++)
            if ((r = flush_seq(s, w, seqs[k])) != REEL_OK && rc == REEL_OK)
                rc = r;
    }
    pthread_mutex_unlock(&w->lock);
    free(seqs);
    return rc;
}

void reel__wb_forget_locked(reel_store *s, int64_t seq)
{
    reel__wb *w = s->wb;
    size_t i, k = 0;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    for (i = 0; i < w->n; i++) {
        if (w->v[i].q->rec.id == seq)
            w->v[i].q->wb.pending = 0; /* the entries go with the cache purge that follows */
        else
            w->v[k++] = w->v[i];
    }
    w->n = k;
    pthread_mutex_unlock(&w->lock);
}

/* Where the sequence ends, to number the first put after a write-back (queue locked). */
static int find_end(reel_seq *q)
{
    reel_frame_info last;
    reel_seq_info info;
    int rc = reel__seq_info(q->store->db, &q->rec, &info);
    if (rc != REEL_OK)
        return rc;
    q->wb.next = info.frame_count;
    q->wb.have_last = 0;
    if (info.frame_count > 0) {
        if ((rc = reel__frame_info(q->store->db, &q->rec, info.frame_count - 1, &last)) != REEL_OK)
            return rc;
        q->wb.last_pts = last.pts;
        q->wb.have_last = 1;
    }
    return REEL_OK;
}

/* Queue f as the next frame of q (queue locked); *full when the batch is complete. */
static int enqueue(reel_seq *q, reel__wb *w, const reel_frame_in *f, int64_t *index, int *full)
{
    reel_store *s = q->store;
    reel_frame_info info;
    reel__pin_req r;
    pending *p;
    int rc;
    if (q->wb.pending == 0 && (rc = find_end(q)) != REEL_OK)
        return rc;
    if (q->wb.have_last && f->pts <= q->wb.last_pts)
        return reel__err(REEL_INVALID,
                         "sequence '%s' frame %lld: pts %lld is not after the previous pts %lld",
                         q->rec.name, (long long)q->wb.next, (long long)f->pts,
                         (long long)q->wb.last_pts);
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        if (!(p = reel__realloc(w->v, cap * sizeof *p)))
            return reel__err(REEL_NOMEM, "out of memory");
        w->v = p;
        w->cap = cap;
    }
    p = &w->v[w->n];
    memset(&info, 0, sizeof info);
    info.index = q->wb.next;
    info.pts = f->pts;
    info.duration = f->duration;
    info.flags = f->flags;
    info.status = f->status;
    reel__seq_pin_req(q, q->wb.next, NULL, &r);
    rc = reel__cache_put_dirty(s->cache, &r, f->pixels, &info, &p->entry);
    if (rc == REEL_EXISTS)
        return reel__err(REEL_MISUSE,
                         "sequence '%s' frame %lld: another handle of this sequence has frames "
                         "waiting for write-back; put through one handle (or flush first)",
                         q->rec.name, (long long)q->wb.next);
    if (rc != REEL_OK)
        return rc;
    p->q = q;
    p->in = *f;
    p->in.pixels = reel__cache_entry_pixels(p->entry);
    w->n++;
    q->wb.pending++;
    q->wb.last_pts = f->pts;
    q->wb.have_last = 1;
    *index = q->wb.next++;
    *full = w->n >= w->batch;
    return REEL_OK;
}

int reel_frame_put(reel_seq *q, const reel_frame_in *f, int64_t *index)
{
    reel_store *s;
    int64_t idx = -1;
    int rc, full = 0;
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!f)
        return reel__null_arg(__func__);
    s = q->store;
    if (!s->wb)
        return reel__err(REEL_READONLY, "reel_frame_put: the store is read-only");
    if ((rc = reel__frame_check(&q->rec, f, 0)) != REEL_OK)
        return rc;
    if (!f->pixels)
        return reel__err(REEL_INVALID, "reel_frame_put: a frame without pixels goes through "
                                       "reel_frame_append");
    pthread_mutex_lock(&s->wb->lock);
    rc = enqueue(q, s->wb, f, &idx, &full);
    pthread_mutex_unlock(&s->wb->lock);
    if (rc != REEL_OK)
        return rc;
    if (index)
        *index = idx;
    reel__flusher_start(s->flusher);
    if (full) { /* a failed batch stays queued for the next try; the put itself succeeded */
        if (reel__writer_lock(s->db) == REEL_OK) {
            reel__wb_flush_locked(s, NULL);
            reel__writer_unlock(s->db);
        }
    }
    reel__cache_fit(s->cache, q->rec.frame_size);
    return REEL_OK;
}

int reel_store_set_writeback(reel_store *s, size_t batch)
{
    if (reel__store_check(s, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (batch < 1 || batch > MAX_BATCH)
        return reel__err(REEL_INVALID, "write-back batch %zu: must be 1..%d", batch, MAX_BATCH);
    if (!s->wb)
        return reel__err(REEL_READONLY, "the store is read-only");
    pthread_mutex_lock(&s->wb->lock);
    s->wb->batch = batch;
    pthread_mutex_unlock(&s->wb->lock);
    return REEL_OK;
}
