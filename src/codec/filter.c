/*
 * filter.c - the reversible prediction filter of the frame codec (codec.c does zstd and the
 * checks).
 *
 * Filter STRIP16 (REEL__FILTER_STRIP16, id 1 | mask << 4)
 *   Packed RGB/BGR is first split into three planes G, R-G, B-G (mod 256), which removes most
 *   of the correlation between channels. Each plane (w x h samples) is then cut into 16
 *   horizontal strips of hs = ceil(h / 16) rows; strip s holds rows s*hs .. s*hs+hs-1 (rows
 *   past h are virtual and hold 0). The strips are interleaved sample by sample, so that
 *   position (r, x) of all 16 strips forms one 16-byte vector: I[(r * w + x) * 16 + s].
 *   Each sample is predicted from neighbours in its own strip: left a, up b, up-left c and
 *   up-right d (b again at the right edge). Plane i uses MED(a, b, c), the LOCO-I median
 *   predictor, or - when bit i of mask is set - AVG = avg(a, avg(b, d)) with avg(x, y) =
 *   (x + y + 1) >> 1, which wins where sensor noise dominates. The encoder picks per plane
 *   from the residual entropy of a sample of rows. The first row of a strip uses a, the first
 *   column b, sample (0, 0) 0. The residual (sample - prediction, mod 2^8 or 2^16) is what
 *   zstd compresses (codec.c). 16-bit samples store all low bytes, then all high bytes.
 *
 *   Why strips: reconstruction is a serial chain along each row (every sample needs its
 *   reconstructed left neighbour). Interleaving 16 independent strips turns that chain into
 *   one SIMD lane each, so unfiltering runs 16 samples per step and costs far less than
 *   zstd's own decompression. A 16x16 byte transpose writes the strips back as plain rows.
 */
#include "config.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define REEL_HAVE_SSE2 1
#endif

#include "codec/filter.h"

#define LANES REEL__LANES

static size_t strip_rows(const reel__plane *p) { return ((size_t)p->height + LANES - 1) / LANES; }

size_t reel__filtered_bytes(const reel__plane *p)
{
    return strip_rows(p) * (size_t)p->width * LANES * (size_t)p->bytes;
}

static int is_rgb(int fmt) { return fmt == REEL_PIX_RGB24 || fmt == REEL_PIX_BGR24; }

/* ---- prediction, shared by encoder and scalar decoder ------------------------------------ */

/* Per-plane predictors (bit i of a strip filter's mask selects AVG for plane i). */
#define PRED_MED 0 /* LOCO-I median of left a, up b, up-left c: best on clean edges */
#define PRED_AVG 1 /* avg(a, avg(b, d)), d up-right: best where sensor noise dominates */

#define med reel__med

/* Rounding-up average, as SSE2's pavgb. */
static inline unsigned avg(unsigned a, unsigned b) { return (a + b + 1) >> 1; }

/* Prediction of the sample at x >= 1 of a row with an upper row: a left, row above prev. */
#define PREDICT(kind, a, prev, x, w)                                                             \
    ((kind) == PRED_MED ? med((a), (prev)[x], (prev)[(x) - 1])                                     \
                        : avg((a), avg((prev)[x], (prev)[(x) + 1 < (w) ? (x) + 1 : (x)])))

#ifdef REEL_HAVE_SSE2
/* One perfect shuffle: interleave the bytes of rows i and i + 8. */
static inline void shuffle16(const __m128i *in, __m128i *out)
{
    out[0] = _mm_unpacklo_epi8(in[0], in[8]);
    out[1] = _mm_unpackhi_epi8(in[0], in[8]);
    out[2] = _mm_unpacklo_epi8(in[1], in[9]);
    out[3] = _mm_unpackhi_epi8(in[1], in[9]);
    out[4] = _mm_unpacklo_epi8(in[2], in[10]);
    out[5] = _mm_unpackhi_epi8(in[2], in[10]);
    out[6] = _mm_unpacklo_epi8(in[3], in[11]);
    out[7] = _mm_unpackhi_epi8(in[3], in[11]);
    out[8] = _mm_unpacklo_epi8(in[4], in[12]);
    out[9] = _mm_unpackhi_epi8(in[4], in[12]);
    out[10] = _mm_unpacklo_epi8(in[5], in[13]);
    out[11] = _mm_unpackhi_epi8(in[5], in[13]);
    out[12] = _mm_unpacklo_epi8(in[6], in[14]);
    out[13] = _mm_unpackhi_epi8(in[6], in[14]);
    out[14] = _mm_unpacklo_epi8(in[7], in[15]);
    out[15] = _mm_unpackhi_epi8(in[7], in[15]);
}

/*
 * Transpose 16x16 bytes. A perfect shuffle moves byte (row i, column j) - an 8-bit address
 * i3 i2 i1 i0 j3 j2 j1 j0 - to its address rotated left by one bit; four of them swap i and j.
 */
static inline void transpose16(__m128i v[16])
{
    __m128i t[16];
    shuffle16(v, t);
    shuffle16(t, v);
    shuffle16(v, t);
    shuffle16(t, v);
}
#endif

/* ---- encoder ---------------------------------------------------------------------------- */

/* Residuals of one plane row (its row above is prev, NULL for a strip's first row). */
#define RESIDUAL_ROW(T, kind, cur, prev, w, out)                                                 \
    do {                                                                                         \
        int x_;                                                                                  \
        if (!(prev)) {                                                                           \
            (out)[0] = (cur)[0];                                                                 \
            for (x_ = 1; x_ < (w); x_++)                                                         \
                (out)[x_] = (T)((cur)[x_] - (cur)[x_ - 1]);                                      \
        } else {                                                                                 \
            (out)[0] = (T)((cur)[0] - (prev)[0]);                                                \
            for (x_ = 1; x_ < (w); x_++)                                                         \
                (out)[x_] = (T)((cur)[x_] - PREDICT(kind, (cur)[x_ - 1], prev, x_, w));          \
        }                                                                                        \
    } while (0)

static void residual_row8(int kind, const uint8_t *cur, const uint8_t *prev, int w, uint8_t *out,
                          int scalar)
{
#ifdef REEL_HAVE_SSE2
    int x = 1;
    if (!scalar && w > 17) {
        if (!prev) {
            out[0] = cur[0];
            for (; x + 16 <= w; x += 16)
                _mm_storeu_si128((__m128i *)(void *)(out + x),
                                 _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(cur + x)),
                                              _mm_loadu_si128((const __m128i *)(cur + x - 1))));
            for (; x < w; x++)
                out[x] = (uint8_t)(cur[x] - cur[x - 1]);
            return;
        }
        out[0] = (uint8_t)(cur[0] - prev[0]);
        /* AVG reads prev[x + 16]: stop one vector early so the last sample stays scalar. */
        for (; x + 17 <= w; x += 16) {
            __m128i a = _mm_loadu_si128((const __m128i *)(cur + x - 1));
            __m128i b = _mm_loadu_si128((const __m128i *)(prev + x)), pred;
            if (kind == PRED_MED) {
                __m128i c = _mm_loadu_si128((const __m128i *)(prev + x - 1));
                __m128i lo = _mm_min_epu8(a, b), hi = _mm_max_epu8(a, b);
                pred = _mm_add_epi8(lo, _mm_min_epu8(_mm_subs_epu8(hi, c), _mm_sub_epi8(hi, lo)));
            } else {
                __m128i d = _mm_loadu_si128((const __m128i *)(prev + x + 1));
                pred = _mm_avg_epu8(a, _mm_avg_epu8(b, d));
            }
            _mm_storeu_si128((__m128i *)(void *)(out + x),
                             _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(cur + x)), pred));
        }
        for (; x < w; x++)
            out[x] = (uint8_t)(cur[x] - PREDICT(kind, cur[x - 1], prev, x, w));
        return;
    }
#endif
    RESIDUAL_ROW(uint8_t, kind, cur, prev, w, out);
}

static void residual_row16(int kind, const uint16_t *cur, const uint16_t *prev, int w,
                           uint16_t *out)
{
    RESIDUAL_ROW(uint16_t, kind, cur, prev, w, out);
}

/* Sample of a plane as an unsigned value (1- or 2-byte samples). */
static inline unsigned sample(const uint8_t *row, int bytes, size_t x)
{
    return bytes == 1 ? row[x] : (unsigned)(row[2 * x] | (row[2 * x + 1] << 8));
}

/* Bits an order-0 entropy coder would spend on the residual bytes counted in h. */
static double cost(const uint32_t h[256])
{
    double n = 0, bits = 0;
    int i;
    for (i = 0; i < 256; i++)
        n += h[i];
    for (i = 0; i < 256; i++)
        if (h[i])
            bits += h[i] * log2(n / h[i]);
    return bits;
}

/* Pick the predictor for a plane from the residual entropy of every 16th row. */
static int choose_predictor(const uint8_t *src, const reel__plane *p)
{
    uint32_t h[2][256];
    size_t w = (size_t)p->width, rowb = w * (size_t)p->bytes, y, x;
    int k;
    memset(h, 0, sizeof h);
    for (y = 1; y < (size_t)p->height; y += 16) {
        const uint8_t *cur = src + y * rowb, *prev = cur - rowb;
        for (x = 1; x + 1 < w; x++) {
            unsigned a = sample(cur, p->bytes, x - 1), v = sample(cur, p->bytes, x);
            unsigned b = sample(prev, p->bytes, x), c = sample(prev, p->bytes, x - 1);
            unsigned d = sample(prev, p->bytes, x + 1);
            unsigned r[2] = {v - med(a, b, c), v - avg(a, avg(b, d))};
            for (k = 0; k < 2; k++) {
                h[k][r[k] & 0xff]++;
                if (p->bytes == 2)
                    h[k][(r[k] >> 8) & 0xff]++;
            }
        }
    }
    return cost(h[PRED_AVG]) < cost(h[PRED_MED]) ? PRED_AVG : PRED_MED;
}

/* The row of strip s at strip row r (zero past the plane's height); NULL above a strip. */
static const uint8_t *strip_row(const uint8_t *src, const reel__plane *p, size_t hs, int s,
                                size_t r, const uint8_t *zero)
{
    size_t y = (size_t)s * hs + r, rowb = (size_t)p->width * (size_t)p->bytes;
    return y < (size_t)p->height ? src + y * rowb : zero;
}

/* Interleave 16 residual rows (rows + s * w) into strip row r of out. */
static void interleave8(const uint8_t *rows, size_t w, uint8_t *out, int scalar)
{
    size_t x = 0;
    int s;
#ifdef REEL_HAVE_SSE2
    if (!scalar)
        for (; x + 16 <= w; x += 16) {
            __m128i v[16];
            for (s = 0; s < 16; s++)
                v[s] = _mm_loadu_si128((const __m128i *)(rows + (size_t)s * w + x));
            transpose16(v);
            for (s = 0; s < 16; s++)
                _mm_storeu_si128((__m128i *)(void *)(out + (x + (size_t)s) * LANES), v[s]);
        }
#endif
    for (; x < w; x++)
        for (s = 0; s < LANES; s++)
            out[x * LANES + (size_t)s] = rows[(size_t)s * w + x];
}

/*
 * Filter one plane of 1- or 2-byte samples into out (plane_filtered_bytes). tmp holds 17 rows.
 * Virtual rows (past the plane's height) are zero, so their residuals are zero too, except
 * the first virtual row of a strip, predicted from a real row above it.
 */
static void filter_plane(int kind, const uint8_t *src, const reel__plane *p, uint8_t *out,
                         uint8_t *tmp, int scalar)
{
    size_t hs = strip_rows(p), w = (size_t)p->width, n = hs * w * LANES;
    size_t rowb = w * (size_t)p->bytes, r, x;
    uint8_t *zero = tmp + LANES * rowb;
    int s;
    memset(zero, 0, rowb);
    for (r = 0; r < hs; r++) {
        for (s = 0; s < LANES; s++) {
            const uint8_t *cur = strip_row(src, p, hs, s, r, zero);
            const uint8_t *prev = r ? strip_row(src, p, hs, s, r - 1, zero) : NULL;
            if (p->bytes == 1)
                residual_row8(kind, cur, prev, (int)w, tmp + (size_t)s * rowb, scalar);
            else
                residual_row16(kind, (const uint16_t *)(const void *)cur,
                               (const uint16_t *)(const void *)prev, (int)w,
                               (uint16_t *)(void *)(tmp + (size_t)s * rowb));
        }
        if (p->bytes == 1) {
            interleave8(tmp, w, out + r * w * LANES, scalar);
            continue;
        }
        for (s = 0; s < LANES; s++)
            for (x = 0; x < w; x++) {
                uint16_t v;
                memcpy(&v, tmp + (size_t)s * rowb + 2 * x, 2);
                out[(r * w + x) * LANES + (size_t)s] = (uint8_t)(v & 0xff);
                out[n + (r * w + x) * LANES + (size_t)s] = (uint8_t)(v >> 8);
            }
    }
}

/* Split packed RGB/BGR into planes G, R-G, B-G. */
/* Packed RGB/BGR <-> planes G, R-G, B-G; pixels [from, npix) one at a time. */
static void rgb_to_planes_scalar(const uint8_t *src, size_t from, size_t npix, int bgr,
                                 uint8_t *dst)
{
    uint8_t *g = dst, *rp = dst + npix, *bp = dst + 2 * npix;
    int ri = bgr ? 2 : 0, bi = bgr ? 0 : 2;
    size_t i;
    for (i = from; i < npix; i++) {
        const uint8_t *px = src + 3 * i;
        g[i] = px[1];
        rp[i] = (uint8_t)(px[ri] - px[1]);
        bp[i] = (uint8_t)(px[bi] - px[1]);
    }
}

static void planes_to_rgb_scalar(const uint8_t *src, size_t from, size_t npix, int bgr,
                                 uint8_t *dst)
{
    const uint8_t *g = src, *rp = src + npix, *bp = src + 2 * npix;
    int ri = bgr ? 2 : 0, bi = bgr ? 0 : 2;
    size_t i;
    for (i = from; i < npix; i++) {
        uint8_t *px = dst + 3 * i;
        px[1] = g[i];
        px[ri] = (uint8_t)(rp[i] + g[i]);
        px[bi] = (uint8_t)(bp[i] + g[i]);
    }
}

#if defined(REEL_HAVE_SSE2) && defined(__GNUC__)
#include <tmmintrin.h>
#define REEL_HAVE_SSSE3_DISPATCH 1

/*
 * SSSE3 byte shuffles move 16 pixels between 3 planes and 48 packed bytes. mask[k][c] picks,
 * for packed block k (bytes 16k..16k+15), the bytes that come from plane c (0 first byte of a
 * pixel, 1 second, 2 third), 0x80 elsewhere; gather[c][k] is its inverse.
 */
static void rgb_masks(uint8_t pack[3][3][16], uint8_t gather[3][3][16])
{
    int k, c, j;
    for (k = 0; k < 3; k++)
        for (c = 0; c < 3; c++)
            for (j = 0; j < 16; j++) {
                int pos = 16 * k + j;
                pack[k][c][j] = pos % 3 == c ? (uint8_t)(pos / 3) : 0x80;
                gather[c][k][j] = 3 * j + c >= 16 * k && 3 * j + c < 16 * k + 16
                                      ? (uint8_t)(3 * j + c - 16 * k)
                                      : 0x80;
            }
}

__attribute__((target("ssse3"))) static size_t planes_to_rgb_ssse3(const uint8_t *src,
                                                                   size_t npix, int bgr,
                                                                   uint8_t *dst)
{
    uint8_t pack[3][3][16], gather[3][3][16];
    __m128i m[3][3];
    const uint8_t *g = src, *rp = src + npix, *bp = src + 2 * npix;
    size_t i;
    int k, c;
    rgb_masks(pack, gather);
    for (k = 0; k < 3; k++)
        for (c = 0; c < 3; c++)
            m[k][c] = _mm_loadu_si128((const __m128i *)(const void *)pack[k][c]);
    for (i = 0; i + 16 <= npix; i += 16) {
        __m128i vg = _mm_loadu_si128((const __m128i *)(g + i)), v[3];
        __m128i vr = _mm_add_epi8(_mm_loadu_si128((const __m128i *)(rp + i)), vg);
        __m128i vb = _mm_add_epi8(_mm_loadu_si128((const __m128i *)(bp + i)), vg);
        v[0] = bgr ? vb : vr;
        v[1] = vg;
        v[2] = bgr ? vr : vb;
        for (k = 0; k < 3; k++)
            _mm_storeu_si128((__m128i *)(void *)(dst + 3 * i + 16 * (size_t)k),
                             _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(v[0], m[k][0]),
                                                       _mm_shuffle_epi8(v[1], m[k][1])),
                                          _mm_shuffle_epi8(v[2], m[k][2])));
    }
    return i;
}

__attribute__((target("ssse3"))) static size_t rgb_to_planes_ssse3(const uint8_t *src,
                                                                   size_t npix, int bgr,
                                                                   uint8_t *dst)
{
    uint8_t pack[3][3][16], gather[3][3][16];
    __m128i m[3][3];
    uint8_t *g = dst, *rp = dst + npix, *bp = dst + 2 * npix;
    size_t i;
    int k, c;
    rgb_masks(pack, gather);
    for (c = 0; c < 3; c++)
        for (k = 0; k < 3; k++)
            m[c][k] = _mm_loadu_si128((const __m128i *)(const void *)gather[c][k]);
    for (i = 0; i + 16 <= npix; i += 16) {
        __m128i in[3], v[3];
        for (k = 0; k < 3; k++)
            in[k] = _mm_loadu_si128((const __m128i *)(src + 3 * i + 16 * (size_t)k));
        for (c = 0; c < 3; c++)
            v[c] = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(in[0], m[c][0]),
                                             _mm_shuffle_epi8(in[1], m[c][1])),
                                _mm_shuffle_epi8(in[2], m[c][2]));
        _mm_storeu_si128((__m128i *)(void *)(g + i), v[1]);
        _mm_storeu_si128((__m128i *)(void *)(rp + i), _mm_sub_epi8(v[bgr ? 2 : 0], v[1]));
        _mm_storeu_si128((__m128i *)(void *)(bp + i), _mm_sub_epi8(v[bgr ? 0 : 2], v[1]));
    }
    return i;
}

static int have_ssse3(int scalar)
{
    static atomic_int known = -1; /* every thread computes the same answer */
    int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (k < 0) {
        k = __builtin_cpu_supports("ssse3") != 0;
        atomic_store_explicit(&known, k, memory_order_relaxed);
    }
    return k && !scalar;
}
#endif

static void rgb_to_planes(const uint8_t *src, size_t npix, int bgr, uint8_t *dst, int scalar)
{
    size_t done = 0;
#ifdef REEL_HAVE_SSSE3_DISPATCH
    if (have_ssse3(scalar))
        done = rgb_to_planes_ssse3(src, npix, bgr, dst);
#endif
    rgb_to_planes_scalar(src, done, npix, bgr, dst);
}

static void planes_to_rgb(const uint8_t *src, size_t npix, int bgr, uint8_t *dst, int scalar)
{
    size_t done = 0;
#ifdef REEL_HAVE_SSSE3_DISPATCH
    if (have_ssse3(scalar))
        done = planes_to_rgb_ssse3(src, npix, bgr, dst);
#endif
    planes_to_rgb_scalar(src, done, npix, bgr, dst);
}

/* ---- decoder ---------------------------------------------------------------------------- */

/* Write strip row r (w vectors of 16 lanes at v) to the plane's real rows. */
static void scatter_row8_scalar(const uint8_t *v, size_t r, size_t hs, const reel__plane *p,
                                size_t x0, uint8_t *dst)
{
    size_t w = (size_t)p->width, x;
    int s;
    for (s = 0; s < LANES; s++) {
        size_t y = (size_t)s * hs + r;
        if (y >= (size_t)p->height)
            break;
        for (x = x0; x < w; x++)
            dst[y * w + x] = v[x * LANES + (size_t)s];
    }
}

/* Prediction for lane sample x >= 1 of a strip row: left a, upper strip row prev (stride LANES). */
static inline unsigned predict_lane(int kind, unsigned a, const void *prev, int wide, size_t x,
                                    size_t w)
{
    size_t xd = x + 1 < w ? x + 1 : x;
    unsigned b, c, d;
    if (wide) {
        const uint16_t *p16 = prev;
        b = p16[x * LANES], c = p16[(x - 1) * LANES], d = p16[xd * LANES];
    } else {
        const uint8_t *p8 = prev;
        b = p8[x * LANES], c = p8[(x - 1) * LANES], d = p8[xd * LANES];
    }
    return kind == PRED_MED ? med(a, b, c) : avg(a, avg(b, d));
}

static void unfilter_plane8_scalar(int kind, uint8_t *f, const reel__plane *p, uint8_t *dst)
{
    size_t hs = strip_rows(p), w = (size_t)p->width, r, x;
    int s;
    for (r = 0; r < hs; r++) {
        uint8_t *row = f + r * w * LANES, *prev = row - w * LANES;
        for (s = 0; s < LANES; s++) {
            if (r == 0) {
                for (x = 1; x < w; x++)
                    row[x * LANES + s] += row[(x - 1) * LANES + s];
            } else {
                row[s] += prev[s];
                for (x = 1; x < w; x++)
                    row[x * LANES + s] +=
                        predict_lane(kind, row[(x - 1) * LANES + s], prev + s, 0, x, w);
            }
        }
        scatter_row8_scalar(row, r, hs, p, 0, dst);
    }
}

#ifdef REEL_HAVE_SSE2
/* Rebuild strip row r > 0 in place: MED or AVG prediction from the row above, 16 lanes a step. */
static void unfilter_row8_sse2(int kind, __m128i *row, const __m128i *prev, size_t w)
{
    __m128i left = _mm_add_epi8(_mm_loadu_si128(row), _mm_loadu_si128(prev));
    size_t x;
    _mm_storeu_si128(row, left);
    if (kind == PRED_MED) {
        __m128i c = _mm_loadu_si128(prev);
        for (x = 1; x < w; x++) {
            __m128i b = _mm_loadu_si128(prev + x);
            __m128i lo = _mm_min_epu8(left, b), hi = _mm_max_epu8(left, b);
            __m128i t = _mm_subs_epu8(hi, c), d = _mm_sub_epi8(hi, lo);
            __m128i pred = _mm_add_epi8(lo, _mm_min_epu8(t, d));
            left = _mm_add_epi8(_mm_loadu_si128(row + x), pred);
            _mm_storeu_si128(row + x, left);
            c = b;
        }
        return;
    }
    for (x = 1; x < w; x++) {
        __m128i bd = _mm_avg_epu8(_mm_loadu_si128(prev + x),
                                  _mm_loadu_si128(prev + (x + 1 < w ? x + 1 : x)));
        left = _mm_add_epi8(_mm_loadu_si128(row + x), _mm_avg_epu8(left, bd));
        _mm_storeu_si128(row + x, left);
    }
}

static void unfilter_plane8_sse2(int kind, uint8_t *f, const reel__plane *p, uint8_t *dst)
{
    size_t hs = strip_rows(p), w = (size_t)p->width, r, x;
    size_t wfull = w & ~(size_t)15;
    for (r = 0; r < hs; r++) {
        __m128i *row = (__m128i *)(void *)(f + r * w * LANES);
        if (r == 0) {
            __m128i left = _mm_loadu_si128(row);
            for (x = 1; x < w; x++) {
                left = _mm_add_epi8(_mm_loadu_si128(row + x), left);
                _mm_storeu_si128(row + x, left);
            }
        } else {
            unfilter_row8_sse2(kind, row, row - w, w);
        }
        for (x = 0; x < wfull; x += 16) {
            __m128i v[16];
            int s;
            for (s = 0; s < 16; s++)
                v[s] = _mm_loadu_si128(row + x + (size_t)s);
            transpose16(v);
            for (s = 0; s < LANES; s++) {
                size_t y = (size_t)s * hs + r;
                if (y >= (size_t)p->height)
                    break;
                _mm_storeu_si128((__m128i *)(void *)(dst + y * w + x), v[s]);
            }
        }
        if (wfull < w)
            scatter_row8_scalar((const uint8_t *)row, r, hs, p, wfull, dst);
    }
}
#endif

static void unfilter_plane16(int kind, uint8_t *f, const reel__plane *p, uint8_t *dst,
                             uint16_t *rows)
{
    size_t hs = strip_rows(p), w = (size_t)p->width, n = hs * w * LANES, r, x;
    uint16_t *cur = rows, *prev = rows + w * LANES, *swap;
    int s;
    for (r = 0; r < hs; r++) {
        const uint8_t *lo = f + r * w * LANES, *hi = lo + n;
        for (x = 0; x < w * LANES; x++)
            cur[x] = (uint16_t)(lo[x] | (hi[x] << 8));
        for (s = 0; s < LANES; s++) {
            size_t y = (size_t)s * hs + r;
            if (r == 0) {
                for (x = 1; x < w; x++)
                    cur[x * LANES + s] += cur[(x - 1) * LANES + s];
            } else {
                cur[s] += prev[s];
                for (x = 1; x < w; x++)
                    cur[x * LANES + s] +=
                        predict_lane(kind, cur[(x - 1) * LANES + s], prev + s, 1, x, w);
            }
            if (y < (size_t)p->height) {
                uint8_t *out = dst + y * w * 2;
                for (x = 0; x < w; x++) {
                    out[2 * x] = (uint8_t)(cur[x * LANES + s] & 0xff);
                    out[2 * x + 1] = (uint8_t)(cur[x * LANES + s] >> 8);
                }
            }
        }
        swap = prev;
        prev = cur;
        cur = swap;
    }
}

void reel__filter(const reel__filter_io *io, const uint8_t *pixels, int choose, unsigned *mask,
                  uint8_t *out)
{
    const reel__plane *p = io->p;
    const uint8_t *src = pixels;
    int i;
    if (is_rgb(io->fmt)) {
        rgb_to_planes(src, (size_t)p[0].width * (size_t)p[0].height, io->fmt == REEL_PIX_BGR24,
                      io->planes, io->scalar);
        src = io->planes;
    }
    for (i = 0; i < io->np; i++) {
        int kind = choose ? choose_predictor(src, &p[i]) : (int)((*mask >> i) & 1);
        *mask = (*mask & ~(1u << i)) | (unsigned)kind << i;
        filter_plane(kind, src, &p[i], out, io->rows, io->scalar);
        src += reel__plane_bytes(&p[i]);
        out += reel__filtered_bytes(&p[i]);
    }
}

void reel__unfilter(const reel__filter_io *io, uint8_t *f, unsigned mask, uint8_t *dst)
{
    const reel__plane *p = io->p;
    uint8_t *out = is_rgb(io->fmt) ? io->planes : dst;
    int i;
    for (i = 0; i < io->np; i++) {
        int kind = (int)((mask >> i) & 1);
        if (p[i].bytes == 2) {
            unfilter_plane16(kind, f, &p[i], out, (uint16_t *)(void *)io->rows);
        } else {
#ifdef REEL_HAVE_SSE2
            if (!io->scalar)
                unfilter_plane8_sse2(kind, f, &p[i], out);
            else
#endif
                unfilter_plane8_scalar(kind, f, &p[i], out);
        }
        f += reel__filtered_bytes(&p[i]);
        out += reel__plane_bytes(&p[i]);
    }
    if (is_rgb(io->fmt))
        planes_to_rgb(io->planes, (size_t)p[0].width * (size_t)p[0].height,
                      io->fmt == REEL_PIX_BGR24, dst, io->scalar);
}
