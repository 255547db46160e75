/*
 * policy.c - what one sequence may keep in the RAM tier: at most N frames or B bytes, a window
 * of frames around the latest index read, an eviction priority, and trims every K gets or T ms;
 * and dropping single frames (reel_frame_unload).
 *
 * The policy lives with the sequence's counters in its file's share (stats.c, share.c), so
 * every handle of the sequence shares it, in every open of the file using the same cache. It is kept after gets: a get of a sequence without a policy
 * reads one flag. The cache knows nothing of policies; they ask it for the sequence's
 * droppable frames (reel__cache_list_seq) and drop the ones they do not keep one by one
 * (reel__cache_unload), so the frames are chosen with no cache lock held and each is checked
 * again under its shard's lock. One thread enforces a sequence's policy at a time; the others
 * skip it (the next get catches up).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/error.h"
#include "tier/handles.h"
#include "tier/policy.h"

static int by_tick(const void *a, const void *b)
{
    uint64_t x = ((const reel__cframe *)a)->tick, y = ((const reel__cframe *)b)->tick;
    return (x > y) - (x < y);
}

/* |a - b| for any two indexes, without overflow (a window may be up to INT64_MAX). */
static uint64_t distance(int64_t a, int64_t b)
{
    return a >= b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

/* Decide which of the n droppable frames v[] to drop (marked by cost = 0 for "keep") under p,
 * with `frames` and `bytes` resident in all (pinned ones included). trim: down to the limits
 * themselves (to nothing without limits or window); else down to 7/8 of an exceeded limit. */
static void choose(const reel_seq_policy *p, int64_t pos, int trim, reel__cframe *v, size_t n,
                   uint64_t frames, uint64_t bytes)
{
    uint64_t maxf = p->max_frames, maxb = p->max_bytes;
    size_t i;
    if (!trim) {
        maxf = maxf && frames > maxf ? maxf - maxf / 8 : maxf;
        maxb = maxb && bytes > maxb ? maxb - maxb / 8 : maxb;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, by_tick); /* least recently used first */
    for (i = 0; i < n; i++) {
        int outside = p->window > 0 && distance(v[i].idx, pos) > (uint64_t)p->window;
        int over = (maxf && frames > maxf) || (maxb && bytes > maxb);
        int all = trim && !p->max_frames && !p->max_bytes && p->window <= 0;
        if (outside || over || all) {
            frames--;
            bytes -= v[i].cost;
        } else {
            v[i].cost = 0; /* kept */
        }
    }
}

/* Drop what the policy does not keep (pol->lock held); the bytes freed. */
static size_t enforce(reel_seq *q, reel__seqpol *pol, int trim)
{
    reel_store *s = q->store;
    reel__cframe *v;
    size_t n, i, freed = 0, f;
    uint64_t frames, bytes;
    if (reel__cache_list_seq(s->cache, s->serial, q->rec.id, &v, &n) != REEL_OK)
        return 0;
    reel__seqstat_resident_now(q->stat, &frames, &bytes);
    choose(&pol->p, atomic_load(&pol->pos), trim, v, n, frames, bytes);
    for (i = 0; i < n; i++)
        if (v[i].cost && reel__cache_unload(s->cache, s->serial, q->rec.id, v[i].idx, &f) == REEL_OK)
            freed += f;
    free(v);
    atomic_store(&pol->enforced_pos, atomic_load(&pol->pos));
    return freed;
}

/* Whether the limits or the window call for dropping frames now. */
static int over(reel_seq *q, const reel__seqpol *pol, int64_t idx)
{
    const reel_seq_policy *p = &pol->p;
    uint64_t frames, bytes;
    reel__seqstat_resident_now(q->stat, &frames, &bytes);
    if ((p->max_frames && frames > p->max_frames) || (p->max_bytes && bytes > p->max_bytes))
        return 1;
    if (p->window <= 0)
        return 0;
    /* frames outside the window: more than it holds, or the reader moved far enough that
     * some may be */
    return frames / 2 > (uint64_t)p->window || /* more than 2 * window + 1, without overflow */
           distance(idx, atomic_load(&pol->enforced_pos)) > (uint64_t)p->window;
}

void reel__policy_keep(reel_seq *q, int64_t idx)
{
    reel__seqpol *pol = q->pol;
    uint64_t gets;
    int trim;
    if (!pol)
        return;
    atomic_store(&pol->pos, idx);
    gets = atomic_fetch_add(&pol->gets, 1) + 1;
    if (pthread_mutex_trylock(&pol->lock) != 0)
        return;
    trim = (pol->p.trim_every && gets % pol->p.trim_every == 0) ||
           (pol->p.trim_ms && reel__mono_ms() - pol->trimmed_ms >= (int64_t)pol->p.trim_ms);
    if (trim) {
        enforce(q, pol, 1);
        pol->trimmed_ms = reel__mono_ms();
    } else if (over(q, pol, idx)) {
        enforce(q, pol, 0);
    }
    pthread_mutex_unlock(&pol->lock);
}

int reel_seq_set_policy(reel_seq *q, const reel_seq_policy *p)
{
    reel__seqpol *pol;
    size_t i;
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!p)
        return reel__null_arg(__func__);
    if (p->priority < REEL_PRIORITY_LOW || p->priority > REEL_PRIORITY_HIGH || p->window < 0)
        return reel__err(REEL_INVALID, "reel_seq_set_policy: priority %d (-1..1) or window "
                                       "%lld (>= 0)",
                         p->priority, (long long)p->window);
    for (i = 0; i < sizeof p->reserved / sizeof p->reserved[0]; i++)
        if (p->reserved[i])
            return reel__err(REEL_INVALID, "reel_seq_set_policy: reserved must be zero");
    if (!(pol = reel__seqstat_policy(q->stat)))
        return reel__err(REEL_NOMEM, "out of memory");
    pthread_mutex_lock(&pol->lock);
    pol->p = *p;
    pol->trimmed_ms = reel__mono_ms();
    atomic_store(&pol->priority, p->priority);
    atomic_store(&pol->active, p->max_frames || p->max_bytes || p->window || p->trim_every ||
                                   p->trim_ms);
    if (atomic_load(&pol->active) && over(q, pol, atomic_load(&pol->pos)))
        enforce(q, pol, 0);
    pthread_mutex_unlock(&pol->lock);
    return REEL_OK;
}

int reel_seq_get_policy(reel_seq *q, reel_seq_policy *p)
{
    reel__seqpol *pol;
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!p)
        return reel__null_arg(__func__);
    memset(p, 0, sizeof *p);
    if ((pol = reel__seqstat_policy(q->stat))) {
        pthread_mutex_lock(&pol->lock);
        *p = pol->p;
        pthread_mutex_unlock(&pol->lock);
    }
    return REEL_OK;
}

int reel_seq_trim(reel_seq *q, size_t *freed)
{
    reel__seqpol *pol;
    size_t n = 0;
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!(pol = reel__seqstat_policy(q->stat)))
        return reel__err(REEL_NOMEM, "out of memory");
    pthread_mutex_lock(&pol->lock);
    n = enforce(q, pol, 1);
    pol->trimmed_ms = reel__mono_ms();
    pthread_mutex_unlock(&pol->lock);
    if (freed)
        *freed = n;
    return REEL_OK;
}

int reel_frame_unload(reel_seq *q, int64_t index)
{
    size_t freed;
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (reel__cache_unload(q->store->cache, q->store->serial, q->rec.id, index, &freed) != REEL_OK)
        return reel__err(REEL_BUSY, "sequence '%s' frame %lld is pinned, loading or waiting for "
                                    "write-back: it stays",
                         q->rec.name, (long long)index);
    return REEL_OK;
}
