/* stats.h - what the RAM tier keeps per sequence of an open store (stats.c): the counters of
 * reel_seq_get_cache_stats, fed by the cache through the owner ops of its entries, and the
 * sequence's policy (policy.c). Every handle of the sequence shares them. */
#ifndef REEL_TIER_STATS_H
#define REEL_TIER_STATS_H

#include <pthread.h>
#include <stdatomic.h>

#include "cache/cache.h"
#include "tier/access.h"

/* Counters: the cache's events (REEL__EV_*), then the loads. */
enum {
    REEL__STAT_LOADS = REEL__EV_N, REEL__STAT_BYTES, REEL__STAT_LOAD_NS, REEL__STAT_LOAD_NS_MAX,
    REEL__STAT_PREFETCH, REEL__STAT_N
};

/* The RAM-tier policy of one sequence (policy.c). */
typedef struct reel__seqpol {
    pthread_mutex_t lock;   /* guards p and trimmed_ms; held while the policy is enforced */
    reel_seq_policy p;
    int64_t trimmed_ms;     /* when last trimmed (monotonic) */
    atomic_int active;      /* any limit, window or trim set: gets look at the policy */
    atomic_int priority;    /* p.priority, read by every load */
    atomic_llong pos;       /* the latest index read */
    atomic_llong enforced_pos; /* pos when the policy was last enforced */
    atomic_ullong gets;
} reel__seqpol;

typedef struct reel__seqstat reel__seqstat;

/* The owner ops of the cache entries of a sequence: the owner is its reel__seqstat. */
REEL__HIDDEN extern const reel__owner_ops reel__seqstat_ops;

/* A new set for sequence seq, whose accesses go to a; freed with reel__seqstat_free. The
 * caller keeps them (a file's share keeps one per sequence opened: reel__seqstat_find). */
REEL__HIDDEN reel__seqstat *reel__seqstat_new(int64_t seq, reel__access *a);
REEL__HIDDEN void reel__seqstat_free(reel__seqstat *st);
/* Find seq's in the list at *head, or make it (NULL only when out of memory). */
REEL__HIDDEN reel__seqstat *reel__seqstat_find(reel__seqstat **head, int64_t seq,
                                               reel__access *a);
REEL__HIDDEN void reel__seqstat_free_list(reel__seqstat **head);
REEL__HIDDEN int64_t reel__seqstat_get(const reel__seqstat *st, int which);
/* Frames and bytes of the sequence resident now (pinned ones included). */
REEL__HIDDEN void reel__seqstat_resident_now(reel__seqstat *st, uint64_t *frames,
                                            uint64_t *bytes);
/* Give dst (when it has no policy set) the policy of src; either may be NULL. */
REEL__HIDDEN void reel__seqstat_adopt(reel__seqstat *dst, reel__seqstat *src);
/* The policy of the sequence (NULL with st). */
REEL__HIDDEN reel__seqpol *reel__seqstat_policy(reel__seqstat *st);

#endif
