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
 */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define SHARDS 1024
#define MAGIC_CACHE 0x72636368u /* "rchh" */
#define ENTRY_OVERHEAD (sizeof(centry) + 64)

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
    reel__seqstat *stat; /* the sequence's counters */
    uint64_t tick; /* lru_tick() when last released: the LRU order across shards */
    reel__access *access; /* where this frame's access counts go when it leaves */
    int64_t count, last_ms; /* accesses not yet handed to access (under the shard lock) */
    uint64_t hits;          /* readers' hits on it, for its sequence's statistics */
    reel_frame_info info;
    struct centry *hnext, *prev, *next;
} centry;

/* Each shard on cache lines of its own: the hit path touches nothing shared between shards. */
typedef struct shard {
    _Alignas(REEL__SPACING) pthread_mutex_t lock;
    pthread_cond_t loaded;
    centry **table;
    size_t nbuckets, count;
    centry lru;          /* sentinel: lru.next is the hottest, lru.prev the coldest */
    atomic_uint_fast64_t tail_tick; /* tick of lru.prev, UINT64_MAX when empty: read unlocked
                                       by eviction to find the oldest shard */
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

struct reel_cache {
    uint32_t magic;
    pthread_mutex_t push_lock;
    size_t pushed[PUSH_DEPTH]; /* budgets to restore, innermost last */
    int npushed;
    atomic_size_t budget, resident, dirty;
    atomic_int users, strict;
    /* changed on misses and evictions only, never on the hit path */
    atomic_uint_fast64_t loads, evictions, bytes_decompressed, load_ns, load_ns_max, frames,
        prefetched, prefetch_hits, prefetch_wasted, written_back, pressure_events;
    pthread_mutex_t sink_lock; /* taken before any store's writer lock */
    sink *sinks;
    pthread_mutex_t monitor_lock;
    reel__monitor *monitor; /* the memory-pressure monitor, if one runs */
    shard shards[SHARDS];
};

static atomic_uint_fast64_t next_serial = 1;

uint64_t reel__cache_serial(void) { return atomic_fetch_add(&next_serial, 1); }

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

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

static size_t pinned_bytes(reel_cache *c)
{
    size_t n = 0;
    int i;
    for (i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&c->shards[i].lock);
        n += c->shards[i].pinned;
        pthread_mutex_unlock(&c->shards[i].lock);
    }
    return n;
}

static int check(const reel_cache *c)
{
    return c && reel__magic(c) == MAGIC_CACHE ? REEL_OK
                                        : reel__err(REEL_MISUSE, "not a reel_cache handle");
}

/* ---- lists and table (shard lock held) --------------------------------------------------- */

static void update_tail(shard *s)
{
    atomic_store_explicit(&s->tail_tick, s->lru.prev != &s->lru ? s->lru.prev->tick : UINT64_MAX,
                          memory_order_relaxed);
}

static void lru_unlink(shard *s, centry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->prev = e->next = NULL;
    update_tail(s);
}

static void lru_push_hot(shard *s, centry *e)
{
    e->next = s->lru.next;
    e->prev = &s->lru;
    s->lru.next->prev = e;
    s->lru.next = e;
    update_tail(s);
}

static void lru_push_cold(shard *s, centry *e)
{
    e->prev = s->lru.prev;
    e->next = &s->lru;
    s->lru.prev->next = e;
    s->lru.prev = e;
    update_tail(s);
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
    centry **t = calloc(n, sizeof *t);
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

/* Hand the entry's pending access counts to its store (the shard lock may be held: the lock
 * order is cache shard, then access shard). */
static void hand_over(centry *e)
{
    if (e->count > 0 && e->access && !e->orphan)
        reel__access_add(e->access, e->seq, e->idx, e->count, e->last_ms);
    e->count = 0;
}

static void drop(reel_cache *c, centry *e)
{
    hand_over(e);
    reel__seqstat_add(e->stat, REEL__STAT_HITS_GONE, (int64_t)e->hits);
    if (e->prefetched) {
        atomic_fetch_add(&c->prefetch_wasted, 1);
        reel__seqstat_add(e->stat, REEL__STAT_PREFETCH_WASTED, 1);
    }
    if (e->dirty) {
        atomic_fetch_sub(&c->dirty, cost(e));
        reel__seqstat_add(e->stat, REEL__STAT_DIRTY, -(int64_t)cost(e));
    }
    reel__seqstat_resident(e->stat, -(int64_t)cost(e));
    atomic_fetch_sub(&c->resident, cost(e));
    atomic_fetch_sub(&c->frames, 1);
    free(e->pixels);
    free(e);
}

/* ---- eviction ----------------------------------------------------------------------------- */

/*
 * Evict unpinned entries, least recently released first across all shards, until
 * resident <= target. Each round reads every shard's tail tick without locking, then evicts
 * from the oldest shard as long as its cold end stays older than the runner-up's; a concurrent
 * release at worst makes a choice slightly stale.
 */
static void shrink(reel_cache *c, size_t target)
{
    while (atomic_load(&c->resident) > target) {
        uint64_t oldest = UINT64_MAX, second = UINT64_MAX;
        int k, pick = -1;
        shard *s;
        for (k = 0; k < SHARDS; k++) {
            uint64_t t = atomic_load_explicit(&c->shards[k].tail_tick, memory_order_relaxed);
            if (t < oldest) {
                second = oldest;
                oldest = t;
                pick = k;
            } else if (t < second) {
                second = t;
            }
        }
        if (pick < 0)
            return; /* everything left is pinned */
        s = &c->shards[pick];
        pthread_mutex_lock(&s->lock);
        do {
            centry *e = s->lru.prev;
            if (e == &s->lru)
                break;
            lru_unlink(s, e);
            unhash(s, e);
            atomic_fetch_add(&c->evictions, 1);
            reel__seqstat_add(e->stat, REEL__STAT_EVICTIONS, 1);
            drop(c, e);
        } while (atomic_load(&c->resident) > target && s->lru.prev != &s->lru &&
                 s->lru.prev->tick <= second);
        pthread_mutex_unlock(&s->lock);
    }
}

/* ---- write-back: stores with dirty state ---------------------------------------------------- */

void reel__cache_add_sink(reel_cache *c, int (*fn)(void *ctx), void *ctx)
{
    sink *k = malloc(sizeof *k);
    if (!k)
        return; /* its dirty frames are then written by batches, flushes and closes only */
    k->fn = fn;
    k->ctx = ctx;
    pthread_mutex_lock(&c->sink_lock);
    k->next = c->sinks;
    c->sinks = k;
    pthread_mutex_unlock(&c->sink_lock);
}

void reel__cache_remove_sink(reel_cache *c, void *ctx)
{
    sink **p, *k;
    pthread_mutex_lock(&c->sink_lock);
    for (p = &c->sinks; (k = *p); p = &k->next)
        if (k->ctx == ctx) {
            *p = k->next;
            free(k);
            break;
        }
    pthread_mutex_unlock(&c->sink_lock);
}

/* Write back every store's dirty frames and access counts; the first error is returned (the
 * state of a store that failed stays in memory for the next try). */
static int write_back(reel_cache *c)
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
static void make_room(reel_cache *c, size_t target)
{
    shrink(c, target);
    if (atomic_load(&c->resident) > target && atomic_load(&c->dirty) > 0) {
        write_back(c);
        shrink(c, target);
    }
}

/* ---- public: cache objects ---------------------------------------------------------------- */

static int cache_init(reel_cache *c, size_t budget)
{
    int i;
    memset(c, 0, sizeof *c);
    atomic_store(&c->budget, budget);
    pthread_mutex_init(&c->push_lock, NULL);
    pthread_mutex_init(&c->sink_lock, NULL);
    pthread_mutex_init(&c->monitor_lock, NULL);
    for (i = 0; i < SHARDS; i++) {
        shard *s = &c->shards[i];
        s->nbuckets = 16;
        if (!(s->table = calloc(s->nbuckets, sizeof *s->table)))
            return REEL_NOMEM;
        s->lru.next = s->lru.prev = &s->lru;
        atomic_store(&s->tail_tick, UINT64_MAX);
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->loaded, NULL);
    }
    c->magic = MAGIC_CACHE;
    return REEL_OK;
}

int reel_cache_new(size_t budget, reel_cache **out)
{
    reel_cache *c;
    int i;
    if (!out)
        return reel__err(REEL_MISUSE, "reel_cache_new: cache must not be NULL");
    if (!(c = aligned_alloc(REEL__SPACING, sizeof *c)) || cache_init(c, budget) != REEL_OK) {
        for (i = 0; c && i < SHARDS; i++)
            free(c->shards[i].table);
        free(c);
        return reel__err(REEL_NOMEM, "out of memory");
    }
    *out = c;
    return REEL_OK;
}

static reel_cache default_cache;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static int default_ok;

static void default_init(void)
{
    default_ok = cache_init(&default_cache, REEL_DEFAULT_CACHE_BUDGET) == REEL_OK;
    if (default_ok) /* the default cache gives memory back when the system runs short */
        reel__monitor_start(&default_cache, &default_cache.monitor, NULL);
}

reel_cache *reel_cache_default(void)
{
    pthread_once(&default_once, default_init);
    return default_ok ? &default_cache : NULL;
}

int reel_cache_free(reel_cache *c)
{
    int i;
    if (!c)
        return REEL_OK;
    if (check(c) != REEL_OK)
        return REEL_MISUSE;
    if (c == &default_cache)
        return reel__err(REEL_MISUSE, "reel_cache_free: the default cache lives with the process");
    if (atomic_load(&c->users) > 0 || pinned_bytes(c) > 0)
        return reel__err(REEL_MISUSE, "reel_cache_free: stores or pinned frames still use it");
    pthread_mutex_lock(&c->monitor_lock);
    reel__monitor_stop(&c->monitor);
    pthread_mutex_unlock(&c->monitor_lock);
    shrink(c, 0);
    c->magic = 0;
    for (i = 0; i < SHARDS; i++) {
        free(c->shards[i].table);
        pthread_mutex_destroy(&c->shards[i].lock);
        pthread_cond_destroy(&c->shards[i].loaded);
    }
    pthread_mutex_destroy(&c->push_lock);
    pthread_mutex_destroy(&c->sink_lock);
    pthread_mutex_destroy(&c->monitor_lock);
    free(c);
    return REEL_OK;
}

int reel_cache_set_budget(reel_cache *c, size_t budget)
{
    if (check(c) != REEL_OK)
        return REEL_MISUSE;
    atomic_store(&c->budget, budget);
    make_room(c, budget);
    return REEL_OK;
}

int reel_cache_set_strict(reel_cache *c, int on)
{
    if (check(c) != REEL_OK)
        return REEL_MISUSE;
    atomic_store(&c->strict, on != 0);
    return REEL_OK;
}

int reel_cache_get_budget(reel_cache *c, size_t *budget)
{
    if (check(c) != REEL_OK || !budget)
        return reel__err(REEL_MISUSE, "reel_cache_get_budget: NULL argument");
    *budget = atomic_load(&c->budget);
    return REEL_OK;
}

int reel_cache_push_budget(reel_cache *c, size_t budget)
{
    int rc = REEL_OK;
    if (check(c) != REEL_OK)
        return REEL_MISUSE;
    pthread_mutex_lock(&c->push_lock);
    if (c->npushed == PUSH_DEPTH)
        rc = reel__err(REEL_FULL, "reel_cache_push_budget: %d pushes deep already", PUSH_DEPTH);
    else
        c->pushed[c->npushed++] = atomic_exchange(&c->budget, budget);
    pthread_mutex_unlock(&c->push_lock);
    if (rc == REEL_OK)
        make_room(c, budget);
    return rc;
}

int reel_cache_pop(reel_cache *c)
{
    size_t budget = 0;
    int rc = REEL_OK;
    if (check(c) != REEL_OK)
        return REEL_MISUSE;
    pthread_mutex_lock(&c->push_lock);
    if (c->npushed == 0)
        rc = reel__err(REEL_MISUSE, "reel_cache_pop: nothing was pushed");
    else
        atomic_store(&c->budget, budget = c->pushed[--c->npushed]);
    pthread_mutex_unlock(&c->push_lock);
    if (rc == REEL_OK)
        make_room(c, budget);
    return rc;
}

int reel_cache_trim(reel_cache *c, size_t target)
{
    int rc;
    if (check(c) != REEL_OK)
        return REEL_MISUSE;
    rc = write_back(c); /* nothing unsaved stays behind what is dropped */
    shrink(c, target);
    return rc;
}

/* The share of the budget each pressure level leaves the cache. */
static size_t pressure_target(size_t budget, int level)
{
    return level == REEL_PRESSURE_NONE ? budget
           : level == REEL_PRESSURE_MODERATE ? budget / 2
                                             : 0;
}

int reel_cache_pressure(reel_cache *c, int level)
{
    int rc;
    if (check(c) != REEL_OK)
        return REEL_MISUSE;
    if (level < REEL_PRESSURE_NONE || level > REEL_PRESSURE_CRITICAL)
        return reel__err(REEL_INVALID, "reel_cache_pressure: unknown level %d", level);
    if (level == REEL_PRESSURE_NONE)
        return REEL_OK;
    atomic_fetch_add(&c->pressure_events, 1);
    rc = write_back(c);
    shrink(c, pressure_target(atomic_load(&c->budget), level));
    return rc;
}

int reel_cache_monitor_pressure(reel_cache *c, const reel_pressure_options *opts)
{
    int rc;
    if (check(c) != REEL_OK)
        return REEL_MISUSE;
    pthread_mutex_lock(&c->monitor_lock);
    rc = reel__monitor_start(c, &c->monitor, opts);
    pthread_mutex_unlock(&c->monitor_lock);
    return rc;
}

int reel_cache_stop_pressure_monitor(reel_cache *c)
{
    if (check(c) != REEL_OK)
        return REEL_MISUSE;
    pthread_mutex_lock(&c->monitor_lock);
    reel__monitor_stop(&c->monitor);
    pthread_mutex_unlock(&c->monitor_lock);
    return REEL_OK;
}

int reel_cache_stats_get(reel_cache *c, reel_cache_stats *st)
{
    int i;
    if (check(c) != REEL_OK || !st)
        return reel__err(REEL_MISUSE, "reel_cache_stats_get: NULL argument");
    memset(st, 0, sizeof *st);
    st->budget = atomic_load(&c->budget);
    st->resident_bytes = atomic_load(&c->resident);
    st->resident_frames = atomic_load(&c->frames);
    for (i = 0; i < SHARDS; i++) {
        pthread_mutex_lock(&c->shards[i].lock);
        st->pinned_bytes += c->shards[i].pinned;
        st->hits += c->shards[i].hits;
        st->misses += c->shards[i].misses;
        pthread_mutex_unlock(&c->shards[i].lock);
    }
    st->loads = atomic_load(&c->loads);
    st->evictions = atomic_load(&c->evictions);
    st->bytes_decompressed = atomic_load(&c->bytes_decompressed);
    st->prefetch_loads = atomic_load(&c->prefetched);
    st->prefetch_hits = atomic_load(&c->prefetch_hits);
    st->prefetch_wasted = atomic_load(&c->prefetch_wasted);
    st->dirty_bytes = atomic_load(&c->dirty);
    st->written_back = atomic_load(&c->written_back);
    st->pressure_events = atomic_load(&c->pressure_events);
    pthread_mutex_lock(&c->monitor_lock);
    st->pressure_level = reel__monitor_level(c->monitor);
    pthread_mutex_unlock(&c->monitor_lock);
    st->load_seconds_total = (double)atomic_load(&c->load_ns) / 1e9;
    st->load_seconds_max = (double)atomic_load(&c->load_ns_max) / 1e9;
    return REEL_OK;
}

/* ---- internal: pin, unpin, purge ---------------------------------------------------------- */

void reel__cache_use(reel_cache *c, int delta) { atomic_fetch_add(&c->users, delta); }


static void pin_locked(shard *s, centry *e)
{
    if (e->pins++ == 0) {
        if (e->prev)
            lru_unlink(s, e);
        s->pinned += cost(e);
    }
}

/* A new entry of the table (shard lock held), counted as resident; NULL when out of memory. */
static centry *enter(reel_cache *c, shard *s, centry **p, uint64_t store, int64_t seq,
                     int64_t idx, size_t size, reel__seqstat *stat)
{
    centry *e = calloc(1, sizeof *e);
    if (!e || !(e->pixels = malloc(size ? size : 1))) {
        free(e);
        return NULL;
    }
    e->store = store, e->seq = seq, e->idx = idx, e->size = size, e->stat = stat;
    *p = e;
    if (++s->count > s->nbuckets)
        grow(s);
    atomic_fetch_add(&c->resident, cost(e));
    atomic_fetch_add(&c->frames, 1);
    reel__seqstat_resident(stat, (int64_t)cost(e));
    return e;
}

int reel__cache_pin(reel_cache *c, uint64_t store, int64_t seq, int64_t idx, size_t size,
                    reel__loader load, void *ctx, reel__access *access, reel__seqstat *stat,
                    int count, void **entry, const void **pixels, reel_frame_info *info)
{
    uint64_t h = hash_key(store, seq, idx), t0;
    shard *s = &c->shards[h % SHARDS];
    centry **p, *e;
    int rc;
    int room_checked = 0;
again:
    pthread_mutex_lock(&s->lock);
    p = slot(s, h, store, seq, idx);
    if ((e = *p)) {
        pin_locked(s, e);
        if (count >= 0) { /* read-ahead (count < 0) is not a reader's hit */
            s->hits++;
            e->hits++; /* no shared counter on the hit path: summed when asked for */
            if (e->prefetched) {
                e->prefetched = 0;
                atomic_fetch_add(&c->prefetch_hits, 1);
                reel__seqstat_add(stat, REEL__STAT_PREFETCH_HITS, 1);
            }
        }
        if (count > 0) {
            e->count++;
            e->last_ms = reel__now_ms();
        }
        while (e->state == LOADING)
            pthread_cond_wait(&s->loaded, &s->lock);
        rc = e->rc;
        *info = e->info; /* under the lock: a write-back updates it */
        pthread_mutex_unlock(&s->lock);
        if (rc != REEL_OK) {
            reel__cache_unpin(c, e, 0);
            return reel__err(rc, "%s", "frame failed to load in another thread");
        }
        *entry = e;
        *pixels = e->pixels;
        return REEL_OK;
    }
    if (atomic_load(&c->strict) && !room_checked) {
        /* Strict: a new frame must fit beside the pinned ones, or the pin is refused. */
        size_t need = size + ENTRY_OVERHEAD, budget = atomic_load(&c->budget);
        pthread_mutex_unlock(&s->lock);
        make_room(c, budget > need ? budget - need : 0);
        if (atomic_load(&c->resident) + need > budget)
            return reel__err(REEL_FULL, "cache full: pinned frames leave no room for a %zu-byte "
                                        "frame (strict mode)",
                             size);
        room_checked = 1;
        goto again; /* another thread may have loaded it meanwhile */
    }
    /* A miss: enter the frame as LOADING, pinned by us, then load without the lock. */
    if (!(e = enter(c, s, p, store, seq, idx, size, stat))) {
        pthread_mutex_unlock(&s->lock);
        return reel__err(REEL_NOMEM, "out of memory for a %zu-byte frame", size);
    }
    e->state = LOADING;
    e->access = access;
    e->count = count > 0 ? count : 0;
    e->last_ms = count > 0 ? reel__now_ms() : 0;
    e->prefetched = count < 0;
    pin_locked(s, e);
    if (count >= 0) {
        s->misses++;
        reel__seqstat_add(stat, REEL__STAT_MISSES, 1);
    }
    pthread_mutex_unlock(&s->lock);

    t0 = now_ns();
    rc = load(ctx, e->pixels, &e->info);
    t0 = now_ns() - t0;
    atomic_fetch_add(&c->load_ns, t0);
    {
        uint_fast64_t max = atomic_load(&c->load_ns_max);
        while (t0 > max && !atomic_compare_exchange_weak(&c->load_ns_max, &max, t0))
            ;
    }
    pthread_mutex_lock(&s->lock);
    e->state = READY;
    e->rc = rc;
    pthread_cond_broadcast(&s->loaded);
    pthread_mutex_unlock(&s->lock);
    if (rc != REEL_OK) {
        reel__cache_unpin(c, e, 0); /* failed entries leave at once (see unpin) */
        return rc;
    }
    atomic_fetch_add(&c->loads, 1);
    if (count < 0)
        atomic_fetch_add(&c->prefetched, 1);
    atomic_fetch_add(&c->bytes_decompressed, size);
    reel__seqstat_load(stat, size, t0, count < 0);
    make_room(c, atomic_load(&c->budget));
    *entry = e;
    *pixels = e->pixels;
    *info = e->info;
    return REEL_OK;
}

void reel__cache_unpin(reel_cache *c, void *entry, int once)
{
    centry *e = entry;
    uint64_t h = hash_key(e->store, e->seq, e->idx);
    shard *s = &c->shards[h % SHARDS];
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
        } else if (once) {
            e->tick = 0; /* a one-pass read: the first to go */
            lru_push_cold(s, e);
        } else {
            e->tick = lru_tick();
            lru_push_hot(s, e);
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (gone)
        drop(c, e);
    if (atomic_load(&c->resident) > atomic_load(&c->budget))
        make_room(c, atomic_load(&c->budget));
}

int reel__cache_put_dirty(reel_cache *c, uint64_t store, int64_t seq, int64_t idx, size_t size,
                          const void *pixels, const reel_frame_info *info, reel__access *access,
                          reel__seqstat *stat, void **entry)
{
    uint64_t h = hash_key(store, seq, idx);
    shard *s = &c->shards[h % SHARDS];
    centry **p, *e;
    int rc = REEL_OK;
    pthread_mutex_lock(&s->lock);
    p = slot(s, h, store, seq, idx);
    if (*p) /* a frame of a sequence removed and made again under the same id: out of date */
        rc = reel__err(REEL_EXISTS, "frame %lld is in the cache already", (long long)idx);
    else if (!(e = enter(c, s, p, store, seq, idx, size, stat)))
        rc = reel__err(REEL_NOMEM, "out of memory for a %zu-byte frame", size);
    if (rc == REEL_OK) {
        memcpy(e->pixels, pixels, size);
        e->state = READY;
        e->info = *info;
        e->access = access;
        e->dirty = 1;
        atomic_fetch_add(&c->dirty, cost(e));
        reel__seqstat_add(stat, REEL__STAT_DIRTY, (int64_t)cost(e));
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
        reel__seqstat_add(e->stat, REEL__STAT_DIRTY, -(int64_t)cost(e));
        atomic_fetch_add(&c->written_back, 1);
        reel__seqstat_add(e->stat, REEL__STAT_WRITTEN_BACK, 1);
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

void reel__cache_fit(reel_cache *c) { make_room(c, atomic_load(&c->budget)); }

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
