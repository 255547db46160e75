/* blob.c - a stored frame's row checked against its sequence, then decoded: the one place,
 * for the library and the sqlite3 extension alike. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/error.h"
#include "codec/blob.h"

int reel__stored_decode(reel__codec *c, const reel__stored *s, void *dst)
{
    const char *why = NULL;
    int rc;
    if (!s->present) {
        if (s->status == REEL_STATUS_SKIPPED)
            return reel__err(REEL_NODATA, "sequence '%s' frame %lld: skipped at import, no pixels",
                             s->seq_name, (long long)s->index);
        return reel__err(REEL_CORRUPT, "sequence '%s' frame %lld: pixel blob is missing",
                         s->seq_name, (long long)s->index);
    }
    if (s->raw_bytes != (int64_t)s->frame_size)
        return reel__err(REEL_CORRUPT,
                         "sequence '%s' frame %lld: recorded size %lld, expected %zu for %dx%d %s",
                         s->seq_name, (long long)s->index, (long long)s->raw_bytes, s->frame_size,
                         s->geom.width, s->geom.height, reel_pix_fmt_name(s->geom.fmt));
    if (!s->data && s->len)
        return reel__err(REEL_NOMEM, "out of memory reading a blob");
    if ((int64_t)s->len != s->stored_bytes)
        return reel__err(REEL_CORRUPT,
                         "sequence '%s' frame %lld: blob has %zu bytes, %lld were recorded",
                         s->seq_name, (long long)s->index, s->len, (long long)s->stored_bytes);
    {
        reel__blob b = {s->data, s->len, s->filter, s->checksum};
        rc = reel__decode_ref(c, &s->geom, &b, s->ref, dst, &why);
    }
    if (rc != REEL_OK)
        return reel__err(rc, "sequence '%s' frame %lld: %s", s->seq_name, (long long)s->index,
                         why);
    return REEL_OK;
}

/* An error while decoding frame j of the chain of frame idx: say both. */
static int chain_error(const reel__stored *s, int64_t j, int rc)
{
    char why[512];
    if (rc == REEL_NODATA) /* a frame without pixels cannot be a reference */
        rc = REEL_CORRUPT;
    snprintf(why, sizeof why, "%s", reel_errmsg());
    return reel__err(rc, "sequence '%s' frame %lld: its reference frame %lld cannot be decoded "
                         "(%s)",
                     s->seq_name, (long long)s->index, (long long)j, why);
}

int reel__chain_decode(reel__codec *c, const reel__chain_src *src, const reel__stored *s,
                       void *dst)
{
    reel__stored row, last;
    const void *base = NULL;
    void *token = NULL;
    uint8_t *buf[2] = {NULL, NULL};
    int64_t start, j, idx = s->index;
    int rc, filter, k = 0;

    if (!reel__filter_is_delta(s->filter) || !s->present)
        return reel__stored_decode(c, s, dst);
    if (idx <= 0)
        return reel__err(REEL_CORRUPT, "sequence '%s' frame %lld: a temporal frame with no frame "
                                       "before it",
                         s->seq_name, (long long)idx);
    if (src->have && (base = src->have(src->ctx, idx - 1, &token))) {
        last = *s;
        last.ref = base;
        rc = reel__stored_decode(c, &last, dst);
        src->release(src->ctx, token);
        return rc;
    }
    /* Walk back to a frame held decoded or one that needs no reference. s's blob must stay
     * valid meanwhile: src reads other statements. */
    for (start = idx - 1;; start--) {
        if (start < 0 || idx - start > REEL__MAX_CHAIN)
            return reel__err(REEL_CORRUPT,
                             "sequence '%s' frame %lld: its chain of references %s (a damaged "
                             "store)",
                             s->seq_name, (long long)idx,
                             start < 0 ? "reaches the first frame without one that needs none"
                                       : "is longer than " REEL__STR(REEL__MAX_CHAIN) " frames");
        if (src->have && (base = src->have(src->ctx, start, &token)))
            break;
        if ((rc = src->kind(src->ctx, start, &filter)) != REEL_OK)
            return chain_error(s, start, rc);
        if (!reel__filter_is_delta(filter))
            break;
    }
    if (!(buf[0] = reel__malloc(s->frame_size)) || !(buf[1] = reel__malloc(s->frame_size))) {
        rc = reel__err(REEL_NOMEM, "out of memory for the references of a %zu-byte frame",
                       s->frame_size);
        goto out;
    }
    /* Forward: each frame decoded with the one before it as reference. */
    for (j = base ? start + 1 : start; j < idx; j++) {
        if ((rc = src->row(src->ctx, j, &row)) != REEL_OK) {
            rc = chain_error(s, j, rc);
            goto out;
        }
        row.ref = base;
        if ((rc = reel__stored_decode(c, &row, buf[k])) != REEL_OK) {
            rc = chain_error(s, j, rc);
            goto out;
        }
        if (token) { /* the held frame served its one use */
            src->release(src->ctx, token);
            token = NULL;
        }
        base = buf[k];
        k ^= 1;
    }
    last = *s;
    last.ref = base;
    rc = reel__stored_decode(c, &last, dst);
out:
    if (token)
        src->release(src->ctx, token);
    free(buf[0]);
    free(buf[1]);
    return rc;
}
