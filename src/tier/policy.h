/* policy.h - what one sequence may keep in the RAM tier (policy.c). */
#ifndef REEL_TIER_POLICY_H
#define REEL_TIER_POLICY_H

#include "base/common.h"

/* After a get of frame idx of q: keep the sequence's policy (cheap without one). */
REEL__HIDDEN void reel__policy_after_get(reel_seq *q, int64_t idx);

#endif
