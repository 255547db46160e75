/* policy.h - what one sequence may keep in the RAM tier (policy.c). */
#ifndef REEL_TIER_POLICY_H
#define REEL_TIER_POLICY_H

#include "tier/handles.h"

/* After a get of frame idx of q: keep the sequence's policy (policy.c). */
REEL__HIDDEN void reel__policy_keep(reel_seq *q, int64_t idx);
/* The same, inline for the common case of a sequence without a policy: one flag read. */
static inline void reel__policy_after_get(reel_seq *q, int64_t idx)
{
    if (q->pol && atomic_load_explicit(&q->pol->active, memory_order_relaxed))
        reel__policy_keep(q, idx);
}

#endif
