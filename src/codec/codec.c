/*
 * codec.c - the frame codec: the prediction filter (filter.c, where the STRIP16 layout is
 * described) followed by zstd, and the checks every stored blob goes through before its
 * pixels are trusted.
 *
 * Residuals are compressed at zstd level 1 with a 64 KiB window, a 1 Ki-entry hash table and
 * matches of 7 bytes or more: higher levels and bigger tables find short false matches in
 * residual noise and end up larger, slower to compress and slower to decode.
 *
 * Every blob is untrusted: the filter id must be known, the zstd frame must declare exactly
 * the filtered size and decompress to exactly that size, and the pixels must match the stored
 * checksum (XXH64 of the raw frame). Scratch memory is allocated only after those size checks.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "base/error.h"
#include "base/hash.h"
#include "codec/codec.h"
#include "codec/filter.h"

struct reel__codec {
    ZSTD_CCtx *cctx;
    ZSTD_DCtx *dctx;
    uint8_t *scratch;     /* filtered frame */
    size_t scratch_cap;
    uint8_t *planes;      /* RGB planes before/after the colour transform */
    size_t planes_cap;
    uint8_t *blob;        /* compressed output */
    size_t blob_cap;
    uint8_t *rows;        /* row scratch of the filter (17 rows) and unfilter (16-bit strips) */
    size_t rows_cap;
    int scalar;           /* portable filter code only */
};

/* ---- buffers ---------------------------------------------------------------------------- */

reel__codec *reel__codec_new(void)
{
    reel__codec *c = reel__calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cctx = ZSTD_createCCtx();
    c->dctx = ZSTD_createDCtx();
    if (!c->cctx || !c->dctx) {
        reel__codec_free(c);
        return NULL;
    }
    return c;
}

void reel__codec_free(reel__codec *c)
{
    if (!c)
        return;
    ZSTD_freeCCtx(c->cctx);
    ZSTD_freeDCtx(c->dctx);
    free(c->scratch);
    free(c->planes);
    free(c->blob);
    free(c->rows);
    free(c);
}

void reel__codec_set_scalar(reel__codec *c, int on) { c->scalar = on != 0; }

static int reserve(uint8_t **buf, size_t *cap, size_t need)
{
    uint8_t *p;
    if (need <= *cap)
        return 1;
    p = reel__malloc(need);
    if (!p)
        return 0;
    free(*buf);
    *buf = p;
    *cap = need;
    return 1;
}

static int is_rgb(int fmt) { return fmt == REEL_PIX_RGB24 || fmt == REEL_PIX_BGR24; }

/* Validate a recorded filter id; *mask gets the per-plane predictor bits. */
static int parse_filter(int id, int np, unsigned *mask)
{
    if (id == REEL__FILTER_NONE) {
        *mask = 0;
        return 1;
    }
    if (id < 0 || (id & 0xf) != REEL__FILTER_STRIP16 || (id >> 4) >= (1 << np))
        return 0;
    *mask = (unsigned)id >> 4;
    return 1;
}

int reel__encode(reel__codec *c, int filter, int level, const reel__geom *g,
                 const void *pixels, reel__blob *out)
{
    reel__plane p[REEL__MAX_PLANES];
    int fmt = g->fmt, w = g->width, np = reel__planes(fmt, w, g->height, p), i;
    size_t raw = 0, filtered = 0, bound, n;
    const uint8_t *src = pixels, *in;
    unsigned mask = 0;

    if (!np)
        return reel__err(REEL_INVALID, "bad pixel format or size");
    if (filter != REEL__FILTER_AUTO && !parse_filter(filter, np, &mask))
        return reel__err(REEL_UNSUPPORTED, "unknown filter %d", filter);
    for (i = 0; i < np; i++) {
        raw += reel__plane_bytes(&p[i]);
        filtered += reel__filtered_bytes(&p[i]);
    }
    out->checksum = reel__checksum(pixels, raw);
    if (filter == REEL__FILTER_NONE) {
        in = src;
        n = raw;
    } else {
        /* planes: the RGB colour transform's output; rows: 17 rows of 2-byte samples */
        if (!reserve(&c->scratch, &c->scratch_cap, filtered) ||
            (is_rgb(fmt) && !reserve(&c->planes, &c->planes_cap, raw)) ||
            !reserve(&c->rows, &c->rows_cap, (size_t)w * 2 * (REEL__LANES + 1)))
            return reel__err(REEL_NOMEM, "out of memory for a %zu-byte frame", filtered);
        reel__filter_io io = {fmt, p, np, c->planes, c->rows, c->scalar};
        reel__filter(&io, src, filter == REEL__FILTER_AUTO, &mask, c->scratch);
        in = c->scratch;
        n = filtered;
        filter = REEL__FILTER_STRIP16 | (int)(mask << 4);
    }
    bound = ZSTD_compressBound(n);
    if (!reserve(&c->blob, &c->blob_cap, bound))
        return reel__err(REEL_NOMEM, "out of memory for a %zu-byte blob", bound);
    ZSTD_CCtx_reset(c->cctx, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, level);
    if (filter != REEL__FILTER_NONE) {
        /* Residuals hold few real matches: a small window and hash table with long minimum
         * matches avoid false ones, which makes frames smaller and both directions faster. */
        ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_windowLog, 16);
        ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_hashLog, 10);
        ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_minMatch, 7);
    }
    bound = ZSTD_compress2(c->cctx, c->blob, c->blob_cap, in, n);
    if (ZSTD_isError(bound))
        return reel__err(REEL_ERROR, "zstd: %s", ZSTD_getErrorName(bound));
    out->data = c->blob;
    out->len = bound;
    out->filter = filter;
    return REEL_OK;
}

/* ---- decoder ---------------------------------------------------------------------------- */

/* Why blob is not one whole zstd frame declaring want bytes, or NULL when it is. */
static const char *check_frame(const void *blob, size_t len, size_t want)
{
    unsigned long long declared;
    if (!blob || len == 0)
        return "empty blob";
    declared = ZSTD_getFrameContentSize(blob, len);
    if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN)
        return "blob is not a zstd frame with a declared size";
    if (declared != want)
        return "zstd frame declares the wrong decompressed size";
    if (want / REEL__ZSTD_MAX_RATIO > len)
        return "blob is too small to hold the frame it declares";
    if (ZSTD_findFrameCompressedSize(blob, len) != len)
        return "blob is truncated or has trailing bytes";
    return NULL;
}

int reel__decode(reel__codec *c, const reel__geom *g, const reel__blob *b, void *dst,
                 const char **why)
{
    reel__plane p[REEL__MAX_PLANES];
    int fmt = g->fmt, filter = b->filter, np = reel__planes(fmt, g->width, g->height, p), i;
    const void *blob = b->data;
    size_t blob_len = b->len;
    size_t raw = 0, filtered = 0, want, got;
    void *target;
    unsigned mask = 0;

    if (!np) {
        *why = "bad pixel format or size in the sequence";
        return REEL_CORRUPT;
    }
    for (i = 0; i < np; i++) {
        raw += reel__plane_bytes(&p[i]);
        filtered += reel__filtered_bytes(&p[i]);
    }
    if (!parse_filter(filter, np, &mask)) {
        *why = "unknown filter id (written by a newer reel?)";
        return REEL_UNSUPPORTED;
    }
    want = filter == REEL__FILTER_NONE ? raw : filtered;
    if ((*why = check_frame(blob, blob_len, want)) != NULL)
        return REEL_CORRUPT;
    /* Only now, with the sizes checked, allocate the scratch for the filtered frame. */
    target = dst;
    if (filter != REEL__FILTER_NONE) {
        if (!reserve(&c->scratch, &c->scratch_cap, filtered) ||
            (is_rgb(fmt) && !reserve(&c->planes, &c->planes_cap, raw)) ||
            !reserve(&c->rows, &c->rows_cap, (size_t)p[0].width * REEL__LANES * 2 * 2)) {
            *why = "out of memory";
            return REEL_NOMEM;
        }
        target = c->scratch;
    }
    got = ZSTD_decompressDCtx(c->dctx, target, want, blob, blob_len);
    if (ZSTD_isError(got) || got != want) {
        *why = "zstd data is damaged";
        return REEL_CORRUPT;
    }
    if (filter != REEL__FILTER_NONE) {
        reel__filter_io io = {fmt, p, np, c->planes, c->rows, c->scalar};
        reel__unfilter(&io, c->scratch, mask, dst);
    }
    if (reel__checksum(dst, raw) != b->checksum) {
        *why = "checksum mismatch";
        return REEL_CORRUPT;
    }
    return REEL_OK;
}
