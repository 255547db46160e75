/* pins.c - the calling thread's slot of a spread count. */
#include "config.h"

#include "base/pins.h"

int reel__pins_slot(void)
{
    static atomic_int next;
    static _Thread_local int slot = -1;
    if (slot < 0)
        slot = atomic_fetch_add(&next, 1) % REEL__PIN_SLOTS;
    return slot;
}
