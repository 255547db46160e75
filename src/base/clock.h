/* clock.h - the clocks libreel reads (clock.c). */
#ifndef REEL_BASE_CLOCK_H
#define REEL_BASE_CLOCK_H

#include <time.h>

#include "base/common.h"

/* Wall-clock Unix milliseconds, coarse (a few ms) and cheap: access times. */
REEL__HIDDEN int64_t reel__now_ms(void);
/* Monotonic milliseconds, coarse and cheap: intervals of policies and pressure. */
REEL__HIDDEN int64_t reel__mono_ms(void);
/* Monotonic seconds, precise: import timing. */
REEL__HIDDEN double reel__seconds(void);
/* Monotonic nanoseconds, precise: load times. */
REEL__HIDDEN uint64_t reel__mono_ns(void);
/* The CLOCK_REALTIME deadline ms milliseconds from now, for pthread_cond_timedwait. */
REEL__HIDDEN struct timespec reel__deadline(int ms);

#endif
