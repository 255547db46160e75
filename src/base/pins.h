/* pins.h - a count that many threads change at once (frame handles not yet released), spread
 * over cache-line pairs so that they do not contend on one counter. */
#ifndef REEL_BASE_PINS_H
#define REEL_BASE_PINS_H

#include <stdatomic.h>

#include "base/common.h"

/* Each thread has its slot (reel__pins_slot), remembered by whoever must undo the same slot
 * from another thread. */
#define REEL__PIN_SLOTS 16
typedef struct reel__pins {
    struct {
        _Alignas(REEL__SPACING) atomic_llong n;
    } slot[REEL__PIN_SLOTS];
} reel__pins;

/* The calling thread's slot (one counter for all threads, assigned round-robin). */
REEL__HIDDEN int reel__pins_next_slot(void);
static inline int reel__pins_slot(void)
{
    static _Thread_local int slot = -1; /* one per file that asks: only the frame handles do */
    if (slot < 0)
        slot = reel__pins_next_slot();
    return slot;
}

static inline void reel__pins_add(reel__pins *p, int slot, int delta)
{
    atomic_fetch_add_explicit(&p->slot[slot].n, delta, memory_order_relaxed);
}

static inline int64_t reel__pins_total(reel__pins *p)
{
    int64_t n = 0;
    int i;
    for (i = 0; i < REEL__PIN_SLOTS; i++)
        n += atomic_load(&p->slot[i].n);
    return n;
}

#endif
