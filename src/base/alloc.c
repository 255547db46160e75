/* alloc.c - the test hook behind reel__malloc and the other allocation wrappers (common.h):
 * when armed, allocations are counted and the chosen one fails, and where it was is kept. */
#include "config.h"

#include <stdatomic.h>

#include "base/common.h"

static _Atomic long fail_at; /* 0: unarmed */
static _Atomic long count;
static const void *_Atomic failed_site;

__attribute__((noinline)) int reel__alloc_fails(void)
{
    long n;
    if (atomic_load_explicit(&fail_at, memory_order_relaxed) == 0)
        return 0;
    n = atomic_fetch_add(&count, 1) + 1;
    if (n != atomic_load(&fail_at))
        return 0;
    atomic_store(&failed_site, __builtin_return_address(0));
    return 1;
}

void reel__alloc_fail_at(long n)
{
    atomic_store(&fail_at, 0);
    atomic_store(&count, 0);
    atomic_store(&failed_site, NULL);
    atomic_store(&fail_at, n);
}

long reel__alloc_count(void) { return atomic_load(&count); }

const void *reel__alloc_failed_site(void) { return atomic_load(&failed_site); }
