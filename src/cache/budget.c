/*
 * budget.c - cache objects and what users set on them: making and freeing caches, budgets
 * (set, pushed and popped), strict mode, trims, memory pressure and the effective budget,
 * statistics, the watcher attached to a cache (the pressure monitor of src/tier) and the
 * stores that register to write their unsaved state back before anything is dropped. The
 * mechanism itself is in cache.c. The process's default cache and its monitor are made in
 * src/tier/pressure.c.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/error.h"
#include "cache/cache_impl.h"

#define DEFAULT_CALM_MS 2000
#define DEFAULT_GROW_STEP ((size_t)16 << 20)

int reel__cache_check(const reel_cache *c, const char *fn)
{
    return c && reel__magic(c) == MAGIC_CACHE
               ? REEL_OK
               : reel__err(REEL_MISUSE, "%s: not a reel_cache handle", fn);
}

size_t reel__cache_pinned_bytes(reel_cache *c)
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

/* ---- stores with unsaved state ---------------------------------------------------------- */

void reel__cache_add_sink(reel_cache *c, int (*fn)(void *ctx), void *ctx)
{
    sink *k = reel__malloc(sizeof *k);
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

/* ---- public: cache objects ---------------------------------------------------------------- */

static int cache_init(reel_cache *c, size_t budget)
{
    int i, k;
    memset(c, 0, sizeof *c);
    atomic_store(&c->budget, budget);
    atomic_store(&c->effective, SIZE_MAX);
    atomic_store(&c->calm_ms, DEFAULT_CALM_MS);
    atomic_store(&c->grow_step, DEFAULT_GROW_STEP);
    reel__fb_init(&c->mem);
    pthread_mutex_init(&c->hook_lock, NULL);
    pthread_mutex_init(&c->push_lock, NULL);
    pthread_mutex_init(&c->sink_lock, NULL);
    pthread_mutex_init(&c->attach_lock, NULL);
    atomic_store(&c->level, -1);
    for (i = 0; i < SHARDS; i++) {
        shard *s = &c->shards[i];
        s->nbuckets = 16;
        if (!(s->table = reel__calloc(s->nbuckets, sizeof *s->table)))
            return REEL_NOMEM;
        for (k = 0; k < NPRIO; k++) {
            s->lru[k].next = s->lru[k].prev = &s->lru[k];
            atomic_store(&s->tail_tick[k], UINT64_MAX);
        }
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

int reel_cache_free(reel_cache *c)
{
    int i;
    if (!c)
        return REEL_OK;
    if (reel__cache_check(c, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (c->is_default)
        return reel__err(REEL_MISUSE, "reel_cache_free: the default cache lives with the process");
    if (atomic_load(&c->users) > 0 || reel__cache_pinned_bytes(c) > 0)
        return reel__err(REEL_MISUSE, "reel_cache_free: stores or pinned frames still use it");
    reel__cache_attach_lock(c, 1);
    reel__cache_attach(c, NULL, NULL);
    reel__cache_attach_lock(c, 0);
    reel__cache_shrink(c, 0);
    reel__fb_destroy(&c->mem);
    c->magic = 0;
    for (i = 0; i < SHARDS; i++) {
        free(c->shards[i].table);
        pthread_mutex_destroy(&c->shards[i].lock);
        pthread_cond_destroy(&c->shards[i].loaded);
    }
    pthread_mutex_destroy(&c->push_lock);
    pthread_mutex_destroy(&c->sink_lock);
    pthread_mutex_destroy(&c->attach_lock);
    pthread_mutex_destroy(&c->hook_lock);
    free(c);
    return REEL_OK;
}

int reel_cache_set_budget(reel_cache *c, size_t budget)
{
    if (reel__cache_check(c, __func__) != REEL_OK)
        return REEL_MISUSE;
    atomic_store(&c->budget, budget);
    reel__cache_make_room(c, budget);
    return REEL_OK;
}

int reel_cache_set_strict(reel_cache *c, int on)
{
    if (reel__cache_check(c, __func__) != REEL_OK)
        return REEL_MISUSE;
    atomic_store(&c->strict, on != 0);
    return REEL_OK;
}

int reel_cache_get_budget(reel_cache *c, size_t *budget)
{
    if (reel__cache_check(c, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!budget)
        return reel__null_arg(__func__);
    *budget = atomic_load(&c->budget);
    return REEL_OK;
}

int reel_cache_push_budget(reel_cache *c, size_t budget)
{
    int rc = REEL_OK;
    if (reel__cache_check(c, __func__) != REEL_OK)
        return REEL_MISUSE;
    pthread_mutex_lock(&c->push_lock);
    if (c->npushed == PUSH_DEPTH)
        rc = reel__err(REEL_FULL, "reel_cache_push_budget: %d pushes deep already", PUSH_DEPTH);
    else
        c->pushed[c->npushed++] = atomic_exchange(&c->budget, budget);
    pthread_mutex_unlock(&c->push_lock);
    if (rc == REEL_OK)
        reel__cache_make_room(c, budget);
    return rc;
}

int reel_cache_pop_budget(reel_cache *c)
{
    size_t budget = 0;
    int rc = REEL_OK;
    if (reel__cache_check(c, __func__) != REEL_OK)
        return REEL_MISUSE;
    pthread_mutex_lock(&c->push_lock);
    if (c->npushed == 0)
        rc = reel__err(REEL_MISUSE, "reel_cache_pop_budget: nothing was pushed");
    else
        atomic_store(&c->budget, budget = c->pushed[--c->npushed]);
    pthread_mutex_unlock(&c->push_lock);
    if (rc == REEL_OK)
        reel__cache_make_room(c, budget);
    return rc;
}

int reel_cache_trim(reel_cache *c, size_t target)
{
    int rc;
    if (reel__cache_check(c, __func__) != REEL_OK)
        return REEL_MISUSE;
    rc = reel__cache_write_back(c); /* nothing unsaved stays behind what is dropped */
    reel__cache_shrink(c, target);
    reel__fb_release(&c->mem);
    return rc;
}

/* ---- memory pressure and the effective budget --------------------------------------------- */

/*
 * The effective budget is what memory pressure leaves the cache: every cut lowers it to the
 * cut's target, and while the monitor finds headroom short it is held at what is resident,
 * so a cache does not refill at full speed into memory the system needs. Once no pressure
 * has been seen for calm_ms (2 s by default), it rises by 1/16 of the budget for every
 * RAISE_MS (250 ms) of calm: a miss credits all the periods that passed since the last raise
 * at once (a reader back after a quiet minute finds the full budget), while under steady
 * reading it climbs from nothing to the full budget in about 6 s, and the monitor, which
 * checks the headroom on the growth path, holds it again the moment the headroom is short.
 * SIZE_MAX: no pressure since the last full recovery.
 */
#define RAISE_MS 250

size_t reel__budget_recovered(const reel__calm *k)
{
    long long from = k->pressure_ms + k->calm_ms - RAISE_MS; /* the first raise is due at
                                                                pressure + calm */
    size_t step = k->budget / 16 > 0 ? k->budget / 16 : 1, periods;
    if (k->effective >= k->budget || k->now_ms - k->pressure_ms < k->calm_ms)
        return k->effective;
    if (k->raised_ms > from)
        from = k->raised_ms;
    if (k->now_ms - from < RAISE_MS)
        return k->effective;
    periods = (size_t)((k->now_ms - from) / RAISE_MS);
    if (periods >= (k->budget - k->effective + step - 1) / step)
        return k->budget;
    return k->effective + periods * step;
}

size_t reel__cache_limit(reel_cache *c)
{
    reel__calm k;
    size_t raised;
    long long last;
    k.budget = atomic_load(&c->budget);
    k.effective = atomic_load(&c->effective);
    if (k.effective >= k.budget)
        return k.budget;
    k.now_ms = reel__mono_ms();
    k.raised_ms = last = atomic_load(&c->raised_ms);
    k.pressure_ms = atomic_load(&c->pressure_ms);
    k.calm_ms = atomic_load(&c->calm_ms);
    raised = reel__budget_recovered(&k);
    if (raised == k.effective || !atomic_compare_exchange_strong(&c->raised_ms, &last, k.now_ms))
        return k.effective;
    /* a cut or hold in between wins: only raise what is still there */
    if (atomic_compare_exchange_strong(&c->effective, &k.effective,
                                       raised >= k.budget ? SIZE_MAX : raised))
        k.effective = raised;
    return k.effective < k.budget ? k.effective : k.budget;
}

static void lower_effective(reel_cache *c, size_t to)
{
    size_t eff = atomic_load(&c->effective);
    while (to < eff && !atomic_compare_exchange_weak(&c->effective, &eff, to))
        ;
    atomic_store(&c->pressure_ms, reel__mono_ms());
}

size_t reel__cache_cut(reel_cache *c, size_t target, int *rc)
{
    int r = reel__cache_write_back(c); /* nothing unsaved is dropped */
    size_t freed = reel__cache_shrink(c, target);
    lower_effective(c, target);
    reel__fb_release(&c->mem);
    atomic_fetch_add(&c->pressure_events, 1);
    if (freed > 0) {
        atomic_fetch_add(&c->pressure_freed, 1);
        atomic_fetch_add(&c->pressure_bytes, freed);
    }
    if (rc)
        *rc = r;
    return freed;
}

void reel__cache_hold(reel_cache *c) { lower_effective(c, atomic_load(&c->resident)); }

size_t reel__cache_resident(reel_cache *c) { return atomic_load(&c->resident); }

size_t reel__cache_effective(reel_cache *c) { return reel__cache_cap(c); }

void reel__cache_set_calm(reel_cache *c, int ms) { atomic_store(&c->calm_ms, ms); }

void reel__cache_set_grow_hook(reel_cache *c, void (*fn)(void *ctx), void *ctx, size_t step)
{
    pthread_mutex_lock(&c->hook_lock);
    c->grow_fn = fn;
    c->grow_ctx = ctx;
    atomic_store(&c->grow_step, step ? step : DEFAULT_GROW_STEP);
    pthread_mutex_unlock(&c->hook_lock);
}

int reel_cache_report_pressure(reel_cache *c, int level)
{
    int rc;
    if (reel__cache_check(c, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (level < REEL_PRESSURE_NONE || level > REEL_PRESSURE_CRITICAL)
        return reel__err(REEL_INVALID, "reel_cache_report_pressure: unknown level %d", level);
    if (level == REEL_PRESSURE_NONE)
        return REEL_OK;
    reel__cache_cut(c, level == REEL_PRESSURE_MODERATE ? reel__cache_cap(c) / 2 : 0, &rc);
    return rc;
}

void reel__cache_attach_lock(reel_cache *c, int lock)
{
    if (lock)
        pthread_mutex_lock(&c->attach_lock);
    else
        pthread_mutex_unlock(&c->attach_lock);
}

void reel__cache_attach(reel_cache *c, void *obj, void (*detach)(void *obj))
{
    if (c->attached && c->detach)
        c->detach(c->attached);
    c->attached = obj;
    c->detach = detach;
    if (!obj)
        atomic_store(&c->level, -1);
}

void *reel__cache_attached(reel_cache *c) { return c->attached; }

void reel__cache_set_level(reel_cache *c, int level) { atomic_store(&c->level, level); }

void reel__cache_mark_default(reel_cache *c) { c->is_default = 1; }

int reel_cache_get_stats(reel_cache *c, reel_cache_stats *st)
{
    int i;
    if (reel__cache_check(c, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!st)
        return reel__null_arg(__func__);
    memset(st, 0, sizeof *st);
    st->budget = atomic_load(&c->budget);
    st->effective_budget = reel__cache_cap(c);
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
    st->pressure_freed = atomic_load(&c->pressure_freed);
    st->pressure_idle = st->pressure_events - st->pressure_freed;
    st->pressure_bytes_freed = atomic_load(&c->pressure_bytes);
    st->policy_evictions = atomic_load(&c->policy_evictions);
    st->policy_bytes_freed = atomic_load(&c->policy_bytes);
    st->growth_checks = atomic_load(&c->growth_checks);
    st->pressure_level = atomic_load(&c->level);
    st->load_seconds_total = (double)atomic_load(&c->load_ns) / 1e9;
    st->load_seconds_max = (double)atomic_load(&c->load_ns_max) / 1e9;
    return REEL_OK;
}

void reel__cache_use(reel_cache *c, int delta) { atomic_fetch_add(&c->users, delta); }
