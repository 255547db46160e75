/* check_writeback.c - frames put through the RAM tier and written back (before eviction, on
 * flush, trim, pressure and close, and after a kill -9), per-sequence statistics, access
 * counts of a handle, warm start, and a threaded stress test with a writer (TSan in CI).
 * The pressure monitor is tested in check_pressure.c. */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reel.h"
#include "testutil.h"

enum { W = 40, H = 30, N = 64 };
#define FS ((size_t)W * H)  /* gray8 */
#define COST (FS + 256)     /* an upper bound of a frame's cost in the budget */
#define SEED(i) ((uint32_t)(i) + 5000u) /* pixels of put frame i */

/* A store with sequence "s" of N appended frames and an empty sequence "p" to put into, with
 * read-ahead off and a private cache of the given budget. */
static reel_cache *setup(const char *name, size_t budget, reel_store **s, reel_seq **q,
                         reel_seq **p)
{
    reel_seq_params params = {W, H, REEL_PIX_GRAY8, {1, 25}, NULL, 0, 0};
    reel_cache *c;
    tu_make_store(name, REEL_PIX_GRAY8, W, H, N, s, q);
    ck_assert_int_eq(reel_store_set_readahead(*s, 0, 1), REEL_OK);
    ck_assert_int_eq(reel_store_set_flush_interval(*s, 0), REEL_OK);
    ck_assert_int_eq(reel_cache_new(budget, &c), REEL_OK);
    ck_assert_int_eq(reel_store_set_cache(*s, c), REEL_OK);
    ck_assert_int_eq(reel_seq_create(*s, "p", &params, p), REEL_OK);
    return c;
}

/* Close p, q, the store and the cache, each checked. */
static void teardown(reel_store *s, reel_cache *c, reel_seq *q, reel_seq *p)
{
    ck_assert_int_eq(reel_seq_close(p), REEL_OK);
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}

static int put(reel_seq *p, int64_t i, int64_t *index)
{
    uint8_t px[FS];
    reel_frame_in in = {px, FS, i * 2, 2, 0, REEL_STATUS_OK};
    tu_fill(px, REEL_PIX_GRAY8, W, H, SEED(i));
    return reel_frame_put(p, &in, index);
}

static int same(const void *px, uint32_t seed)
{
    uint8_t want[FS];
    tu_fill(want, REEL_PIX_GRAY8, W, H, seed);
    return memcmp(px, want, FS) == 0;
}

/* Frame i of sequence "p", read from the file through a connection of its own. */
static int stored_ok(const char *file, int64_t i)
{
    reel_store *s;
    reel_seq *q;
    uint8_t px[FS];
    int ok;
    ck_assert_int_eq(reel_open(file, REEL_OPEN_READONLY, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "p", &q), REEL_OK);
    ok = reel_frame_read(q, i, px, sizeof px, NULL) == REEL_OK && same(px, SEED(i));
    reel_seq_close(q);
    reel_close(s);
    return ok;
}

static long long stored_frames(const char *file)
{
    return tu_sql_int(file, "SELECT frames FROM reel_sequences WHERE name = 'p'");
}

/* Puts are readable at once through the cache, invisible to the file until flushed. */
START_TEST(test_put_get_flush)
{
    reel_store *s;
    reel_seq *q, *p;
    reel_cache *c = setup("a.reel", 100 * COST, &s, &q, &p);
    reel_frame *f;
    reel_frame_info info;
    reel_cache_stats st;
    const void *px;
    int64_t i, idx, count;
    for (i = 0; i < 10; i++) {
        ck_assert_int_eq(put(p, i, &idx), REEL_OK);
        ck_assert_int_eq(idx, i);
    }
    ck_assert_int_eq(reel_seq_frame_count(p, &count), REEL_OK);
    ck_assert_int_eq(count, 0); /* committed frames only */
    ck_assert_int_eq(stored_frames(tu_path("a.reel")), 0);
    ck_assert_int_eq(reel_frame_get(p, 7, REEL_GET_LAZY, &f), REEL_OK); /* served from RAM */
    ck_assert_int_eq(reel_frame_pixels(f, &px, NULL), REEL_OK);
    ck_assert(same(px, SEED(7)));
    ck_assert_int_eq(reel_frame_meta(f, &info), REEL_OK);
    ck_assert_int_eq(info.pts, 14);
    ck_assert_int_eq(reel_seq_get_cache_stats(p, &st), REEL_OK);
    ck_assert_uint_eq(st.dirty_bytes, st.resident_bytes);
    ck_assert_uint_eq(st.hits, 1);
    ck_assert_uint_eq(st.loads, 0);
    ck_assert_int_eq(reel_flush(s), REEL_OK);
    ck_assert_int_eq(stored_frames(tu_path("a.reel")), 10);
    ck_assert(stored_ok(tu_path("a.reel"), 9));
    ck_assert(same(px, SEED(7))); /* the pinned pointer stayed valid through the write */
    ck_assert_int_eq(reel_frame_release(f), REEL_OK);
    ck_assert_int_eq(reel_seq_get_cache_stats(p, &st), REEL_OK);
    ck_assert_uint_eq(st.dirty_bytes, 0);
    ck_assert_uint_eq(st.written_back, 10);
    ck_assert_int_eq(reel_frame_get(p, 3, 0, &f), REEL_OK);
    ck_assert_int_eq(reel_frame_meta(f, &info), REEL_OK);
    ck_assert_uint_gt(info.stored_bytes, 0); /* known once written */
    reel_frame_release(f);
    /* puts go on after a write-back, numbered after what is stored */
    ck_assert_int_eq(put(p, 10, &idx), REEL_OK);
    ck_assert_int_eq(idx, 10);
    /* an append through the API writes queued frames first, keeping the order */
    {
        uint8_t px2[FS];
        reel_frame_in in = {px2, FS, 100, 1, 0, REEL_STATUS_OK};
        tu_fill(px2, REEL_PIX_GRAY8, W, H, 77);
        ck_assert_int_eq(reel_frame_append(p, &in, &idx), REEL_OK);
        ck_assert_int_eq(idx, 11);
    }
    ck_assert_int_eq(reel_seq_close(p), REEL_OK);
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(stored_frames(tu_path("a.reel")), 12);
    ck_assert(stored_ok(tu_path("a.reel"), 10));
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}
END_TEST

/* Bad puts are refused at once and leave nothing queued. */
START_TEST(test_put_errors)
{
    reel_store *s, *ro;
    reel_seq *q, *p, *rp;
    reel_cache *c = setup("e.reel", 100 * COST, &s, &q, &p);
    uint8_t px[FS] = {0};
    reel_frame_in in = {px, FS, 10, 1, 0, REEL_STATUS_OK};
    int64_t idx;
    ck_assert_int_eq(reel_frame_put(NULL, &in, &idx), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_put(p, NULL, &idx), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_put(p, &in, &idx), REEL_OK);
    ck_assert_int_eq(reel_frame_put(p, &in, &idx), REEL_INVALID); /* pts not increasing */
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "not after"));
    in.pts = 11;
    in.size = FS - 1;
    ck_assert_int_eq(reel_frame_put(p, &in, &idx), REEL_INVALID);
    in.pixels = NULL, in.size = 0, in.status = REEL_STATUS_SKIPPED;
    ck_assert_int_eq(reel_frame_put(p, &in, &idx), REEL_INVALID);
    ck_assert_int_eq(reel_store_set_writeback(s, 0), REEL_INVALID);
    ck_assert_int_eq(reel_store_set_writeback(s, 5000), REEL_INVALID);
    ck_assert_int_eq(reel_flush(s), REEL_OK);
    ck_assert_int_eq(stored_frames(tu_path("e.reel")), 1);
    ck_assert_int_eq(reel_open(tu_path("e.reel"), REEL_OPEN_READONLY, NULL, &ro), REEL_OK);
    ck_assert_int_eq(reel_seq_open(ro, "p", &rp), REEL_OK);
    in.pixels = px, in.size = FS, in.status = REEL_STATUS_OK;
    ck_assert_int_eq(reel_frame_put(rp, &in, &idx), REEL_READONLY);
    ck_assert_int_eq(reel_store_set_writeback(ro, 8), REEL_READONLY);
    reel_seq_close(rp);
    reel_close(ro);
    /* a sequence removed with frames queued: they go with it, nothing is written later */
    in.pts = 20;
    ck_assert_int_eq(reel_frame_put(p, &in, &idx), REEL_OK);
    ck_assert_int_eq(reel_seq_remove(s, "p"), REEL_OK);
    ck_assert_int_eq(reel_seq_close(p), REEL_OK);
    ck_assert_int_eq(reel_flush(s), REEL_OK);
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}
END_TEST

/* Frames queued on one handle while another handle appends to the same sequence cannot go to
 * their indexes: the write-back refuses them (and keeps them), and other sequences are still
 * written. */
START_TEST(test_writeback_conflict)
{
    reel_store *s;
    reel_seq *q, *p, *p_other, *p2;
    reel_seq_params params = {W, H, REEL_PIX_GRAY8, {1, 25}, NULL, 0, 0};
    reel_cache *c = setup("c.reel", 100 * COST, &s, &q, &p);
    uint8_t px[FS] = {0};
    reel_frame_in in = {px, FS, 1000, 1, 0, REEL_STATUS_OK};
    reel_frame *f;
    ck_assert_int_eq(reel_store_set_writeback(s, 1000), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "p2", &params, &p2), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "p", &p_other), REEL_OK);
    ck_assert_int_eq(put(p, 0, NULL), REEL_OK);
    ck_assert_int_eq(put(p_other, 5, NULL), REEL_MISUSE); /* index 0 is queued on p */
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "another handle"));
    ck_assert_int_eq(reel_frame_append(p_other, &in, NULL), REEL_OK); /* takes index 0 */
    ck_assert_int_eq(put(p2, 0, NULL), REEL_OK);
    ck_assert_int_eq(reel_flush(s), REEL_MISUSE);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "another handle"));
    ck_assert_int_eq(tu_sql_int(tu_path("c.reel"),
                                "SELECT frames FROM reel_sequences WHERE name = 'p2'"),
                     1); /* not held back */
    ck_assert_int_eq(reel_seq_close(p), REEL_MISUSE); /* would lose its frame: stays open */
    ck_assert_int_eq(reel_frame_get(p, 0, 0, &f), REEL_OK); /* still in RAM, intact */
    {
        const void *got;
        ck_assert_int_eq(reel_frame_pixels(f, &got, NULL), REEL_OK);
        ck_assert(same(got, SEED(0)));
    }
    reel_frame_release(f);
    ck_assert_int_eq(reel_seq_remove(s, "p"), REEL_OK); /* the way out: its frames go with it */
    ck_assert_int_eq(reel_seq_close(p), REEL_OK);
    ck_assert_int_eq(reel_seq_close(p_other), REEL_OK);
    ck_assert_int_eq(reel_seq_close(p2), REEL_OK);
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}
END_TEST

/* A budget of 4 frames and a batch of 1000: the cache writes frames back to make room, never
 * drops one unstored, and stays within the budget after every put. */
START_TEST(test_writeback_before_eviction)
{
    reel_store *s;
    reel_seq *q, *p;
    reel_cache *c = setup("w.reel", 4 * COST, &s, &q, &p);
    reel_cache_stats st;
    reel_frame *f;
    const void *px;
    int64_t i, idx;
    ck_assert_int_eq(reel_store_set_writeback(s, 1000), REEL_OK);
    for (i = 0; i < 20; i++) {
        ck_assert_int_eq(put(p, i, &idx), REEL_OK);
        ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
        ck_assert_uint_le(st.resident_bytes, st.budget);
        /* every frame not in RAM any more is in the file */
        ck_assert_int_ge(stored_frames(tu_path("w.reel")), i + 1 - (int64_t)st.resident_frames);
    }
    ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
    ck_assert_uint_ge(st.written_back, 16);
    ck_assert_uint_gt(st.evictions, 0);
    for (i = 0; i < 20; i++) { /* all readable, from RAM or from the file */
        ck_assert_int_eq(reel_frame_get(p, i, 0, &f), REEL_OK);
        ck_assert_int_eq(reel_frame_pixels(f, &px, NULL), REEL_OK);
        ck_assert(same(px, SEED(i)));
        reel_frame_release(f);
    }
    ck_assert_int_eq(reel_seq_close(p), REEL_OK); /* the rest is written here */
    ck_assert_int_eq(stored_frames(tu_path("w.reel")), 20);
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    for (i = 0; i < 20; i++)
        ck_assert(stored_ok(tu_path("w.reel"), i));
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}
END_TEST

/* A child puts frames, flushes, puts more and is killed with SIGKILL: every flushed frame is
 * in the file, intact. */
START_TEST(test_kill_after_flush)
{
    int fds[2];
    pid_t pid;
    char ok;
    long long n;
    int64_t i;
    tu_dir(); /* made before the fork: the child writes where the parent looks */
    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        reel_store *s;
        reel_seq *q, *p;
        close(fds[0]);
        setup("k.reel", 100 * COST, &s, &q, &p);
        reel_store_set_writeback(s, 1000);
        for (i = 0; i < 25; i++)
            if (put(p, i, NULL) != REEL_OK)
                _exit(1);
        if (reel_flush(s) != REEL_OK)
            _exit(1);
        for (; i < 30; i++) /* queued, never flushed */
            put(p, i, NULL);
        if (write(fds[1], "k", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(fds[1]);
    ck_assert_int_eq(read(fds[0], &ok, 1), 1);
    close(fds[0]);
    kill(pid, SIGKILL);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    n = stored_frames(tu_path("k.reel"));
    ck_assert_int_eq(n, 25);
    for (i = 0; i < 25; i++)
        ck_assert(stored_ok(tu_path("k.reel"), i));
}
END_TEST

/* Trim and pressure write back queued frames and access counts before dropping anything. */
START_TEST(test_trim_and_pressure)
{
    reel_store *s;
    reel_seq *q, *p;
    reel_cache *c = setup("t.reel", 40 * COST, &s, &q, &p);
    reel_cache_stats st;
    reel_frame *f;
    int64_t i;
    ck_assert_int_eq(reel_store_set_writeback(s, 1000), REEL_OK);
    for (i = 0; i < 30; i++) {
        ck_assert_int_eq(reel_frame_get(q, i, 0, &f), REEL_OK);
        reel_frame_release(f);
    }
    for (i = 0; i < 5; i++)
        ck_assert_int_eq(put(p, i, NULL), REEL_OK);
    ck_assert_int_eq(reel_cache_trim(c, 20 * COST), REEL_OK);
    ck_assert_int_eq(stored_frames(tu_path("t.reel")), 5);
    ck_assert_int_eq(tu_sql_int(tu_path("t.reel"), "SELECT sum(count) FROM reel_access"), 30);
    ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
    ck_assert_uint_le(st.resident_bytes, 20 * COST);
    ck_assert_uint_eq(st.pressure_events, 0);

    for (i = 5; i < 10; i++)
        ck_assert_int_eq(put(p, i, NULL), REEL_OK);
    ck_assert_int_eq(reel_frame_get(q, 40, 0, &f), REEL_OK);
    reel_frame_release(f);
    ck_assert_int_eq(reel_cache_report_pressure(c, 3), REEL_INVALID);
    ck_assert_int_eq(reel_cache_report_pressure(c, REEL_PRESSURE_NONE), REEL_OK);
    ck_assert_int_eq(reel_cache_report_pressure(c, REEL_PRESSURE_MODERATE), REEL_OK);
    ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
    ck_assert_uint_le(st.resident_bytes, st.budget / 2);
    ck_assert_uint_eq(st.pressure_events, 1);
    ck_assert_uint_eq(st.dirty_bytes, 0);
    ck_assert_int_eq(stored_frames(tu_path("t.reel")), 10);
    ck_assert_int_eq(tu_sql_int(tu_path("t.reel"), "SELECT sum(count) FROM reel_access"), 31);
    /* critical keeps pinned frames only */
    ck_assert_int_eq(reel_frame_get(q, 1, 0, &f), REEL_OK);
    ck_assert_int_eq(reel_cache_report_pressure(c, REEL_PRESSURE_CRITICAL), REEL_OK);
    ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
    ck_assert_uint_eq(st.resident_frames, 1);
    ck_assert_uint_eq(st.pressure_events, 2);
    reel_frame_release(f);
    teardown(s, c, q, p);
}
END_TEST

/* Statistics per sequence add up to the cache's, and keep sequences apart. */
START_TEST(test_seq_stats)
{
    reel_store *s;
    reel_seq *q, *p, *q2;
    reel_cache *c = setup("s.reel", 100 * COST, &s, &q, &p);
    reel_cache_stats a, b, all;
    reel_frame *f;
    int64_t i;
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(put(p, i, NULL), REEL_OK);
    for (i = 0; i < 10; i++) { /* 5 misses, 5 hits on "s" */
        ck_assert_int_eq(reel_frame_get(q, i % 5, 0, &f), REEL_OK);
        reel_frame_release(f);
    }
    ck_assert_int_eq(reel_seq_open(s, "s", &q2), REEL_OK); /* a second handle shares them */
    ck_assert_int_eq(reel_frame_get(q2, 0, 0, &f), REEL_OK);
    ck_assert_int_eq(reel_seq_get_cache_stats(q, &a), REEL_OK);
    ck_assert_int_eq(reel_seq_get_cache_stats(p, &b), REEL_OK);
    ck_assert_int_eq(reel_cache_get_stats(c, &all), REEL_OK);
    ck_assert_uint_eq(a.misses, 5);
    ck_assert_uint_eq(a.hits, 6);
    ck_assert_uint_eq(a.loads, 5);
    ck_assert_uint_eq(a.resident_frames, 5);
    ck_assert_uint_eq(a.pinned_bytes, a.resident_bytes / 5);
    ck_assert_uint_eq(a.bytes_decompressed, 5 * FS);
    ck_assert_uint_eq(b.resident_frames, 4);
    ck_assert_uint_eq(b.hits + b.misses, 0);
    ck_assert_uint_eq(a.resident_bytes + b.resident_bytes, all.resident_bytes);
    ck_assert_uint_eq(a.hits + b.hits, all.hits);
    ck_assert_uint_eq(a.budget, all.budget);
    reel_frame_release(f);
    ck_assert_int_eq(reel_cache_trim(c, 0), REEL_OK);
    ck_assert_int_eq(reel_seq_get_cache_stats(q2, &a), REEL_OK);
    ck_assert_uint_eq(a.resident_frames, 0);
    ck_assert_uint_eq(a.evictions, 5);
    ck_assert_uint_eq(a.pinned_bytes, 0);
    ck_assert_int_eq(reel_seq_get_cache_stats(NULL, &a), REEL_MISUSE);
    reel_seq_close(q2);
    teardown(s, c, q, p);
}
END_TEST

/* A handle's access count: stored plus unflushed, across a reopen. */
START_TEST(test_handle_access_count)
{
    reel_store *s;
    reel_seq *q, *p;
    reel_cache *c = setup("h.reel", 100 * COST, &s, &q, &p);
    reel_frame *f;
    int64_t n;
    int i;
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(reel_frame_get(q, 9, i == 1 ? REEL_GET_LAZY : 0, &f), REEL_OK);
        ck_assert_int_eq(reel_frame_access_count(f, &n), REEL_OK);
        ck_assert_int_eq(n, i + 1);
        reel_frame_release(f);
    }
    ck_assert_int_eq(reel_flush(s), REEL_OK);
    ck_assert_int_eq(reel_frame_get(q, 9, 0, &f), REEL_OK);
    ck_assert_int_eq(reel_frame_access_count(f, &n), REEL_OK);
    ck_assert_int_eq(n, 4);
    ck_assert_int_eq(reel_frame_access_count(f, NULL), REEL_MISUSE);
    reel_frame_release(f);
    reel_seq_close(p);
    reel_seq_close(q);
    reel_close(s);
    ck_assert_int_eq(reel_open(tu_path("h.reel"), REEL_OPEN_READONLY, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "s", &q), REEL_OK);
    ck_assert_int_eq(reel_frame_get(q, 9, 0, &f), REEL_OK);
    ck_assert_int_eq(reel_frame_access_count(f, &n), REEL_OK);
    ck_assert_int_eq(n, 5);
    reel_frame_release(f);
    reel_seq_close(q);
    reel_close(s);
    reel_cache_free(c);
}
END_TEST

/* Warm start loads the most accessed frames, up to the share of the budget asked for. */
START_TEST(test_warm_start)
{
    reel_store *s;
    reel_seq *q, *p;
    reel_cache *c = setup("m.reel", 100 * COST, &s, &q, &p);
    reel_cache_stats st;
    reel_frame *f;
    size_t loaded = 99;
    int64_t i;
    int k;
    for (i = 0; i < 20; i++) /* frame i read i + 1 times: 19 is the most accessed */
        for (k = 0; k <= i; k++) {
            ck_assert_int_eq(reel_frame_get(q, i, 0, &f), REEL_OK);
            reel_frame_release(f);
        }
    teardown(s, c, q, p);

    ck_assert_int_eq(reel_cache_new(100 * COST, &c), REEL_OK);
    ck_assert_int_eq(reel_open(tu_path("m.reel"), 0, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_store_set_readahead(s, 0, 1), REEL_OK);
    ck_assert_int_eq(reel_store_set_cache(s, c), REEL_OK);
    ck_assert_int_eq(reel_seq_open_warm(s, "s", 1.5, &q, &loaded), REEL_INVALID);
    ck_assert_int_eq(reel_seq_open_warm(s, "nope", 0.5, &q, &loaded), REEL_NOTFOUND);
    ck_assert_int_eq(reel_seq_open_warm(s, "s", 0.1, &q, &loaded), REEL_OK);
    ck_assert_uint_eq(loaded, 100 * COST / 10 / (FS + 256)); /* 10 frames fit in the share */
    ck_assert_int_eq(reel_seq_get_cache_stats(q, &st), REEL_OK);
    ck_assert_uint_eq(st.resident_frames, loaded);
    ck_assert_uint_eq(st.hits + st.misses, 0); /* warm-up is not an access */
    for (i = 19; i > 19 - (int64_t)loaded; i--) { /* the most accessed ones are hits */
        ck_assert_int_eq(reel_frame_get(q, i, 0, &f), REEL_OK);
        reel_frame_release(f);
    }
    ck_assert_int_eq(reel_seq_get_cache_stats(q, &st), REEL_OK);
    ck_assert_uint_eq(st.hits, loaded);
    ck_assert_uint_eq(st.misses, 0);
    ck_assert_uint_eq(st.prefetch_hits, loaded);
    reel_seq_close(q);
    reel_close(s);
    reel_cache_free(c);
}
END_TEST

/* ---- threads: a writer putting frames, readers reading them, budget squeezes ---- */

typedef struct stress {
    reel_seq *p;
    reel_cache *c;
    atomic_llong written; /* frames put so far */
    atomic_int bad, stop;
} stress;

static void *putter(void *arg)
{
    stress *st = arg;
    int64_t i, idx;
    for (i = 0; i < 300; i++) {
        if (put(st->p, i, &idx) != REEL_OK || idx != i)
            atomic_fetch_add(&st->bad, 1);
        atomic_store(&st->written, i + 1);
    }
    return NULL;
}

static void *getter(void *arg)
{
    stress *st = arg;
    unsigned seed = (unsigned)(uintptr_t)&seed;
    while (atomic_load(&st->written) < 300) {
        long long n = atomic_load(&st->written);
        reel_frame *f;
        const void *px;
        int64_t idx;
        if (n == 0)
            continue;
        idx = rand_r(&seed) % n;
        if (reel_frame_get(st->p, idx, 0, &f) != REEL_OK ||
            reel_frame_pixels(f, &px, NULL) != REEL_OK || !same(px, SEED(idx)))
            atomic_fetch_add(&st->bad, 1);
        reel_frame_release(f);
    }
    return NULL;
}

static void *squeezer(void *arg)
{
    stress *st = arg;
    unsigned seed = 3;
    while (!atomic_load(&st->stop)) {
        reel_cache_set_budget(st->c, (size_t)(rand_r(&seed) % 20 + 2) * COST);
        if (rand_r(&seed) % 4 == 0)
            reel_cache_report_pressure(st->c, REEL_PRESSURE_MODERATE);
        else
            reel_cache_trim(st->c, (size_t)(rand_r(&seed) % 10) * COST);
    }
    return NULL;
}

START_TEST(test_threads_writeback)
{
    reel_store *s;
    reel_seq *q;
    stress st;
    pthread_t w, r[2], sq;
    int64_t i;
    memset(&st, 0, sizeof st);
    st.c = setup("x.reel", 8 * COST, &s, &q, &st.p);
    ck_assert_int_eq(reel_store_set_writeback(s, 16), REEL_OK);
    ck_assert_int_eq(reel_store_set_flush_interval(s, 5), REEL_OK);
    pthread_create(&sq, NULL, squeezer, &st);
    pthread_create(&w, NULL, putter, &st);
    for (i = 0; i < 2; i++)
        pthread_create(&r[i], NULL, getter, &st);
    pthread_join(w, NULL);
    for (i = 0; i < 2; i++)
        pthread_join(r[i], NULL);
    atomic_store(&st.stop, 1);
    pthread_join(sq, NULL);
    ck_assert_int_eq(atomic_load(&st.bad), 0);
    ck_assert_int_eq(reel_seq_close(st.p), REEL_OK);
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(stored_frames(tu_path("x.reel")), 300);
    for (i = 0; i < 300; i += 37)
        ck_assert(stored_ok(tu_path("x.reel"), i));
    ck_assert_int_eq(reel_cache_free(st.c), REEL_OK);
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("writeback", 120);
    tcase_add_test(tc, test_put_get_flush);
    tcase_add_test(tc, test_put_errors);
    tcase_add_test(tc, test_writeback_before_eviction);
    tcase_add_test(tc, test_writeback_conflict);
    tcase_add_test(tc, test_kill_after_flush);
    tcase_add_test(tc, test_trim_and_pressure);
    tcase_add_test(tc, test_seq_stats);
    tcase_add_test(tc, test_handle_access_count);
    tcase_add_test(tc, test_warm_start);
    tcase_add_test(tc, test_threads_writeback);
    return tu_run("writeback", tc);
}
