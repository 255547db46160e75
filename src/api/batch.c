/* batch.c - several frames at once: a list of indexes, a window, a scan in batches with the
 * next batch loading meanwhile, and a sequence opened with its most read frames loaded. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "base/error.h"
#include "store/counts.h"

static int by_index(const void *a, const void *b)
{
    int64_t x = **(const int64_t *const *)a, y = **(const int64_t *const *)b;
    return (x > y) - (x < y);
}

int reel_frames_get(reel_seq *seq, const int64_t *indexes, size_t n, unsigned flags,
                    reel_frame **frames)
{
    const int64_t **order;
    size_t i;
    int rc = REEL_OK;
    if (reel__seq_check(seq, __func__) != REEL_OK)
        return REEL_MISUSE;
    if ((!indexes || !frames) && n)
        return reel__null_arg(__func__);
    if (n == 0)
        return REEL_OK;
    if (n > SIZE_MAX / sizeof *order) /* no array of indexes holds that many */
        return reel__err(REEL_INVALID, "reel_frames_get: n = %zu is more than an array holds "
                         "(at most %zu)", n, SIZE_MAX / sizeof *order);
    if (!(order = reel__malloc(n * sizeof *order)))
        return reel__err(REEL_NOMEM, "out of memory");
    /* load in index order (sequential blobs, one load per distinct frame); hand out in the
     * caller's order */
    for (i = 0; i < n; i++) {
        order[i] = &indexes[i];
        frames[i] = NULL;
    }
    qsort(order, n, sizeof *order, by_index);
    for (i = 0; i < n && rc == REEL_OK; i++)
        rc = reel_frame_get(seq, *order[i], flags, &frames[order[i] - indexes]);
    free(order);
    if (rc != REEL_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", reel_errmsg());
        reel_frames_release(frames, n);
        return reel__err(rc, "%s", msg);
    }
    return REEL_OK;
}

int reel_frames_get_window(reel_seq *seq, int64_t center, int64_t radius, unsigned flags,
                           reel_frame **frames, size_t *count, int64_t *first)
{
    int64_t total, lo, hi, *idx, i;
    int rc;
    if (reel__seq_check(seq, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!frames || !count)
        return reel__null_arg(__func__);
    if (radius < 0 || radius > (int64_t)1 << 30)
        return reel__err(REEL_INVALID, "reel_frames_get_window: radius %lld is not from 0 to 2^30",
                         (long long)radius);
    if ((rc = reel_seq_frame_count(seq, &total)) != REEL_OK)
        return rc;
    if (center < 0 || center >= total)
        return reel__err(REEL_NOTFOUND, "sequence '%s' has no frame %lld", seq->rec.name,
                         (long long)center);
    lo = center - radius < 0 ? 0 : center - radius;
    hi = center + radius >= total ? total - 1 : center + radius;
    if (!(idx = reel__malloc((size_t)(hi - lo + 1) * sizeof *idx)))
        return reel__err(REEL_NOMEM, "out of memory");
    for (i = lo; i <= hi; i++)
        idx[i - lo] = i;
    rc = reel_frames_get(seq, idx, (size_t)(hi - lo + 1), flags, frames);
    free(idx);
    if (rc == REEL_OK) {
        *count = (size_t)(hi - lo + 1);
        if (first)
            *first = lo;
    }
    return rc;
}

int reel_seq_foreach(reel_seq *seq, int64_t first, int64_t count, size_t batch,
                     reel_foreach_fn cb, void *ctx, unsigned flags)
{
    reel_frame **frames;
    int64_t *idx, total, end, at;
    size_t k;
    int rc = REEL_OK;
    if (reel__seq_check(seq, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!cb)
        return reel__null_arg(__func__);
    if (first < 0 || batch == 0 || batch > REEL__PREFETCH_MAX / 2 || (flags & ~(unsigned)REEL_FOREACH_RELEASE))
        return reel__err(REEL_INVALID, "reel_seq_foreach: first >= 0, batch 1..%d, known flags",
                         REEL__PREFETCH_MAX / 2);
    if ((rc = reel_seq_frame_count(seq, &total)) != REEL_OK)
        return rc;
    end = count < 0 || first >= total || count > total - first ? total : first + count;
    frames = reel__malloc(batch * sizeof *frames);
    idx = reel__malloc(batch * sizeof *idx);
    if (!frames || !idx) {
        free(frames);
        free(idx);
        return reel__err(REEL_NOMEM, "out of memory");
    }
    for (at = first; at < end && rc == REEL_OK; at += (int64_t)batch) {
        size_t n = (size_t)(end - at < (int64_t)batch ? end - at : (int64_t)batch);
        if (at + (int64_t)n < end) /* the next batch loads while the callback works */
            reel_seq_prefetch(seq, at + (int64_t)n,
                              (size_t)(end - at - (int64_t)n < (int64_t)batch
                                           ? end - at - (int64_t)n
                                           : (int64_t)batch));
        for (k = 0; k < n; k++)
            idx[k] = at + (int64_t)k;
        if ((rc = reel_frames_get(seq, idx, n, 0, frames)) != REEL_OK)
            break;
        rc = cb(ctx, frames, n);
        if (flags & REEL_FOREACH_RELEASE)
            reel_frames_release(frames, n);
    }
    free(frames);
    free(idx);
    return rc;
}

/* Load the frames of idx[] (most accessed first) into the cache, least accessed first. */
static size_t warm(reel_seq *q, const int64_t *idx, size_t n)
{
    reel_store *s = q->store;
    size_t loaded = 0;
    while (n-- > 0) {
        reel__frame_ref ref = {q, idx[n]};
        reel__pin_req r;
        reel__pinned pinned;
        reel__seq_pin_req(q, idx[n], &ref, &r);
        if (reel__cache_pin(s->cache, &r, REEL__PIN_PREFETCH, &pinned) != REEL_OK)
            break; /* no room left (or a frame that does not load) */
        reel__cache_unpin(s->cache, pinned.entry, 0);
        loaded++;
    }
    return loaded;
}

int reel_seq_open_warm(reel_store *s, const char *name, double share, reel_seq **out,
                       size_t *loaded)
{
    reel_seq *q;
    int64_t *idx = NULL;
    size_t budget = 0, limit, n = 0;
    int rc;
    if (!(share >= 0.0 && share <= 1.0)) /* NaN too */
        return reel__err(REEL_INVALID, "reel_seq_open_warm: share %g is not in 0..1", share);
    if ((rc = reel_seq_open(s, name, out)) != REEL_OK)
        return rc;
    q = *out;
    reel_cache_get_budget(s->cache, &budget);
    limit = (size_t)((double)budget * share) / (q->rec.frame_size + REEL_CACHE_ENTRY_OVERHEAD);
    if (limit > 0 && !(idx = reel__malloc(limit * sizeof *idx)))
        rc = reel__err(REEL_NOMEM, "out of memory");
    if (rc == REEL_OK && limit > 0)
        rc = reel__counts_top(s->db, q->rec.id, limit, idx, &n);
    if (rc == REEL_OK) {
        n = warm(q, idx, n);
        if (loaded)
            *loaded = n;
    }
    free(idx);
    if (rc != REEL_OK) {
        reel_seq_close(q);
        *out = NULL;
    }
    return rc;
}
