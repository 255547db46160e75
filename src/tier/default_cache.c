/*
 * default_cache.c - the process's default cache: made on first use with a memory-pressure
 * monitor (pressure.c) so that it gives memory back when the system runs short, and never
 * freed (reel_cache_free refuses it). One made in a parent before fork() is the parent's (its
 * monitor thread did not follow, its locks may be held): a child gets a new one.
 */
#include "config.h"

#include <pthread.h>

#include "base/fork.h"
#include "cache/cache.h"
#include "tier/default_cache.h"

static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static reel_cache *default_cache;
static unsigned default_forks;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

/* held across fork() after the database gate's uses end: reel_open, inside one, takes it */
static void default_install(void) { reel__fork_hold(&default_lock); }

static reel_cache *default_make(void)
{
    reel_cache *c;
    if (reel_cache_new(REEL__DEFAULT_CACHE_BUDGET, &c) != REEL_OK)
        return NULL;
    reel__cache_mark_default(c);
    reel_cache_start_pressure_monitor(c, NULL); /* without a monitor it still works, as any cache */
    return c;
}

reel_cache *reel_cache_default(void)
{
    reel_cache *c;
    pthread_once(&default_once, default_install);
    pthread_mutex_lock(&default_lock);
    if (!default_cache || default_forks != reel__fork_generation()) {
        default_cache = default_make();
        default_forks = reel__fork_generation();
    }
    c = default_cache;
    pthread_mutex_unlock(&default_lock);
    return c;
}
