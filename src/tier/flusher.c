/*
 * flusher.c - the timer of a store's flush: a thread per read-write store calls its flush
 * (the api layer's: frames put through the cache, then access counts) every interval once the
 * first access was counted. reel_flush(), reel_close() and the cache's sink call the same
 * flush directly (src/api/store.c).
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "base/clock.h"
#include "base/error.h"
#include "tier/flusher.h"

struct reel__flusher {
    pthread_mutex_t lock;
    pthread_mutex_t run; /* held while flush runs, and by reel__flusher_hold */
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
    pthread_mutex_init(&f->run, NULL);
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
        pthread_mutex_lock(&f->run);
        f->flush(f->ctx); /* a failure keeps the counts for the next round */
        pthread_mutex_unlock(&f->run);
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
    pthread_mutex_destroy(&f->run);
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

void reel__flusher_hold(reel__flusher *f, int on)
{
    if (!f)
        return;
    if (on)
        pthread_mutex_lock(&f->run);
    else
        pthread_mutex_unlock(&f->run);
}
