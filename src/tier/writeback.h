/* writeback.h - frames put through the RAM tier (reel_frame_put) and their write-back
 * (writeback.c). Locks: the writer lock, then the queue lock, then the cache's shard locks. */
#ifndef REEL_TIER_WRITEBACK_H
#define REEL_TIER_WRITEBACK_H

#include <stdatomic.h>

#include "base/common.h"

typedef struct reel__wb reel__wb; /* a store's queue */

/* What one sequence handle has queued (under the queue lock). */
typedef struct reel__wbseq {
    int64_t next;     /* index of the next put; valid while pending > 0 */
    int64_t last_pts;
    int have_last;
    atomic_size_t pending; /* written under the queue lock; read without it to skip the lock */
} reel__wbseq;

REEL__HIDDEN reel__wb *reel__wb_new(void);
REEL__HIDDEN void reel__wb_free(reel__wb *w);
/* Write the queued frames of the store (only != NULL: of that sequence handle only); the
 * caller holds the writer lock. The first error is returned; what failed stays queued. */
REEL__HIDDEN int reel__wb_flush_locked(reel_store *s, reel_seq *only);
/* Forget the queued frames of a removed sequence (writer lock held). */
REEL__HIDDEN void reel__wb_forget_locked(reel_store *s, int64_t seq);
/* Non-zero when q has frames waiting for write-back (idx < 0: any; else that one). */
REEL__HIDDEN int reel__wb_pending(reel_seq *q, int64_t idx);

#endif
