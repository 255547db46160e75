/* common.h - what every file of libreel shares: symbol visibility, spacing of memory written
 * by different threads, and the magic number at the start of each handle. Not installed. */
#ifndef REEL_BASE_COMMON_H
#define REEL_BASE_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reel.h"

#define REEL__HIDDEN __attribute__((visibility("hidden")))
#define REEL__XSTR(x) #x
#define REEL__STR(x) REEL__XSTR(x) /* a macro's value as a string literal */

/* Memory that one thread writes and others must not slow down is kept 128 bytes apart: x86
 * CPUs fetch cache lines in aligned pairs (the adjacent-line prefetcher), so two threads writing
 * neighbouring 64-byte lines still contend. */
#define REEL__SPACING 128

/* Handle magics: the first 4 bytes of every handle; a released handle gets MAGIC_DEAD. */
#define REEL__MAGIC_STORE 0x7265656cu /* "reel" */
#define REEL__MAGIC_SEQ 0x72736571u   /* "rseq" */
#define REEL__MAGIC_DEAD 0xdeadbeefu

/* The magic number at the start of a handle, read without assuming the pointer is really of
 * that (over-aligned) type: misuse checks must not themselves misbehave on a foreign pointer. */
static inline uint32_t reel__magic(const void *handle)
{
    uint32_t m;
    memcpy(&m, handle, sizeof m);
    return m;
}

/*
 * Every allocation of libreel goes through these (free() frees what they return), so that a
 * test can make the Nth one fail (base/alloc.c) and check that each caller answers REEL_NOMEM
 * and leaks nothing. Unarmed, the check is one relaxed atomic load.
 */
REEL__HIDDEN int reel__alloc_fails(void);
static inline void *reel__malloc(size_t n) { return reel__alloc_fails() ? NULL : malloc(n); }
static inline void *reel__calloc(size_t n, size_t size)
{
    return reel__alloc_fails() ? NULL : calloc(n, size);
}
static inline void *reel__realloc(void *p, size_t n)
{
    return reel__alloc_fails() ? NULL : realloc(p, n);
}
static inline char *reel__strdup(const char *s) { return reel__alloc_fails() ? NULL : strdup(s); }

/* Tests: make the nth allocation from now fail, once (0: none; LONG_MAX: count only). */
REEL__HIDDEN void reel__alloc_fail_at(long n);
/* Allocations since the last reel__alloc_fail_at, and the code address of the one that failed
 * (NULL when none did). */
REEL__HIDDEN long reel__alloc_count(void);
REEL__HIDDEN const void *reel__alloc_failed_site(void);

/* Zeroed memory aligned to REEL__SPACING, for objects written by one thread at a time or
 * holding per-thread slots; free() frees it. */
static inline void *reel__zalloc_spaced(size_t size)
{
    void *p = reel__alloc_fails() ? NULL : aligned_alloc(REEL__SPACING, (size + REEL__SPACING - 1) & ~(size_t)(REEL__SPACING - 1));
    if (p)
        memset(p, 0, size);
    return p;
}

#endif
