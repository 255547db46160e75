/* interrupt.c - the process's interrupt flag. One lock-free atomic, so that reel_interrupt()
 * may be called from a signal handler; polled by long remote operations (each HTTP transfer's
 * progress callback, the waits between retries). */
#include "config.h"

#include <stdatomic.h>

#include "base/interrupt.h"
#include "reel.h"

static atomic_int flag;

void reel_interrupt(int on)
{
    atomic_store_explicit(&flag, on ? 1 : 0, memory_order_relaxed);
}

int reel__interrupted(void)
{
    return atomic_load_explicit(&flag, memory_order_relaxed);
}
