/* check_policy.c - what one sequence may keep in the RAM tier (reel_seq_set_policy: frame and
 * byte limits, a window around the reader, eviction priorities, trims every K gets or T ms),
 * dropping one frame (reel_frame_unload), waiting for read-ahead (reel_seq_prefetch_wait) and
 * a frame's last access time. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "reel.h"
#include "testutil.h"

enum { W = 40, H = 30, N = 64 };
#define FS ((size_t)W * H) /* gray8 */
#define COST (FS + REEL_CACHE_ENTRY_OVERHEAD)

/* Sequences "s" (N frames) and "t" (a copy) in one store, read-ahead off, a private cache. */
static reel_cache *setup(const char *name, size_t budget, reel_store **s, reel_seq **q,
                         reel_seq **t)
{
    reel_seq_params p = {W, H, REEL_PIX_GRAY8, {1, 25}, NULL, 0, 0};
    reel_cache *c;
    uint8_t px[FS];
    int i;
    tu_make_store(name, REEL_PIX_GRAY8, W, H, N, s, q);
    ck_assert_int_eq(reel_store_set_readahead(*s, 0, 1), REEL_OK);
    ck_assert_int_eq(reel_seq_create(*s, "t", &p, t), REEL_OK);
    for (i = 0; i < N; i++) {
        reel_frame_in in = {px, FS, i, 1, 0, REEL_STATUS_OK};
        tu_fill(px, REEL_PIX_GRAY8, W, H, (uint32_t)i + 100);
        ck_assert_int_eq(reel_frame_append(*t, &in, NULL), REEL_OK);
    }
    ck_assert_int_eq(reel_cache_new(budget, &c), REEL_OK);
    ck_assert_int_eq(reel_store_set_cache(*s, c), REEL_OK);
    return c;
}

static void teardown(reel_store *s, reel_cache *c, reel_seq *q, reel_seq *t)
{
    ck_assert_int_eq(reel_seq_close(t), REEL_OK);
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}

static reel_cache_stats seq_stats(reel_seq *q)
{
    reel_cache_stats st;
    ck_assert_int_eq(reel_seq_get_cache_stats(q, &st), REEL_OK);
    return st;
}

static void read_frame(reel_seq *q, int64_t i)
{
    reel_frame *f;
    ck_assert_int_eq(reel_frame_get(q, i, 0, &f), REEL_OK);
    ck_assert_int_eq(reel_frame_release(f), REEL_OK);
}

/* Whether frame i is resident: a get of it would be a hit. */
static int resident(reel_seq *q, int64_t i)
{
    uint64_t hits = seq_stats(q).hits;
    read_frame(q, i);
    return seq_stats(q).hits > hits;
}

static reel_seq_policy policy(void)
{
    reel_seq_policy p;
    memset(&p, 0, sizeof p);
    return p;
}

/* At most N frames and at most B bytes: the least recently used go, down to 7/8 of the limit
 * when it is exceeded; the other sequence is untouched. */
START_TEST(test_limits)
{
    reel_store *s;
    reel_seq *q, *t;
    reel_cache *c = setup("l.reel", 1000 * COST, &s, &q, &t);
    reel_seq_policy p = policy(), got;
    reel_cache_stats st;
    int i;
    for (i = 0; i < 20; i++)
        read_frame(t, i);
    p.max_frames = 16;
    ck_assert_int_eq(reel_seq_set_policy(q, &p), REEL_OK);
    ck_assert_int_eq(reel_seq_get_policy(q, &got), REEL_OK);
    ck_assert_uint_eq(got.max_frames, 16);
    for (i = 0; i < 40; i++) {
        read_frame(q, i);
        ck_assert_uint_le(seq_stats(q).resident_frames, 16);
    }
    st = seq_stats(q);
    ck_assert_uint_ge(st.resident_frames, 14);
    ck_assert_uint_eq(st.policy_evictions, 40 - st.resident_frames);
    ck_assert_uint_eq(st.policy_bytes_freed, st.policy_evictions * COST);
    ck_assert(resident(q, 39));  /* the most recent stay */
    ck_assert(!resident(q, 0));  /* the oldest went */
    ck_assert_uint_eq(seq_stats(t).resident_frames, 20);
    ck_assert_uint_eq(seq_stats(t).policy_evictions, 0);

    /* bytes: 8 frames' worth; a smaller limit applies at once */
    p.max_frames = 0;
    p.max_bytes = 8 * COST;
    ck_assert_int_eq(reel_seq_set_policy(q, &p), REEL_OK);
    ck_assert_uint_le(seq_stats(q).resident_bytes, 8 * COST);
    for (i = 0; i < 30; i++) {
        read_frame(q, i);
        ck_assert_uint_le(seq_stats(q).resident_bytes, 8 * COST);
    }
    /* pinned frames count but stay */
    {
        reel_frame *f[10];
        for (i = 0; i < 10; i++)
            ck_assert_int_eq(reel_frame_get(q, 50 + i, 0, &f[i]), REEL_OK);
        ck_assert_uint_eq(seq_stats(q).resident_frames, 10);
        reel_frames_release(f, 10);
    }
    /* no limits again: the sequence grows freely */
    ck_assert_int_eq(reel_seq_set_policy(q, &(reel_seq_policy){0}), REEL_OK);
    for (i = 0; i < 30; i++)
        read_frame(q, i);
    ck_assert_uint_ge(seq_stats(q).resident_frames, 30);
    teardown(s, c, q, t);
}
END_TEST

/* A window: only frames within it of the latest index read stay. */
START_TEST(test_window)
{
    reel_store *s;
    reel_seq *q, *t;
    reel_cache *c = setup("w.reel", 1000 * COST, &s, &q, &t);
    reel_seq_policy p = policy();
    int i;
    p.window = 3;
    ck_assert_int_eq(reel_seq_set_policy(q, &p), REEL_OK);
    for (i = 0; i < 30; i++)
        read_frame(q, i);
    ck_assert_uint_le(seq_stats(q).resident_frames, 7);
    ck_assert(resident(q, 28));
    /* a jump: what is far from the new position goes on the next get */
    read_frame(q, 60);
    read_frame(q, 61);
    for (i = 0; i < 30; i++) /* no hit among the old ones (reading them would move the window) */
        ck_assert_uint_le(seq_stats(q).resident_frames, 7);
    ck_assert(!resident(q, 20));
    teardown(s, c, q, t);
}
END_TEST

/* Priorities: low frames are evicted before normal ones, high ones after. */
START_TEST(test_priority)
{
    reel_store *s;
    reel_seq *q, *t;
    reel_cache *c = setup("p.reel", 20 * COST, &s, &q, &t);
    reel_seq_policy p = policy();
    int i;
    p.priority = REEL_PRIORITY_LOW;
    ck_assert_int_eq(reel_seq_set_policy(q, &p), REEL_OK);
    for (i = 0; i < 10; i++) /* q (low) read last: plain LRU would keep it */
        read_frame(t, i);
    for (i = 0; i < 10; i++)
        read_frame(q, i);
    for (i = 10; i < 15; i++) /* 5 more frames of t: 5 must go, all of them q's */
        read_frame(t, i);
    ck_assert_uint_eq(seq_stats(t).resident_frames, 15);
    ck_assert_uint_eq(seq_stats(q).resident_frames, 5);

    /* high: t's frames go first now, even the most recent */
    p.priority = REEL_PRIORITY_HIGH;
    ck_assert_int_eq(reel_seq_set_policy(q, &p), REEL_OK);
    for (i = 20; i < 35; i++)
        read_frame(q, i);
    for (i = 40; i < 45; i++)
        read_frame(t, i);
    ck_assert_uint_ge(seq_stats(q).resident_frames, 15);

    p.priority = 2;
    ck_assert_int_eq(reel_seq_set_policy(q, &p), REEL_INVALID);
    p.priority = 0;
    p.window = -1;
    ck_assert_int_eq(reel_seq_set_policy(q, &p), REEL_INVALID);
    p.window = 0;
    p.reserved[3] = 1;
    ck_assert_int_eq(reel_seq_set_policy(q, &p), REEL_INVALID);
    ck_assert_int_eq(reel_seq_set_policy(NULL, &p), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_set_policy(q, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_get_policy(q, NULL), REEL_MISUSE);
    teardown(s, c, q, t);
}
END_TEST

/* Trims: every K gets, every T ms, on request; a limit keeps its frames through a trim. */
START_TEST(test_trims)
{
    reel_store *s;
    reel_seq *q, *t;
    reel_cache *c = setup("t.reel", 1000 * COST, &s, &q, &t);
    reel_seq_policy p = policy();
    size_t freed = 0;
    int i;
    p.trim_every = 10;
    ck_assert_int_eq(reel_seq_set_policy(q, &p), REEL_OK);
    for (i = 0; i < 9; i++)
        read_frame(q, i);
    ck_assert_uint_eq(seq_stats(q).resident_frames, 9);
    read_frame(q, 9); /* the 10th get: everything unpinned goes, the frame got stays */
    ck_assert_uint_eq(seq_stats(q).resident_frames, 1);
    ck_assert_uint_eq(seq_stats(q).policy_evictions, 9);

    p.trim_every = 0;
    p.trim_ms = 100;
    ck_assert_int_eq(reel_seq_set_policy(q, &p), REEL_OK);
    for (i = 0; i < 5; i++)
        read_frame(q, i);
    ck_assert_uint_eq(seq_stats(q).resident_frames, 6); /* frame 9 is still there */
    usleep(150000);
    read_frame(q, 5);
    ck_assert_uint_eq(seq_stats(q).resident_frames, 1);

    /* reel_seq_trim with a frame limit keeps the most recent frames up to it */
    p.trim_ms = 0;
    p.max_frames = 4;
    ck_assert_int_eq(reel_seq_set_policy(q, &p), REEL_OK);
    p.max_frames = 0;
    ck_assert_int_eq(reel_seq_set_policy(t, &p), REEL_OK);
    for (i = 0; i < 4; i++)
        read_frame(q, i);
    for (i = 0; i < 6; i++)
        read_frame(t, i);
    ck_assert_int_eq(reel_seq_trim(q, &freed), REEL_OK);
    ck_assert_uint_eq(freed, 0);
    ck_assert_uint_eq(seq_stats(q).resident_frames, 4);
    ck_assert_int_eq(reel_seq_trim(t, &freed), REEL_OK);
    ck_assert_uint_eq(freed, 6 * COST);
    ck_assert_uint_eq(seq_stats(t).resident_frames, 0);
    ck_assert_int_eq(reel_seq_trim(NULL, NULL), REEL_MISUSE);
    teardown(s, c, q, t);
}
END_TEST

/* Unloading one frame: pinned stays (REEL_BUSY), unpinned goes, absent is fine. */
START_TEST(test_unload)
{
    reel_store *s;
    reel_seq *q, *t;
    reel_cache *c = setup("u.reel", 1000 * COST, &s, &q, &t);
    reel_frame *f;
    reel_cache_stats st;
    ck_assert_int_eq(reel_frame_get(q, 5, 0, &f), REEL_OK);
    ck_assert_int_eq(reel_frame_unload(q, 5), REEL_BUSY);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "frame 5"));
    reel_frame_release(f);
    ck_assert_int_eq(reel_frame_unload(q, 5), REEL_OK);
    ck_assert_int_eq(reel_frame_unload(q, 5), REEL_OK);
    ck_assert_int_eq(reel_frame_unload(q, 1000), REEL_OK);
    ck_assert_int_eq(reel_frame_unload(NULL, 1), REEL_MISUSE);
    st = seq_stats(q);
    ck_assert_uint_eq(st.resident_frames, 0);
    ck_assert_uint_eq(st.policy_evictions, 1);
    ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
    ck_assert_uint_eq(st.policy_evictions, 1);
    /* its access counts are kept */
    ck_assert_int_eq(reel_flush(s), REEL_OK);
    ck_assert_int_eq(tu_sql_int(tu_path("u.reel"), "SELECT count FROM reel_access WHERE idx = 5"),
                     1);
    teardown(s, c, q, t);
}
END_TEST

/* Waiting for read-ahead: when it returns, the frames are in the cache. */
START_TEST(test_prefetch_wait)
{
    reel_store *s;
    reel_seq *q, *t;
    reel_cache *c = setup("f.reel", 1000 * COST, &s, &q, &t);
    ck_assert_int_eq(reel_store_set_readahead(s, 2, 8), REEL_OK);
    ck_assert_int_eq(reel_seq_prefetch(q, 10, 30), REEL_OK);
    ck_assert_int_eq(reel_seq_prefetch_wait(q, 10000), REEL_OK);
    ck_assert_uint_eq(seq_stats(q).resident_frames, 30);
    ck_assert_uint_eq(seq_stats(q).prefetch_loads, 30);
    ck_assert_int_eq(reel_seq_prefetch_wait(q, 0), REEL_OK); /* nothing queued */
    ck_assert_int_eq(reel_seq_prefetch_wait(NULL, 0), REEL_MISUSE);
    teardown(s, c, q, t);
}
END_TEST

/* Prefetch counts at their limits: ranges reaching or passing INT64_MAX queue nothing past it
 * (no overflow), frames past the end are not loaded, and a range over the end loads the rest. */
START_TEST(test_prefetch_limits)
{
    reel_store *s;
    reel_seq *q, *t;
    reel_cache *c = setup("g.reel", 1000 * COST, &s, &q, &t);
    ck_assert_int_eq(reel_store_set_readahead(s, 1, 8), REEL_OK);
    ck_assert_int_eq(reel_seq_prefetch(q, INT64_MAX, 1024), REEL_OK);
    ck_assert_int_eq(reel_seq_prefetch(q, INT64_MAX - 5, 1024), REEL_OK);
    ck_assert_int_eq(reel_seq_prefetch(q, INT64_MAX, 0), REEL_OK);
    ck_assert_int_eq(reel_seq_prefetch(q, (int64_t)1 << 62, 1024), REEL_OK);
    ck_assert_int_eq(reel_seq_prefetch(q, 0, 1025), REEL_INVALID);
    ck_assert_int_eq(reel_seq_prefetch(q, 0, SIZE_MAX), REEL_INVALID);
    ck_assert_int_eq(reel_seq_prefetch(q, INT64_MIN, 1), REEL_INVALID);
    ck_assert_int_eq(reel_seq_prefetch_wait(q, 30000), REEL_OK);
    ck_assert_uint_eq(seq_stats(q).resident_frames, 0);
    ck_assert_int_eq(reel_seq_prefetch(q, N - 4, 1024), REEL_OK);
    ck_assert_int_eq(reel_seq_prefetch_wait(q, 30000), REEL_OK);
    ck_assert_uint_eq(seq_stats(q).resident_frames, 4);
    teardown(s, c, q, t);
}
END_TEST

static int64_t now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* A frame's last access: in memory first, then from the file after a flush. */
START_TEST(test_last_access)
{
    reel_store *s;
    reel_seq *q, *t;
    reel_cache *c = setup("a.reel", 1000 * COST, &s, &q, &t);
    reel_frame *f;
    int64_t before = now_ms() - 20, ms = -1, stored;
    ck_assert_int_eq(reel_frame_get(q, 7, 0, &f), REEL_OK);
    ck_assert_int_eq(reel_frame_last_access(f, &ms), REEL_OK);
    ck_assert_int_ge(ms, before);
    ck_assert_int_le(ms, now_ms() + 20);
    reel_frame_release(f);
    ck_assert_int_eq(reel_flush(s), REEL_OK);
    stored = tu_sql_int(tu_path("a.reel"), "SELECT last_access FROM reel_access WHERE idx = 7");
    ck_assert_int_eq(stored, ms);
    ck_assert_int_eq(reel_frame_get(q, 7, REEL_GET_LAZY, &f), REEL_OK);
    ck_assert_int_eq(reel_frame_last_access(f, &ms), REEL_OK);
    ck_assert_int_ge(ms, stored);
    ck_assert_int_eq(reel_frame_last_access(f, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_last_access(NULL, &ms), REEL_MISUSE);
    reel_frame_release(f);
    teardown(s, c, q, t);
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("policy", 60);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_window);
    tcase_add_test(tc, test_priority);
    tcase_add_test(tc, test_trims);
    tcase_add_test(tc, test_unload);
    tcase_add_test(tc, test_prefetch_wait);
    tcase_add_test(tc, test_prefetch_limits);
    tcase_add_test(tc, test_last_access);
    return tu_run("policy", tc);
}
