/*
 * check_temporal.c - the temporal codec mode: bit-exact round trips in every stored format with
 * still stretches, motion and scene cuts (frames appended one by one, in batches, across a
 * reopened handle, and put through the RAM tier), reads in every order through every path,
 * the bound on chains of references, a damaged reference and every frame it reaches, chains a
 * hostile store claims, and a store of the codec's previous version (whole-frame deltas).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reel.h"
#include "testutil.h"

#define KEYINT 5
#define N 23

/* Frame i of a clip: a still stretch (0..7), motion (8..15: the pattern moves by a pixel per
 * frame with a small changing patch), a scene cut at 16 and a still stretch after it. */
static uint8_t *clip_frame(int fmt, int w, int h, int i, size_t *fs)
{
    uint8_t *b, *base;
    size_t k, bpp;
    ck_assert_int_eq(reel_frame_size(fmt, w, h, fs), REEL_OK);
    b = malloc(*fs);
    base = malloc(*fs);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(base);
    tu_fill(base, fmt, w, h, i < 16 ? 7u : 99u);
    bpp = fmt == REEL_PIX_GRAY16LE || fmt == REEL_PIX_YUV420P10LE ? 2 : 1;
    if (i >= 8 && i < 16) { /* motion: shift by (i - 7) samples, keep 16-bit samples whole */
        size_t shift = (size_t)(i - 7) * bpp;
        for (k = 0; k < *fs; k++)
            b[k] = base[(k + shift) % *fs];
        for (k = 0; k < *fs / 16; k++) /* a patch that changes */
            b[(k * 7) % *fs] ^= (uint8_t)(i * 3);
        if (bpp == 2) /* keep 10-bit samples below 1024 */
            for (k = 1; k < *fs; k += 2)
                b[k] &= 3;
    } else {
        memcpy(b, base, *fs);
    }
    free(base);
    return b;
}

static void check_frame_is(const void *px, int fmt, int w, int h, int i)
{
    size_t fs;
    uint8_t *want = clip_frame(fmt, w, h, i, &fs);
    ck_assert_msg(memcmp(px, want, fs) == 0, "%s %dx%d frame %d differs", reel_pix_fmt_name(fmt),
                  w, h, i);
    free(want);
}

static void append_clip(reel_store *s, const char *name, int fmt, int w, int h, reel_seq **out)
{
    reel_seq_params p = {w, h, fmt, {1, 25}, NULL, REEL_CODEC_TEMPORAL, KEYINT};
    reel_seq *q;
    reel_frame_in in[4];
    uint8_t *px[4];
    size_t fs;
    int i, k;
    ck_assert_int_eq(reel_seq_create(s, name, &p, &q), REEL_OK);
    for (i = 0; i < 9; i++) { /* one by one */
        px[0] = clip_frame(fmt, w, h, i, &fs);
        in[0] = (reel_frame_in){px[0], fs, i, 1, 0, REEL_STATUS_OK};
        ck_assert_int_eq(reel_frame_append(q, &in[0], NULL), REEL_OK);
        free(px[0]);
    }
    /* a new handle: the reference of its first append is read back from the file */
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, name, &q), REEL_OK);
    for (; i < N; i += k) { /* batches of up to 4 */
        for (k = 0; k < 4 && i + k < N; k++) {
            px[k] = clip_frame(fmt, w, h, i + k, &fs);
            in[k] = (reel_frame_in){px[k], fs, i + k, 1, 0, REEL_STATUS_OK};
        }
        ck_assert_int_eq(reel_frames_append(q, in, (size_t)k, NULL), REEL_OK);
        while (k-- > 0)
            free(px[k]);
        k = 4;
    }
    *out = q;
}

/* Every read path, every frame, in an order that jumps around chains. */
static void read_all_ways(reel_seq *q, int fmt, int w, int h)
{
    static const int order[] = {22, 3, 17, 9, 0, 14, 21, 6, 1, 13, 19, 4, 11, 2, 16, 8,
                                20, 5, 10, 18, 7, 15, 12};
    reel_seq_info info;
    uint8_t *buf, *all;
    size_t k;
    int i;
    ck_assert_int_eq(reel_seq_get_info(q, &info), REEL_OK);
    ck_assert_int_eq(info.frame_count, N);
    ck_assert_int_eq(info.codec, REEL_CODEC_TEMPORAL);
    ck_assert_int_eq(info.keyint, KEYINT);
    buf = malloc(info.frame_size);
    all = malloc(info.frame_size * N);
    for (k = 0; k < N; k++) { /* straight from the file: chains decoded from their start */
        ck_assert_int_eq(reel_frame_read(q, order[k], buf, info.frame_size, NULL), REEL_OK);
        check_frame_is(buf, fmt, w, h, order[k]);
    }
    for (k = 0; k < N; k++) { /* through the RAM tier: references lent by resident frames */
        reel_frame *f;
        const void *px;
        size_t n;
        ck_assert_int_eq(reel_frame_get(q, order[k], 0, &f), REEL_OK);
        ck_assert_int_eq(reel_frame_pixels(f, &px, &n), REEL_OK);
        check_frame_is(px, fmt, w, h, order[k]);
        ck_assert_int_eq(reel_frame_release(f), REEL_OK);
    }
    ck_assert_int_eq(reel_frame_read_range(q, 0, N, all, info.frame_size * N), REEL_OK);
    for (i = 0; i < N; i++)
        check_frame_is(all + (size_t)i * info.frame_size, fmt, w, h, i);
    ck_assert_int_eq(reel_frame_read_range(q, 12, 7, all, info.frame_size * N), REEL_OK);
    for (i = 0; i < 7; i++)
        check_frame_is(all + (size_t)i * info.frame_size, fmt, w, h, 12 + i);
    free(buf);
    free(all);
}

START_TEST(test_exact_every_format)
{
    static const int fmts[] = {REEL_PIX_GRAY8,   REEL_PIX_RGB24,   REEL_PIX_BGR24,
                               REEL_PIX_YUV420P, REEL_PIX_YUV444P, REEL_PIX_GRAY16LE,
                               REEL_PIX_YUV420P10LE};
    static const int dims[][2] = {{1, 1}, {31, 17}, {64, 48}};
    reel_store *s;
    size_t f, d;
    const char *p = tu_path("t.reel");
    ck_assert_int_eq(reel_open(p, REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    for (f = 0; f < sizeof fmts / sizeof fmts[0]; f++)
        for (d = 0; d < 3; d++) {
            char name[64];
            reel_seq *q;
            snprintf(name, sizeof name, "%s-%d", reel_pix_fmt_name(fmts[f]), (int)d);
            append_clip(s, name, fmts[f], dims[d][0], dims[d][1], &q);
            read_all_ways(q, fmts[f], dims[d][0], dims[d][1]);
            ck_assert_int_eq(reel_seq_close(q), REEL_OK);
        }
    ck_assert_int_eq(reel_close(s), REEL_OK);
    /* the still stretches were coded against the frame before, never across a multiple of
     * keyint; the views say which frame each one needs */
    ck_assert_int_gt(tu_sql_int(p, "SELECT count(*) FROM reel_frame WHERE filter IN (2, 3)"),
                     7 * 3 * 8);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_frame WHERE filter IN (2, 3) AND "
                                   "idx % 5 = 0"),
                     0);
    /* block-wise (filter 3) is what the encoder picks for still and partly moving frames */
    ck_assert_int_gt(tu_sql_int(p, "SELECT count(*) FROM reel_frame WHERE filter = 3"), 7 * 3 * 6);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_frames WHERE ref IS NOT NULL"),
                     tu_sql_int(p, "SELECT count(*) FROM reel_frame WHERE filter IN (2, 3)"));
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_frames WHERE ref IS NOT NULL AND "
                                   "ref != idx - 1"),
                     0);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_sequences WHERE codec = 'temporal' "
                                   "AND keyint = 5"),
                     21);
    /* read-only, in a new process's view: every frame again */
    ck_assert_int_eq(reel_open(p, REEL_OPEN_READONLY, NULL, &s), REEL_OK);
    {
        reel_seq *q;
        ck_assert_int_eq(reel_seq_open(s, "yuv420p-2", &q), REEL_OK);
        read_all_ways(q, REEL_PIX_YUV420P, 64, 48);
        reel_seq_close(q);
    }
    ck_assert_int_eq(reel_close(s), REEL_OK);
}
END_TEST

START_TEST(test_put_through_the_tier)
{
    reel_seq_params p = {64, 48, REEL_PIX_RGB24, {1, 25}, NULL, REEL_CODEC_TEMPORAL, KEYINT};
    reel_store *s;
    reel_seq *q;
    size_t fs;
    int i;
    ck_assert_int_eq(reel_open(tu_path("w.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_store_set_writeback(s, 3), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "w", &p, &q), REEL_OK);
    for (i = 0; i < N; i++) {
        uint8_t *px = clip_frame(REEL_PIX_RGB24, 64, 48, i, &fs);
        reel_frame_in in = {px, fs, i, 1, 0, REEL_STATUS_OK};
        ck_assert_int_eq(reel_frame_put(q, &in, NULL), REEL_OK);
        free(px);
    }
    ck_assert_int_eq(reel_flush(s), REEL_OK);
    ck_assert_int_eq(reel_seq_trim(q, NULL), REEL_OK); /* nothing resident: read the file */
    read_all_ways(q, REEL_PIX_RGB24, 64, 48);
    ck_assert_int_gt(tu_sql_int(tu_path("w.reel"),
                                "SELECT count(*) FROM reel_frame WHERE filter IN (2, 3)"),
                     8);
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
}
END_TEST

/* A still clip of n frames in sequence "c" (all but every KEYINT-th coded as deltas). */
static void still_store(const char *file, int n, int keyint)
{
    reel_seq_params p = {16, 8, REEL_PIX_GRAY8, {1, 25}, NULL, REEL_CODEC_TEMPORAL, keyint};
    reel_store *s;
    reel_seq *q;
    uint8_t px[16 * 8];
    int i;
    tu_fill(px, REEL_PIX_GRAY8, 16, 8, 3);
    ck_assert_int_eq(reel_open(tu_path(file), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "c", &p, &q), REEL_OK);
    for (i = 0; i < n; i++) {
        reel_frame_in in = {px, sizeof px, i, 1, 0, REEL_STATUS_OK};
        ck_assert_int_eq(reel_frame_append(q, &in, NULL), REEL_OK);
    }
    reel_seq_close(q);
    reel_close(s);
}

static int read_frame(const char *file, int64_t idx)
{
    reel_store *s;
    reel_seq *q;
    uint8_t px[16 * 8];
    int rc;
    ck_assert_int_eq(reel_open(tu_path(file), REEL_OPEN_READONLY, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "c", &q), REEL_OK);
    rc = reel_frame_read(q, idx, px, sizeof px, NULL);
    reel_seq_close(q);
    reel_close(s);
    return rc;
}

/* Frame bad of file is damaged: it fails, so does every frame after it in its chain (up to
 * the next multiple of KEYINT), each naming it; every other frame reads. */
static void damage_reaches(const char *file, int n, int bad, const char *why)
{
    int i;
    for (i = 0; i < n; i++) {
        char msg[64];
        int rc = read_frame(file, i);
        if (i < bad || i >= bad - bad % KEYINT + KEYINT) {
            ck_assert_msg(rc == REEL_OK, "frame %d: %s", i, reel_errmsg());
            continue;
        }
        ck_assert_int_eq(rc, REEL_CORRUPT);
        if (i == bad)
            snprintf(msg, sizeof msg, "frame %d: %s", bad, why);
        else
            snprintf(msg, sizeof msg, "frame %d: its reference frame %d", i, bad);
        ck_assert_msg(strstr(reel_errmsg(), msg), "'%s' not in '%s'", msg, reel_errmsg());
        if (i > bad)
            ck_assert_ptr_nonnull(strstr(reel_errmsg(), why));
    }
}

START_TEST(test_damaged_reference)
{
    char p[4096], e[4096]; /* tu_path's buffer is reused */
    snprintf(p, sizeof p, "%s", tu_path("d.reel"));
    snprintf(e, sizeof e, "%s", tu_path("e.reel"));
    still_store("d.reel", 12, KEYINT);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_frame WHERE filter = 3"), 9);
    tu_sql(p, "UPDATE reel_blob SET data = zeroblob(length(data)) WHERE id = "
              "(SELECT blob_id FROM reel_frame WHERE idx = 2)");
    damage_reaches("d.reel", 12, 2, "blob is not a zstd frame");
    /* a block-wise frame (frame 7: one skipped 16x8 block) holding another frame's blob, the
     * raw pixels of frame 0 (no prediction): its mode map is nonsense, and the frame and every
     * frame that needs it are named */
    still_store("e.reel", 12, KEYINT);
    ck_assert_int_eq(tu_sql_int(e, "SELECT filter FROM reel_frame WHERE idx = 7"), 3);
    tu_sql(e, "UPDATE reel_blob SET data = (SELECT data FROM reel_blob WHERE id = "
              "(SELECT blob_id FROM reel_frame WHERE idx = 0)) WHERE id = "
              "(SELECT blob_id FROM reel_frame WHERE idx = 7)");
    tu_sql(e, "UPDATE reel_frame SET stored_bytes = (SELECT stored_bytes FROM reel_frame WHERE "
              "idx = 0) WHERE idx = 7");
    ck_assert_int_eq(tu_sql_int(e, "SELECT filter FROM reel_frame WHERE idx = 0"), 0);
    damage_reaches("e.reel", 12, 7, "unknown block mode");
}
END_TEST

/* Stores of the codec's earlier versions read unchanged: tests/fixtures/v2-delta.reel was
 * written by d2ec63c (schema 7), whose temporal frames are whole-frame differences (filter 2),
 * in chains of 4 over 6 frames of 40x24 in five formats. */
static int delta_seq(void *ctx, const char *name)
{
    tu_read_fixture_seq(ctx, name, 6, REEL_CODEC_TEMPORAL, 4);
    return 0;
}

START_TEST(test_delta_store_of_codec_v2)
{
    const char *src = getenv("srcdir");
    reel_store *s;
    char fixture[4096];
    const char *p = tu_path("v2.reel");
    snprintf(fixture, sizeof fixture, "%s/tests/fixtures/v2-delta.reel", src ? src : ".");
    ck_assert_int_eq(tu_sh("cp '%s' '%s'", fixture, p), 0);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_frame WHERE filter = 2"), 5 * 4);
    ck_assert_int_eq(reel_open(p, REEL_OPEN_READONLY, NULL, &s), REEL_UNSUPPORTED); /* older */
    ck_assert_int_eq(reel_open(p, 0, NULL, &s), REEL_OK);                           /* migrates */
    ck_assert_int_eq(reel_seq_list(s, delta_seq, s), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_frames WHERE ref = idx - 1"), 5 * 4);
}
END_TEST

/* tests/fixtures/v3-blocks.reel was written by 7e38d7c (schema 9): block-wise temporal frames
 * (filter 3) and spatial ones (filter 1 with each predictor mask), chains of 4 over 10 frames
 * of 41x35 in all seven formats, 8 and 16 bits; every frame reads back bit-exact (its XXH64
 * is checked on decode). */
static int blocks_seq(void *ctx, const char *name)
{
    tu_read_fixture_seq(ctx, name, 10, REEL_CODEC_TEMPORAL, 4);
    return 0;
}

START_TEST(test_blocks_store_of_codec_v3)
{
    const char *src = getenv("srcdir");
    reel_store *s;
    char fixture[4096];
    const char *p = tu_path("v3.reel");
    snprintf(fixture, sizeof fixture, "%s/tests/fixtures/v3-blocks.reel", src ? src : ".");
    ck_assert_int_eq(tu_sh("cp '%s' '%s'", fixture, p), 0);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_frame WHERE filter = 3"), 7 * 7);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(DISTINCT seq_id) FROM reel_frame"), 7);
    ck_assert_int_eq(reel_open(p, REEL_OPEN_READONLY, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_list(s, blocks_seq, s), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
}
END_TEST

/* Clean frames store their residuals with rANS (filter 4): keyframes of chains whose
 * block-wise frames reference them, read back bit-exact through the store, in any order. */
START_TEST(test_rans_keyframes_in_chains)
{
    reel_seq_params p = {320, 240, REEL_PIX_GRAY8, {1, 25}, NULL, REEL_CODEC_TEMPORAL, 4};
    const char *path = tu_path("r.reel");
    static uint8_t px[6][320 * 240], out[320 * 240];
    reel_store *s;
    reel_seq *q;
    uint32_t rng = 5;
    int i, x, y;
    ck_assert_int_eq(reel_open(path, REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "c", &p, &q), REEL_OK);
    for (i = 0; i < 6; i++) {
        for (y = 0; y < 240; y++) /* a smooth ramp with 1-bit noise, a box moving across */
            for (x = 0; x < 320; x++) {
                rng = rng * 1664525u + 1013904223u;
                px[i][y * 320 + x] = (uint8_t)((x * 3 + y * 2) / 4 + (rng >> 31));
            }
        for (y = 100; y < 140; y++)
            for (x = 40 * i; x < 40 * i + 40; x++)
                px[i][y * 320 + x] = 250;
        if (i % 4) /* the background of a frame in a chain: as the frame before's */
            for (y = 0; y < 240; y++)
                if (y < 100 || y >= 140)
                    memcpy(px[i] + y * 320, px[i - 1] + y * 320, 320);
        {
            reel_frame_in in = {px[i], sizeof px[i], i, 1, 0, REEL_STATUS_OK};
            ck_assert_int_eq(reel_frame_append(q, &in, NULL), REEL_OK);
        }
    }
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(tu_sql_int(path, "SELECT count(*) FROM reel_frame WHERE filter & 15 = 4 "
                                      "AND idx IN (0, 4)"),
                     2);
    ck_assert_int_eq(tu_sql_int(path, "SELECT count(*) FROM reel_frame WHERE filter = 3"), 4);
    ck_assert_int_eq(reel_open(path, REEL_OPEN_READONLY, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "c", &q), REEL_OK);
    for (i = 5; i >= 0; i--) {
        ck_assert_int_eq(reel_frame_read(q, i, out, sizeof out, NULL), REEL_OK);
        ck_assert_mem_eq(out, px[i], sizeof out);
    }
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

START_TEST(test_hostile_chains)
{
    const char *p = tu_path("h.reel");
    still_store("h.reel", 300, 64);
    /* the first frame claims a reference */
    tu_sql(p, "UPDATE reel_frame SET filter = 2 WHERE idx = 0");
    ck_assert_int_eq(read_frame("h.reel", 0), REEL_CORRUPT);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "no frame before it"));
    ck_assert_int_eq(read_frame("h.reel", 3), REEL_CORRUPT);
    /* every frame claims one: a chain longer than any encoder makes is damage, not work */
    tu_sql(p, "UPDATE reel_frame SET filter = 2");
    ck_assert_int_eq(read_frame("h.reel", 299), REEL_CORRUPT);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "longer than 256"));
    tu_sql(p, "UPDATE reel_frame SET filter = 3");
    ck_assert_int_eq(read_frame("h.reel", 299), REEL_CORRUPT);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "longer than 256"));
    tu_sql(p, "UPDATE reel_frame SET filter = 2 WHERE idx % 2 = 0");
    ck_assert_int_eq(read_frame("h.reel", 298), REEL_CORRUPT);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "longer than 256"));
    /* a keyint out of range in the sequence's row */
    tu_sql(p, "UPDATE reel_sequence SET keyint = 1000");
    {
        reel_store *s;
        reel_seq *q;
        ck_assert_int_eq(reel_open(p, REEL_OPEN_READONLY, NULL, &s), REEL_OK);
        ck_assert_int_eq(reel_seq_open(s, "c", &q), REEL_CORRUPT);
        ck_assert_ptr_nonnull(strstr(reel_errmsg(), "keyint"));
        reel_close(s);
    }
}
END_TEST

START_TEST(test_bad_parameters)
{
    reel_seq_params p = {8, 8, REEL_PIX_GRAY8, {1, 25}, NULL, REEL_CODEC_AUTO, 0};
    reel_store *s;
    reel_seq *q;
    ck_assert_int_eq(reel_open(tu_path("b.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "a", &p, &q), REEL_INVALID);
    p.codec = 9;
    ck_assert_int_eq(reel_seq_create(s, "a", &p, &q), REEL_INVALID);
    p.codec = REEL_CODEC_TEMPORAL;
    p.keyint = REEL_MAX_KEYINT + 1;
    ck_assert_int_eq(reel_seq_create(s, "a", &p, &q), REEL_INVALID);
    p.keyint = 0; /* the default */
    ck_assert_int_eq(reel_seq_create(s, "a", &p, &q), REEL_OK);
    {
        reel_seq_info info;
        ck_assert_int_eq(reel_seq_get_info(q, &info), REEL_OK);
        ck_assert_int_eq(info.keyint, REEL_DEFAULT_KEYINT);
    }
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("temporal", 120);
    tcase_add_test(tc, test_exact_every_format);
    tcase_add_test(tc, test_put_through_the_tier);
    tcase_add_test(tc, test_damaged_reference);
    tcase_add_test(tc, test_delta_store_of_codec_v2);
    tcase_add_test(tc, test_blocks_store_of_codec_v3);
    tcase_add_test(tc, test_rans_keyframes_in_chains);
    tcase_add_test(tc, test_hostile_chains);
    tcase_add_test(tc, test_bad_parameters);
    return tu_run("temporal", tc);
}
