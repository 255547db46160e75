/* blob.c - a stored frame's row checked against its sequence, then decoded: the one place,
 * for the library and the sqlite3 extension alike. */
#include "config.h"

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
        rc = reel__decode(c, &s->geom, &b, dst, &why);
    }
    if (rc != REEL_OK)
        return reel__err(rc, "sequence '%s' frame %lld: %s", s->seq_name, (long long)s->index,
                         why);
    return REEL_OK;
}
