/*
 * framebuf.c - memory for cached frames that goes back to the system when it is freed.
 *
 * glibc serves large blocks with mmap at first, but raises its mmap threshold to the size of
 * every mmap'd block it frees (up to 32 MiB), so after the first eviction a cache's frames
 * come from the heap, and a heap keeps what it is given back: after a cut, the process's RSS
 * stays where it was. Frames of FB_MMAP_MIN bytes and more are therefore mapped here directly
 * and unmapped when freed. A small pool keeps a few freed mappings for the next load (a full
 * cache evicts one frame for every frame it loads, and a reused mapping costs no page faults);
 * a cut empties the pool, so freed memory really leaves. Smaller frames come from malloc, and
 * a cut that freed some of them calls malloc_trim.
 */
#include "config.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cache/cache_impl.h"

#define FB_MMAP_MIN ((size_t)64 << 10)
#define FB_POOL_BYTES ((size_t)16 << 20)

static size_t map_len(size_t size)
{
    static size_t page;
    if (!page) {
        long p = sysconf(_SC_PAGESIZE);
        page = p > 0 ? (size_t)p : 4096;
    }
    return (size + page - 1) & ~(page - 1);
}

void reel__fb_init(reel__fbpool *p)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
}

void reel__fb_destroy(reel__fbpool *p)
{
    reel__fb_release(p);
    pthread_mutex_destroy(&p->lock);
}

void *reel__fb_alloc(reel__fbpool *p, size_t size)
{
    size_t len;
    void *m = NULL;
    int i;
    if (size < FB_MMAP_MIN)
        return reel__malloc(size ? size : 1);
    len = map_len(size);
    pthread_mutex_lock(&p->lock);
    for (i = 0; i < p->n; i++)
        if (p->slot[i].len == len) {
            m = p->slot[i].ptr;
            p->bytes -= len;
            p->slot[i] = p->slot[--p->n];
            break;
        }
    pthread_mutex_unlock(&p->lock);
    if (m)
        return m;
    /* populated at once: one call instead of a page fault per 4 KiB as the decoder writes */
    if (reel__alloc_fails())
        return NULL;
    m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1,
             0);
    return m == MAP_FAILED ? NULL : m;
}

void reel__fb_free(reel__fbpool *p, void *ptr, size_t size)
{
    size_t len;
    if (!ptr)
        return;
    if (size < FB_MMAP_MIN) {
        free(ptr);
        atomic_fetch_add_explicit(&p->small_freed, size, memory_order_relaxed);
        return;
    }
    len = map_len(size);
    pthread_mutex_lock(&p->lock);
    if (p->n < FB_POOL_SLOTS && p->bytes + len <= FB_POOL_BYTES) {
        p->slot[p->n].ptr = ptr;
        p->slot[p->n].len = len;
        p->n++;
        p->bytes += len;
        ptr = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    if (ptr)
        munmap(ptr, len);
}

void reel__fb_release(reel__fbpool *p)
{
    struct {
        void *ptr;
        size_t len;
    } gone[FB_POOL_SLOTS];
    int i, n;
    pthread_mutex_lock(&p->lock);
    n = p->n;
    memcpy(gone, p->slot, (size_t)n * sizeof gone[0]);
    p->n = 0;
    p->bytes = 0;
    pthread_mutex_unlock(&p->lock);
    for (i = 0; i < n; i++)
        munmap(gone[i].ptr, gone[i].len);
    /* small frames went back to malloc's heap: give its free pages back too */
    if (atomic_exchange(&p->small_freed, 0) >= FB_MMAP_MIN)
        malloc_trim(0);
}
