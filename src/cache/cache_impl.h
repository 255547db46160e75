/* cache_impl.h - the cache's structures, shared by cache.c (entries, LRU lists, eviction, pin
 * and unpin), budget.c (cache objects, budgets, pressure, statistics) and framebuf.c (frame
 * memory). Nothing outside src/cache includes it. */
#ifndef REEL_CACHE_IMPL_H
#define REEL_CACHE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "cache/cache.h"

#define SHARDS 1024
#define MAGIC_CACHE 0x72636368u /* "rchh" */
#define ENTRY_OVERHEAD ((size_t)REEL_CACHE_ENTRY_OVERHEAD)
#define NPRIO 3 /* eviction classes: low (first to go), normal, high (last) */

enum { LOADING, READY };

typedef struct centry {
    uint64_t store;
    int64_t seq, idx;
    uint8_t *pixels;
    size_t size;
    int pins, state, rc;
    int orphan; /* purged while pinned: out of the table, freed by its last unpin */
    int dirty;  /* put through the cache and not yet written to the store: off the LRU list */
    int prefetched; /* loaded by read-ahead and not read since */
    int scan;       /* released by a one-pass scan, not read since (REEL__UNPIN_SCAN) */
    int prio;       /* its eviction class, 0..NPRIO-1 */
    const reel__owner_ops *ops; /* its owner, told what happens to it (may be NULL) */
    void *owner;
    uint64_t tick; /* lru_tick() when last released: the LRU order across shards */
    int64_t count, last_ms; /* accesses not yet handed to the owner (under the shard lock) */
    uint64_t hits;          /* readers' hits on it, for its sequence's statistics */
    char *why;              /* a failed load's message (malloc'd, may be NULL), for waiters */
    reel_frame_info info;
    struct centry *hnext, *prev, *next;
} centry;

/* Each shard on cache lines of its own: the hit path touches nothing shared between shards. */
typedef struct shard {
    _Alignas(REEL__SPACING) pthread_mutex_t lock;
    pthread_cond_t loaded;
    centry **table;
    size_t nbuckets, count;
    centry lru[NPRIO];   /* sentinels, one list per class: .next hottest, .prev coldest */
    atomic_uint_fast64_t tail_tick[NPRIO]; /* tick of lru[k].prev, UINT64_MAX when empty: read
                                              unlocked by eviction to find the oldest shard */
    uint64_t hits, misses; /* under lock */
    size_t pinned;       /* bytes of pinned entries, under lock */
} shard;

#define PUSH_DEPTH 16

/* A store that may hold dirty frames or unflushed counts, written back by fn(ctx). */
typedef struct sink {
    int (*fn)(void *ctx);
    void *ctx;
    struct sink *next;
} sink;

/* Frame memory (framebuf.c): large frames mapped and unmapped, with a few freed mappings kept
 * for the next loads; reel__fb_release gives everything kept back to the system. */
#define FB_POOL_SLOTS 8
typedef struct reel__fbpool {
    pthread_mutex_t lock;
    struct {
        void *ptr;
        size_t len;
    } slot[FB_POOL_SLOTS];
    int n;
    size_t bytes;
    atomic_size_t small_freed; /* bytes of malloc'd frames freed since the last release */
} reel__fbpool;
REEL__HIDDEN void reel__fb_init(reel__fbpool *p);
REEL__HIDDEN void reel__fb_destroy(reel__fbpool *p);
REEL__HIDDEN void *reel__fb_alloc(reel__fbpool *p, size_t size);
REEL__HIDDEN void reel__fb_free(reel__fbpool *p, void *ptr, size_t size);
REEL__HIDDEN void reel__fb_release(reel__fbpool *p);

struct reel_cache {
    uint32_t magic;
    pthread_mutex_t push_lock;
    size_t pushed[PUSH_DEPTH]; /* budgets to restore, innermost last */
    int npushed;
    atomic_size_t budget, resident, dirty;
    /* What memory pressure leaves the cache (<= budget; see cache_admin.c for the rule):
     * lowered by every cut, held while headroom is short, raised again once it is not. */
    atomic_size_t effective;
    atomic_llong pressure_ms; /* when pressure was last seen (monotonic ms), 0 never */
    atomic_llong raised_ms;   /* when the effective budget was last raised */
    atomic_int calm_ms;       /* how long pressure must be gone before it rises */
    atomic_size_t grown;      /* bytes loaded since the last headroom check */
    atomic_size_t grow_step;  /* ... and how many call for the next one */
    pthread_mutex_t hook_lock; /* guards grow_fn/grow_ctx; held while the hook runs */
    void (*grow_fn)(void *ctx);
    void *grow_ctx;
    atomic_int users, strict;
    /* changed on misses and evictions only, never on the hit path */
    atomic_uint_fast64_t loads, evictions, bytes_decompressed, load_ns, load_ns_max, frames,
        prefetched, prefetch_hits, prefetch_wasted, written_back, pressure_events,
        pressure_freed, pressure_bytes, policy_evictions, policy_bytes, growth_checks;
    pthread_mutex_t sink_lock; /* taken before any store's writer lock */
    sink *sinks;
    pthread_mutex_t attach_lock;
    void *attached;            /* the pressure monitor, if one watches */
    void (*detach)(void *obj);
    atomic_int level;          /* the level it saw last, -1 without one */
    int is_default;            /* the process's default cache: never freed */
    reel__fbpool mem;
    shard shards[SHARDS];
};

/* cache.c: evict unpinned frames down to target (the bytes freed); write back every
 * registered store's unsaved state (the first error is returned); evict, writing back first
 * when dirty frames stand in the way. */
REEL__HIDDEN size_t reel__cache_shrink(reel_cache *c, size_t target);
REEL__HIDDEN int reel__cache_write_back(reel_cache *c);
REEL__HIDDEN void reel__cache_make_room(reel_cache *c, size_t target);

/* budget.c: the bytes of pinned frames over all shards. */
REEL__HIDDEN size_t reel__cache_pinned_bytes(reel_cache *c);
/* What the cache may fill now: min(budget, effective budget), after raising the effective
 * budget if pressure has been gone long enough (on misses); the same without raising. */
REEL__HIDDEN size_t reel__cache_limit(reel_cache *c);
static inline size_t reel__cache_cap(reel_cache *c)
{
    size_t b = atomic_load(&c->budget), e = atomic_load(&c->effective);
    return e < b ? e : b;
}

#endif
