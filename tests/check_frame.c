/* check_frame.c - appending and reading frames through a store: roundtrips, windows,
 * timestamps, skipped frames, damaged blobs, concurrent readers and a writer. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reel.h"
#include "testutil.h"

static uint8_t *frame_for(int fmt, int w, int h, uint32_t seed, size_t *fs)
{
    uint8_t *b;
    ck_assert_int_eq(reel_frame_size(fmt, w, h, fs), REEL_OK);
    b = malloc(*fs);
    ck_assert_ptr_nonnull(b);
    tu_fill(b, fmt, w, h, seed);
    return b;
}

START_TEST(test_roundtrip_formats_reopen)
{
    static const int fmts[] = {REEL_PIX_GRAY8,   REEL_PIX_RGB24,     REEL_PIX_BGR24,
                               REEL_PIX_YUV420P, REEL_PIX_YUV444P,   REEL_PIX_GRAY16LE,
                               REEL_PIX_YUV420P10LE};
    static const int dims[][2] = {{1, 1}, {31, 17}, {65, 33}};
    reel_store *s;
    reel_seq *q;
    size_t f, d;
    int i;
    ck_assert_int_eq(reel_open(tu_path("rt.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    for (f = 0; f < sizeof fmts / sizeof fmts[0]; f++)
        for (d = 0; d < 3; d++) {
            char name[64];
            reel_seq_params p = {dims[d][0], dims[d][1], fmts[f], {1, 1000}, NULL, 0, 0};
            snprintf(name, sizeof name, "%s-%d", reel_pix_fmt_name(fmts[f]), (int)d);
            ck_assert_int_eq(reel_seq_create(s, name, &p, &q), REEL_OK);
            for (i = 0; i < 3; i++) {
                size_t fs;
                uint8_t *b = frame_for(fmts[f], dims[d][0], dims[d][1], (uint32_t)(i + d), &fs);
                reel_frame_in in = {b, fs, i * 40, 40, 0, REEL_STATUS_OK};
                int64_t idx;
                ck_assert_int_eq(reel_frame_append(q, &in, &idx), REEL_OK);
                ck_assert_int_eq(idx, i);
                free(b);
            }
            reel_seq_close(q);
        }
    ck_assert_int_eq(reel_close(s), REEL_OK);

    ck_assert_int_eq(reel_open(tu_path("rt.reel"), REEL_OPEN_READONLY, NULL, &s), REEL_OK);
    for (f = 0; f < sizeof fmts / sizeof fmts[0]; f++)
        for (d = 0; d < 3; d++) {
            char name[64];
            reel_seq_info info;
            snprintf(name, sizeof name, "%s-%d", reel_pix_fmt_name(fmts[f]), (int)d);
            ck_assert_int_eq(reel_seq_open(s, name, &q), REEL_OK);
            ck_assert_int_eq(reel_seq_get_info(q, &info), REEL_OK);
            ck_assert_int_eq(info.frame_count, 3);
            ck_assert_int_eq(info.duration, 120);
            for (i = 0; i < 3; i++) {
                size_t fs;
                uint8_t *want = frame_for(fmts[f], dims[d][0], dims[d][1], (uint32_t)(i + d), &fs);
                uint8_t *got = malloc(fs);
                reel_frame_info fi;
                ck_assert_int_eq(reel_frame_read(q, i, got, fs, &fi), REEL_OK);
                ck_assert_mem_eq(want, got, fs);
                ck_assert_int_eq(fi.index, i);
                ck_assert_int_eq(fi.pts, i * 40);
                ck_assert_int_eq(fi.duration, 40);
                free(want);
                free(got);
            }
            reel_seq_close(q);
        }
    reel_close(s);
}
END_TEST

START_TEST(test_batch_is_atomic_and_pts_increase)
{
    reel_store *s;
    reel_seq *q;
    size_t fs;
    uint8_t *b = frame_for(REEL_PIX_GRAY8, 20, 10, 1, &fs);
    reel_frame_in in[4];
    int64_t first = -1, n;
    int i;
    ck_assert_int_eq(reel_open(tu_path("b.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    {
        reel_seq_params p = {20, 10, REEL_PIX_GRAY8, {1, 25}, NULL, 0, 0};
        ck_assert_int_eq(reel_seq_create(s, "s", &p, &q), REEL_OK);
    }
    for (i = 0; i < 4; i++)
        in[i] = (reel_frame_in){b, fs, i, 1, 0, REEL_STATUS_OK};
    ck_assert_int_eq(reel_frames_append(q, in, 4, &first), REEL_OK);
    ck_assert_int_eq(first, 0);
    /* a batch whose third frame goes back in time: nothing of it is kept */
    for (i = 0; i < 4; i++)
        in[i].pts = 10 + i;
    in[2].pts = 3;
    ck_assert_int_eq(reel_frames_append(q, in, 4, &first), REEL_INVALID);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "frame 6"));
    ck_assert_int_eq(reel_seq_frame_count(q, &n), REEL_OK);
    ck_assert_int_eq(n, 4);
    /* bad frames are refused before anything is written */
    in[2].pts = 12;
    in[1].size = fs - 1;
    ck_assert_int_eq(reel_frames_append(q, in, 4, NULL), REEL_INVALID);
    in[1].size = fs;
    in[1].status = 9;
    ck_assert_int_eq(reel_frames_append(q, in, 4, NULL), REEL_INVALID);
    in[1].status = REEL_STATUS_OK;
    in[1].flags = 0x80;
    ck_assert_int_eq(reel_frames_append(q, in, 4, NULL), REEL_INVALID);
    in[1].flags = 0;
    in[1].duration = -1;
    ck_assert_int_eq(reel_frames_append(q, in, 4, NULL), REEL_INVALID);
    in[1].duration = 1;
    in[1].pixels = NULL;
    ck_assert_int_eq(reel_frames_append(q, in, 4, NULL), REEL_INVALID);
    in[1].pixels = b;
    ck_assert_int_eq(reel_seq_frame_count(q, &n), REEL_OK);
    ck_assert_int_eq(n, 4);
    ck_assert_int_eq(reel_frames_append(q, in, 4, &first), REEL_OK);
    ck_assert_int_eq(first, 4);
    first = -1;
    ck_assert_int_eq(reel_frames_append(q, in, 0, &first), REEL_OK);
    ck_assert_int_eq(first, -1);
    ck_assert_int_eq(reel_frames_append(q, NULL, 0, NULL), REEL_OK);
    reel_seq_close(q);
    reel_close(s);
    free(b);
}
END_TEST

START_TEST(test_window_reads)
{
    reel_store *s;
    reel_seq *q;
    size_t fs;
    uint8_t *want, *got;
    int i;
    tu_make_store("w.reel", REEL_PIX_RGB24, 33, 21, 10, &s, &q);
    reel_frame_size(REEL_PIX_RGB24, 33, 21, &fs);
    got = malloc(fs * 10);
    ck_assert_int_eq(reel_frame_read_range(q, 3, 5, got, fs * 5), REEL_OK);
    for (i = 0; i < 5; i++) {
        want = frame_for(REEL_PIX_RGB24, 33, 21, (uint32_t)(3 + i), &fs);
        ck_assert_mem_eq(want, got + (size_t)i * fs, fs);
        free(want);
    }
    ck_assert_int_eq(reel_frame_read_range(q, 0, 10, got, fs * 10), REEL_OK);
    ck_assert_int_eq(reel_frame_read_range(q, 8, 3, got, fs * 10), REEL_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "frame 10"));
    ck_assert_int_eq(reel_frame_read_range(q, -1, 2, got, fs * 10), REEL_INVALID);
    ck_assert_int_eq(reel_frame_read_range(q, 0, 3, got, fs * 3 - 1), REEL_FULL);
    ck_assert_int_eq(reel_frame_read_range(q, 0, 0, got, 0), REEL_OK);
    ck_assert_int_eq(reel_frame_read(q, 10, got, fs, NULL), REEL_NOTFOUND);
    ck_assert_int_eq(reel_frame_read(q, -3, got, fs, NULL), REEL_NOTFOUND);
    ck_assert_int_eq(reel_frame_read(q, 0, got, fs - 1, NULL), REEL_FULL);
    reel_seq_close(q);
    reel_close(s);
    free(got);
}
END_TEST

START_TEST(test_timestamps_variable_durations)
{
    /* pts 100 (dur 10), 110 (dur 30), 140 (dur 5), 200 (dur 20): a gap before the last */
    static const int64_t pts[] = {100, 110, 140, 200}, dur[] = {10, 30, 5, 20};
    static const struct {
        int64_t t, idx;
    } cases[] = {{100, 0}, {109, 0}, {110, 1}, {139, 1}, {140, 2}, {150, 2},
                 {199, 2}, {200, 3}, {219, 3}, {220, -1}, {99, -1}, {-5, -1}};
    reel_store *s;
    reel_seq *q;
    reel_seq_info info;
    reel_seq_params p = {8, 8, REEL_PIX_GRAY8, {1, 90000}, NULL, 0, 0};
    uint8_t px[64] = {0};
    size_t i;
    ck_assert_int_eq(reel_open(tu_path("t.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "vfr", &p, &q), REEL_OK);
    for (i = 0; i < 4; i++) {
        reel_frame_in in = {px, sizeof px, pts[i], dur[i], 0, REEL_STATUS_OK};
        ck_assert_int_eq(reel_frame_append(q, &in, NULL), REEL_OK);
    }
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t idx = -7;
        int rc = reel_seq_find_pts(q, cases[i].t, &idx);
        if (cases[i].idx < 0) {
            ck_assert_msg(rc == REEL_NOTFOUND, "pts %lld: rc %d", (long long)cases[i].t, rc);
        } else {
            ck_assert_msg(rc == REEL_OK && idx == cases[i].idx, "pts %lld: rc %d idx %lld",
                          (long long)cases[i].t, rc, (long long)idx);
        }
    }
    ck_assert_int_eq(reel_seq_get_info(q, &info), REEL_OK);
    ck_assert_int_eq(info.duration, 120);
    /* a last frame of duration 0 covers its own pts only */
    {
        reel_frame_in in = {px, sizeof px, 300, 0, 0, REEL_STATUS_OK};
        int64_t idx;
        ck_assert_int_eq(reel_frame_append(q, &in, NULL), REEL_OK);
        ck_assert_int_eq(reel_seq_find_pts(q, 300, &idx), REEL_OK);
        ck_assert_int_eq(idx, 4);
        ck_assert_int_eq(reel_seq_find_pts(q, 301, &idx), REEL_NOTFOUND);
        ck_assert_int_eq(reel_seq_find_pts(q, 299, &idx), REEL_OK);
        ck_assert_int_eq(idx, 3);
    }
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

START_TEST(test_skipped_frames)
{
    reel_store *s;
    reel_seq *q;
    reel_seq_params p = {8, 8, REEL_PIX_GRAY8, {1, 25}, NULL, 0, 0};
    uint8_t px[64];
    reel_frame_in in[3] = {{px, 64, 0, 1, REEL_FRAME_KEY, REEL_STATUS_OK},
                           {NULL, 0, 1, 1, 0, REEL_STATUS_SKIPPED},
                           {px, 64, 2, 1, 0, REEL_STATUS_REPEATED}};
    reel_frame_info fi;
    reel_seq_info info;
    memset(px, 7, sizeof px);
    ck_assert_int_eq(reel_open(tu_path("k.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "s", &p, &q), REEL_OK);
    ck_assert_int_eq(reel_frames_append(q, in, 3, NULL), REEL_OK);
    ck_assert_int_eq(reel_frame_read(q, 1, px, sizeof px, NULL), REEL_NODATA);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "frame 1"));
    ck_assert_int_eq(reel_frame_read_range(q, 0, 3, px, 0), REEL_FULL);
    ck_assert_int_eq(reel_frame_read_range(q, 0, 3, px, 3 * sizeof px), REEL_NODATA);
    ck_assert_int_eq(reel_frame_get_info(q, 1, &fi), REEL_OK);
    ck_assert_int_eq(fi.status, REEL_STATUS_SKIPPED);
    ck_assert_uint_eq(fi.stored_bytes, 0);
    ck_assert_int_eq(reel_frame_get_info(q, 2, &fi), REEL_OK);
    ck_assert_int_eq(fi.status, REEL_STATUS_REPEATED);
    ck_assert_int_eq(reel_frame_get_info(q, 0, &fi), REEL_OK);
    ck_assert_uint_eq(fi.flags, REEL_FRAME_KEY);
    ck_assert_int_eq(reel_frame_get_info(q, 3, &fi), REEL_NOTFOUND);
    ck_assert_int_eq(reel_frame_read(q, 2, px, sizeof px, NULL), REEL_OK);
    ck_assert_int_eq(reel_seq_get_info(q, &info), REEL_OK);
    ck_assert_int_eq(info.raw_bytes, 128);
    reel_seq_close(q);
    reel_close(s);
    ck_assert_int_eq(tu_sql_int(tu_path("k.reel"), "SELECT count(*) FROM reel_frames WHERE "
                                                   "status = 'skipped' AND raw_bytes = 0"),
                     1);
}
END_TEST

/* Damage frame 2's stored data with sql, then expect REEL_CORRUPT naming the frame. */
static void expect_corrupt(const char *file, const char *sql)
{
    reel_store *s;
    reel_seq *q;
    uint8_t *buf;
    size_t fs;
    reel_frame_size(REEL_PIX_YUV420P, 48, 32, &fs);
    buf = malloc(fs * 4);
    tu_sql(file, sql);
    ck_assert_int_eq(reel_open(file, REEL_OPEN_READONLY, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "s", &q), REEL_OK);
    ck_assert_int_eq(reel_frame_read(q, 1, buf, fs, NULL), REEL_OK);
    ck_assert_msg(reel_frame_read(q, 2, buf, fs, NULL) == REEL_CORRUPT, "not corrupt: %s", sql);
    ck_assert_msg(strstr(reel_errmsg(), "sequence 's' frame 2") != NULL, "message: %s",
                  reel_errmsg());
    ck_assert_int_eq(reel_frame_read_range(q, 0, 4, buf, fs * 4), REEL_CORRUPT);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "frame 2"));
    reel_seq_close(q);
    reel_close(s);
    free(buf);
}

START_TEST(test_corrupt_blobs)
{
    static const char *const damage[] = {
        /* truncated blob */
        "UPDATE reel_blob SET data = substr(data, 1, length(data) / 2) WHERE id = 3",
        /* one byte flipped near the end */
        "UPDATE reel_blob SET data = substr(data, 1, length(data) - 2) || "
        "x'ff' || substr(data, length(data)) WHERE id = 3",
        /* blob replaced by junk */
        "UPDATE reel_blob SET data = randomblob(500) WHERE id = 3",
        /* empty blob */
        "UPDATE reel_blob SET data = x'' WHERE id = 3",
        /* another frame's blob under this frame's checksum */
        "UPDATE reel_blob SET data = (SELECT data FROM reel_blob WHERE id = 1) WHERE id = 3",
        /* wrong recorded raw size */
        "UPDATE reel_frame SET raw_bytes = raw_bytes + 1 WHERE idx = 2",
        /* wrong checksum */
        "UPDATE reel_frame SET checksum = checksum + 1 WHERE idx = 2",
        /* the frame row points nowhere */
        "UPDATE reel_frame SET blob_id = 999 WHERE idx = 2",
        /* a filter id from the future */
        "UPDATE reel_frame SET filter = 77 WHERE idx = 2",
    };
    size_t i;
    for (i = 0; i < sizeof damage / sizeof damage[0]; i++) {
        reel_store *s;
        reel_seq *q;
        char name[32];
        snprintf(name, sizeof name, "c%zu.reel", i);
        tu_make_store(name, REEL_PIX_YUV420P, 48, 32, 4, &s, &q);
        reel_seq_close(q);
        reel_close(s);
        if (strstr(damage[i], "filter = 77")) {
            /* an unknown filter is reported as unsupported, still naming the frame */
            reel_store *s2;
            reel_seq *q2;
            uint8_t buf[48 * 32 * 2];
            tu_sql(tu_path(name), damage[i]);
            reel_open(tu_path(name), 0, NULL, &s2);
            reel_seq_open(s2, "s", &q2);
            ck_assert_int_eq(reel_frame_read(q2, 2, buf, sizeof buf, NULL), REEL_UNSUPPORTED);
            ck_assert_ptr_nonnull(strstr(reel_errmsg(), "sequence 's' frame 2"));
            reel_seq_close(q2);
            reel_close(s2);
            continue;
        }
        expect_corrupt(tu_path(name), damage[i]);
    }
}
END_TEST

/* Random bytes of the store file overwritten: every call answers with a code, none crashes. */
START_TEST(test_damaged_file_never_crashes)
{
    reel_store *s;
    reel_seq *q;
    size_t fs;
    uint8_t *buf;
    long size;
    int round, i;
    unsigned seed = 12345;
    FILE *f;
    tu_make_store("orig.reel", REEL_PIX_YUV420P, 48, 32, 6, &s, &q);
    reel_seq_close(q);
    reel_close(s);
    reel_frame_size(REEL_PIX_YUV420P, 48, 32, &fs);
    buf = malloc(fs * 6);
    f = fopen(tu_path("orig.reel"), "rb");
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fclose(f);
    for (round = 0; round < 40; round++) {
        char cmd[600];
        int64_t n;
        snprintf(cmd, sizeof cmd, "cp '%s' '%s/d.reel'", tu_path("orig.reel"), tu_dir());
        ck_assert_int_eq(system(cmd), 0);
        f = fopen(tu_path("d.reel"), "r+b");
        for (i = 0; i < 1 + round; i++) {
            long at = 100 + (long)(rand_r(&seed) % (unsigned)(size - 100));
            fseek(f, at, SEEK_SET);
            fputc(rand_r(&seed) & 0xff, f);
        }
        fclose(f);
        if (reel_open(tu_path("d.reel"), REEL_OPEN_READONLY, NULL, &s) != REEL_OK)
            continue;
        if (reel_seq_open(s, "s", &q) == REEL_OK) {
            if (reel_seq_frame_count(q, &n) == REEL_OK && n >= 0 && n <= 6)
                reel_frame_read_range(q, 0, (size_t)n, buf, fs * 6);
            for (i = 0; i < 8; i++)
                reel_frame_read(q, i, buf, fs, NULL);
            reel_seq_close(q);
        }
        ck_assert_int_eq(reel_close(s), REEL_OK);
    }
    free(buf);
}
END_TEST

/* ---- threads ---- */

enum { TW = 64, TH = 48, NPRE = 20, NAPPEND = 30, NREADERS = 3 };

typedef struct shared {
    reel_store *store;
    atomic_int done;
    int errors;
    pthread_mutex_t lock;
} shared;

static void *reader_main(void *arg)
{
    shared *sh = arg;
    reel_seq *q;
    size_t fs;
    uint8_t *got, *want;
    unsigned seed = (unsigned)(uintptr_t)&q;
    int bad = 0, reads = 0;
    reel_frame_size(REEL_PIX_YUV420P, TW, TH, &fs);
    got = malloc(fs);
    want = malloc(fs);
    if (reel_seq_open(sh->store, "s", &q) != REEL_OK)
        bad++;
    while (!bad && (!atomic_load(&sh->done) || reads < 50)) {
        int64_t n, idx;
        if (reel_seq_frame_count(q, &n) != REEL_OK || n < NPRE) {
            bad++;
            break;
        }
        idx = (int64_t)(rand_r(&seed) % (unsigned)n);
        if (reel_frame_read(q, idx, got, fs, NULL) != REEL_OK) {
            bad++;
            break;
        }
        tu_fill(want, REEL_PIX_YUV420P, TW, TH, (uint32_t)idx);
        if (memcmp(want, got, fs) != 0)
            bad++;
        reads++;
    }
    reel_seq_close(q);
    pthread_mutex_lock(&sh->lock);
    sh->errors += bad;
    pthread_mutex_unlock(&sh->lock);
    free(got);
    free(want);
    return NULL;
}

START_TEST(test_concurrent_readers_and_writer)
{
    shared sh;
    reel_seq *q;
    pthread_t t[NREADERS];
    size_t fs;
    uint8_t *b;
    int i;
    int64_t n;
    memset(&sh, 0, sizeof sh);
    pthread_mutex_init(&sh.lock, NULL);
    tu_make_store("mt.reel", REEL_PIX_YUV420P, TW, TH, NPRE, &sh.store, &q);
    for (i = 0; i < NREADERS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, reader_main, &sh), 0);
    reel_frame_size(REEL_PIX_YUV420P, TW, TH, &fs);
    b = malloc(fs);
    for (i = NPRE; i < NPRE + NAPPEND; i++) {
        reel_frame_in in = {b, fs, i, 1, 0, REEL_STATUS_OK};
        tu_fill(b, REEL_PIX_YUV420P, TW, TH, (uint32_t)i);
        ck_assert_int_eq(reel_frame_append(q, &in, NULL), REEL_OK);
    }
    atomic_store(&sh.done, 1);
    for (i = 0; i < NREADERS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(sh.errors, 0);
    ck_assert_int_eq(reel_seq_frame_count(q, &n), REEL_OK);
    ck_assert_int_eq(n, NPRE + NAPPEND);
    reel_seq_close(q);
    ck_assert_int_eq(reel_close(sh.store), REEL_OK);
    free(b);
}
END_TEST

START_TEST(test_misuse)
{
    reel_store *s;
    reel_seq *q;
    uint8_t buf[8 * 8 * 3];
    reel_frame_info fi;
    int64_t idx;
    uint32_t fake[16] = {0};
    reel_frame_in in = {buf, sizeof buf, 0, 1, 0, REEL_STATUS_OK};
    tu_make_store("mis.reel", REEL_PIX_RGB24, 8, 8, 2, &s, &q);
    ck_assert_int_eq(reel_frame_append(NULL, &in, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_append((reel_seq *)fake, &in, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_append(q, NULL, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_frames_append(q, NULL, 2, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_read(NULL, 0, buf, sizeof buf, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_read(q, 0, NULL, sizeof buf, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_read_range(NULL, 0, 1, buf, sizeof buf), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_read_range(q, 0, 1, NULL, sizeof buf), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_get_info(NULL, 0, &fi), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_get_info(q, 0, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_find_pts(NULL, 0, &idx), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_find_pts(q, 0, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_find_pts((reel_seq *)fake, 0, &idx), REEL_MISUSE);
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

/* reel_frame_convert: the same format is an exact copy; another is swscale's, of the right
 * size; bad sizes and formats are refused. */
START_TEST(test_convert)
{
    enum { CW = 33, CH = 17 };
    uint8_t rgb[CW * CH * 3], gray[CW * CH];
    reel_image im = {REEL_PIX_RGB24, CW, CH, rgb, sizeof rgb};
    void *out = NULL;
    size_t n = 0;
    tu_fill(rgb, REEL_PIX_RGB24, CW, CH, 3);
    ck_assert_int_eq(reel_frame_convert(&im, REEL_PIX_RGB24, &out, &n), REEL_OK);
    ck_assert_uint_eq(n, sizeof rgb);
    ck_assert_mem_eq(out, rgb, n);
    reel_free(out);
    ck_assert_int_eq(reel_frame_convert(&im, REEL_PIX_YUV444P, &out, &n), REEL_OK);
    ck_assert_uint_eq(n, (size_t)CW * CH * 3);
    reel_free(out);
    ck_assert_int_eq(reel_frame_convert(&im, REEL_PIX_GRAY8, &out, &n), REEL_OK);
    ck_assert_uint_eq(n, (size_t)CW * CH);
    reel_free(out);
    /* a grey frame to RGB: every channel equals the grey value */
    memset(gray, 77, sizeof gray);
    im = (reel_image){REEL_PIX_GRAY8, CW, CH, gray, sizeof gray};
    ck_assert_int_eq(reel_frame_convert(&im, REEL_PIX_RGB24, &out, &n), REEL_OK);
    ck_assert_uint_eq(n, sizeof rgb);
    ck_assert_int_eq(((uint8_t *)out)[0], 77);
    ck_assert_int_eq(((uint8_t *)out)[n - 1], 77);
    reel_free(out);
    im.size = sizeof gray - 1;
    ck_assert_int_eq(reel_frame_convert(&im, REEL_PIX_RGB24, &out, &n), REEL_INVALID);
    im.size = sizeof gray;
    ck_assert_int_ne(reel_frame_convert(&im, 99, &out, &n), REEL_OK);
    ck_assert_int_eq(reel_frame_convert(NULL, REEL_PIX_RGB24, &out, &n), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_convert(&im, REEL_PIX_RGB24, NULL, &n), REEL_MISUSE);
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("frame", 120);
    tcase_add_test(tc, test_roundtrip_formats_reopen);
    tcase_add_test(tc, test_batch_is_atomic_and_pts_increase);
    tcase_add_test(tc, test_window_reads);
    tcase_add_test(tc, test_timestamps_variable_durations);
    tcase_add_test(tc, test_skipped_frames);
    tcase_add_test(tc, test_corrupt_blobs);
    tcase_add_test(tc, test_damaged_file_never_crashes);
    tcase_add_test(tc, test_concurrent_readers_and_writer);
    tcase_add_test(tc, test_misuse);
    tcase_add_test(tc, test_convert);
    return tu_run("frame", tc);
}
