/* interrupt.h - the process's interrupt flag (interrupt.c): reel_interrupt() sets it, long
 * remote operations poll it. */
#ifndef REEL_BASE_INTERRUPT_H
#define REEL_BASE_INTERRUPT_H

#include "base/common.h"

/* Nonzero while the process's interrupt flag is set (cheap: one atomic load). */
REEL__HIDDEN int reel__interrupted(void);

#endif
