/* prefetch.h - read-ahead (prefetch.c): a store's workers loading frames ahead of a
 * sequential reader, or a range asked for. */
#ifndef REEL_TIER_PREFETCH_H
#define REEL_TIER_PREFETCH_H

#include "base/common.h"

typedef struct reel__prefetch reel__prefetch;

/* What read-ahead keeps per sequence handle (its reel_seq holds it; under the store's
 * read-ahead lock). */
typedef struct reel__raseq {
    int inflight; /* loads running on the handle */
} reel__raseq;

REEL__HIDDEN reel__prefetch *reel__prefetch_new(void);
REEL__HIDDEN void reel__prefetch_free(reel__prefetch *p);
/* Called by every successful get: detects sequential reading on this thread, queues ahead. */
REEL__HIDDEN void reel__prefetch_saw(reel_seq *seq, int64_t idx);
/* Before a sequence handle goes: drop its queued loads, wait for those in flight. */
REEL__HIDDEN void reel__prefetch_forget(reel_seq *seq);
/* Drop every queued load and wait for those in flight (before the store changes cache). */
REEL__HIDDEN void reel__prefetch_quiesce(reel__prefetch *p);
/* Workers (0..16) and window (1..512); REEL_INVALID otherwise. */
REEL__HIDDEN int reel__prefetch_configure(reel__prefetch *p, int workers, int window);
/* The most frames one request may ask for. */
#define REEL__PREFETCH_MAX 1024

#endif
