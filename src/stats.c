/*
 * stats.c - the RAM tier's counters of one sequence (reel_seq_cache_stats).
 *
 * A store keeps one reel__seqstat per sequence it has opened, shared by every handle of that
 * sequence and freed with the store. The cache updates it through its entries' pointers, on
 * loads and evictions only: nothing shared is written on the hit path. Hits are counted in
 * each entry under its shard lock and added here when the entry leaves; pinned bytes and the
 * hits of resident frames are summed from the cache when asked for.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct reel__seqstat {
    _Alignas(64) atomic_llong v[REEL__STAT_N];
    int64_t seq;
    struct reel__seqstat *next;
    _Alignas(REEL__SPACING) reel__seqpol pol; /* read by gets: apart from the counters */
};

reel__seqpol *reel__seqstat_policy(reel__seqstat *st) { return st ? &st->pol : NULL; }

void reel__seqstat_resident_now(reel__seqstat *st, uint64_t *frames, uint64_t *bytes)
{
    *frames = st ? (uint64_t)atomic_load(&st->v[REEL__STAT_RESIDENT_FRAMES]) : 0;
    *bytes = st ? (uint64_t)atomic_load(&st->v[REEL__STAT_RESIDENT_BYTES]) : 0;
}

void reel__seqstat_add(reel__seqstat *st, int which, int64_t n)
{
    if (st && n)
        atomic_fetch_add_explicit(&st->v[which], n, memory_order_relaxed);
}

void reel__seqstat_resident(reel__seqstat *st, int64_t bytes)
{
    reel__seqstat_add(st, REEL__STAT_RESIDENT_BYTES, bytes);
    reel__seqstat_add(st, REEL__STAT_RESIDENT_FRAMES, bytes > 0 ? 1 : -1);
}

void reel__seqstat_load(reel__seqstat *st, size_t bytes, uint64_t ns, int prefetch)
{
    long long max;
    if (!st)
        return;
    reel__seqstat_add(st, REEL__STAT_LOADS, 1);
    reel__seqstat_add(st, REEL__STAT_BYTES, (int64_t)bytes);
    reel__seqstat_add(st, REEL__STAT_LOAD_NS, (int64_t)ns);
    reel__seqstat_add(st, REEL__STAT_PREFETCH, prefetch != 0);
    max = atomic_load(&st->v[REEL__STAT_LOAD_NS_MAX]);
    while ((long long)ns > max &&
           !atomic_compare_exchange_weak(&st->v[REEL__STAT_LOAD_NS_MAX], &max, (long long)ns))
        ;
}

reel__seqstat *reel__seqstat_for(reel_store *s, int64_t seq)
{
    reel__seqstat *st;
    pthread_mutex_lock(&s->lock);
    for (st = s->stats; st && st->seq != seq; st = st->next)
        ;
    if (!st && (st = reel__zalloc_spaced(sizeof *st))) {
        pthread_mutex_init(&st->pol.lock, NULL);
        st->seq = seq;
        st->next = s->stats;
        s->stats = st;
    }
    pthread_mutex_unlock(&s->lock);
    return st;
}

void reel__seqstat_free_all(reel_store *s)
{
    reel__seqstat *st, *next;
    for (st = s->stats; st; st = next) {
        next = st->next;
        pthread_mutex_destroy(&st->pol.lock);
        free(st);
    }
    s->stats = NULL;
}

int reel_seq_cache_stats(reel_seq *q, reel_cache_stats *out)
{
    reel__seqstat *st;
    uint64_t hits;
    if (reel__seq_check(q) != REEL_OK || !out)
        return reel__err(REEL_MISUSE, "reel_seq_cache_stats: NULL or closed argument");
    memset(out, 0, sizeof *out);
    reel_cache_get_budget(q->store->cache, &out->budget);
    out->effective_budget = reel__cache_effective(q->store->cache);
    out->pressure_level = -1; /* a property of the cache, not of a sequence */
    if (!(st = q->stat))
        return REEL_OK; /* its counters could not be allocated: nothing was counted */
    reel__cache_seq_scan(q->store->cache, q->store->serial, q->id, &out->pinned_bytes, &hits);
    out->hits = hits + (uint64_t)atomic_load(&st->v[REEL__STAT_HITS_GONE]);
    out->misses = (uint64_t)atomic_load(&st->v[REEL__STAT_MISSES]);
    out->resident_bytes = (size_t)atomic_load(&st->v[REEL__STAT_RESIDENT_BYTES]);
    out->resident_frames = (uint64_t)atomic_load(&st->v[REEL__STAT_RESIDENT_FRAMES]);
    out->loads = (uint64_t)atomic_load(&st->v[REEL__STAT_LOADS]);
    out->evictions = (uint64_t)atomic_load(&st->v[REEL__STAT_EVICTIONS]);
    out->prefetch_loads = (uint64_t)atomic_load(&st->v[REEL__STAT_PREFETCH]);
    out->bytes_decompressed = (uint64_t)atomic_load(&st->v[REEL__STAT_BYTES]);
    out->written_back = (uint64_t)atomic_load(&st->v[REEL__STAT_WRITTEN_BACK]);
    out->dirty_bytes = (size_t)atomic_load(&st->v[REEL__STAT_DIRTY]);
    out->prefetch_hits = (uint64_t)atomic_load(&st->v[REEL__STAT_PREFETCH_HITS]);
    out->prefetch_wasted = (uint64_t)atomic_load(&st->v[REEL__STAT_PREFETCH_WASTED]);
    out->load_seconds_total = (double)atomic_load(&st->v[REEL__STAT_LOAD_NS]) / 1e9;
    out->load_seconds_max = (double)atomic_load(&st->v[REEL__STAT_LOAD_NS_MAX]) / 1e9;
    out->policy_evictions = (uint64_t)atomic_load(&st->v[REEL__STAT_POLICY_EVICTIONS]);
    out->policy_bytes_freed = (uint64_t)atomic_load(&st->v[REEL__STAT_POLICY_BYTES]);
    return REEL_OK;
}
