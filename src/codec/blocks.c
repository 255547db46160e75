/*
 * blocks.c - the block-wise temporal filter of the frame codec (codec.c does zstd and the
 * checks).
 *
 * Filter BLOCKS (REEL__FILTER_BLOCKS, id 3): a temporal frame, predicted from the frame before
 * it, block by block.
 *   Every plane is cut into blocks of 16x16 samples (8x8 in the chroma planes of yuv420p, so
 *   that a block covers one 16x16 luma block, as the macroblocks of the H.264 and MPEG-4
 *   decoders these frames come from; packed RGB is one plane of 48x16 bytes, 16 pixels of 3
 *   channels). Blocks at the right and bottom edges are cut short. Each block has one mode:
 *     0 SKIP   the block is the reference's, sample for sample: no residual at all. These are
 *              the blocks a camera's encoder skipped, most of a static camera's frame;
 *     1 DELTA  the residual is the sample less the reference's (mod 2^8 or 2^16);
 *     2 INTRA  the residual is the sample less its spatial prediction: MED(a, b, c) of the
 *              frame's own left a, up b and up-left c (the same channel's, in packed RGB); on
 *              the plane's first row a, in its first column b, at (0, 0) 0. The neighbours
 *              may lie in other blocks: a decoder rebuilds rows in order.
 *   The filtered frame is the mode of every block (one byte each; planes in order, blocks in
 *   raster order), then the residuals of the DELTA blocks, then those of the INTRA blocks,
 *   each block's rows one after another (16-bit samples little-endian). Keeping the two kinds
 *   apart gives zstd's entropy stage two homogeneous sources instead of a mix.
 *   The encoder picks DELTA or INTRA per block by the smaller sum of absolute residuals; the
 *   mode map of a still scene is runs of zeros that zstd codes in a few bytes.
 */
#include "config.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "codec/blocks.h"
#include "codec/filter.h"

#define BLOCK 16

enum { MODE_SKIP, MODE_DELTA, MODE_INTRA, MODES };

/* A block whose differences from the reference average at most this (in absolute value per
 * sample) is coded as DELTA without trying INTRA. */
#define INTRA_FROM 2

int reel__bplanes(int fmt, int w, int h, reel__bplane bp[REEL__MAX_PLANES], size_t *nblocks,
                  size_t *raw)
{
    reel__plane p[REEL__MAX_PLANES];
    int np = reel__planes(fmt, w, h, p), i;
    size_t off = 0;
    *nblocks = 0;
    *raw = 0;
    if (!np)
        return 0;
    if (fmt == REEL_PIX_RGB24 || fmt == REEL_PIX_BGR24) {
        bp[0] = (reel__bplane){0, 3 * w, h, 1, 3, 3 * BLOCK, BLOCK, 0, 0};
        np = 1;
    } else {
        for (i = 0; i < np; i++) {
            int b = i > 0 && (fmt == REEL_PIX_YUV420P || fmt == REEL_PIX_YUV420P10LE) ? BLOCK / 2
                                                                                       : BLOCK;
            bp[i] = (reel__bplane){off, p[i].width, p[i].height, p[i].bytes, 1, b, b, 0, 0};
            off += reel__plane_bytes(&p[i]);
        }
    }
    for (i = 0; i < np; i++) {
        bp[i].nbx = (bp[i].w + bp[i].bw - 1) / bp[i].bw;
        bp[i].nby = (bp[i].h + bp[i].bh - 1) / bp[i].bh;
        *nblocks += (size_t)bp[i].nbx * (size_t)bp[i].nby;
        *raw += (size_t)bp[i].w * (size_t)bp[i].h * (size_t)bp[i].bytes;
    }
    return np;
}

size_t reel__blocks_row_pointers(const reel__bplane *bp, int np)
{
    size_t most = 0;
    int i;
    for (i = 0; i < np; i++)
        if ((size_t)bp[i].nbx > most)
            most = (size_t)bp[i].nbx;
    return most;
}

/* ---- samples ---------------------------------------------------------------------------- */

static inline unsigned get(const uint8_t *row, int bytes, size_t x)
{
    return bytes == 1 ? row[x] : (unsigned)(row[2 * x] | (row[2 * x + 1] << 8));
}

static inline void put(uint8_t *row, int bytes, size_t x, unsigned v)
{
    if (bytes == 1) {
        row[x] = (uint8_t)v;
        return;
    }
    row[2 * x] = (uint8_t)v;
    row[2 * x + 1] = (uint8_t)(v >> 8);
}

/* The spatial prediction of sample x of row cur (prev: the row above, NULL on the first). */
static inline unsigned predict(const uint8_t *cur, const uint8_t *prev, int bytes, size_t step,
                               size_t x)
{
    if (!prev)
        return x >= step ? get(cur, bytes, x - step) : 0;
    if (x < step)
        return get(prev, bytes, x);
    return reel__med(get(cur, bytes, x - step), get(prev, bytes, x), get(prev, bytes, x - step));
}

/* One block of a plane: its first sample and size. */
typedef struct block {
    size_t x0, y0, cw, ch;
} block;

static block block_at(const reel__bplane *p, int bx, int by)
{
    block b;
    b.x0 = (size_t)bx * (size_t)p->bw;
    b.y0 = (size_t)by * (size_t)p->bh;
    b.cw = (size_t)p->w - b.x0 < (size_t)p->bw ? (size_t)p->w - b.x0 : (size_t)p->bw;
    b.ch = (size_t)p->h - b.y0 < (size_t)p->bh ? (size_t)p->h - b.y0 : (size_t)p->bh;
    return b;
}

static size_t row_bytes(const reel__bplane *p) { return (size_t)p->w * (size_t)p->bytes; }

/* |v| of a residual taken as a signed sample. */
static inline unsigned magnitude(unsigned v, int bytes)
{
    int s = bytes == 1 ? (int8_t)(uint8_t)v : (int16_t)(uint16_t)v;
    return (unsigned)(s < 0 ? -s : s);
}

/* ---- encoder ---------------------------------------------------------------------------- */

/* The mode of block b of plane p (cur, ref: the plane's first bytes in each frame). */
static int block_mode(const reel__bplane *p, const block *b, const uint8_t *cur,
                      const uint8_t *ref)
{
    size_t rowb = row_bytes(p), xb = b->x0 * (size_t)p->bytes, n = b->cw * (size_t)p->bytes, y, x;
    uint64_t cd = 0, ci = 0;
    for (y = b->y0; y < b->y0 + b->ch; y++)
        if (memcmp(cur + y * rowb + xb, ref + y * rowb + xb, n) != 0)
            break;
    if (y == b->y0 + b->ch)
        return MODE_SKIP;
    for (y = b->y0; y < b->y0 + b->ch; y++) {
        const uint8_t *c = cur + y * rowb, *r = ref + y * rowb;
        for (x = b->x0; x < b->x0 + b->cw; x++)
            cd += magnitude(get(c, p->bytes, x) - get(r, p->bytes, x), p->bytes);
    }
    /* a small difference (what a camera's encoder left of a static block): no prediction
     * from the frame itself does better, and trying costs the encoder most of its time */
    if (cd <= INTRA_FROM * b->cw * b->ch)
        return MODE_DELTA;
    for (y = b->y0; y < b->y0 + b->ch && ci < cd; y++) {
        const uint8_t *c = cur + y * rowb, *u = y ? c - rowb : NULL;
        for (x = b->x0; x < b->x0 + b->cw; x++)
            ci += magnitude(get(c, p->bytes, x) - predict(c, u, p->bytes, (size_t)p->step, x),
                            p->bytes);
    }
    return ci < cd ? MODE_INTRA : MODE_DELTA;
}

/* Write the residual of block b in mode m to out; returns the end of what it wrote. */
static uint8_t *block_residual(const reel__bplane *p, const block *b, int m, const uint8_t *cur,
                               const uint8_t *ref, uint8_t *out)
{
    size_t rowb = row_bytes(p), y, x, i = 0;
    for (y = b->y0; y < b->y0 + b->ch; y++) {
        const uint8_t *c = cur + y * rowb, *r = ref + y * rowb, *u = y ? c - rowb : NULL;
        if (m == MODE_DELTA && p->bytes == 1) {
            for (x = b->x0; x < b->x0 + b->cw; x++)
                out[i++] = (uint8_t)(c[x] - r[x]);
            continue;
        }
        for (x = b->x0; x < b->x0 + b->cw; x++, i++) {
            unsigned v = get(c, p->bytes, x);
            put(out, p->bytes, i,
                v - (m == MODE_DELTA ? get(r, p->bytes, x)
                                     : predict(c, u, p->bytes, (size_t)p->step, x)));
        }
    }
    return out + i * (size_t)p->bytes;
}

size_t reel__blocks_filter(const reel__bplane *bp, int np, const uint8_t *cur,
                           const uint8_t *ref, uint8_t *out)
{
    size_t k = 0, dbytes = 0, nblocks = 0;
    uint8_t *dp, *ip;
    int i, bx, by;
    for (i = 0; i < np; i++)
        nblocks += (size_t)bp[i].nbx * (size_t)bp[i].nby;
    for (i = 0; i < np; i++) /* the modes, and where the INTRA residuals start */
        for (by = 0; by < bp[i].nby; by++)
            for (bx = 0; bx < bp[i].nbx; bx++) {
                block b = block_at(&bp[i], bx, by);
                int m = block_mode(&bp[i], &b, cur + bp[i].off, ref + bp[i].off);
                out[k++] = (uint8_t)m;
                if (m == MODE_DELTA)
                    dbytes += b.cw * b.ch * (size_t)bp[i].bytes;
            }
    dp = out + nblocks;
    ip = dp + dbytes;
    for (i = 0, k = 0; i < np; i++)
        for (by = 0; by < bp[i].nby; by++)
            for (bx = 0; bx < bp[i].nbx; bx++) {
                block b = block_at(&bp[i], bx, by);
                int m = out[k++];
                if (m == MODE_DELTA)
                    dp = block_residual(&bp[i], &b, m, cur + bp[i].off, ref + bp[i].off, dp);
                else if (m == MODE_INTRA)
                    ip = block_residual(&bp[i], &b, m, cur + bp[i].off, ref + bp[i].off, ip);
            }
    return (size_t)(ip - out);
}

size_t reel__blocks_skipped(const reel__bplane *bp, int np, const uint8_t *cur,
                           const uint8_t *ref)
{
    size_t k = 0;
    int i, bx, by;
    for (i = 0; i < np; i++)
        for (by = 0; by < bp[i].nby; by++)
            for (bx = 0; bx < bp[i].nbx; bx++) {
                block b = block_at(&bp[i], bx, by);
                size_t rowb = row_bytes(&bp[i]), xb = b.x0 * (size_t)bp[i].bytes,
                       n = b.cw * (size_t)bp[i].bytes, y;
                const uint8_t *c = cur + bp[i].off, *r = ref + bp[i].off;
                for (y = b.y0; y < b.y0 + b.ch; y++)
                    if (memcmp(c + y * rowb + xb, r + y * rowb + xb, n) != 0)
                        break;
                k += y == b.y0 + b.ch;
            }
    return k;
}

/* ---- decoder ---------------------------------------------------------------------------- */

/* Check the mode map (f, nblocks bytes) against the data's length; *dbytes gets the bytes of
 * the DELTA residuals. */
static const char *check_modes(const reel__bplane *bp, int np, const uint8_t *f, size_t len,
                               size_t nblocks, size_t *dbytes)
{
    size_t k = 0, need = nblocks;
    int i, bx, by;
    *dbytes = 0;
    if (len < nblocks)
        return "block data is shorter than its mode map";
    for (i = 0; i < np; i++)
        for (by = 0; by < bp[i].nby; by++)
            for (bx = 0; bx < bp[i].nbx; bx++) {
                block b = block_at(&bp[i], bx, by);
                size_t n = b.cw * b.ch * (size_t)bp[i].bytes;
                int m = f[k++];
                if (m >= MODES)
                    return "unknown block mode";
                need += m == MODE_SKIP ? 0 : n;
                *dbytes += m == MODE_DELTA ? n : 0;
            }
    return need == len ? NULL : "block modes do not match the size of the block data";
}

/* d = r + s over n bytes (mod 256): a DELTA block's row. */
static inline void add_row8(uint8_t *d, const uint8_t *r, const uint8_t *s, size_t n)
{
    size_t i = 0;
#ifdef __SSE2__
    for (; i + 16 <= n; i += 16)
        _mm_storeu_si128((__m128i *)(void *)(d + i),
                         _mm_add_epi8(_mm_loadu_si128((const __m128i *)(const void *)(r + i)),
                                      _mm_loadu_si128((const __m128i *)(const void *)(s + i))));
    for (; i + 8 <= n; i += 8)
        _mm_storel_epi64((__m128i *)(void *)(d + i),
                         _mm_add_epi8(_mm_loadl_epi64((const __m128i *)(const void *)(r + i)),
                                      _mm_loadl_epi64((const __m128i *)(const void *)(s + i))));
#endif
    for (; i < n; i++)
        d[i] = (uint8_t)(r[i] + s[i]);
}

/* Rebuild x0..x0+n of an INTRA block's 8-bit row cur (prev: the row above or NULL) from its
 * residuals s: the left neighbour is step samples back. */
static void intra_row8(uint8_t *cur, const uint8_t *prev, const uint8_t *s, size_t x0, size_t n,
                       size_t step)
{
    size_t x = x0, end = x0 + n;
    unsigned a, c;
    if (!prev || step != 1 || x0 == 0) { /* plane edges and packed RGB: the general rule */
        for (; x < end; x++, s++)
            cur[x] = (uint8_t)(*s + predict(cur, prev, 1, step, x));
        return;
    }
    a = cur[x - 1];
    c = prev[x - 1];
    for (; x < end; x++, s++) { /* the left sample stays in a register */
        unsigned b = prev[x];
        a = (uint8_t)(*s + reel__med(a, b, c));
        cur[x] = (uint8_t)a;
        c = b;
    }
}

/* Rebuild row y (yb rows into its block row) of plane p (cur: its row in dst, prev: the row
 * above or NULL, r: the reference's) from the block row's modes m and residual pointers res. */
static void unfilter_row(const reel__bplane *p, const uint8_t *m, const uint8_t *const *res,
                         size_t yb, const uint8_t *r, const uint8_t *prev, uint8_t *cur)
{
    size_t bytes = (size_t)p->bytes, step = (size_t)p->step, bw = (size_t)p->bw;
    size_t w = (size_t)p->w, x0, cw, x, i;
    int bx = 0, run;
    while (bx < p->nbx) {
        const uint8_t *s;
        x0 = (size_t)bx * bw;
        cw = w - x0 < bw ? w - x0 : bw;
        if (m[bx] == MODE_SKIP) { /* a run of skipped blocks: one copy */
            for (run = bx + 1; run < p->nbx && m[run] == MODE_SKIP; run++)
                ;
            x = (size_t)run * bw < w ? (size_t)run * bw : w;
            memcpy(cur + x0 * bytes, r + x0 * bytes, (x - x0) * bytes);
            bx = run;
            continue;
        }
        s = res[bx] + yb * cw * bytes;
        if (m[bx] == MODE_DELTA && bytes == 1)
            add_row8(cur + x0, r + x0, s, cw);
        else if (m[bx] == MODE_INTRA && bytes == 1)
            intra_row8(cur, prev, s, x0, cw, step);
        else if (m[bx] == MODE_DELTA)
            for (x = x0, i = 0; i < cw; x++, i++)
                put(cur, 2, x, get(r, 2, x) + get(s, 2, i));
        else
            for (x = x0, i = 0; i < cw; x++, i++)
                put(cur, 2, x, get(s, 2, i) + predict(cur, prev, 2, step, x));
        bx++;
    }
}

const char *reel__blocks_unfilter(const reel__bplane *bp, int np, const uint8_t *f, size_t len,
                                  const uint8_t *ref, uint8_t *dst, const uint8_t **rows)
{
    size_t nblocks = 0, dbytes, k = 0, y;
    const uint8_t *dp, *ip;
    const char *why;
    int i, bx, by;
    for (i = 0; i < np; i++)
        nblocks += (size_t)bp[i].nbx * (size_t)bp[i].nby;
    if ((why = check_modes(bp, np, f, len, nblocks, &dbytes)) != NULL)
        return why;
    dp = f + nblocks;
    ip = dp + dbytes;
    for (i = 0; i < np; i++) {
        const reel__bplane *p = &bp[i];
        size_t rowb = row_bytes(p);
        uint8_t *out = dst + p->off;
        const uint8_t *r = ref + p->off;
        for (by = 0; by < p->nby; by++, k += (size_t)p->nbx) {
            block last = block_at(p, 0, by);
            for (bx = 0; bx < p->nbx; bx++) { /* where each block's residual starts */
                block b = block_at(p, bx, by);
                size_t n = b.cw * b.ch * (size_t)p->bytes;
                rows[bx] = f[k + bx] == MODE_DELTA ? dp : ip;
                dp += f[k + bx] == MODE_DELTA ? n : 0;
                ip += f[k + bx] == MODE_INTRA ? n : 0;
            }
            for (y = last.y0; y < last.y0 + last.ch; y++)
                unfilter_row(p, f + k, rows, y - last.y0, r + y * rowb,
                             y ? out + (y - 1) * rowb : NULL, out + y * rowb);
        }
    }
    return NULL;
}
