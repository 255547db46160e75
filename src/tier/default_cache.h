/* default_cache.h - the process's default cache (default_cache.c): reel_cache_default(), the
 * one piece of process-wide state DESIGN allows, shared by every store opened without a cache
 * of its own. */
#ifndef REEL_TIER_DEFAULT_CACHE_H
#define REEL_TIER_DEFAULT_CACHE_H

#include "base/common.h"

/* The default cache's budget until changed. */
#define REEL__DEFAULT_CACHE_BUDGET ((size_t)1 << 30)

#endif
