/* pins.c - the round-robin assignment of spread-count slots to threads. */
#include "config.h"

#include "base/pins.h"

int reel__pins_next_slot(void)
{
    static atomic_int next;
    return atomic_fetch_add(&next, 1) % REEL__PIN_SLOTS;
}
