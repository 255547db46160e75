/* check_codec.c - the frame codec: roundtrips (temporal frames, DELTA and BLOCKS, with their
 * reference), the SIMD path against the scalar one, untrusted blobs, the checksum, and
 * pixel-format geometry. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "base/hash.h"
#include "base/pixfmt.h"
#include "codec/blocks.h"
#include "codec/codec.h"
#include "testutil.h"

static const int formats[] = {REEL_PIX_GRAY8,   REEL_PIX_RGB24,    REEL_PIX_BGR24,
                              REEL_PIX_YUV420P, REEL_PIX_YUV444P,  REEL_PIX_GRAY16LE,
                              REEL_PIX_YUV420P10LE};
#define NFORMATS (int)(sizeof formats / sizeof formats[0])

static const int sizes[][2] = {{1, 1}, {2, 1}, {1, 2}, {3, 5}, {15, 17}, {16, 16},
                               {17, 33}, {33, 31}, {64, 48}, {127, 95}, {320, 1}};
#define NSIZES (int)(sizeof sizes / sizeof sizes[0])

/* The codec's calls with the geometry and blob spelled out, as these tests use them. */
static int encode(reel__codec *c, int filter, int level, int fmt, int w, int h, const void *px,
                  const void **out, size_t *len, uint64_t *sum, int *used)
{
    reel__geom g = {fmt, w, h};
    reel__blob b;
    int rc = reel__encode(c, filter, level, &g, px, &b);
    if (rc == REEL_OK) {
        *out = b.data;
        *len = b.len;
        *sum = b.checksum;
        *used = b.filter;
    }
    return rc;
}

static int decode(reel__codec *c, int filter, int fmt, int w, int h, const void *blob,
                  size_t len, uint64_t sum, void *dst, const char **why)
{
    reel__geom g = {fmt, w, h};
    reel__blob b = {blob, len, filter, sum};
    return reel__decode(c, &g, &b, dst, why);
}

/* Filter ids to try on a format: none, all MED, all AVG, the same two with rANS, and the
 * encoder's choice. */
static int filter_id(int which, int fmt)
{
    reel__plane p[REEL__MAX_PLANES];
    int np = reel__planes(fmt, 8, 8, p);
    switch (which) {
    case 0: return REEL__FILTER_NONE;
    case 1: return REEL__FILTER_STRIP16;
    case 2: return REEL__FILTER_STRIP16 | (((1 << np) - 1) << 4);
    case 3: return REEL__FILTER_RANS;
    case 4: return REEL__FILTER_RANS | (((1 << np) - 1) << 4);
    default: return REEL__FILTER_AUTO;
    }
}

/* Encode then decode one frame; return the blob for further abuse (caller frees). */
static void *roundtrip_used(reel__codec *c, int filter, int fmt, int w, int h, uint32_t seed,
                            size_t *blob_len, uint64_t *sum, int *used)
{
    size_t fs;
    uint8_t *in, *out;
    const void *blob;
    const char *why = NULL;
    void *copy;
    ck_assert_int_eq(reel_frame_size(fmt, w, h, &fs), REEL_OK);
    in = malloc(fs);
    out = malloc(fs);
    tu_fill(in, fmt, w, h, seed);
    ck_assert_int_eq(encode(c, filter, 1, fmt, w, h, in, &blob, blob_len, sum, used),
                     REEL_OK);
    if (filter != REEL__FILTER_AUTO)
        ck_assert_int_eq(*used, filter);
    ck_assert_uint_eq(*sum, reel__checksum(in, fs));
    copy = malloc(*blob_len);
    memcpy(copy, blob, *blob_len);
    memset(out, 0xa5, fs);
    ck_assert_msg(decode(c, *used, fmt, w, h, copy, *blob_len, *sum, out, &why) == REEL_OK,
                  "decode %s %dx%d filter %d: %s", reel_pix_fmt_name(fmt), w, h, filter, why);
    ck_assert_msg(memcmp(in, out, fs) == 0, "roundtrip differs: %s %dx%d filter %d",
                  reel_pix_fmt_name(fmt), w, h, filter);
    free(in);
    free(out);
    return copy;
}

static void *roundtrip(reel__codec *c, int filter, int fmt, int w, int h, uint32_t seed,
                       size_t *blob_len, uint64_t *sum)
{
    int used;
    return roundtrip_used(c, filter, fmt, w, h, seed, blob_len, sum, &used);
}

START_TEST(test_roundtrip_all_formats_and_sizes)
{
    reel__codec *c = reel__codec_new();
    int f, s, which;
    for (which = 0; which < 6; which++)
        for (f = 0; f < NFORMATS; f++)
            for (s = 0; s < NSIZES; s++) {
                size_t len;
                uint64_t sum;
                free(roundtrip(c, filter_id(which, formats[f]), formats[f], sizes[s][0],
                               sizes[s][1], (uint32_t)s, &len, &sum));
            }
    reel__codec_free(c);
}
END_TEST

/* Extreme values exercise the MED clamp and the mod-256 / mod-65536 residual arithmetic. */
START_TEST(test_roundtrip_extremes)
{
    reel__codec *c = reel__codec_new();
    int f, pattern, which;
    for (which = 1; which < 6; which++)
    for (f = 0; f < NFORMATS; f++)
        for (pattern = 0; pattern < 3; pattern++) {
            int w = 37, h = 41;
            size_t fs, len, i;
            uint8_t *in, *out;
            const void *blob;
            uint64_t sum;
            const char *why;
            int used;
            reel_frame_size(formats[f], w, h, &fs);
            in = malloc(fs);
            out = malloc(fs);
            for (i = 0; i < fs; i++)
                in[i] = pattern == 0 ? 0xff : pattern == 1 ? (uint8_t)((i / 3) % 2 ? 0xff : 0)
                                                           : (uint8_t)(rand() & 0xff);
            ck_assert_int_eq(encode(c, filter_id(which, formats[f]), 1, formats[f], w, h, in,
                                          &blob, &len, &sum, &used),
                             REEL_OK);
            ck_assert_int_eq(decode(c, used, formats[f], w, h, blob, len, sum, out, &why),
                             REEL_OK);
            ck_assert_mem_eq(in, out, fs);
            free(in);
            free(out);
        }
    reel__codec_free(c);
}
END_TEST

/* The SIMD and scalar encoders write the same bytes: the stored format never depends on the
 * machine that wrote it. */
static void same_blob_both_ways(reel__codec *c, int filter, int fmt, int w, int h)
{
    size_t fs, len[2];
    uint8_t *in;
    void *blob[2];
    uint64_t sum;
    int used, mode;
    reel_frame_size(fmt, w, h, &fs);
    in = malloc(fs);
    tu_fill(in, fmt, w, h, 5);
    for (mode = 0; mode < 2; mode++) {
        const void *b;
        reel__codec_set_scalar(c, mode);
        ck_assert_int_eq(encode(c, filter, 1, fmt, w, h, in, &b, &len[mode], &sum, &used),
                         REEL_OK);
        blob[mode] = malloc(len[mode]);
        memcpy(blob[mode], b, len[mode]);
    }
    reel__codec_set_scalar(c, 0);
    ck_assert_uint_eq(len[0], len[1]);
    ck_assert_mem_eq(blob[0], blob[1], len[0]);
    free(blob[0]);
    free(blob[1]);
    free(in);
}

START_TEST(test_scalar_matches_simd)
{
    reel__codec *c = reel__codec_new();
    int s, which, scalar;
    for (scalar = 0; scalar < 2; scalar++)
        for (which = 1; which < 5; which++)
            for (s = 0; s < NSIZES; s++) {
                size_t len;
                uint64_t sum;
                reel__codec_set_scalar(c, scalar);
                free(roundtrip(c, filter_id(which, REEL_PIX_YUV420P), REEL_PIX_YUV420P,
                               sizes[s][0] * 3, sizes[s][1] + 20, 7, &len, &sum));
                free(roundtrip(c, filter_id(which, REEL_PIX_RGB24), REEL_PIX_RGB24,
                               sizes[s][0] + 40, sizes[s][1], 7, &len, &sum));
                reel__codec_set_scalar(c, 0);
                same_blob_both_ways(c, filter_id(which, REEL_PIX_YUV420P), REEL_PIX_YUV420P,
                                    sizes[s][0] * 3, sizes[s][1] + 20);
                same_blob_both_ways(c, filter_id(which, REEL_PIX_RGB24), REEL_PIX_RGB24,
                                    sizes[s][0] + 40, sizes[s][1]);
            }
    reel__codec_free(c);
}
END_TEST

/* A smooth image must compress well: the filter is doing its job. */
START_TEST(test_filter_compresses)
{
    reel__codec *c = reel__codec_new();
    int w = 320, h = 240, x, y;
    size_t fs, med_len, plain_len;
    uint8_t *in;
    const void *blob;
    uint64_t sum;
    int used;
    reel_frame_size(REEL_PIX_GRAY8, w, h, &fs);
    in = malloc(fs);
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++)
            in[y * w + x] = (uint8_t)((x * 7 + y * 3) / 5 + ((x * y) % 3));
    ck_assert_int_eq(encode(c, REEL__FILTER_NONE, 1, REEL_PIX_GRAY8, w, h, in, &blob,
                                  &plain_len, &sum, &used),
                     REEL_OK);
    ck_assert_int_eq(encode(c, REEL__FILTER_STRIP16, 1, REEL_PIX_GRAY8, w, h, in, &blob,
                                  &med_len, &sum, &used),
                     REEL_OK);
    ck_assert_msg(med_len * 2 < plain_len, "MED16 %zu bytes, plain %zu", med_len, plain_len);
    free(in);
    reel__codec_free(c);
}
END_TEST

/* The encoder picks MED for hard clean edges and AVG where noise dominates. */
START_TEST(test_predictor_choice)
{
    reel__codec *c = reel__codec_new();
    int w = 256, h = 64, x, y, used;
    size_t len;
    uint8_t *in = malloc((size_t)w * h);
    const void *blob;
    uint64_t sum;
    uint32_t rng = 9;
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++)
            in[y * w + x] = (uint8_t)(((x / 7 + y / 5) % 2) ? 200 : 30);
    ck_assert_int_eq(encode(c, REEL__FILTER_AUTO, 1, REEL_PIX_GRAY8, w, h, in, &blob, &len,
                                  &sum, &used),
                     REEL_OK);
    ck_assert_int_eq(used, REEL__FILTER_STRIP16);
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++) {
            rng = rng * 1664525u + 1013904223u;
            in[y * w + x] = (uint8_t)(100 + x / 4 + (int)(rng >> 28));
        }
    ck_assert_int_eq(encode(c, REEL__FILTER_AUTO, 1, REEL_PIX_GRAY8, w, h, in, &blob, &len,
                                  &sum, &used),
                     REEL_OK);
    ck_assert_int_eq(used, REEL__FILTER_STRIP16 | (1 << 4));
    /* ids that name no filter are refused by both sides */
    ck_assert_int_eq(encode(c, 5, 1, REEL_PIX_GRAY8, w, h, in, &blob, &len, &sum, &used),
                     REEL_UNSUPPORTED);
    ck_assert_int_eq(encode(c, REEL__FILTER_RANS | (2 << 4), 1, REEL_PIX_GRAY8, w, h, in,
                            &blob, &len, &sum, &used),
                     REEL_UNSUPPORTED);
    ck_assert_int_eq(encode(c, REEL__FILTER_STRIP16 | (2 << 4), 1, REEL_PIX_GRAY8, w, h, in,
                                  &blob, &len, &sum, &used),
                     REEL_UNSUPPORTED);
    free(in);
    reel__codec_free(c);
}
END_TEST

static int decode_bad(reel__codec *c, const void *blob, size_t len, uint64_t sum, const char **why)
{
    size_t fs;
    uint8_t *out;
    int rc;
    reel_frame_size(REEL_PIX_YUV420P, 64, 48, &fs);
    out = malloc(fs);
    *why = NULL;
    rc = decode(c, REEL__FILTER_STRIP16, REEL_PIX_YUV420P, 64, 48, blob, len, sum, out, why);
    free(out);
    return rc;
}

START_TEST(test_untrusted_blobs)
{
    reel__codec *c = reel__codec_new();
    size_t len, i;
    uint64_t sum;
    const char *why;
    uint8_t *b = roundtrip(c, REEL__FILTER_STRIP16, REEL_PIX_YUV420P, 64, 48, 3, &len, &sum);
    uint8_t *big = malloc(len + 16), junk[64];

    /* truncated at every length, including empty */
    for (i = 0; i < len; i += 1 + i / 8) {
        ck_assert_int_eq(decode_bad(c, b, i, sum, &why), REEL_CORRUPT);
        ck_assert_ptr_nonnull(why);
    }
    ck_assert_int_eq(decode_bad(c, NULL, 0, sum, &why), REEL_CORRUPT);
    /* trailing bytes */
    memcpy(big, b, len);
    memset(big + len, 0, 16);
    ck_assert_int_eq(decode_bad(c, big, len + 16, sum, &why), REEL_CORRUPT);
    /* every byte flipped in turn: never a crash, and corrupt unless the flip is harmless */
    for (i = 0; i < len; i++) {
        int rc;
        b[i] ^= 0x5a;
        rc = decode_bad(c, b, len, sum, &why);
        b[i] ^= 0x5a;
        ck_assert_msg(rc == REEL_CORRUPT || rc == REEL_OK, "flip at %zu gave %d", i, rc);
    }
    /* a flip in the payload's last byte changes pixels: the checksum catches it */
    b[len - 1] ^= 0x01;
    ck_assert_int_eq(decode_bad(c, b, len, sum, &why), REEL_CORRUPT);
    b[len - 1] ^= 0x01;
    /* wrong checksum */
    ck_assert_int_eq(decode_bad(c, b, len, sum ^ 1, &why), REEL_CORRUPT);
    ck_assert_str_eq(why, "checksum mismatch");
    /* random junk */
    for (i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 37);
    ck_assert_int_eq(decode_bad(c, junk, sizeof junk, sum, &why), REEL_CORRUPT);
    /* a valid zstd frame of the wrong size (another geometry's blob) */
    {
        size_t len2;
        uint64_t sum2;
        uint8_t *other = roundtrip(c, REEL__FILTER_STRIP16, REEL_PIX_YUV420P, 64, 64, 3, &len2,
                                   &sum2);
        ck_assert_int_eq(decode_bad(c, other, len2, sum2, &why), REEL_CORRUPT);
        ck_assert_str_eq(why, "zstd frame declares the wrong decompressed size");
        free(other);
    }
    /* unknown filter ids: another family, a mask naming a fourth plane, negative */
    {
        static const int bad_ids[] = {5, 99, REEL__FILTER_DELTA | (1 << 4),
                                      REEL__FILTER_BLOCKS | (1 << 4),
                                      REEL__FILTER_STRIP16 | (8 << 4),
                                      REEL__FILTER_RANS | (8 << 4), -1};
        uint8_t out[64 * 48 * 2];
        for (i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++)
            ck_assert_int_eq(decode(c, bad_ids[i], REEL_PIX_YUV420P, 64, 48, b, len, sum,
                                          out, &why),
                             REEL_UNSUPPORTED);
        /* a temporal frame without the reference it needs */
        ck_assert_int_eq(decode(c, REEL__FILTER_DELTA, REEL_PIX_YUV420P, 64, 48, b, len, sum, out,
                                &why),
                         REEL_CORRUPT);
        ck_assert_str_eq(why, "a temporal frame whose reference could not be read");
    }
    free(b);
    free(big);
    reel__codec_free(c);
}
END_TEST

/* RANS blobs (htscodecs' format) are untrusted like zstd's: truncated, extended, flipped,
 * another geometry's, or a zstd frame under the RANS id: refused, never a crash. */
START_TEST(test_untrusted_rans_blobs)
{
    reel__codec *c = reel__codec_new();
    size_t len, len2, i;
    uint64_t sum, sum2;
    const char *why;
    uint8_t out[64 * 48 * 3 / 2];
    uint8_t *b = roundtrip(c, REEL__FILTER_RANS, REEL_PIX_YUV420P, 64, 48, 3, &len, &sum);
    uint8_t *other = roundtrip(c, REEL__FILTER_RANS, REEL_PIX_YUV420P, 64, 64, 3, &len2, &sum2);
    uint8_t *z = roundtrip(c, REEL__FILTER_STRIP16, REEL_PIX_YUV420P, 64, 48, 3, &len2, &sum2);
    uint8_t *big = malloc(len + 16);
    for (i = 0; i < len; i += 1 + i / 8) {
        ck_assert_int_eq(decode(c, REEL__FILTER_RANS, REEL_PIX_YUV420P, 64, 48, b, i, sum, out,
                                &why),
                         REEL_CORRUPT);
        ck_assert_ptr_nonnull(why);
    }
    ck_assert_int_eq(decode(c, REEL__FILTER_RANS, REEL_PIX_YUV420P, 64, 48, NULL, 0, sum, out,
                            &why),
                     REEL_CORRUPT);
    ck_assert_str_eq(why, "empty blob");
    for (i = 0; i < len; i++) {
        int rc;
        b[i] ^= 0x5a;
        rc = decode(c, REEL__FILTER_RANS, REEL_PIX_YUV420P, 64, 48, b, len, sum, out, &why);
        b[i] ^= 0x5a;
        ck_assert_msg(rc == REEL_CORRUPT || rc == REEL_OK, "flip at %zu gave %d", i, rc);
        ck_assert_msg(rc == REEL_OK || why != NULL, "flip at %zu: no reason", i);
    }
    memcpy(big, b, len);
    memset(big + len, 0x77, 16);
    { /* trailing bytes: htscodecs reads only what its stripes declare; the pixels are checked */
        int rc = decode(c, REEL__FILTER_RANS, REEL_PIX_YUV420P, 64, 48, big, len + 16, sum, out,
                        &why);
        ck_assert(rc == REEL_OK || rc == REEL_CORRUPT);
    }
    /* a 64x64 frame's blob read as 64x48, a zstd frame read as rANS */
    ck_assert_int_eq(decode(c, REEL__FILTER_RANS, REEL_PIX_YUV420P, 64, 48, other, len2, sum,
                            out, &why),
                     REEL_CORRUPT);
    ck_assert_str_eq(why, "rANS data is damaged");
    ck_assert_int_eq(decode(c, REEL__FILTER_RANS, REEL_PIX_YUV420P, 64, 48, z, len2, sum2, out,
                            &why),
                     REEL_CORRUPT);
    ck_assert_int_eq(decode(c, REEL__FILTER_RANS, REEL_PIX_YUV420P, 64, 48, b, len, sum ^ 1,
                            out, &why),
                     REEL_CORRUPT);
    ck_assert_str_eq(why, "checksum mismatch");
    free(b);
    free(other);
    free(z);
    free(big);
    reel__codec_free(c);
}
END_TEST

/* BEST codes clean content's residuals with rANS (much smaller there) and noisy content's
 * with zstd (rANS would save little and decodes slower). */
START_TEST(test_best_chooses_rans)
{
    reel__codec *c = reel__codec_new();
    reel__geom g = {REEL_PIX_GRAY8, 320, 240};
    int x, y;
    uint8_t *in = malloc(320 * 240);
    uint32_t rng = 3;
    reel__blob b, z;
    for (y = 0; y < 240; y++) /* a smooth picture: residuals mostly 0 and +-1 */
        for (x = 0; x < 320; x++) {
            rng = rng * 1664525u + 1013904223u;
            in[y * 320 + x] = (uint8_t)((x * 3 + y * 2) / 4 + (rng >> 31));
        }
    ck_assert_int_eq(reel__encode(c, REEL__FILTER_STRIP16, 1, &g, in, &z), REEL_OK);
    ck_assert_int_eq(reel__encode_ref(c, REEL__FILTER_BEST, 1, &g, in, NULL, &b, NULL), REEL_OK);
    ck_assert_int_eq(b.filter & 0xf, REEL__FILTER_RANS);
    ck_assert_msg(b.len * 16 < z.len * 15, "rANS %zu bytes, zstd %zu", b.len, z.len);
    for (y = 0; y < 240; y++) /* noise: residuals spread over 64 values */
        for (x = 0; x < 320; x++) {
            rng = rng * 1664525u + 1013904223u;
            in[y * 320 + x] = (uint8_t)(100 + (rng >> 26));
        }
    ck_assert_int_eq(reel__encode_ref(c, REEL__FILTER_BEST, 1, &g, in, NULL, &b, NULL), REEL_OK);
    ck_assert_int_ne(b.filter & 0xf, REEL__FILTER_RANS);
    free(in);
    reel__codec_free(c);
}
END_TEST

/* ---- temporal frames ---------------------------------------------------------------- */

/* The bytes of a row of the first plane. */
static size_t row_bytes(int fmt, int w)
{
    return (size_t)w * (fmt == REEL_PIX_RGB24 || fmt == REEL_PIX_BGR24                ? 3
                        : fmt == REEL_PIX_GRAY16LE || fmt == REEL_PIX_YUV420P10LE ? 2
                                                                                  : 1);
}

/* A frame like ref (fs bytes) with its blocks in every mode: the first plane's rows 0..15 as
 * ref, the next 16 rows differing by 1 in some samples, the rest new content (another fill). */
static uint8_t *next_frame(const uint8_t *ref, int fmt, int w, int h, size_t fs)
{
    uint8_t *cur = malloc(fs), *other = malloc(fs);
    size_t i, rowb = row_bytes(fmt, w);
    int wide = fmt == REEL_PIX_GRAY16LE || fmt == REEL_PIX_YUV420P10LE;
    ck_assert_ptr_nonnull(cur);
    ck_assert_ptr_nonnull(other);
    tu_fill(other, fmt, w, h, 77);
    for (i = 0; i < fs; i++) {
        size_t row = i / rowb;
        cur[i] = row < 16 ? ref[i] : row < 32 ? (uint8_t)(ref[i] + (i % 3 == 0 && !(wide && i % 2)))
                                              : other[i];
    }
    free(other);
    return cur;
}

/* Encode cur against ref with filter, decode it given ref, compare; returns the blob. */
static void *roundtrip_ref(reel__codec *c, int filter, int fmt, int w, int h, const uint8_t *ref,
                           const uint8_t *cur, size_t fs, reel__blob *out)
{
    reel__geom g = {fmt, w, h};
    uint8_t *dst = malloc(fs);
    const char *why = NULL;
    void *copy;
    ck_assert_int_eq(reel__encode_ref(c, filter, 1, &g, cur, ref, out, NULL), REEL_OK);
    copy = malloc(out->len);
    memcpy(copy, out->data, out->len);
    out->data = copy;
    memset(dst, 0x5a, fs);
    ck_assert_msg(reel__decode_ref(c, &g, out, ref, dst, &why) == REEL_OK,
                  "decode %s %dx%d filter %d: %s", reel_pix_fmt_name(fmt), w, h, out->filter, why);
    ck_assert_msg(memcmp(cur, dst, fs) == 0, "temporal roundtrip differs: %s %dx%d filter %d",
                  reel_pix_fmt_name(fmt), w, h, out->filter);
    free(dst);
    return copy;
}

START_TEST(test_temporal_roundtrip)
{
    reel__codec *c = reel__codec_new();
    static const int ids[] = {REEL__FILTER_DELTA, REEL__FILTER_BLOCKS, REEL__FILTER_BEST};
    int f, s, k;
    for (f = 0; f < NFORMATS; f++)
        for (s = 0; s < NSIZES; s++) {
            int fmt = formats[f], w = sizes[s][0], h = sizes[s][1] + 33;
            size_t fs;
            uint8_t *ref, *cur;
            reel_frame_size(fmt, w, h, &fs);
            ref = malloc(fs);
            tu_fill(ref, fmt, w, h, (uint32_t)s);
            cur = next_frame(ref, fmt, w, h, fs);
            for (k = 0; k < 3; k++) {
                reel__blob b;
                free(roundtrip_ref(c, ids[k], fmt, w, h, ref, cur, fs, &b));
                if (ids[k] != REEL__FILTER_BEST)
                    ck_assert_int_eq(b.filter, ids[k]);
            }
            free(ref);
            free(cur);
        }
    reel__codec_free(c);
}
END_TEST

/* The block filter chooses each mode where it serves: the unchanged rows skipped, the rows
 * off by one coded as differences, new content predicted spatially; a still frame is all
 * skipped and stores in a few bytes. */
START_TEST(test_block_modes)
{
    int fmt, w = 64, h = 48, m;
    for (fmt = REEL_PIX_GRAY8; fmt <= REEL_PIX_YUV420P10LE; fmt++) {
        reel__bplane bp[REEL__MAX_PLANES];
        size_t nblocks, raw, fs, i, count[3] = {0, 0, 0};
        int np = reel__bplanes(fmt, w, h, bp, &nblocks, &raw);
        uint8_t *ref, *cur, *f;
        reel_frame_size(fmt, w, h, &fs);
        ck_assert_uint_eq(raw, fs);
        ref = malloc(fs);
        tu_fill(ref, fmt, w, h, 1);
        for (i = 0; i < fs; i++) /* new content: a smooth ramp, easy to predict in space */
            ref[i] = (uint8_t)(i % 2 ? ref[i] & 3 : ref[i]);
        cur = next_frame(ref, fmt, w, h, fs);
        for (i = 32 * row_bytes(fmt, w); i < fs; i++)
            cur[i] = (uint8_t)(fmt == REEL_PIX_GRAY16LE || fmt == REEL_PIX_YUV420P10LE
                                   ? (i % 2 ? 1 : i / 16)
                                   : i / 64);
        f = malloc(nblocks + raw);
        reel__blocks_filter(bp, np, cur, ref, f);
        for (i = 0; i < nblocks; i++) {
            ck_assert_uint_lt(f[i], 3);
            count[f[i]]++;
        }
        for (m = 0; m < 3; m++)
            ck_assert_msg(count[m] > 0, "%s: no block in mode %d", reel_pix_fmt_name(fmt), m);
        /* the encoder's count of skipped blocks (its gate) agrees with the filter's modes */
        ck_assert_uint_eq(reel__blocks_skipped(bp, np, cur, ref), count[0]);
        ck_assert_uint_eq(reel__blocks_skipped(bp, np, ref, ref), nblocks);
        ck_assert_uint_eq(reel__blocks_filter(bp, np, ref, ref, f), nblocks);
        for (i = 0; i < nblocks; i++)
            ck_assert_uint_eq(f[i], 0);
        free(f);
        free(ref);
        free(cur);
    }
    {
        reel__codec *c = reel__codec_new();
        size_t fs = 640 * 480 * 3 / 2;
        uint8_t *ref = malloc(fs);
        reel__blob b;
        tu_fill(ref, REEL_PIX_YUV420P, 640, 480, 2);
        size_t alone = 0;
        reel__geom g = {REEL_PIX_YUV420P, 640, 480};
        free(roundtrip_ref(c, REEL__FILTER_BEST, REEL_PIX_YUV420P, 640, 480, ref, ref, fs, &b));
        ck_assert_int_eq(b.filter, REEL__FILTER_BLOCKS);
        ck_assert_uint_lt(b.len, 64);
        /* every block skipped: the block frame alone, its intra length estimated above it */
        ck_assert_int_eq(reel__encode_ref(c, REEL__FILTER_BEST, 1, &g, ref, ref, &b, &alone),
                         REEL_OK);
        ck_assert_int_eq(b.filter, REEL__FILTER_BLOCKS);
        ck_assert_uint_gt(alone, b.len);
        free(ref);
        reel__codec_free(c);
    }
}
END_TEST

/* A zstd frame of the n bytes at f, as a BLOCKS blob of a 64x48 yuv420p frame (caller frees). */
static int decode_made(reel__codec *c, const uint8_t *f, size_t n, const uint8_t *ref,
                       const char **why)
{
    reel__geom g = {REEL_PIX_YUV420P, 64, 48};
    size_t cap = ZSTD_compressBound(n), len;
    uint8_t *z = malloc(cap), dst[64 * 48 * 3 / 2];
    reel__blob b;
    int rc;
    len = ZSTD_compress(z, cap, f, n, 1);
    ck_assert(!ZSTD_isError(len));
    b = (reel__blob){z, len, REEL__FILTER_BLOCKS, 0};
    *why = NULL;
    rc = reel__decode_ref(c, &g, &b, ref, dst, why);
    free(z);
    return rc;
}

START_TEST(test_untrusted_block_blobs)
{
    reel__codec *c = reel__codec_new();
    reel__bplane bp[REEL__MAX_PLANES];
    reel__geom g = {REEL_PIX_YUV420P, 64, 48};
    size_t fs = 64 * 48 * 3 / 2, nblocks, raw, i;
    uint8_t *ref = malloc(fs), *cur, *f, dst[64 * 48 * 3 / 2];
    const char *why;
    reel__blob b;
    uint8_t *blob;
    reel__bplanes(REEL_PIX_YUV420P, 64, 48, bp, &nblocks, &raw);
    ck_assert_uint_eq(nblocks, 12 + 2 * 12);
    tu_fill(ref, REEL_PIX_YUV420P, 64, 48, 4);
    cur = next_frame(ref, REEL_PIX_YUV420P, 64, 48, fs);
    blob = roundtrip_ref(c, REEL__FILTER_BLOCKS, REEL_PIX_YUV420P, 64, 48, ref, cur, fs, &b);
    /* without its reference; truncated; every byte flipped in turn */
    ck_assert_int_eq(reel__decode_ref(c, &g, &b, NULL, dst, &why), REEL_CORRUPT);
    ck_assert_str_eq(why, "a temporal frame whose reference could not be read");
    for (i = 0; i < b.len; i += 1 + i / 8) {
        reel__blob t = {blob, i, b.filter, b.checksum};
        ck_assert_int_eq(reel__decode_ref(c, &g, &t, ref, dst, &why), REEL_CORRUPT);
    }
    for (i = 0; i < b.len; i++) {
        int rc;
        blob[i] ^= 0x5a;
        rc = reel__decode_ref(c, &g, &b, ref, dst, &why);
        blob[i] ^= 0x5a;
        ck_assert_msg(rc == REEL_CORRUPT || rc == REEL_OK, "flip at %zu gave %d", i, rc);
    }
    /* well-formed zstd holding a hostile mode map */
    f = calloc(1, nblocks + raw + 1);
    ck_assert_int_eq(decode_made(c, f, nblocks - 1, ref, &why), REEL_CORRUPT);
    ck_assert_str_eq(why, "zstd frame declares the wrong decompressed size");
    ck_assert_int_eq(decode_made(c, f, nblocks + raw + 1, ref, &why), REEL_CORRUPT);
    ck_assert_str_eq(why, "zstd frame declares the wrong decompressed size");
    f[5] = 3;
    ck_assert_int_eq(decode_made(c, f, nblocks, ref, &why), REEL_CORRUPT);
    ck_assert_str_eq(why, "unknown block mode");
    f[5] = 2; /* an INTRA block whose residual is missing, or one byte too many */
    ck_assert_int_eq(decode_made(c, f, nblocks + 255, ref, &why), REEL_CORRUPT);
    ck_assert_str_eq(why, "block modes do not match the size of the block data");
    ck_assert_int_eq(decode_made(c, f, nblocks + 257, ref, &why), REEL_CORRUPT);
    ck_assert_str_eq(why, "block modes do not match the size of the block data");
    /* all blocks skipped: the reference itself, checked by its checksum */
    memset(f, 0, nblocks);
    ck_assert_int_eq(decode_made(c, f, nblocks, ref, &why), REEL_CORRUPT);
    ck_assert_str_eq(why, "checksum mismatch");
    free(f);
    free(blob);
    free(ref);
    free(cur);
    reel__codec_free(c);
}
END_TEST

START_TEST(test_checksum_vectors)
{
    char x100[100];
    memset(x100, 'x', sizeof x100);
    /* XXH64 reference values (xxhsum -H1) */
    ck_assert_uint_eq(reel__checksum("", 0), 0xef46db3751d8e999ULL);
    ck_assert_uint_eq(reel__checksum("abc", 3), 0x44bc2cf5ad770999ULL);
    ck_assert_uint_eq(reel__checksum(x100, 100), 0x92f0de5a88a3c094ULL);
}
END_TEST

START_TEST(test_pix_fmt)
{
    size_t size;
    int fmt, i;
    for (i = 0; i < NFORMATS; i++) {
        ck_assert_ptr_nonnull(reel_pix_fmt_name(formats[i]));
        ck_assert_int_eq(reel_pix_fmt_from_name(reel_pix_fmt_name(formats[i]), &fmt), REEL_OK);
        ck_assert_int_eq(fmt, formats[i]);
    }
    ck_assert_ptr_null(reel_pix_fmt_name(0));
    ck_assert_ptr_null(reel_pix_fmt_name(99));
    ck_assert_ptr_null(reel_pix_fmt_name(-1));
    ck_assert_int_eq(reel_pix_fmt_from_name("nv12", &fmt), REEL_UNSUPPORTED);
    ck_assert_int_eq(reel_pix_fmt_from_name(NULL, &fmt), REEL_MISUSE);
    ck_assert_int_eq(reel_pix_fmt_from_name("rgb24", NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_size(REEL_PIX_YUV420P, 5, 3, &size), REEL_OK);
    ck_assert_uint_eq(size, 15 + 2 * 3 * 2);
    ck_assert_int_eq(reel_frame_size(REEL_PIX_YUV420P10LE, 5, 3, &size), REEL_OK);
    ck_assert_uint_eq(size, 2 * (15 + 2 * 3 * 2));
    ck_assert_int_eq(reel_frame_size(REEL_PIX_RGB24, 7, 3, &size), REEL_OK);
    ck_assert_uint_eq(size, 63);
    ck_assert_int_eq(reel_frame_size(REEL_PIX_GRAY16LE, 7, 3, &size), REEL_OK);
    ck_assert_uint_eq(size, 42);
    ck_assert_int_eq(reel_frame_size(REEL_PIX_RGB24, 0, 3, &size), REEL_INVALID);
    ck_assert_int_eq(reel_frame_size(REEL_PIX_RGB24, 3, 65536, &size), REEL_INVALID);
    ck_assert_int_eq(reel_frame_size(42, 3, 3, &size), REEL_INVALID);
    ck_assert_int_eq(reel_frame_size(REEL_PIX_RGB24, 3, 3, NULL), REEL_MISUSE);
}
END_TEST

START_TEST(test_plane_layout)
{
    reel_plane_layout pl[3];
    size_t size;
    int n, f;
    ck_assert_int_eq(reel_pix_fmt_layout(REEL_PIX_YUV420P, 5, 3, pl, &n), REEL_OK);
    ck_assert_int_eq(n, 3);
    ck_assert_uint_eq(pl[1].offset, 15);
    ck_assert_int_eq(pl[1].width, 3);
    ck_assert_int_eq(pl[1].height, 2);
    ck_assert_uint_eq(pl[2].offset, 21);
    ck_assert_int_eq(reel_pix_fmt_layout(REEL_PIX_RGB24, 7, 3, pl, &n), REEL_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_uint_eq(pl[0].stride, 21);
    ck_assert_int_eq(reel_pix_fmt_layout(REEL_PIX_YUV420P10LE, 5, 3, pl, &n), REEL_OK);
    ck_assert_uint_eq(pl[0].stride, 10);
    ck_assert_uint_eq(pl[2].offset, 30 + 12);
    /* the planes always add up to the frame size */
    for (f = REEL_PIX_GRAY8; f <= REEL_PIX_YUV420P10LE; f++) {
        size_t end;
        ck_assert_int_eq(reel_pix_fmt_layout(f, 33, 17, pl, &n), REEL_OK);
        reel_frame_size(f, 33, 17, &size);
        end = pl[n - 1].offset + pl[n - 1].stride * (size_t)pl[n - 1].height;
        ck_assert_uint_eq(end, size);
    }
    ck_assert_int_eq(reel_pix_fmt_layout(99, 5, 3, pl, &n), REEL_INVALID);
    ck_assert_int_eq(reel_pix_fmt_layout(REEL_PIX_RGB24, 5, 3, NULL, &n), REEL_MISUSE);
}
END_TEST

START_TEST(test_errstr_and_version)
{
    int code;
    for (code = REEL_OK; code <= REEL_DONE; code++)
        ck_assert_str_ne(reel_errstr(code), "unknown error code");
    ck_assert_str_eq(reel_errstr(-5), "unknown error code");
    ck_assert_int_eq(reel_version_number(), REEL_VERSION_NUMBER);
    ck_assert_str_eq(reel_version_string(), REEL_VERSION_STRING);
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("codec", 120);
    tcase_add_test(tc, test_roundtrip_all_formats_and_sizes);
    tcase_add_test(tc, test_roundtrip_extremes);
    tcase_add_test(tc, test_scalar_matches_simd);
    tcase_add_test(tc, test_filter_compresses);
    tcase_add_test(tc, test_predictor_choice);
    tcase_add_test(tc, test_untrusted_blobs);
    tcase_add_test(tc, test_untrusted_rans_blobs);
    tcase_add_test(tc, test_best_chooses_rans);
    tcase_add_test(tc, test_temporal_roundtrip);
    tcase_add_test(tc, test_block_modes);
    tcase_add_test(tc, test_untrusted_block_blobs);
    tcase_add_test(tc, test_checksum_vectors);
    tcase_add_test(tc, test_pix_fmt);
    tcase_add_test(tc, test_plane_layout);
    tcase_add_test(tc, test_errstr_and_version);
    return tu_run("codec", tc);
}
