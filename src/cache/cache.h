/*
 * cache.h - the plain RAM cache of decoded frames, as the layers above use it (cache.c: pins,
 * LRU, eviction; budget.c: budgets, pressure cuts, statistics; framebuf.c: frame memory).
 *
 * The cache knows keys, pins, bytes and eviction order. It knows no SQL and keeps no
 * per-sequence statistics: each entry has an owner, told through its ops what happens to the
 * entry (loaded, evicted, hit, ...) and handed the accesses counted in it when it leaves.
 * Stores that hold unsaved state register a write-back callback (a sink) that the cache calls
 * before it drops anything that state may stand behind.
 */
#ifndef REEL_CACHE_CACHE_H
#define REEL_CACHE_CACHE_H

#include "base/common.h"

/* What happens to an entry, told to its owner with a count (resident and dirty bytes come as
 * signed changes). */
enum {
    REEL__EV_MISSES,          /* a reader's get that had to load */
    REEL__EV_EVICTIONS,       /* dropped to make room */
    REEL__EV_PREFETCH_HITS,   /* a read-ahead load a reader then got */
    REEL__EV_PREFETCH_WASTED, /* a read-ahead load dropped before any read */
    REEL__EV_WRITTEN_BACK,    /* a dirty entry stored and made clean */
    REEL__EV_HITS_GONE,       /* hits of an entry that left (resident ones count their own) */
    REEL__EV_RESIDENT_FRAMES, /* +1 / -1 */
    REEL__EV_RESIDENT_BYTES,  /* +cost / -cost */
    REEL__EV_DIRTY_BYTES,     /* +cost / -cost */
    REEL__EV_UNLOADS,         /* dropped on request (reel__cache_unload) */
    REEL__EV_UNLOADED_BYTES,
    REEL__EV_N
};

/* The owner of an entry: its counters and its access counts. Every function may be called
 * with a cache shard lock held: it must not call back into the cache. */
typedef struct reel__owner_ops {
    void (*count)(void *owner, int event, int64_t n);
    void (*loaded)(void *owner, size_t bytes, uint64_t ns, int prefetch);
    /* accesses counted in the entry of frame idx, handed over (it leaves, or counts flush) */
    void (*accessed)(void *owner, int64_t idx, int64_t count, int64_t last_ms);
} reel__owner_ops;

/* Decode one frame into pixels and fill *info; REEL_OK or an error code (message set). */
typedef int (*reel__loader)(void *ctx, uint8_t *pixels, reel_frame_info *info);

/* What a pin is for. */
typedef enum reel__pin_kind {
    REEL__PIN_COUNTED,   /* a reader's get: one access counted, a hit or a miss */
    REEL__PIN_UNCOUNTED, /* a reader's pin whose access was counted already (lazy pixels) */
    REEL__PIN_PREFETCH   /* read-ahead or warm-up: not counted, neither hit nor miss, and
                            loaded only when it fits the budget (REEL_FULL otherwise) */
} reel__pin_kind;

/* The frame a pin asks for, and how to load it on a miss. */
typedef struct reel__pin_req {
    uint64_t store;        /* the store's serial (reel__cache_serial) */
    int64_t seq, idx;      /* sequence id and frame index */
    size_t size;           /* bytes of the frame */
    reel__loader load;     /* decodes it into the cache's buffer; ctx is passed through */
    int (*check)(void *ctx); /* on a miss, before any memory is set aside: REEL_OK, or why the
                                frame cannot be loaded (may be NULL) */
    void *ctx;
    const reel__owner_ops *ops; /* the entry's owner (may be NULL: nobody is told) */
    void *owner;
    int prio;              /* eviction class: 0 low, 1 normal, 2 high */
} reel__pin_req;

/* A pinned frame: the entry to unpin, its pixels (valid until then) and its metadata. */
typedef struct reel__pinned {
    void *entry;
    const void *pixels;
    reel_frame_info info;
} reel__pinned;

/* A process-wide unique key for a store opened once (its entries in shared caches). */
REEL__HIDDEN uint64_t reel__cache_serial(void);
/* Stores using the cache (it cannot be freed while any does). */
REEL__HIDDEN void reel__cache_use(reel_cache *c, int delta);
REEL__HIDDEN int reel__cache_check(const reel_cache *c, const char *fn);

/* Pin the frame of r, loading it on a miss (once, however many threads ask). Room is made
 * before the load, so a frame being loaded is inside the budget already. */
REEL__HIDDEN int reel__cache_pin(reel_cache *c, const reel__pin_req *r, reel__pin_kind kind,
                                 reel__pinned *out);
/* Pin the frame of r only if it is in the cache (waiting while another thread loads it), with
 * no statistics: REEL_OK, or REEL_NOTFOUND (r->load is not called). For references. */
REEL__HIDDEN int reel__cache_pin_resident(reel_cache *c, const reel__pin_req *r,
                                          reel__pinned *out);
/* Where an unpin puts the entry when its last pin goes. */
enum {
    REEL__UNPIN_HOT = 0,  /* the hot end (a reader's read) */
    REEL__UNPIN_COLD = 1, /* the cold end, first to go (a one-pass read) */
    REEL__UNPIN_SCAN = 2, /* the hot end, marked as read by a one-pass scan: it is the
                             reference of the scan's next temporal frame, and goes to the cold
                             end on reel__cache_demote once that one is read */
    REEL__UNPIN_REF = 3   /* used as a reference in a decode: where it was (the cold end when
                             it was there), its scan mark kept */
};
/* Unpin; how is one of REEL__UNPIN_* (0 and 1: hot and cold, as a bool reads). */
REEL__HIDDEN void reel__cache_unpin(reel_cache *c, void *entry, int how);
/* Move frame idx of a sequence of store to the cold end if it is resident, unpinned and
 * marked by REEL__UNPIN_SCAN (and not read since); otherwise nothing. */
REEL__HIDDEN void reel__cache_demote(reel_cache *c, uint64_t store, int64_t seq, int64_t idx);
/* Enter a frame put by the application as dirty (resident, off the LRU list, never evicted)
 * with a copy of its pixels (r->load unused); *entry stays valid until the sequence is purged.
 * reel__cache_clean marks it written (it becomes evictable). */
REEL__HIDDEN int reel__cache_put_dirty(reel_cache *c, const reel__pin_req *r, const void *pixels,
                                       const reel_frame_info *info, void **entry);
REEL__HIDDEN const void *reel__cache_entry_pixels(const void *entry);
REEL__HIDDEN void reel__cache_clean(reel_cache *c, void *entry, size_t stored_bytes);
/* After a frame of added bytes was put (with no lock held: the growth hook may run), evict
 * down to the budget, writing dirty frames back first when they stand in the way. */
REEL__HIDDEN void reel__cache_fit(reel_cache *c, size_t added);
/* Drop one frame when it is resident, unpinned and stored: REEL_OK (*freed: the bytes, 0 when
 * it was not resident) or REEL_BUSY (pinned, loading or waiting for write-back). */
REEL__HIDDEN int reel__cache_unload(reel_cache *c, uint64_t store, int64_t seq, int64_t idx,
                                    size_t *freed);
/* The frames of one sequence that could be dropped now (unpinned, stored): index, LRU tick
 * and cost of each, in *out (malloc'd, the caller frees). */
typedef struct reel__cframe {
    int64_t idx;
    uint64_t tick;
    size_t cost;
} reel__cframe;
REEL__HIDDEN int reel__cache_list_seq(reel_cache *c, uint64_t store, int64_t seq,
                                      reel__cframe **out, size_t *n);
/* Pinned bytes and hits of the resident frames of one sequence of a store (a full scan). */
REEL__HIDDEN void reel__cache_seq_scan(reel_cache *c, uint64_t store, int64_t seq,
                                       size_t *pinned, uint64_t *hits);
/* Which of frames [first, first + count) of a sequence of store are resident (loaded, not
 * failed): out[k] = 1 or 0 for frame first + k; the number resident. No statistics, no LRU
 * change; each shard locked in turn (the answer is a snapshot). */
REEL__HIDDEN int64_t reel__cache_resident_map(reel_cache *c, uint64_t store, int64_t seq,
                                              int64_t first, int64_t count, unsigned char *out);
/* Hand the accesses counted in one entry, or in all entries of a store, to their owners. */
REEL__HIDDEN void reel__cache_hand_over(reel_cache *c, void *entry);
REEL__HIDDEN void reel__cache_harvest(reel_cache *c, uint64_t store);
/* Forget the entries of a store (seq < 0: all its sequences, their accesses handed over;
 * else one removed sequence, its accesses dropped); pinned ones go with their last unpin. */
REEL__HIDDEN void reel__cache_purge(reel_cache *c, uint64_t store, int64_t seq);

/* Stores with unsaved state register fn(ctx), which writes it back; the cache calls it (with
 * no lock of its own held but the sink lock) before dropping what would otherwise be lost. */
REEL__HIDDEN void reel__cache_add_sink(reel_cache *c, int (*fn)(void *ctx), void *ctx);
REEL__HIDDEN void reel__cache_remove_sink(reel_cache *c, void *ctx);

/* Memory pressure, as a monitor reports it. cut: write back, drop unpinned frames down to
 * target bytes, lower the effective budget to target and give the freed memory back to the
 * system; one pressure event; the bytes freed (*rc: the write-back's result, may be NULL).
 * hold: headroom is short, do not grow (effective budget down to what is resident). */
REEL__HIDDEN size_t reel__cache_cut(reel_cache *c, size_t target, int *rc);
REEL__HIDDEN void reel__cache_hold(reel_cache *c);
REEL__HIDDEN size_t reel__cache_resident(reel_cache *c);
REEL__HIDDEN size_t reel__cache_effective(reel_cache *c);
/* How long pressure must be gone before the effective budget rises again. */
REEL__HIDDEN void reel__cache_set_calm(reel_cache *c, int ms);
/* The effective budget that calm time has earned (budget.c's rule, a pure function: tests
 * give it simulated times): effective raised by budget/16 per 250 ms of calm since the later
 * of the last raise and pressure_ms + calm_ms - 250, capped at budget. */
typedef struct reel__calm {
    size_t budget, effective;
    long long now_ms, pressure_ms, calm_ms, raised_ms;
} reel__calm;
REEL__HIDDEN size_t reel__budget_recovered(const reel__calm *k);
/* The growth hook: fn(ctx) runs on a loading thread whenever step bytes have been loaded
 * since the last call (fn NULL: none). Setting it waits for a call in progress. */
REEL__HIDDEN void reel__cache_set_grow_hook(reel_cache *c, void (*fn)(void *ctx), void *ctx,
                                            size_t step);
/* A watcher attached to the cache (the pressure monitor): one at a time, detached (detach(obj)
 * called) when replaced, by reel__cache_attach(c, NULL, NULL) and when the cache is freed.
 * The caller holds reel__cache_attach_lock around attach and attached. */
REEL__HIDDEN void reel__cache_attach_lock(reel_cache *c, int lock);
REEL__HIDDEN void reel__cache_attach(reel_cache *c, void *obj, void (*detach)(void *obj));
REEL__HIDDEN void *reel__cache_attached(reel_cache *c);
/* The pressure level its watcher saw last (-1 without one), for the statistics. */
REEL__HIDDEN void reel__cache_set_level(reel_cache *c, int level);
/* Mark c as the process's default cache: reel_cache_free refuses it. */
REEL__HIDDEN void reel__cache_mark_default(reel_cache *c);

#endif
