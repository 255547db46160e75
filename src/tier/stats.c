/*
 * stats.c - the RAM tier's counters of one sequence (reel_seq_get_cache_stats) and the home of its
 * policy.
 *
 * A store file's share (share.c) keeps one reel__seqstat per sequence opened, shared by every
 * handle of that sequence in every open of the file using that cache, and freed with the
 * share. It owns the sequence's cache entries: the cache tells it
 * what happens to them (reel__seqstat_ops), on loads and evictions only, so nothing shared is
 * written on the hit path. Hits are counted in each entry under its shard lock and told here
 * when the entry leaves; pinned bytes and the hits of resident frames are summed from the
 * cache when asked for. Accesses counted in an entry are handed to the share's access table.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tier/handles.h"
#include "tier/stats.h"

struct reel__seqstat {
    _Alignas(64) atomic_llong v[REEL__STAT_N];
    int64_t seq;
    reel__access *access;
    struct reel__seqstat *next;
    _Alignas(REEL__SPACING) reel__seqpol pol; /* read by gets: apart from the counters */
};

static void count(void *owner, int which, int64_t n)
{
    reel__seqstat *st = owner;
    if (st && n)
        atomic_fetch_add_explicit(&st->v[which], n, memory_order_relaxed);
}

static void loaded(void *owner, size_t bytes, uint64_t ns, int prefetch)
{
    reel__seqstat *st = owner;
    long long max;
    if (!st)
        return;
    count(st, REEL__STAT_LOADS, 1);
    count(st, REEL__STAT_BYTES, (int64_t)bytes);
    count(st, REEL__STAT_LOAD_NS, (int64_t)ns);
    count(st, REEL__STAT_PREFETCH, prefetch != 0);
    max = atomic_load(&st->v[REEL__STAT_LOAD_NS_MAX]);
    while ((long long)ns > max &&
           !atomic_compare_exchange_weak(&st->v[REEL__STAT_LOAD_NS_MAX], &max, (long long)ns))
        ;
}

static void accessed(void *owner, int64_t idx, int64_t n, int64_t last_ms)
{
    reel__seqstat *st = owner;
    if (st && st->access)
        reel__access_add(st->access, st->seq, idx, n, last_ms);
}

const reel__owner_ops reel__seqstat_ops = {count, loaded, accessed};

reel__seqstat *reel__seqstat_new(int64_t seq, reel__access *a)
{
    reel__seqstat *st = reel__zalloc_spaced(sizeof *st);
    if (!st)
        return NULL;
    pthread_mutex_init(&st->pol.lock, NULL);
    st->seq = seq;
    st->access = a;
    return st;
}

void reel__seqstat_free(reel__seqstat *st)
{
    if (!st)
        return;
    pthread_mutex_destroy(&st->pol.lock);
    free(st);
}

reel__seqstat *reel__seqstat_find(reel__seqstat **head, int64_t seq, reel__access *a)
{
    reel__seqstat *st;
    for (st = *head; st && st->seq != seq; st = st->next)
        ;
    if (!st && (st = reel__seqstat_new(seq, a))) {
        st->next = *head;
        *head = st;
    }
    return st;
}

void reel__seqstat_free_list(reel__seqstat **head)
{
    reel__seqstat *st, *next;
    for (st = *head; st; st = next) {
        next = st->next;
        reel__seqstat_free(st);
    }
    *head = NULL;
}

int64_t reel__seqstat_get(const reel__seqstat *st, int which)
{
    return st ? (int64_t)atomic_load(&((reel__seqstat *)st)->v[which]) : 0;
}

reel__seqpol *reel__seqstat_policy(reel__seqstat *st) { return st ? &st->pol : NULL; }

void reel__seqstat_adopt(reel__seqstat *dst, reel__seqstat *src)
{
    reel_seq_policy p;
    if (!dst || !src || dst == src)
        return;
    pthread_mutex_lock(&src->pol.lock);
    p = src->pol.p;
    pthread_mutex_unlock(&src->pol.lock);
    pthread_mutex_lock(&dst->pol.lock);
    if (!atomic_load(&dst->pol.active) && dst->pol.p.priority == 0) {
        dst->pol.p = p;
        atomic_store(&dst->pol.priority, p.priority);
        atomic_store(&dst->pol.active, p.max_frames || p.max_bytes || p.window ||
                                           p.trim_every || p.trim_ms);
    }
    pthread_mutex_unlock(&dst->pol.lock);
}

void reel__seqstat_resident_now(reel__seqstat *st, uint64_t *frames, uint64_t *bytes)
{
    *frames = (uint64_t)reel__seqstat_get(st, REEL__EV_RESIDENT_FRAMES);
    *bytes = (uint64_t)reel__seqstat_get(st, REEL__EV_RESIDENT_BYTES);
}

int reel_seq_get_cache_stats(reel_seq *q, reel_cache_stats *out)
{
    reel__seqstat *st;
    uint64_t hits;
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!out)
        return reel__null_arg(__func__);
    memset(out, 0, sizeof *out);
    reel_cache_get_budget(q->store->cache, &out->budget);
    out->effective_budget = reel__cache_effective(q->store->cache);
    out->pressure_level = -1; /* a property of the cache, not of a sequence */
    if (!(st = q->stat))
        return REEL_OK; /* its counters could not be allocated: nothing was counted */
    reel__cache_seq_scan(q->store->cache, q->store->serial, q->rec.id, &out->pinned_bytes, &hits);
    out->hits = hits + (uint64_t)reel__seqstat_get(st, REEL__EV_HITS_GONE);
    out->misses = (uint64_t)reel__seqstat_get(st, REEL__EV_MISSES);
    out->resident_bytes = (size_t)reel__seqstat_get(st, REEL__EV_RESIDENT_BYTES);
    out->resident_frames = (uint64_t)reel__seqstat_get(st, REEL__EV_RESIDENT_FRAMES);
    out->loads = (uint64_t)reel__seqstat_get(st, REEL__STAT_LOADS);
    out->evictions = (uint64_t)reel__seqstat_get(st, REEL__EV_EVICTIONS);
    out->prefetch_loads = (uint64_t)reel__seqstat_get(st, REEL__STAT_PREFETCH);
    out->bytes_decompressed = (uint64_t)reel__seqstat_get(st, REEL__STAT_BYTES);
    out->written_back = (uint64_t)reel__seqstat_get(st, REEL__EV_WRITTEN_BACK);
    out->dirty_bytes = (size_t)reel__seqstat_get(st, REEL__EV_DIRTY_BYTES);
    out->prefetch_hits = (uint64_t)reel__seqstat_get(st, REEL__EV_PREFETCH_HITS);
    out->prefetch_wasted = (uint64_t)reel__seqstat_get(st, REEL__EV_PREFETCH_WASTED);
    out->load_seconds_total = (double)reel__seqstat_get(st, REEL__STAT_LOAD_NS) / 1e9;
    out->load_seconds_max = (double)reel__seqstat_get(st, REEL__STAT_LOAD_NS_MAX) / 1e9;
    out->policy_evictions = (uint64_t)reel__seqstat_get(st, REEL__EV_UNLOADS);
    out->policy_bytes_freed = (uint64_t)reel__seqstat_get(st, REEL__EV_UNLOADED_BYTES);
    return REEL_OK;
}
