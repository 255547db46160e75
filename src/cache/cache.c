/*
 * cache.c - the RAM tier: decoded frames in a sharded hash with per-shard LRU lists and one
 * byte budget.
 *
 * An entry is keyed by (store serial, sequence id, frame index). A pinned entry (pins > 0) is
 * never on an LRU list and never freed; the last unpin puts it at the hot end of its shard's
 * list. Every insert, unpin and budget change evicts unpinned entries from the cold ends until
 * the resident bytes (pixels plus per-entry overhead) fit the budget, so they exceed it only by
 * the bytes of pinned frames. A frame being loaded is in the table already (state LOADING,
 * pinned by its loader): a second thread asking for it waits for that load instead of
 * decoding it again. Shard locks are never held two at a time, nor during a load.
 * Cache objects, budgets, pressure and statistics are in budget.c, frame memory in
 * framebuf.c; the structures they share in cache_impl.h.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/error.h"
#include "cache/cache_impl.h"

static atomic_uint_fast64_t next_serial = 1;

uint64_t reel__cache_serial(void) { return atomic_fetch_add(&next_serial, 1); }

/*
 * The LRU clock: milliseconds of the coarse monotonic clock (a few ns to read, where the
 * precise one costs ~40 ns in a VM), then a per-thread count. Releases by one thread are
 * ordered exactly; between threads, within the same millisecond or so, the order is arbitrary:
 * eviction across shards is least-recently-used to that precision.
 */
static uint64_t lru_tick(void)
{
    static _Thread_local uint64_t count;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u) << 20 |
           (++count & 0xFFFFFu);
}

static uint64_t hash_key(uint64_t store, int64_t seq, int64_t idx)
{
    uint64_t h = store * 0x9E3779B97F4A7C15ULL ^ (uint64_t)seq * 0xC2B2AE3D27D4EB4FULL;
    h ^= (uint64_t)idx * 0x165667B19E3779F9ULL;
    return h ^ (h >> 29);
}

static size_t cost(const centry *e) { return e->size + ENTRY_OVERHEAD; }

/* Tell the entry's owner (shard lock held or not: owners never call back). */
static void tell(const centry *e, int event, int64_t n)
{
    if (e->ops && n)
        e->ops->count(e->owner, event, n);
}

/* ---- lists and table (shard lock held) --------------------------------------------------- */

static void update_tail(shard *s, int k)
{
    centry *l = &s->lru[k];
    atomic_store_explicit(&s->tail_tick[k], l->prev != l ? l->prev->tick : UINT64_MAX,
                          memory_order_relaxed);
}

static void lru_unlink(shard *s, centry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->prev = e->next = NULL;
    update_tail(s, e->prio);
}

static void lru_push_hot(shard *s, centry *e)
{
    centry *l = &s->lru[e->prio];
    e->next = l->next;
    e->prev = l;
    l->next->prev = e;
    l->next = e;
    update_tail(s, e->prio);
}

static void lru_push_cold(shard *s, centry *e)
{
    centry *l = &s->lru[e->prio];
    e->prev = l->prev;
    e->next = l;
    l->prev->next = e;
    l->prev = e;
    update_tail(s, e->prio);
}

static centry **slot(shard *s, uint64_t h, uint64_t store, int64_t seq, int64_t idx)
{
    centry **p = &s->table[(h >> 8) & (s->nbuckets - 1)];
    while (*p && !((*p)->store == store && (*p)->seq == seq && (*p)->idx == idx))
        p = &(*p)->hnext;
    return p;
}

static void grow(shard *s)
{
    size_t n = s->nbuckets * 2, i;
    centry **t = reel__calloc(n, sizeof *t);
    if (!t)
        return; /* keep the longer chains */
    for (i = 0; i < s->nbuckets; i++) {
        centry *e = s->table[i], *next;
        for (; e; e = next) {
            size_t b = (hash_key(e->store, e->seq, e->idx) >> 8) & (n - 1);
            next = e->hnext;
            e->hnext = t[b];
            t[b] = e;
        }
    }
    free(s->table);
    s->table = t;
    s->nbuckets = n;
}

static void unhash(shard *s, centry *e)
{
    centry **p = slot(s, hash_key(e->store, e->seq, e->idx), e->store, e->seq, e->idx);
    *p = e->hnext;
    s->count--;
}

/* Hand the entry's pending access counts to its owner (the shard lock may be held: the lock
 * order is cache shard, then whatever the owner locks). */
static void hand_over(centry *e)
{
    if (e->count > 0 && e->ops && !e->orphan)
        e->ops->accessed(e->owner, e->idx, e->count, e->last_ms);
    e->count = 0;
}

static void drop(reel_cache *c, centry *e)
{
    hand_over(e);
    tell(e, REEL__EV_HITS_GONE, (int64_t)e->hits);
    if (e->prefetched) {
        atomic_fetch_add(&c->prefetch_wasted, 1);
        tell(e, REEL__EV_PREFETCH_WASTED, 1);
    }
    if (e->dirty) {
        atomic_fetch_sub(&c->dirty, cost(e));
        tell(e, REEL__EV_DIRTY_BYTES, -(int64_t)cost(e));
    }
    tell(e, REEL__EV_RESIDENT_BYTES, -(int64_t)cost(e));
    tell(e, REEL__EV_RESIDENT_FRAMES, -1);
    atomic_fetch_sub(&c->resident, cost(e));
    atomic_fetch_sub(&c->frames, 1);
    reel__fb_free(&c->mem, e->pixels, e->size);
    free(e->why);
    free(e);
}

/* ---- eviction ----------------------------------------------------------------------------- */

/* The shard whose cold end in class k is the oldest (-1 when the class is empty everywhere),
 * and the tick of the runner-up. Tail ticks are read without locking: a concurrent release
 * at worst makes a choice slightly stale. */
static int oldest_shard(reel_cache *c, int k, uint64_t *second)
{
    uint64_t oldest = UINT64_MAX;
    int i, pick = -1;
    *second = UINT64_MAX;
    for (i = 0; i < SHARDS; i++) {
        uint64_t t = atomic_load_explicit(&c->shards[i].tail_tick[k], memory_order_relaxed);
        if (t < oldest) {
            *second = oldest;
            oldest = t;
            pick = i;
        } else if (t < *second) {
            *second = t;
        }
    }
    return pick;
}

/*
 * Evict unpinned entries until resident <= target: the low class first, then normal, then
 * high; within a class least recently released first across all shards. Each round evicts
 * from the oldest shard as long as its cold end stays older than the runner-up's.
 */
size_t reel__cache_shrink(reel_cache *c, size_t target)
{
    size_t before = atomic_load(&c->resident), after;
    int k = 0;
    while (k < NPRIO && atomic_load(&c->resident) > target) {
        uint64_t second;
        int pick = oldest_shard(c, k, &second);
        shard *s;
        centry *l;
        if (pick < 0) {
            k++; /* this class is empty, or all of it pinned */
            continue;
        }
        s = &c->shards[pick];
        l = &s->lru[k];
        pthread_mutex_lock(&s->lock);
        do {
            centry *e = l->prev;
            if (e == l)
                break;
            lru_unlink(s, e);
            unhash(s, e);
            atomic_fetch_add(&c->evictions, 1);
            tell(e, REEL__EV_EVICTIONS, 1);
            drop(c, e);
        } while (atomic_load(&c->resident) > target && l->prev != l && l->prev->tick <= second);
        pthread_mutex_unlock(&s->lock);
    }
    after = atomic_load(&c->resident);
    return before > after ? before - after : 0;
}

/* ---- write-back: stores with dirty state ---------------------------------------------------- */

/* The state of a store that failed to write stays in memory for the next try. */
int reel__cache_write_back(reel_cache *c)
{
    sink *k;
    int rc = REEL_OK, r;
    pthread_mutex_lock(&c->sink_lock);
    for (k = c->sinks; k; k = k->next)
        if ((r = k->fn(k->ctx)) != REEL_OK && rc == REEL_OK)
            rc = r;
    pthread_mutex_unlock(&c->sink_lock);
    return rc;
}

/* Evict down to target; when dirty frames stand in the way, write them back and go on. */
void reel__cache_make_room(reel_cache *c, size_t target)
{
    reel__cache_shrink(c, target);
    if (atomic_load(&c->resident) > target && atomic_load(&c->dirty) > 0) {
        reel__cache_write_back(c);
        reel__cache_shrink(c, target);
    }
}

/* ---- internal: pin, unpin, purge ---------------------------------------------------------- */

static void pin_locked(shard *s, centry *e)
{
    if (e->pins++ == 0) {
        if (e->prev)
            lru_unlink(s, e);
        s->pinned += cost(e);
    }
}

/* A new entry of the table (shard lock held), counted as resident unless `counted` says its
 * bytes were reserved already; NULL when out of memory. */
static centry *enter(reel_cache *c, shard *s, centry **p, const reel__pin_req *r, int counted)
{
    centry *e = reel__calloc(1, sizeof *e);
    if (!e || !(e->pixels = reel__fb_alloc(&c->mem, r->size))) {
        free(e);
        return NULL;
    }
    e->store = r->store, e->seq = r->seq, e->idx = r->idx, e->size = r->size;
    e->ops = r->ops;
    e->owner = r->owner;
    e->prio = r->prio >= 0 && r->prio < NPRIO ? r->prio : 1;
    *p = e;
    if (++s->count > s->nbuckets)
        grow(s);
    if (!counted)
        atomic_fetch_add(&c->resident, cost(e));
    atomic_fetch_add(&c->frames, 1);
    tell(e, REEL__EV_RESIDENT_BYTES, (int64_t)cost(e));
    tell(e, REEL__EV_RESIDENT_FRAMES, 1);
    return e;
}

/* The hit: pin e (shard lock held, released here), wait for its load, hand it out. */
static int pin_hit(reel_cache *c, shard *s, centry *e, reel__pin_kind kind, reel__pinned *out)
{
    int rc;
    pin_locked(s, e);
    if (kind != REEL__PIN_PREFETCH) { /* read-ahead is not a reader's hit */
        s->hits++;
        e->hits++; /* no shared counter on the hit path: summed when asked for */
        if (e->prefetched) {
            e->prefetched = 0;
            atomic_fetch_add(&c->prefetch_hits, 1);
            tell(e, REEL__EV_PREFETCH_HITS, 1);
        }
    }
    if (kind == REEL__PIN_COUNTED) {
        e->count++;
        e->last_ms = reel__now_ms();
    }
    while (e->state == LOADING)
        pthread_cond_wait(&s->loaded, &s->lock);
    rc = e->rc;
    out->info = e->info; /* under the lock: a write-back updates it */
    if (rc != REEL_OK) { /* the loader's own words, copied while the entry is surely there */
        char why[1024];
        snprintf(why, sizeof why, "%s",
                 e->why ? e->why : "the frame failed to load in another thread");
        pthread_mutex_unlock(&s->lock);
        reel__cache_unpin(c, e, 0);
        return reel__err(rc, "%s", why);
    }
    pthread_mutex_unlock(&s->lock);
    out->entry = e;
    out->pixels = e->pixels;
    return REEL_OK;
}

/*
 * Every `grow_step` bytes loaded, ask the growth hook (the pressure monitor) to look at the
 * headroom now, on this thread: a reader loading faster than the monitor's interval cannot
 * outrun it. One thread checks at a time; the others go on.
 */
static void grew(reel_cache *c, size_t need)
{
    if (atomic_fetch_add(&c->grown, need) + need < atomic_load(&c->grow_step))
        return;
    atomic_store(&c->grown, 0);
    if (pthread_mutex_trylock(&c->hook_lock) != 0)
        return;
    if (c->grow_fn) {
        atomic_fetch_add(&c->growth_checks, 1);
        c->grow_fn(c->grow_ctx);
    }
    pthread_mutex_unlock(&c->hook_lock);
}

/* Before a load: make room for need bytes under what the cache may hold now. A read-ahead
 * load, and any load in strict mode, must fit beside the pinned frames or is refused. */
static int reserve(reel_cache *c, size_t need, reel__pin_kind kind)
{
    size_t limit;
    grew(c, need);
    limit = reel__cache_limit(c);
    reel__cache_make_room(c, limit > need ? limit - need : 0);
    if ((kind == REEL__PIN_PREFETCH || atomic_load(&c->strict)) &&
        atomic_load(&c->resident) + need > limit)
        return kind == REEL__PIN_PREFETCH
                   ? REEL_FULL
                   : reel__err(REEL_FULL, "cache full: pinned frames leave no room for a "
                                          "%zu-byte frame (strict mode)",
                               need - ENTRY_OVERHEAD);
    return REEL_OK;
}

/* Load e (entered LOADING and pinned by us) without any lock, then wake its waiters. */
static int load_entry(reel_cache *c, shard *s, centry *e, const reel__pin_req *r,
                      reel__pin_kind kind)
{
    uint64_t t0 = reel__mono_ns();
    uint_fast64_t max;
    int rc = r->load(r->ctx, e->pixels, &e->info);
    char *why = rc != REEL_OK ? reel__strdup(reel_errmsg()) : NULL;
    t0 = reel__mono_ns() - t0;
    atomic_fetch_add(&c->load_ns, t0);
    max = atomic_load(&c->load_ns_max);
    while (t0 > max && !atomic_compare_exchange_weak(&c->load_ns_max, &max, t0))
        ;
    pthread_mutex_lock(&s->lock);
    e->state = READY;
    e->rc = rc;
    e->why = why;
    pthread_cond_broadcast(&s->loaded);
    pthread_mutex_unlock(&s->lock);
    if (rc != REEL_OK)
        return rc;
    atomic_fetch_add(&c->loads, 1);
    if (kind == REEL__PIN_PREFETCH)
        atomic_fetch_add(&c->prefetched, 1);
    atomic_fetch_add(&c->bytes_decompressed, r->size);
    if (r->ops)
        r->ops->loaded(r->owner, r->size, t0, kind == REEL__PIN_PREFETCH);
    return REEL_OK;
}

/* Count need bytes as resident if they fit under the limit: read-ahead never goes over, even
 * for the moment between counting a frame and finding it too big. */
static int take_room(reel_cache *c, size_t need)
{
    size_t limit = reel__cache_cap(c), r = atomic_load(&c->resident);
    do {
        if (r + need > limit)
            return 0;
    } while (!atomic_compare_exchange_weak(&c->resident, &r, r + need));
    return 1;
}

int reel__cache_pin(reel_cache *c, const reel__pin_req *r, reel__pin_kind kind,
                    reel__pinned *out)
{
    uint64_t h = hash_key(r->store, r->seq, r->idx);
    shard *s = &c->shards[h % SHARDS];
    size_t need = r->size + ENTRY_OVERHEAD;
    centry **p, *e;
    int rc, reserved = 0;
again:
    pthread_mutex_lock(&s->lock);
    p = slot(s, h, r->store, r->seq, r->idx);
    if ((e = *p))
        return pin_hit(c, s, e, kind, out);
    if (!reserved) {
        /* The frame's claims checked, then room, then the load: nothing is set aside for a
         * frame that cannot be, and the frame being loaded is inside the budget already. */
        pthread_mutex_unlock(&s->lock);
        if ((r->check && (rc = r->check(r->ctx)) != REEL_OK) ||
            (rc = reserve(c, need, kind)) != REEL_OK)
            return rc;
        reserved = 1;
        goto again; /* another thread may have loaded it meanwhile */
    }
    if (kind == REEL__PIN_PREFETCH && !take_room(c, need)) {
        pthread_mutex_unlock(&s->lock); /* another load took the room meanwhile */
        return REEL_FULL;
    }
    if (!(e = enter(c, s, p, r, kind == REEL__PIN_PREFETCH))) {
        if (kind == REEL__PIN_PREFETCH)
            atomic_fetch_sub(&c->resident, need);
        pthread_mutex_unlock(&s->lock);
        return reel__err(REEL_NOMEM, "out of memory for a %zu-byte frame", r->size);
    }
    e->state = LOADING;
    e->count = kind == REEL__PIN_COUNTED;
    e->last_ms = kind == REEL__PIN_COUNTED ? reel__now_ms() : 0;
    e->prefetched = kind == REEL__PIN_PREFETCH;
    pin_locked(s, e);
    if (kind != REEL__PIN_PREFETCH) {
        s->misses++;
        tell(e, REEL__EV_MISSES, 1);
    }
    pthread_mutex_unlock(&s->lock);

    if ((rc = load_entry(c, s, e, r, kind)) != REEL_OK) {
        reel__cache_unpin(c, e, 0); /* failed entries leave at once (see unpin) */
        return rc;
    }
    out->entry = e;
    out->pixels = e->pixels;
    out->info = e->info;
    return REEL_OK;
}

int reel__cache_pin_resident(reel_cache *c, const reel__pin_req *r, reel__pinned *out)
{
    uint64_t h = hash_key(r->store, r->seq, r->idx);
    shard *s = &c->shards[h % SHARDS];
    centry *e;
    pthread_mutex_lock(&s->lock);
    if ((e = *slot(s, h, r->store, r->seq, r->idx)))
        return pin_hit(c, s, e, REEL__PIN_PREFETCH, out); /* unlocks */
    pthread_mutex_unlock(&s->lock);
    return REEL_NOTFOUND;
}

/* Put e, unpinned, on its list as how says (shard lock held). */
static void relist(shard *s, centry *e, int how)
{
    if (how == REEL__UNPIN_REF && e->tick == 0)
        how = REEL__UNPIN_COLD; /* a one-pass frame used as a reference stays where it was */
    else if (how != REEL__UNPIN_REF)
        e->scan = how == REEL__UNPIN_SCAN;
    if (how == REEL__UNPIN_COLD) {
        e->tick = 0; /* a one-pass read: the first to go */
        lru_push_cold(s, e);
    } else {
        e->tick = lru_tick();
        lru_push_hot(s, e);
    }
}

void reel__cache_unpin(reel_cache *c, void *entry, int how)
{
    centry *e = entry;
    uint64_t h = hash_key(e->store, e->seq, e->idx);
    shard *s = &c->shards[h % SHARDS];
    size_t cap;
    int gone = 0;
    pthread_mutex_lock(&s->lock);
    if (--e->pins == 0) {
        s->pinned -= cost(e);
        if (e->orphan) {
            gone = 1;
        } else if (e->rc != REEL_OK) {
            unhash(s, e);
            gone = 1;
        } else if (e->dirty) {
            /* stays off the LRU list until written back */
        } else {
            relist(s, e, how);
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (gone)
        drop(c, e);
    if (atomic_load(&c->resident) > (cap = reel__cache_cap(c)))
        reel__cache_make_room(c, cap);
}

void reel__cache_demote(reel_cache *c, uint64_t store, int64_t seq, int64_t idx)
{
    uint64_t h = hash_key(store, seq, idx);
    shard *s = &c->shards[h % SHARDS];
    centry *e;
    pthread_mutex_lock(&s->lock);
    e = *slot(s, h, store, seq, idx);
    if (e && e->scan && e->pins == 0 && e->prev) { /* on the list: unpinned, clean */
        lru_unlink(s, e);
        relist(s, e, REEL__UNPIN_COLD);
    }
    pthread_mutex_unlock(&s->lock);
}

int reel__cache_put_dirty(reel_cache *c, const reel__pin_req *r, const void *pixels,
                          const reel_frame_info *info, void **entry)
{
    uint64_t h = hash_key(r->store, r->seq, r->idx);
    shard *s = &c->shards[h % SHARDS];
    centry **p, *e;
    int rc = REEL_OK;
    pthread_mutex_lock(&s->lock);
    p = slot(s, h, r->store, r->seq, r->idx);
    if (*p) /* a frame of a sequence removed and made again under the same id: out of date */
        rc = reel__err(REEL_EXISTS, "frame %lld is in the cache already", (long long)r->idx);
    else if (!(e = enter(c, s, p, r, 0)))
        rc = reel__err(REEL_NOMEM, "out of memory for a %zu-byte frame", r->size);
    if (rc == REEL_OK) {
        memcpy(e->pixels, pixels, r->size);
        e->state = READY;
        e->info = *info;
        e->dirty = 1;
        atomic_fetch_add(&c->dirty, cost(e));
        tell(e, REEL__EV_DIRTY_BYTES, (int64_t)cost(e));
        *entry = e;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

const void *reel__cache_entry_pixels(const void *entry) { return ((const centry *)entry)->pixels; }

void reel__cache_clean(reel_cache *c, void *entry, size_t stored_bytes)
{
    centry *e = entry;
    shard *s = &c->shards[hash_key(e->store, e->seq, e->idx) % SHARDS];
    pthread_mutex_lock(&s->lock);
    if (e->dirty) {
        e->dirty = 0;
        e->info.stored_bytes = stored_bytes;
        atomic_fetch_sub(&c->dirty, cost(e));
        tell(e, REEL__EV_DIRTY_BYTES, -(int64_t)cost(e));
        atomic_fetch_add(&c->written_back, 1);
        tell(e, REEL__EV_WRITTEN_BACK, 1);
        if (e->pins == 0 && !e->orphan) {
            e->tick = lru_tick();
            lru_push_hot(s, e);
        }
    }
    pthread_mutex_unlock(&s->lock);
}

void reel__cache_hand_over(reel_cache *c, void *entry)
{
    centry *e = entry;
    shard *s = &c->shards[hash_key(e->store, e->seq, e->idx) % SHARDS];
    pthread_mutex_lock(&s->lock);
    hand_over(e);
    pthread_mutex_unlock(&s->lock);
}

void reel__cache_fit(reel_cache *c, size_t added)
{
    if (added)
        grew(c, added + ENTRY_OVERHEAD);
    reel__cache_make_room(c, reel__cache_limit(c));
}

int reel__cache_unload(reel_cache *c, uint64_t store, int64_t seq, int64_t idx, size_t *freed)
{
    uint64_t h = hash_key(store, seq, idx);
    shard *s = &c->shards[h % SHARDS];
    centry *e;
    int rc = REEL_OK;
    *freed = 0;
    pthread_mutex_lock(&s->lock);
    e = *slot(s, h, store, seq, idx);
    if (e && (e->pins > 0 || e->dirty || e->state == LOADING)) {
        rc = REEL_BUSY;
        e = NULL;
    } else if (e) {
        lru_unlink(s, e);
        unhash(s, e);
        *freed = cost(e);
        atomic_fetch_add(&c->policy_evictions, 1);
        atomic_fetch_add(&c->policy_bytes, cost(e));
        tell(e, REEL__EV_UNLOADS, 1);
        tell(e, REEL__EV_UNLOADED_BYTES, (int64_t)cost(e));
        drop(c, e);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/*
 * Call fn on every entry of store (seq < 0: of all its sequences), each shard locked in turn.
 * When fn returns non-zero the entry has been taken out of the table (fn owns it now).
 */
static void each_entry(reel_cache *c, uint64_t store, int64_t seq,
                       int (*fn)(reel_cache *, shard *, centry *, void *), void *ctx)
{
    int i;
    size_t b;
    for (i = 0; i < SHARDS; i++) {
        shard *s = &c->shards[i];
        pthread_mutex_lock(&s->lock);
        for (b = 0; b < s->nbuckets; b++) {
            centry **p = &s->table[b], *e;
            while ((e = *p)) {
                centry *next = e->hnext;
                if (e->store != store || (seq >= 0 && e->seq != seq)) {
                    p = &e->hnext;
                    continue;
                }
                if (fn(c, s, e, ctx)) {
                    *p = next;
                    s->count--;
                } else {
                    p = &e->hnext;
                }
            }
        }
        pthread_mutex_unlock(&s->lock);
    }
}

/* Take an entry out: unpinned ones are freed now, pinned ones by their last unpin. */
static int forget(reel_cache *c, shard *s, centry *e, void *discard)
{
    if (*(int *)discard)
        e->count = 0; /* a removed sequence's counts go with it */
    else
        hand_over(e);
    if (e->pins > 0 || e->state == LOADING) {
        e->orphan = 1;
    } else {
        if (e->prev) /* dirty entries are not on the list */
            lru_unlink(s, e);
        drop(c, e);
    }
    return 1;
}

static int harvest(reel_cache *c, shard *s, centry *e, void *ctx)
{
    (void)c, (void)s, (void)ctx;
    hand_over(e);
    return 0;
}

/* Forget the entries of a store (seq < 0: all its sequences, counts kept; else one removed
 * sequence, counts dropped). */
void reel__cache_purge(reel_cache *c, uint64_t store, int64_t seq)
{
    int discard = seq >= 0;
    each_entry(c, store, seq, forget, &discard);
}

void reel__cache_harvest(reel_cache *c, uint64_t store) { each_entry(c, store, -1, harvest, NULL); }

typedef struct seq_scan {
    size_t pinned;
    uint64_t hits;
} seq_scan;

static int add_up(reel_cache *c, shard *s, centry *e, void *ctx)
{
    seq_scan *t = ctx;
    (void)c, (void)s;
    if (e->pins > 0)
        t->pinned += cost(e);
    t->hits += e->hits;
    return 0;
}

void reel__cache_seq_scan(reel_cache *c, uint64_t store, int64_t seq, size_t *pinned,
                          uint64_t *hits)
{
    seq_scan t = {0, 0};
    each_entry(c, store, seq, add_up, &t);
    *pinned = t.pinned;
    *hits = t.hits;
}

typedef struct seq_list {
    reel__cframe *v;
    size_t n, cap;
    int nomem;
} seq_list;

static int collect(reel_cache *c, shard *s, centry *e, void *ctx)
{
    seq_list *l = ctx;
    (void)c, (void)s;
    if (e->pins > 0 || e->dirty || e->state == LOADING || e->orphan)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        reel__cframe *v = reel__realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->nomem = 1;
            return 0;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (reel__cframe){e->idx, e->tick, cost(e)};
    return 0;
}

int reel__cache_list_seq(reel_cache *c, uint64_t store, int64_t seq, reel__cframe **out,
                         size_t *n)
{
    seq_list l = {NULL, 0, 0, 0};
    each_entry(c, store, seq, collect, &l);
    if (l.nomem) {
        free(l.v);
        return reel__err(REEL_NOMEM, "out of memory");
    }
    *out = l.v;
    *n = l.n;
    return REEL_OK;
}

/* ---- which frames are resident -------------------------------------------------------------- */

typedef struct res_map {
    int64_t first, count, n;
    unsigned char *out;
} res_map;

static int is_resident(const centry *e) { return e->state == READY && e->rc == REEL_OK && !e->orphan; }

static int mark(reel_cache *c, shard *s, centry *e, void *ctx)
{
    res_map *m = ctx;
    (void)c, (void)s;
    if (e->idx >= m->first && e->idx - m->first < m->count && is_resident(e)) {
        m->out[e->idx - m->first] = 1;
        m->n++;
    }
    return 0;
}

/* A short range is looked up frame by frame; a long one in one pass over the table. */
int64_t reel__cache_resident_map(reel_cache *c, uint64_t store, int64_t seq, int64_t first,
                                 int64_t count, unsigned char *out)
{
    res_map m = {first, count, 0, out};
    int64_t k;
    if (count > 0)
        memset(out, 0, (size_t)count);
    if (count > 4 * SHARDS) {
        each_entry(c, store, seq, mark, &m);
        return m.n;
    }
    for (k = 0; k < count; k++) {
        uint64_t h = hash_key(store, seq, first + k);
        shard *s = &c->shards[h % SHARDS];
        centry *e;
        pthread_mutex_lock(&s->lock);
        e = *slot(s, h, store, seq, first + k);
        if (e && is_resident(e)) {
            out[k] = 1;
            m.n++;
        }
        pthread_mutex_unlock(&s->lock);
    }
    return m.n;
}
