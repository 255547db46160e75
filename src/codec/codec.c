/*
 * codec.c - the frame codec: the prediction filter (filter.c, where the STRIP16 layout is
 * described) followed by zstd, and the checks every stored blob goes through before its
 * pixels are trusted.
 *
 * Residuals are compressed at zstd level 1 with a 64 KiB window, a 64-entry hash table (zstd's
 * smallest) and matches of 7 bytes or more: higher levels and bigger tables find short false
 * matches in residual noise and end up larger, slower to compress and slower to decode. The
 * table was 1 Ki entries until 64 proved smaller everywhere and no slower to decode: spatial
 * frames 0.5% (make bench's static camera) to 5.4% (Megamind.avi) smaller, block-wise temporal
 * ones 3.6% (static camera), plain zstd's "none" frames (tree.avi) the same.
 *
 * Filter RANS (id 4 | mask << 4) is STRIP16's filtered frame coded by htscodecs' static rANS
 * (order 0, 32 states; RANS_ORDER) instead of zstd: on clean frames, where most residuals are
 * 0 or +-1 and Huffman's whole bits are far from their entropy, it stores ~19% smaller and
 * decodes faster; on noisy camera frames it is about as large and fast as zstd. BEST codes
 * with it first and with zstd only where a band of the frame says zstd's matches win
 * (try_zstd).
 *
 * Every blob is untrusted: the filter id must be known, the zstd frame must declare exactly
 * the filtered size and decompress to exactly that size, and the pixels must match the stored
 * checksum (XXH64 of the raw frame). Scratch memory is allocated only after those size checks.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <htscodecs/rANS_static4x16.h>
#include <limits.h>
#include <math.h>
#include <zstd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/error.h"
#include "base/hash.h"
#include "codec/blocks.h"
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
    uint8_t *trial;       /* BEST: the candidate being tried, swapped with blob when smaller */
    size_t trial_cap;
    uint8_t *delta;       /* DELTA: the frame less its reference; BLOCKS: the filtered frame */
    size_t delta_cap;
    uint8_t *bptrs;       /* BLOCKS decoder: where each block of a block row starts */
    size_t bptrs_cap;
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
    free(c->trial);
    free(c->delta);
    free(c->rows);
    free(c->bptrs);
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
    if (id == REEL__FILTER_NONE || id == REEL__FILTER_DELTA || id == REEL__FILTER_BLOCKS) {
        *mask = 0;
        return 1;
    }
    if (!reel__filter_is_strip(id) || (id >> 4) >= (1 << np))
        return 0;
    *mask = (unsigned)id >> 4;
    return 1;
}

/* 16-bit formats are predicted sample by sample (little-endian), the others byte by byte. */
static int wide_samples(int fmt) { return fmt == REEL_PIX_GRAY16LE || fmt == REEL_PIX_YUV420P10LE; }

/* d = a - b, or (undo) d = a + b, over n bytes of samples of fmt, modulo the sample size
 * (d may be a). 16 bytes a step: the compiler cannot prove d and b apart. */
static void delta_apply(int fmt, uint8_t *d, const uint8_t *a, const uint8_t *b, size_t n, int undo)
{
    int wide = wide_samples(fmt);
    size_t i = 0;
#ifdef __SSE2__
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(a + i));
        __m128i y = _mm_loadu_si128((const __m128i *)(b + i));
        __m128i v = wide ? (undo ? _mm_add_epi16(x, y) : _mm_sub_epi16(x, y))
                         : (undo ? _mm_add_epi8(x, y) : _mm_sub_epi8(x, y));
        _mm_storeu_si128((__m128i *)(d + i), v);
    }
#endif
    if (!wide) {
        for (; i < n; i++)
            d[i] = (uint8_t)(undo ? a[i] + b[i] : a[i] - b[i]);
        return;
    }
    for (; i + 1 < n; i += 2) {
        unsigned x = a[i] | (unsigned)a[i + 1] << 8, y = b[i] | (unsigned)b[i + 1] << 8;
        unsigned v = (undo ? x + y : x - y) & 0xffff;
        d[i] = (uint8_t)v;
        d[i + 1] = (uint8_t)(v >> 8);
    }
}

/* htscodecs' rANS as RANS frames are written: order 0, 32 interleaved states (SIMD on both
 * sides). Measured on Megamind.avi's residuals against zstd's Huffman stage: this one 18.6%
 * smaller, decoding 2.6x faster than the 4-state order 0 and no slower than zstd; order 1 in
 * 16 stripes (one per strip, so the context is the residual to the left) 33.5% smaller but
 * decoding at a third of zstd's speed and encoding at a seventh, which the encoder and
 * decode-speed targets cannot afford; on noisy camera frames no variant saved more than 3%.
 * The stream names its own order and layout (its first byte): a decoder reads any of them. */
#define RANS_ORDER RANS_ORDER_X32

/* The largest filtered frame rANS takes (its sizes are unsigned int). */
#define RANS_MOST ((size_t)UINT_MAX / 2)

/* rANS-code n filtered bytes into *buf (grown as needed); the coded length, 0 on failure. */
static size_t rans_code(uint8_t **buf, size_t *cap, const uint8_t *in, size_t n)
{
    unsigned int len;
    if (n == 0 || n > RANS_MOST)
        return 0;
    len = rans_compress_bound_4x16((unsigned int)n, RANS_ORDER);
    if (!reserve(buf, cap, len))
        return 0;
    if (!rans_compress_to_4x16((unsigned char *)(uintptr_t)in, (unsigned int)n, *buf, &len,
                               RANS_ORDER))
        return 0;
    return len;
}

/* zstd of n bytes into *buf (grown as needed), its length in *len: residuals (filtered) with
 * the small window and table they want, else zstd's defaults for the level. */
static int zstd_code(reel__codec *c, uint8_t **buf, size_t *cap, const uint8_t *in, size_t n,
                     int level, int residuals, size_t *len)
{
    size_t bound = ZSTD_compressBound(n);
    if (!reserve(buf, cap, bound))
        return reel__err(REEL_NOMEM, "out of memory for a %zu-byte blob", bound);
    ZSTD_CCtx_reset(c->cctx, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, level);
    if (residuals) {
        /* Residuals hold few real matches: a small window and hash table with long minimum
         * matches avoid false ones, which makes frames smaller and both directions faster. */
        ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_windowLog, 16);
        ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_hashLog, 6);
        ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_minMatch, 7);
    }
    *len = ZSTD_compress2(c->cctx, *buf, *cap, in, n);
    if (ZSTD_isError(*len))
        return reel__err(REEL_ERROR, "zstd: %s", ZSTD_getErrorName(*len));
    return REEL_OK;
}

/* The order-0 entropy in bits per byte of n bytes (a band of residuals). */
static double entropy(const uint8_t *p, size_t n)
{
    uint32_t h[256] = {0};
    double bits = 0;
    size_t i;
    int k;
    for (i = 0; i < n; i++)
        h[p[i]]++;
    for (k = 0; k < 256; k++)
        if (h[k])
            bits += h[k] * log2((double)n / h[k]);
    return n ? bits / (double)n : 8;
}

/* Residuals of at most this entropy (bits per byte, over a band of the frame) are coded with
 * rANS first; above it, with zstd only. Megamind.avi's residuals sit near 1.7, the handheld
 * stand-in's near 2.7 (both smaller and no slower with rANS), the static camera's near 3.5,
 * where rANS saved 0.5% for 14% more decode time and 20% more encode time. */
#define RANS_BELOW 3.0

/* encode_one's spatial filter with each plane's predictor chosen (as AUTO), coded by rANS
 * where the residuals' entropy is low (RANS_BELOW), else (or for a frame too large for rANS)
 * by zstd: BEST's first candidate. */
#define AUTO_RANS (-3)

/* Compress one frame with one filter (an id, AUTO or AUTO_RANS) into c->blob. */
static int encode_one(reel__codec *c, int filter, int level, const reel__geom *g,
                      const void *pixels, const void *ref, reel__blob *out)
{
    reel__plane p[REEL__MAX_PLANES];
    int fmt = g->fmt, w = g->width, np = reel__planes(fmt, w, g->height, p), i;
    size_t raw = 0, filtered = 0, bound, n;
    const uint8_t *src = pixels, *in;
    unsigned mask = 0;
    int choose = filter == REEL__FILTER_AUTO || filter == AUTO_RANS;
    int rans = filter == AUTO_RANS || (filter >= 0 && (filter & 0xf) == REEL__FILTER_RANS);

    if (!np)
        return reel__err(REEL_INVALID, "bad pixel format or size");
    if (!choose && !parse_filter(filter, np, &mask))
        return reel__err(REEL_UNSUPPORTED, "unknown filter %d", filter);
    for (i = 0; i < np; i++) {
        raw += reel__plane_bytes(&p[i]);
        filtered += reel__filtered_bytes(&p[i]);
    }
    out->checksum = reel__checksum(pixels, raw);
    if (filter == REEL__FILTER_NONE) {
        in = src;
        n = raw;
    } else if (filter == REEL__FILTER_DELTA) {
        if (!ref)
            return reel__err(REEL_INVALID, "a temporal frame needs its reference");
        if (!reserve(&c->delta, &c->delta_cap, raw))
            return reel__err(REEL_NOMEM, "out of memory for a %zu-byte frame", raw);
        delta_apply(fmt, c->delta, src, ref, raw, 0);
        in = c->delta;
        n = raw;
    } else if (filter == REEL__FILTER_BLOCKS) {
        reel__bplane bp[REEL__MAX_PLANES];
        size_t nblocks;
        int nbp = reel__bplanes(fmt, w, g->height, bp, &nblocks, &n);
        if (!ref)
            return reel__err(REEL_INVALID, "a temporal frame needs its reference");
        if (!reserve(&c->delta, &c->delta_cap, nblocks + raw))
            return reel__err(REEL_NOMEM, "out of memory for a %zu-byte frame", raw);
        n = reel__blocks_filter(bp, nbp, src, ref, c->delta);
        in = c->delta;
    } else {
        /* planes: the RGB colour transform's output; rows: 17 rows of 2-byte samples */
        if (!reserve(&c->scratch, &c->scratch_cap, filtered) ||
            (is_rgb(fmt) && !reserve(&c->planes, &c->planes_cap, raw)) ||
            !reserve(&c->rows, &c->rows_cap, (size_t)w * 2 * (REEL__LANES + 1)))
            return reel__err(REEL_NOMEM, "out of memory for a %zu-byte frame", filtered);
        reel__filter_io io = {fmt, p, np, c->planes, c->rows, c->scalar};
        reel__filter(&io, src, choose, &mask, c->scratch);
        in = c->scratch;
        n = filtered;
        if (filter == AUTO_RANS) { /* the entropy of an eighth of the frame, from its middle */
            size_t band = filtered / 8 / REEL__LANES * REEL__LANES;
            band = band < 4096 ? filtered : band;
            rans = filtered <= RANS_MOST &&
                   entropy(c->scratch + (filtered - band) / 2, band) <= RANS_BELOW;
        }
        filter = (rans ? REEL__FILTER_RANS : REEL__FILTER_STRIP16) | (int)(mask << 4);
    }
    if (rans) {
        if (filtered > RANS_MOST)
            return reel__err(REEL_UNSUPPORTED, "a %zu-byte frame is too large for rANS", filtered);
        if (!(n = rans_code(&c->blob, &c->blob_cap, in, n)))
            return reel__err(REEL_NOMEM, "rANS could not code a %zu-byte frame", filtered);
        out->data = c->blob;
        out->len = n;
        out->filter = filter;
        return REEL_OK;
    }
    if ((i = zstd_code(c, &c->blob, &c->blob_cap, in, n, level, filter != REEL__FILTER_NONE,
                       &bound)) != REEL_OK)
        return i;
    out->data = c->blob;
    out->len = bound;
    out->filter = filter;
    return REEL_OK;
}

/* Keep the smaller of c->blob (best, described by *best) and a new candidate: the candidate
 * is encoded into c->blob after the best so far moved to c->trial. */
static int try_candidate(reel__codec *c, int filter, int level, const reel__geom *g,
                         const void *pixels, const void *ref, reel__blob *best)
{
    reel__blob cand;
    uint8_t *t;
    size_t tc;
    int rc;
    /* the best so far goes to trial; the candidate is made in blob */
    t = c->trial, c->trial = c->blob, c->blob = t;
    tc = c->trial_cap, c->trial_cap = c->blob_cap, c->blob_cap = tc;
    best->data = c->trial;
    if ((rc = encode_one(c, filter, level, g, pixels, ref, &cand)) != REEL_OK)
        return rc;
    if (cand.len < best->len) {
        *best = cand;
    } else { /* the best stays: back into blob */
        t = c->trial, c->trial = c->blob, c->blob = t;
        tc = c->trial_cap, c->trial_cap = c->blob_cap, c->blob_cap = tc;
        best->data = c->blob;
    }
    return REEL_OK;
}

/* What no prediction would take, from one band of rows in the middle of the frame compressed
 * as it would be, scaled to the frame: cheap enough to try every frame, close enough to rule
 * the candidate out. */
static size_t estimate(reel__codec *c, const uint8_t *pixels, size_t raw, int level)
{
    size_t band = raw / 8 < 4096 ? (raw < 4096 ? raw : 4096) : raw / 8, at = (raw - band) / 2;
    size_t n;
    const uint8_t *in = pixels + at;
    if (!reserve(&c->trial, &c->trial_cap, ZSTD_compressBound(band)))
        return 0;
    ZSTD_CCtx_reset(c->cctx, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_compressionLevel, level);
    n = ZSTD_compress2(c->cctx, c->trial, c->trial_cap, in, band);
    return ZSTD_isError(n) ? 0 : (size_t)((double)n * (double)raw / (double)band);
}

/* No prediction is tried in full when its estimate comes within this of the best so far: a
 * wide margin is what makes a frame never larger than zstd -3 would make it (at 1.05, tree.avi
 * came out 1% larger than zstd -3). BLOCKS, given a reference, is always tried in full: a band
 * of the frame's difference said little about it (its blocks may be skipped or predicted in
 * space), and gating it so left Megamind.avi 19% larger, the handheld stand-in 2.6%. */
#define TRY_NONE_WITHIN 1.15

/* BEST codes low-entropy residuals with rANS first: in CPU time per frame (first 40 frames,
 * one thread) it encoded faster than zstd on every clip (Megamind.avi 1.3 against 1.8-2.2 ms,
 * the static and handheld stand-ins 1.4 and 1.6 against 1.5 and 1.7), stored them smaller
 * (18.6%, 0.5%, 2.0%) and decoded them in 0.70x, 1.16x and 1.00x of zstd's time. zstd wins
 * where the residuals repeat (long matches: synthetic or block-coded sources such as
 * tree.avi's Cinepak, where its frames are 5% smaller): it is tried in full only when zstd of
 * an eighth of the frame from its middle, scaled up, comes out 1/32 smaller than rANS. */
#define ZSTD_WINS(zstd, rans) ((zstd) < (rans) - (rans) / 32)

/* BEST's spatial candidate, c->blob (out, RANS), coded again with zstd from the residuals
 * still in c->scratch (filtered bytes) where a band says zstd may win: kept when smaller. */
static int try_zstd(reel__codec *c, int level, size_t filtered, reel__blob *out)
{
    uint8_t *t;
    size_t tc, n, band = filtered / 8 / REEL__LANES * REEL__LANES, at, est;
    int rc;
    if ((out->filter & 0xf) != REEL__FILTER_RANS)
        return REEL_OK; /* already zstd's (a frame too large for rANS) */
    at = (filtered - band) / 2 / REEL__LANES * REEL__LANES;
    if (band >= 4096) {
        if ((rc = zstd_code(c, &c->trial, &c->trial_cap, c->scratch + at, band, level, 1, &n)) !=
            REEL_OK)
            return rc;
        est = (size_t)((double)n * (double)filtered / (double)band);
        if (!ZSTD_WINS(est, out->len))
            return REEL_OK;
    }
    if ((rc = zstd_code(c, &c->trial, &c->trial_cap, c->scratch, filtered, level, 1, &n)) !=
        REEL_OK)
        return rc;
    if (n >= out->len)
        return REEL_OK;
    t = c->trial, c->trial = c->blob, c->blob = t;
    tc = c->trial_cap, c->trial_cap = c->blob_cap, c->blob_cap = tc;
    out->data = c->blob;
    out->len = n;
    out->filter = REEL__FILTER_STRIP16 | (out->filter & ~0xf);
    return REEL_OK;
}

int reel__encode_ref(reel__codec *c, int filter, int level, const reel__geom *g,
                     const void *pixels, const void *ref, reel__blob *out, size_t *intra_len)
{
    reel__plane p[REEL__MAX_PLANES];
    int np = reel__planes(g->fmt, g->width, g->height, p), i, rc;
    size_t raw = 0, filtered = 0, est;
    if (intra_len)
        *intra_len = 0;
    if (filter != REEL__FILTER_BEST)
        return encode_one(c, filter, level, g, pixels, ref, out);
    if (ref) { /* most blocks skipped: the block-wise frame wins without a trial */
        reel__bplane bp[REEL__MAX_PLANES];
        size_t nblocks = 0, rawb = 0, same;
        int nb = reel__bplanes(g->fmt, g->width, g->height, bp, &nblocks, &rawb);
        if (nb > 0 && nblocks > 0 &&
            (same = reel__blocks_skipped(bp, nb, pixels, ref)) >= nblocks / 3) {
            if ((rc = encode_one(c, REEL__FILTER_BLOCKS, level, g, pixels, ref, out)) != REEL_OK)
                return rc;
            if (intra_len) /* not tried: estimated as the coded blocks' share scaled up */
                *intra_len = (size_t)((double)out->len * (double)nblocks /
                                      (double)(nblocks - same > 0 ? nblocks - same : 1)) + 1;
            return REEL_OK;
        }
    }
    for (i = 0; i < np; i++) {
        raw += reel__plane_bytes(&p[i]);
        filtered += reel__filtered_bytes(&p[i]);
    }
    /* the prediction that serves: spatial (most camera frames), none (flat or synthetic
     * content, where predicting only adds noise; tried in full only when a band of the frame
     * says it may win), or the frame before, block by block (still scenes, static cameras) */
    if ((rc = encode_one(c, AUTO_RANS, level, g, pixels, NULL, out)) != REEL_OK ||
        (rc = try_zstd(c, level, filtered, out)) != REEL_OK)
        return rc;
    /* plain zstd at level 3 at least: never larger than `zstd -3` of the frame */
    est = estimate(c, pixels, raw, level > 3 ? level : 3);
    if (est && est < (size_t)(TRY_NONE_WITHIN * (double)out->len) &&
        (rc = try_candidate(c, REEL__FILTER_NONE, level > 3 ? level : 3, g, pixels, NULL, out)) !=
            REEL_OK)
        return rc;
    if (intra_len)
        *intra_len = out->len;
    if (!ref)
        return REEL_OK;
    return try_candidate(c, REEL__FILTER_BLOCKS, level, g, pixels, ref, out);
}

int reel__encode(reel__codec *c, int filter, int level, const reel__geom *g,
                 const void *pixels, reel__blob *out)
{
    return reel__encode_ref(c, filter, level, g, pixels, NULL, out, NULL);
}

/* ---- decoder ---------------------------------------------------------------------------- */

/* Why blob is not one whole zstd frame declaring least..most bytes, or NULL when it is (its
 * declared size then in *want). */
static const char *check_frame(const void *blob, size_t len, size_t least, size_t most,
                               size_t *want)
{
    unsigned long long declared;
    if (!blob || len == 0)
        return "empty blob";
    declared = ZSTD_getFrameContentSize(blob, len);
    if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN)
        return "blob is not a zstd frame with a declared size";
    if (declared < least || declared > most)
        return "zstd frame declares the wrong decompressed size";
    *want = (size_t)declared;
    if (*want / REEL__ZSTD_MAX_RATIO > len)
        return "blob is too small to hold the frame it declares";
    if (ZSTD_findFrameCompressedSize(blob, len) != len)
        return "blob is truncated or has trailing bytes";
    return NULL;
}

int reel__decode(reel__codec *c, const reel__geom *g, const reel__blob *b, void *dst,
                 const char **why)
{
    return reel__decode_ref(c, g, b, NULL, dst, why);
}

/* Decompress a BLOCKS blob and rebuild dst from ref (blocks.c checks the mode map). */
static int decode_blocks(reel__codec *c, const reel__geom *g, const reel__blob *b, const void *ref,
                         void *dst, const char **why)
{
    reel__bplane bp[REEL__MAX_PLANES];
    size_t nblocks, raw, want = 0, got;
    int np = reel__bplanes(g->fmt, g->width, g->height, bp, &nblocks, &raw);
    if ((*why = check_frame(b->data, b->len, nblocks, nblocks + raw, &want)) != NULL)
        return REEL_CORRUPT;
    if (!reserve(&c->delta, &c->delta_cap, want) ||
        !reserve(&c->bptrs, &c->bptrs_cap, reel__blocks_row_pointers(bp, np) * sizeof(void *))) {
        *why = "out of memory";
        return REEL_NOMEM;
    }
    got = ZSTD_decompressDCtx(c->dctx, c->delta, want, b->data, b->len);
    if (ZSTD_isError(got) || got != want) {
        *why = "zstd data is damaged";
        return REEL_CORRUPT;
    }
    *why = reel__blocks_unfilter(bp, np, c->delta, want, ref, dst,
                                 (const uint8_t **)(void *)c->bptrs);
    return *why ? REEL_CORRUPT : REEL_OK;
}

/* Decompress a NONE, STRIP16 or DELTA blob into dst (its planes p, np of them). */
static int decode_plain(reel__codec *c, const reel__geom *g, const reel__plane *p, int np,
                        const reel__blob *b, unsigned mask, const void *ref, void *dst,
                        const char **why)
{
    int fmt = g->fmt, filter = b->filter, i;
    size_t raw = 0, filtered = 0, want, got;
    void *target = dst;
    for (i = 0; i < np; i++) {
        raw += reel__plane_bytes(&p[i]);
        filtered += reel__filtered_bytes(&p[i]);
    }
    want = filter == REEL__FILTER_NONE || filter == REEL__FILTER_DELTA ? raw : filtered;
    if ((filter & 0xf) == REEL__FILTER_RANS)
        *why = !b->data || b->len == 0              ? "empty blob"
               : b->len > RANS_MOST || want > RANS_MOST ? "rANS blob or frame too large"
                                                      : NULL;
    else
        *why = check_frame(b->data, b->len, want, want, &want);
    if (*why)
        return REEL_CORRUPT;
    /* Only now, with the sizes checked, allocate the scratch for the filtered frame. */
    if (reel__filter_is_strip(filter)) {
        if (!reserve(&c->scratch, &c->scratch_cap, filtered) ||
            (is_rgb(fmt) && !reserve(&c->planes, &c->planes_cap, raw)) ||
            !reserve(&c->rows, &c->rows_cap, (size_t)p[0].width * REEL__LANES * 2 * 2)) {
            *why = "out of memory";
            return REEL_NOMEM;
        }
        target = c->scratch;
    }
    if ((filter & 0xf) == REEL__FILTER_RANS) {
        /* htscodecs checks its stripes' sizes against the room given: exactly the frame's */
        unsigned int n = (unsigned int)want;
        if (!rans_uncompress_to_4x16((unsigned char *)(uintptr_t)b->data, (unsigned int)b->len,
                                     target, &n) ||
            n != want) {
            *why = "rANS data is damaged";
            return REEL_CORRUPT;
        }
    } else {
        got = ZSTD_decompressDCtx(c->dctx, target, want, b->data, b->len);
        if (ZSTD_isError(got) || got != want) {
            *why = "zstd data is damaged";
            return REEL_CORRUPT;
        }
    }
    if (reel__filter_is_strip(filter)) {
        reel__filter_io io = {fmt, p, np, c->planes, c->rows, c->scalar};
        reel__unfilter(&io, c->scratch, mask, dst);
    } else if (filter == REEL__FILTER_DELTA) {
        delta_apply(fmt, dst, dst, ref, raw, 1);
    }
    return REEL_OK;
}

int reel__decode_ref(reel__codec *c, const reel__geom *g, const reel__blob *b, const void *ref,
                     void *dst, const char **why)
{
    reel__plane p[REEL__MAX_PLANES];
    int np = reel__planes(g->fmt, g->width, g->height, p), i, rc;
    size_t raw = 0;
    unsigned mask = 0;

    if (!np) {
        *why = "bad pixel format or size in the sequence";
        return REEL_CORRUPT;
    }
    for (i = 0; i < np; i++)
        raw += reel__plane_bytes(&p[i]);
    if (!parse_filter(b->filter, np, &mask)) {
        *why = "unknown filter id (written by a newer reel?)";
        return REEL_UNSUPPORTED;
    }
    if (reel__filter_is_delta(b->filter) && !ref) {
        *why = "a temporal frame whose reference could not be read";
        return REEL_CORRUPT;
    }
    rc = b->filter == REEL__FILTER_BLOCKS ? decode_blocks(c, g, b, ref, dst, why)
                                          : decode_plain(c, g, p, np, b, mask, ref, dst, why);
    if (rc != REEL_OK)
        return rc;
    if (reel__checksum(dst, raw) != b->checksum) {
        *why = "checksum mismatch";
        return REEL_CORRUPT;
    }
    return REEL_OK;
}
