/*
 * access.c - access counts in memory. A get through the cache counts in the cache entry
 * itself, under the shard lock it takes anyway (src/cache); the counts move here when the
 * entry leaves the cache or the store flushes (the entry's owner, stats.c, hands them over).
 * Lazy gets count here directly (a sharded hash). reel_flush() and reel_close() add the
 * gathered counts to the file in one transaction (src/store/counts.c). No SQLite call is ever
 * on the hot path.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/common.h"
#include "store/counts.h"
#include "tier/access.h"

#define SHARDS 256

typedef reel__count counter;

typedef struct ashard {
    _Alignas(REEL__SPACING) pthread_mutex_t lock;
    counter **table;
    size_t nbuckets, count;
} ashard;

struct reel__access {
    ashard shards[SHARDS];
};

static uint64_t key_hash(int64_t seq, int64_t idx)
{
    uint64_t h = (uint64_t)seq * 0x9E3779B97F4A7C15ULL ^ (uint64_t)idx * 0xC2B2AE3D27D4EB4FULL;
    return h ^ (h >> 31);
}

reel__access *reel__access_new(void)
{
    reel__access *a = aligned_alloc(REEL__SPACING, sizeof *a);
    int i;
    if (!a)
        return NULL;
    memset(a, 0, sizeof *a);
    for (i = 0; i < SHARDS; i++) {
        a->shards[i].nbuckets = 16;
        a->shards[i].table = reel__calloc(16, sizeof(counter *));
        if (!a->shards[i].table) {
            reel__access_free(a);
            return NULL;
        }
        pthread_mutex_init(&a->shards[i].lock, NULL);
    }
    return a;
}

static void clear(ashard *s)
{
    size_t b;
    for (b = 0; b < s->nbuckets; b++) {
        counter *c = s->table[b], *next;
        for (; c; c = next) {
            next = c->next;
            free(c);
        }
        s->table[b] = NULL;
    }
    s->count = 0;
}

void reel__access_free(reel__access *a)
{
    int i;
    if (!a)
        return;
    for (i = 0; i < SHARDS; i++) {
        if (!a->shards[i].table)
            continue;
        clear(&a->shards[i]);
        free(a->shards[i].table);
        pthread_mutex_destroy(&a->shards[i].lock);
    }
    free(a);
}

static void grow(ashard *s)
{
    size_t n = s->nbuckets * 2, b;
    counter **t = reel__calloc(n, sizeof *t);
    if (!t)
        return;
    for (b = 0; b < s->nbuckets; b++) {
        counter *c = s->table[b], *next;
        for (; c; c = next) {
            size_t k = (key_hash(c->seq, c->idx) >> 8) & (n - 1);
            next = c->next;
            c->next = t[k];
            t[k] = c;
        }
    }
    free(s->table);
    s->table = t;
    s->nbuckets = n;
}

/* Add n accesses at time ms (a count that cannot be recorded for lack of memory is dropped). */
void reel__access_add(reel__access *a, int64_t seq, int64_t idx, int64_t n, int64_t ms)
{
    uint64_t h = key_hash(seq, idx);
    ashard *s = &a->shards[h % SHARDS];
    counter *c;
    pthread_mutex_lock(&s->lock);
    for (c = s->table[(h >> 8) & (s->nbuckets - 1)]; c; c = c->next)
        if (c->seq == seq && c->idx == idx)
            break;
    if (!c && (c = reel__calloc(1, sizeof *c))) {
        size_t b = (h >> 8) & (s->nbuckets - 1);
        c->seq = seq;
        c->idx = idx;
        c->next = s->table[b];
        s->table[b] = c;
        if (++s->count > 2 * s->nbuckets)
            grow(s);
    }
    if (c) {
        c->count += n;
        c->last_ms = ms > c->last_ms ? ms : c->last_ms;
    }
    pthread_mutex_unlock(&s->lock);
}

void reel__access_count(reel__access *a, int64_t seq, int64_t idx)
{
    reel__access_add(a, seq, idx, 1, reel__now_ms());
}

/* Take out every counter (seq < 0) or those of one sequence, as a list, each shard locked in
 * turn. */
static counter *take(reel__access *a, int64_t seq)
{
    counter *list = NULL;
    int i;
    size_t b;
    for (i = 0; i < SHARDS; i++) {
        ashard *s = &a->shards[i];
        pthread_mutex_lock(&s->lock);
        for (b = 0; b < s->nbuckets; b++) {
            counter **p = &s->table[b], *c;
            while ((c = *p)) {
                if (seq >= 0 && c->seq != seq) {
                    p = &c->next;
                    continue;
                }
                *p = c->next;
                s->count--;
                c->next = list;
                list = c;
            }
        }
        pthread_mutex_unlock(&s->lock);
    }
    return list;
}

void reel__access_forget(reel__access *a, int64_t seq)
{
    counter *c = take(a, seq), *next;
    for (; c; c = next) {
        next = c->next;
        free(c);
    }
}

int reel__access_flush(reel__access *a, sqlite3 *db, int checked)
{
    counter *list = take(a, -1), *c, *next;
    int rc = reel__counts_write(db, list, checked);
    for (c = list; c; c = next) {
        next = c->next;
        if (rc != REEL_OK) /* keep them for the next flush */
            reel__access_add(a, c->seq, c->idx, c->count, c->last_ms);
        free(c);
    }
    return rc;
}

int64_t reel__access_peek(reel__access *a, int64_t seq, int64_t idx, int64_t *last_ms)
{
    uint64_t h = key_hash(seq, idx);
    ashard *s = &a->shards[h % SHARDS];
    counter *c;
    int64_t n = 0;
    if (last_ms)
        *last_ms = 0;
    pthread_mutex_lock(&s->lock);
    for (c = s->table[(h >> 8) & (s->nbuckets - 1)]; c; c = c->next)
        if (c->seq == seq && c->idx == idx) {
            n = c->count;
            if (last_ms)
                *last_ms = c->last_ms;
            break;
        }
    pthread_mutex_unlock(&s->lock);
    return n;
}
