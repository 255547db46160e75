/* pressure.h - the memory-pressure monitor of a cache (pressure.c). Public entry points only
 * (reel_cache_default, reel_cache_monitor_pressure, reel_cache_stop_pressure_monitor). */
#ifndef REEL_TIER_PRESSURE_H
#define REEL_TIER_PRESSURE_H

#include "base/common.h"

/* The default cache's budget until changed. */
#define REEL__DEFAULT_CACHE_BUDGET ((size_t)1 << 30)

#endif
