/* flusher.h - the timer of a store's flush (flusher.c): a thread, started by the first counted
 * access, calling the flush it was given every interval. */
#ifndef REEL_TIER_FLUSHER_H
#define REEL_TIER_FLUSHER_H

#include "base/common.h"

typedef struct reel__flusher reel__flusher;

/* A flusher calling flush(ctx) every interval once started (default 5000 ms). */
REEL__HIDDEN reel__flusher *reel__flusher_new(int (*flush)(void *ctx), void *ctx);
/* Start the thread if it is not running (cheap when it is). */
REEL__HIDDEN void reel__flusher_start(reel__flusher *f);
/* Stop the thread and free. NULL is accepted. */
REEL__HIDDEN void reel__flusher_free(reel__flusher *f);
/* 0: only explicit flushes. */
REEL__HIDDEN void reel__flusher_set_interval(reel__flusher *f, int ms);
/* on: wait until no flush of f's runs and keep the next from starting; 0: let them run again.
 * For changes to what the flush reads (a store moving to another cache). f may be NULL. */
REEL__HIDDEN void reel__flusher_hold(reel__flusher *f, int on);

#endif
