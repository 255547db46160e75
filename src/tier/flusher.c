/*
 * flusher.c - what a store holds only in memory goes to its file: frames put through the
 * cache (writeback.c) and access counts (access.c). A thread per read-write store does it
 * every interval once the first access was counted; reel_flush() and reel_close() do it on
 * request; the cache does it (reel__store_sink) before dropping what that state stands behind.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/error.h"
#include "tier/flusher.h"
#include "tier/handles.h"

struct reel__flusher {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    atomic_int started;
    int ms, stop;
    int (*flush)(void *ctx);
    void *ctx;
};

reel__flusher *reel__flusher_new(int (*flush)(void *ctx), void *ctx)
{
    reel__flusher *f = reel__calloc(1, sizeof *f);
    if (!f)
        return NULL;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    f->ms = 5000;
    f->flush = flush;
    f->ctx = ctx;
    return f;
}

static void *flusher_main(void *arg)
{
    reel__flusher *f = arg;
    pthread_mutex_lock(&f->lock);
    while (!f->stop) {
        int ms = f->ms;
        struct timespec until = reel__deadline(ms);
        if (ms <= 0) {
            pthread_cond_wait(&f->cond, &f->lock);
            continue;
        }
        if (pthread_cond_timedwait(&f->cond, &f->lock, &until) == 0)
            continue; /* woken: the interval changed or we stop */
        pthread_mutex_unlock(&f->lock);
        f->flush(f->ctx); /* a failure keeps the counts for the next round */
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

void reel__flusher_start(reel__flusher *f)
{
    if (!f || atomic_load_explicit(&f->started, memory_order_acquire))
        return;
    pthread_mutex_lock(&f->lock);
    if (!atomic_load(&f->started) && !f->stop &&
        pthread_create(&f->thread, NULL, flusher_main, f) == 0)
        atomic_store_explicit(&f->started, 1, memory_order_release);
    pthread_mutex_unlock(&f->lock);
}

void reel__flusher_free(reel__flusher *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    f->stop = 1;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    if (atomic_load(&f->started))
        pthread_join(f->thread, NULL);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    free(f);
}

void reel__flusher_set_interval(reel__flusher *f, int ms)
{
    pthread_mutex_lock(&f->lock);
    f->ms = ms;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

int reel__store_sink(void *store)
{
    reel_store *s = store;
    int rc, r;
    reel__cache_harvest(s->cache, s->serial);
    if (!s->db->wdb && s->counts) /* a published store: counts, into this node's file */
        return reel__access_flush(s->access, s->counts, 0);
    if ((rc = reel__writer_lock(s->db)) != REEL_OK)
        return rc;
    rc = reel__wb_flush_locked(s, NULL);
    if ((r = reel__access_flush(s->access, s->db->wdb, 1)) != REEL_OK && rc == REEL_OK)
        rc = r;
    reel__writer_unlock(s->db);
    return rc;
}

int reel_flush(reel_store *s)
{
    if (reel__store_check(s, __func__) != REEL_OK)
        return REEL_MISUSE;
    return reel__store_sink(s);
}
