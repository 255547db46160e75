/* check_cache.c - the RAM tier: budget, pins, eviction and trim, lazy handles, shared and
 * private caches, access counts persisted, and a threaded stress test (run under TSan in CI). */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "cache/cache.h"
#include "reel.h"
#include "testutil.h"

enum { W = 40, H = 30, N = 64 };
#define FS ((size_t)W * H)             /* gray8 */
#define COST (FS + 256)                /* an upper bound of a frame's cost in the budget */

/* A store whose cache behaviour is deterministic: read-ahead off (tested on its own below). */
static void open_store(const char *name, reel_store **s, reel_seq **q)
{
    tu_make_store(name, REEL_PIX_GRAY8, W, H, N, s, q);
    ck_assert_int_eq(reel_store_set_readahead(*s, 0, 1), REEL_OK);
}

/* open_store with a private cache of the given budget. */
static reel_cache *open_cached(const char *name, size_t budget, reel_store **s, reel_seq **q)
{
    reel_cache *c;
    open_store(name, s, q);
    ck_assert_int_eq(reel_cache_new(budget, &c), REEL_OK);
    ck_assert_int_eq(reel_store_set_cache(*s, c), REEL_OK);
    return c;
}

static int expect_pixels(reel_frame *f, int64_t idx)
{
    const void *px;
    size_t size;
    uint8_t want[FS];
    if (reel_frame_pixels(f, &px, &size) != REEL_OK || size != FS)
        return 0;
    tu_fill(want, REEL_PIX_GRAY8, W, H, (uint32_t)idx);
    return memcmp(px, want, FS) == 0;
}

/* Random gets and releases against the invariant: resident <= budget + pinned, always. */
START_TEST(test_budget_never_exceeded)
{
    reel_store *s;
    reel_seq *q;
    reel_cache *c;
    reel_cache_stats st;
    reel_frame *held[8] = {0};
    unsigned seed = 7;
    int i;
    c = open_cached("b.reel", 10 * COST, &s, &q);
    for (i = 0; i < 3000; i++) {
        int slot = (int)(rand_r(&seed) % 8);
        int64_t idx = rand_r(&seed) % N;
        if (held[slot]) {
            ck_assert_int_eq(reel_frame_release(held[slot]), REEL_OK);
            held[slot] = NULL;
        } else {
            ck_assert_int_eq(reel_frame_get(q, idx, 0, &held[slot]), REEL_OK);
            ck_assert(expect_pixels(held[slot], idx));
        }
        if (i % 500 == 250)
            ck_assert_int_eq(reel_cache_set_budget(c, (size_t)(rand_r(&seed) % 12) * COST),
                             REEL_OK);
        ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
        ck_assert_msg(st.resident_bytes <= st.budget + st.pinned_bytes,
                      "op %d: resident %zu > budget %zu + pinned %zu", i, st.resident_bytes,
                      st.budget, st.pinned_bytes);
    }
    for (i = 0; i < 8; i++)
        reel_frame_release(held[i]);
    ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
    ck_assert_uint_eq(st.pinned_bytes, 0);
    ck_assert_uint_le(st.resident_bytes, st.budget);
    ck_assert_uint_eq(st.misses, st.loads); /* every miss loaded, none failed */
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}
END_TEST

/* Pinned frames survive eviction, trim to zero and budget zero, byte for byte. */
START_TEST(test_pins_survive)
{
    reel_store *s;
    reel_seq *q;
    reel_cache *c;
    reel_cache_stats st;
    reel_frame *keep[3], *f;
    int64_t i;
    c = open_cached("p.reel", 4 * COST, &s, &q);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(reel_frame_get(q, i, 0, &keep[i]), REEL_OK);
    for (i = 3; i < N; i++) {
        ck_assert_int_eq(reel_frame_get(q, i, 0, &f), REEL_OK);
        reel_frame_release(f);
    }
    ck_assert_int_eq(reel_cache_trim(c, 0), REEL_OK);
    ck_assert_int_eq(reel_cache_set_budget(c, 0), REEL_OK);
    ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
    ck_assert_uint_eq(st.resident_frames, 3);
    ck_assert_uint_eq(st.resident_bytes, st.pinned_bytes);
    for (i = 0; i < 3; i++)
        ck_assert(expect_pixels(keep[i], i));
    /* closing with pinned frames is refused, then works once they are released */
    ck_assert_int_eq(reel_seq_close(q), REEL_MISUSE);
    ck_assert_int_eq(reel_store_set_cache(s, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_cache_free(c), REEL_MISUSE);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(reel_frame_release(keep[i]), REEL_OK);
    ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
    ck_assert_uint_eq(st.resident_frames, 0); /* budget 0: released frames leave at once */
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}
END_TEST

/* With room for everything, the second pass only hits; trimming makes it miss again; the
 * least recently used frame is the one that goes first. */
START_TEST(test_hits_and_lru_order)
{
    reel_store *s;
    reel_seq *q;
    reel_cache *c;
    reel_cache_stats st;
    reel_frame *f;
    int64_t i;
    c = open_cached("h.reel", 2 * N * COST, &s, &q);
    for (i = 0; i < 2 * N; i++) {
        ck_assert_int_eq(reel_frame_get(q, i % N, 0, &f), REEL_OK);
        ck_assert(expect_pixels(f, i % N));
        reel_frame_release(f);
    }
    ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
    ck_assert_uint_eq(st.misses, N);
    ck_assert_uint_eq(st.hits, N);
    ck_assert_uint_eq(st.resident_frames, N);
    ck_assert_uint_eq(st.bytes_decompressed, N * FS);
    /* touch frame 0 again, then squeeze out one frame: the least recently used, frame 1, goes */
    ck_assert_int_eq(reel_frame_get(q, 0, 0, &f), REEL_OK);
    reel_frame_release(f);
    ck_assert_int_eq(reel_cache_trim(c, st.resident_bytes - st.resident_bytes / N), REEL_OK);
    ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
    ck_assert_uint_eq(st.resident_frames, N - 1);
    {
        uint64_t hits = st.hits, misses = st.misses;
        ck_assert_int_eq(reel_frame_get(q, 0, 0, &f), REEL_OK);
        reel_frame_release(f);
        ck_assert_int_eq(reel_frame_get(q, 2, 0, &f), REEL_OK);
        reel_frame_release(f);
        ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
        ck_assert_uint_eq(st.hits, hits + 2);
        ck_assert_int_eq(reel_frame_get(q, 1, 0, &f), REEL_OK);
        reel_frame_release(f);
        ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
        ck_assert_uint_eq(st.misses, misses + 1);
    }
    ck_assert_int_eq(reel_cache_trim(c, 0), REEL_OK);
    ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
    ck_assert_uint_eq(st.resident_bytes, 0);
    ck_assert_uint_eq(st.evictions, N + 1);
    reel_seq_close(q);
    reel_close(s);
    reel_cache_free(c);
}
END_TEST

START_TEST(test_lazy_and_errors)
{
    reel_store *s;
    reel_seq *q;
    reel_frame *f;
    reel_frame_info fi;
    reel_cache_stats before, after;
    const void *px;
    open_store("l.reel", &s, &q);
    reel_cache_get_stats(reel_cache_default(), &before);
    ck_assert_int_eq(reel_frame_get(q, 5, REEL_GET_LAZY, &f), REEL_OK);
    ck_assert_int_eq(reel_frame_meta(f, &fi), REEL_OK);
    ck_assert_int_eq(fi.index, 5);
    ck_assert_int_eq(fi.pts, 5);
    {
        reel_frame_desc d;
        ck_assert_int_eq(reel_frame_describe(f, &d), REEL_OK);
        ck_assert_int_eq(d.index, 5);
        ck_assert(d.time_s > 0.199 && d.time_s < 0.201); /* pts 5 at 1/25 s */
        ck_assert_int_eq(d.width, W);
        ck_assert_int_eq(d.pix_fmt, REEL_PIX_GRAY8);
        ck_assert_uint_eq(d.size, FS);
        ck_assert_int_eq(d.nplanes, 1);
        ck_assert_uint_eq(d.planes[0].stride, W);
        ck_assert_int_eq(reel_frame_describe(NULL, &d), REEL_MISUSE);
    }
    reel_cache_get_stats(reel_cache_default(), &after);
    ck_assert_uint_eq(after.loads, before.loads); /* nothing decoded yet */
    ck_assert(expect_pixels(f, 5));
    ck_assert_int_eq(reel_frame_pixels(f, &px, NULL), REEL_OK); /* second call: same pin */
    reel_cache_get_stats(reel_cache_default(), &after);
    ck_assert_uint_eq(after.loads, before.loads + 1);
    ck_assert_int_eq(reel_frame_release(f), REEL_OK);
    /* errors */
    ck_assert_int_eq(reel_frame_get(q, N, 0, &f), REEL_NOTFOUND);
    ck_assert_int_eq(reel_frame_get(q, N, REEL_GET_LAZY, &f), REEL_NOTFOUND);
    ck_assert_int_eq(reel_frame_get(q, 0, 0x80, &f), REEL_INVALID);
    ck_assert_int_eq(reel_frame_get(NULL, 0, 0, &f), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_get(q, 0, 0, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_pixels(NULL, &px, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_meta(NULL, &fi), REEL_MISUSE);
    ck_assert_int_eq(reel_frame_release(NULL), REEL_OK);
    ck_assert_int_eq(reel_cache_new(1, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_cache_set_budget(NULL, 1), REEL_MISUSE);
    ck_assert_int_eq(reel_cache_trim(NULL, 1), REEL_MISUSE);
    ck_assert_int_eq(reel_cache_get_stats(NULL, &before), REEL_MISUSE);
    ck_assert_int_eq(reel_cache_free(reel_cache_default()), REEL_MISUSE);
    ck_assert_int_eq(reel_cache_free(NULL), REEL_OK);
    ck_assert_int_eq(reel_store_set_cache(NULL, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_flush(NULL), REEL_MISUSE);
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

/* Two stores on one cache keep their frames apart; a private cache is separate. */
START_TEST(test_shared_and_private)
{
    reel_store *a, *b;
    reel_seq *qa, *qb;
    reel_cache *shared, *priv;
    reel_cache_stats st;
    reel_frame *fa, *fb;
    const void *pa, *pb;
    open_store("a.reel", &a, &qa);
    tu_make_store("b.reel", REEL_PIX_GRAY8, W, H, 3, &b, &qb);
    ck_assert_int_eq(reel_cache_new(100 * COST, &shared), REEL_OK);
    ck_assert_int_eq(reel_cache_new(100 * COST, &priv), REEL_OK);
    ck_assert_int_eq(reel_store_set_cache(a, shared), REEL_OK);
    ck_assert_int_eq(reel_store_set_cache(b, shared), REEL_OK);
    /* same sequence id, same index, different stores: two entries */
    ck_assert_int_eq(reel_frame_get(qa, 1, 0, &fa), REEL_OK);
    ck_assert_int_eq(reel_frame_get(qb, 1, 0, &fb), REEL_OK);
    reel_frame_pixels(fa, &pa, NULL);
    reel_frame_pixels(fb, &pb, NULL);
    ck_assert_ptr_ne(pa, pb);
    reel_cache_get_stats(shared, &st);
    ck_assert_uint_eq(st.misses, 2);
    ck_assert_uint_eq(st.resident_frames, 2);
    reel_frame_release(fa);
    reel_frame_release(fb);
    ck_assert_int_eq(reel_cache_free(shared), REEL_MISUSE); /* stores still use it */
    ck_assert_int_eq(reel_store_set_cache(b, priv), REEL_OK);
    reel_cache_get_stats(shared, &st);
    ck_assert_uint_eq(st.resident_frames, 1); /* b's frame left with it */
    ck_assert_int_eq(reel_frame_get(qb, 1, 0, &fb), REEL_OK);
    reel_frame_release(fb);
    reel_cache_get_stats(priv, &st);
    ck_assert_uint_eq(st.misses, 1);
    reel_seq_close(qa);
    reel_seq_close(qb);
    reel_close(a);
    reel_close(b);
    ck_assert_int_eq(reel_cache_free(shared), REEL_OK);
    ck_assert_int_eq(reel_cache_free(priv), REEL_OK);
}
END_TEST

/* Counts survive close and reopen and show in reel_frames; a removed sequence's go with it. */
START_TEST(test_access_counts_persist)
{
    reel_store *s;
    reel_seq *q;
    reel_frame *f;
    int i;
    const char *p;
    open_store("c.reel", &s, &q);
    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(reel_frame_get(q, 7, 0, &f), REEL_OK);
        reel_frame_release(f);
    }
    ck_assert_int_eq(reel_frame_get(q, 9, REEL_GET_LAZY, &f), REEL_OK);
    reel_frame_release(f);
    ck_assert_int_eq(reel_flush(s), REEL_OK);
    ck_assert_int_eq(reel_frame_get(q, 7, 0, &f), REEL_OK); /* counted, written at close */
    reel_frame_release(f);
    reel_seq_close(q);
    reel_close(s);
    p = tu_path("c.reel");
    ck_assert_int_eq(tu_sql_int(p, "SELECT access_count FROM reel_frames WHERE idx = 7"), 6);
    ck_assert_int_eq(tu_sql_int(p, "SELECT access_count FROM reel_frames WHERE idx = 9"), 1);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_frames WHERE access_count > 0"), 2);
    ck_assert_int_eq(tu_sql_int(p, "SELECT last_access LIKE '20%' FROM reel_frames WHERE idx = 7"),
                     1);
    ck_assert_int_eq(tu_sql_int(p, "SELECT idx FROM reel_hot_frames LIMIT 1"), 7);
    /* reopen, count more: added to what was stored */
    ck_assert_int_eq(reel_open(p, 0, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "s", &q), REEL_OK);
    ck_assert_int_eq(reel_frame_get(q, 7, 0, &f), REEL_OK);
    reel_frame_release(f);
    reel_seq_close(q);
    reel_close(s);
    ck_assert_int_eq(tu_sql_int(p, "SELECT access_count FROM reel_frames WHERE idx = 7"), 7);
    /* read-only: counted in memory only */
    ck_assert_int_eq(reel_open(p, REEL_OPEN_READONLY, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "s", &q), REEL_OK);
    ck_assert_int_eq(reel_frame_get(q, 7, 0, &f), REEL_OK);
    reel_frame_release(f);
    ck_assert_int_eq(reel_flush(s), REEL_READONLY);
    reel_seq_close(q);
    reel_close(s);
    ck_assert_int_eq(tu_sql_int(p, "SELECT access_count FROM reel_frames WHERE idx = 7"), 7);
    /* removing the sequence removes its counts */
    ck_assert_int_eq(reel_open(p, 0, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_remove(s, "s"), REEL_OK);
    reel_close(s);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_access"), 0);
}
END_TEST

/* A one-pass scan with REEL_GET_ONCE leaves the hot set resident; without it, flushes it. */
START_TEST(test_scan_resistance)
{
    reel_store *s;
    reel_seq *q;
    reel_cache *c;
    reel_cache_stats st;
    reel_frame *f;
    int64_t i;
    int pass;
    c = open_cached("sr.reel", 12 * COST, &s, &q);
    for (pass = 0; pass < 2; pass++) {
        uint64_t misses;
        for (i = 0; i < 8; i++) { /* the hot set */
            ck_assert_int_eq(reel_frame_get(q, i, 0, &f), REEL_OK);
            reel_frame_release(f);
        }
        for (i = 8; i < N; i++) { /* one pass over the rest */
            ck_assert_int_eq(reel_frame_get(q, i, pass == 0 ? REEL_GET_ONCE : 0, &f), REEL_OK);
            reel_frame_release(f);
        }
        reel_cache_get_stats(c, &st);
        misses = st.misses;
        for (i = 0; i < 8; i++) {
            ck_assert_int_eq(reel_frame_get(q, i, 0, &f), REEL_OK);
            reel_frame_release(f);
        }
        reel_cache_get_stats(c, &st);
        if (pass == 0)
            ck_assert_uint_eq(st.misses, misses); /* the hot set survived the scan */
        else
            ck_assert_uint_eq(st.misses, misses + 8); /* a plain scan evicted it */
        reel_cache_trim(c, 0);
    }
    reel_seq_close(q);
    reel_close(s);
    reel_cache_free(c);
}
END_TEST

/* open_cached over a temporal sequence of N frames, chains of 16. */
static reel_cache *open_temporal(const char *name, size_t budget, reel_store **s, reel_seq **q)
{
    reel_seq_params p = {W, H, REEL_PIX_GRAY8, {1, 25}, NULL, REEL_CODEC_TEMPORAL, 16};
    reel_cache *c;
    uint8_t buf[FS];
    int i;
    ck_assert_int_eq(reel_open(tu_path(name), REEL_OPEN_CREATE, NULL, s), REEL_OK);
    ck_assert_int_eq(reel_seq_create(*s, "s", &p, q), REEL_OK);
    for (i = 0; i < N; i++) {
        reel_frame_in in = {buf, FS, i, 1, i == 0 ? REEL_FRAME_KEY : 0, REEL_STATUS_OK};
        tu_fill(buf, REEL_PIX_GRAY8, W, H, (uint32_t)i);
        ck_assert_int_eq(reel_frame_append(*q, &in, NULL), REEL_OK);
    }
    ck_assert_int_eq(reel_store_set_readahead(*s, 0, 1), REEL_OK);
    ck_assert_int_eq(reel_cache_new(budget, &c), REEL_OK);
    ck_assert_int_eq(reel_store_set_cache(*s, c), REEL_OK);
    return c;
}

static int resident(reel_seq *q, int64_t idx)
{
    unsigned char r = 2;
    ck_assert_int_eq(reel_seq_resident(q, idx, 1, &r, NULL), REEL_OK);
    return r;
}

/* On a temporal sequence too: each frame's reference stays resident while the scan reads the
 * next (decoded right), and the hot set survives a one-pass scan 7 times the budget. */
START_TEST(test_scan_resistance_temporal)
{
    reel_store *s;
    reel_seq *q;
    reel_cache *c = open_temporal("srt.reel", 8 * COST, &s, &q);
    reel_cache_stats st;
    reel_frame *f;
    uint64_t misses;
    int64_t i;
    for (i = 0; i < 4; i++) { /* the hot set, read often */
        ck_assert_int_eq(reel_frame_get(q, 2 * i, 0, &f), REEL_OK);
        reel_frame_release(f);
    }
    for (i = 9; i < N; i++) {
        ck_assert_int_eq(reel_frame_get(q, i, REEL_GET_ONCE, &f), REEL_OK);
        ck_assert(expect_pixels(f, i));
        ck_assert_int_eq(reel_frame_release(f), REEL_OK);
        ck_assert_int_eq(resident(q, i), 1); /* the next one's reference */
    }
    reel_cache_get_stats(c, &st);
    misses = st.misses;
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(reel_frame_get(q, 2 * i, 0, &f), REEL_OK);
        ck_assert(expect_pixels(f, 2 * i));
        reel_frame_release(f);
    }
    reel_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.misses, misses); /* the hot set survived the scan */
    ck_assert_uint_le(st.resident_bytes, st.budget);
    reel_seq_close(q);
    reel_close(s);
    reel_cache_free(c);
}
END_TEST

/* reel_seq_resident: the frames in the cache, short and long ranges, no side effects, bad
 * arguments. */
START_TEST(test_resident_map)
{
    reel_store *s;
    reel_seq *q;
    reel_cache *c = open_cached("res.reel", 64 * COST, &s, &q);
    reel_cache_stats a, b;
    reel_frame *f;
    unsigned char *m = malloc(10000);
    int64_t i, n = -1;
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(reel_seq_resident(q, 0, N, m, &n), REEL_OK);
    ck_assert_int_eq(n, 0);
    for (i = 3; i < N; i += 7) {
        ck_assert_int_eq(reel_frame_get(q, i, 0, &f), REEL_OK);
        reel_frame_release(f);
    }
    reel_cache_get_stats(c, &a);
    ck_assert_int_eq(reel_seq_resident(q, 0, N, m, &n), REEL_OK);
    ck_assert_int_eq(n, (N - 3 + 6) / 7);
    for (i = 0; i < N; i++)
        ck_assert_int_eq(m[i], i % 7 == 3);
    memset(m, 7, 10000); /* the long range: one pass over the table, past the end gives 0 */
    ck_assert_int_eq(reel_seq_resident(q, 2, 10000, m, &n), REEL_OK);
    ck_assert_int_eq(n, (N - 3 + 6) / 7);
    for (i = 0; i < 10000; i++)
        ck_assert_int_eq(m[i], i + 2 < N && (i + 2) % 7 == 3);
    ck_assert_int_eq(reel_seq_resident(q, 10, 0, NULL, NULL), REEL_OK);
    reel_cache_get_stats(c, &b);
    ck_assert_uint_eq(a.hits, b.hits);
    ck_assert_uint_eq(a.misses, b.misses);
    ck_assert_uint_eq(a.resident_frames, b.resident_frames);
    ck_assert_int_eq(reel_seq_resident(q, -1, 4, m, NULL), REEL_INVALID);
    ck_assert_int_eq(reel_seq_resident(q, 0, -4, m, NULL), REEL_INVALID);
    ck_assert_int_eq(reel_seq_resident(q, 1, INT64_MAX, m, NULL), REEL_INVALID);
    ck_assert_int_eq(reel_seq_resident(q, 0, 4, NULL, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_resident(NULL, 0, 4, m, NULL), REEL_MISUSE);
    free(m);
    reel_seq_close(q);
    reel_close(s);
    reel_cache_free(c);
}
END_TEST

START_TEST(test_batch_and_window)
{
    static const int64_t want[] = {9, 3, 9, 40, 3, 0};
    reel_store *s;
    reel_seq *q;
    reel_cache *c;
    reel_cache_stats st;
    reel_frame *fr[16];
    reel_frame_info fi;
    size_t n, k;
    int64_t first, bad[] = {1, 2, N + 5};
    c = open_cached("bw.reel", 100 * COST, &s, &q);
    ck_assert_int_eq(reel_frames_get(q, want, 6, 0, fr), REEL_OK);
    for (k = 0; k < 6; k++) {
        ck_assert_int_eq(reel_frame_meta(fr[k], &fi), REEL_OK);
        ck_assert_int_eq(fi.index, want[k]);
        ck_assert(expect_pixels(fr[k], want[k]));
    }
    reel_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.loads, 4); /* 9, 3, 40, 0: duplicates loaded once */
    reel_frames_release(fr, 6);
    /* all or nothing */
    ck_assert_int_eq(reel_frames_get(q, bad, 3, 0, fr), REEL_NOTFOUND);
    reel_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.pinned_bytes, 0);
    /* windows, clipped at both ends */
    ck_assert_int_eq(reel_frames_get_window(q, 10, 3, 0, fr, &n, &first), REEL_OK);
    ck_assert_uint_eq(n, 7);
    ck_assert_int_eq(first, 7);
    for (k = 0; k < n; k++)
        ck_assert(expect_pixels(fr[k], first + (int64_t)k));
    reel_frames_release(fr, n);
    ck_assert_int_eq(reel_frames_get_window(q, 1, 3, 0, fr, &n, &first), REEL_OK);
    ck_assert_uint_eq(n, 5);
    ck_assert_int_eq(first, 0);
    reel_frames_release(fr, n);
    ck_assert_int_eq(reel_frames_get_window(q, N - 1, 2, 0, fr, &n, &first), REEL_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(first, N - 3);
    reel_frames_release(fr, n);
    ck_assert_int_eq(reel_frames_get_window(q, N, 2, 0, fr, &n, &first), REEL_NOTFOUND);
    ck_assert_int_eq(reel_frames_get_window(q, 3, -1, 0, fr, &n, &first), REEL_INVALID);
    ck_assert_int_eq(reel_frames_get(q, NULL, 2, 0, fr), REEL_MISUSE);
    reel_seq_close(q);
    reel_close(s);
    reel_cache_free(c);
}
END_TEST

/* The background flusher writes counts while the store stays open. */
START_TEST(test_timed_flush)
{
    reel_store *s;
    reel_seq *q;
    reel_frame *f;
    int tries;
    long long n = 0;
    open_store("tf.reel", &s, &q);
    ck_assert_int_eq(reel_store_set_flush_interval(s, 20), REEL_OK);
    ck_assert_int_eq(reel_store_set_flush_interval(s, -1), REEL_INVALID);
    ck_assert_int_eq(reel_frame_get(q, 3, 0, &f), REEL_OK);
    reel_frame_release(f);
    for (tries = 0; tries < 500 && n != 1; tries++) {
        usleep(10000);
        n = tu_sql_int(tu_path("tf.reel"), "SELECT coalesce(sum(count), 0) FROM reel_access");
    }
    ck_assert_int_eq(n, 1); /* written without reel_flush or reel_close */
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(tu_sql_int(tu_path("tf.reel"), "SELECT sum(count) FROM reel_access"), 1);
}
END_TEST

/* Strict mode refuses a pin that does not fit, and accepts it once a frame is released. */
START_TEST(test_strict_mode)
{
    reel_store *s;
    reel_seq *q;
    reel_cache *c;
    reel_cache_stats st;
    reel_frame *f[4], *g;
    int i;
    c = open_cached("st.reel", 3 * COST, &s, &q);
    ck_assert_int_eq(reel_cache_set_strict(c, 1), REEL_OK);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(reel_frame_get(q, i, 0, &f[i]), REEL_OK);
    ck_assert_int_eq(reel_frame_get(q, 3, 0, &f[3]), REEL_FULL);
    ck_assert_int_eq(reel_frame_get(q, 1, 0, &g), REEL_OK); /* resident already: fine */
    reel_frame_release(g);
    reel_cache_get_stats(c, &st);
    ck_assert_uint_le(st.resident_bytes, st.budget);
    reel_frame_release(f[0]);
    ck_assert_int_eq(reel_frame_get(q, 3, 0, &f[3]), REEL_OK); /* frame 0 made room */
    ck_assert(expect_pixels(f[3], 3));
    reel_cache_get_stats(c, &st);
    ck_assert_uint_le(st.resident_bytes, st.budget);
    for (i = 1; i < 4; i++)
        reel_frame_release(f[i]);
    ck_assert_int_eq(reel_cache_set_strict(NULL, 1), REEL_MISUSE);
    reel_seq_close(q);
    reel_close(s);
    reel_cache_free(c);
}
END_TEST

/* Scoped budgets nest and restore the previous values exactly. */
START_TEST(test_scoped_budget)
{
    reel_cache *c;
    size_t b;
    int i;
    ck_assert_int_eq(reel_cache_new(1000, &c), REEL_OK);
    ck_assert_int_eq(reel_cache_push_budget(c, 10), REEL_OK);
    ck_assert_int_eq(reel_cache_push_budget(c, 20), REEL_OK);
    reel_cache_get_budget(c, &b);
    ck_assert_uint_eq(b, 20);
    ck_assert_int_eq(reel_cache_set_budget(c, 25), REEL_OK); /* changed inside the scope */
    ck_assert_int_eq(reel_cache_pop_budget(c), REEL_OK);
    reel_cache_get_budget(c, &b);
    ck_assert_uint_eq(b, 10);
    ck_assert_int_eq(reel_cache_pop_budget(c), REEL_OK);
    reel_cache_get_budget(c, &b);
    ck_assert_uint_eq(b, 1000);
    ck_assert_int_eq(reel_cache_pop_budget(c), REEL_MISUSE);
    for (i = 0; i < 16; i++)
        ck_assert_int_eq(reel_cache_push_budget(c, (size_t)i), REEL_OK);
    ck_assert_int_eq(reel_cache_push_budget(c, 99), REEL_FULL);
    for (i = 0; i < 16; i++)
        ck_assert_int_eq(reel_cache_pop_budget(c), REEL_OK);
    reel_cache_get_budget(c, &b);
    ck_assert_uint_eq(b, 1000);
    ck_assert_int_eq(reel_cache_push_budget(NULL, 1), REEL_MISUSE);
    ck_assert_int_eq(reel_cache_pop_budget(NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}
END_TEST

/* Sequential reading is detected and read ahead; an explicit prefetch loads a range. */
START_TEST(test_readahead)
{
    reel_store *s;
    reel_seq *q;
    reel_cache *c;
    reel_cache_stats st;
    reel_frame *f;
    int64_t i;
    int tries;
    c = open_cached("ra.reel", 100 * COST, &s, &q);
    ck_assert_int_eq(reel_store_set_readahead(s, 1, 8), REEL_OK);
    for (i = 0; i < 4; i++) { /* at frame 2 (two forward steps) frames 3..10 are queued */
        ck_assert_int_eq(reel_frame_get(q, i, 0, &f), REEL_OK);
        reel_frame_release(f);
    }
    for (tries = 0; tries < 2000; tries++) { /* wait for the worker */
        reel_cache_get_stats(c, &st);
        if (st.resident_frames >= 11)
            break;
        usleep(1000);
    }
    ck_assert_uint_ge(st.resident_frames, 11);
    ck_assert_uint_ge(st.prefetch_loads, 7);
    for (i = 4; i < 11; i++) { /* now hits */
        uint64_t misses = st.misses;
        ck_assert_int_eq(reel_frame_get(q, i, 0, &f), REEL_OK);
        ck_assert(expect_pixels(f, i));
        reel_frame_release(f);
        reel_cache_get_stats(c, &st);
        ck_assert_uint_eq(st.misses, misses);
    }
    /* explicit prefetch of a range far away */
    ck_assert_int_eq(reel_seq_prefetch(q, 40, 5), REEL_OK);
    for (tries = 0; tries < 2000; tries++) {
        reel_cache_get_stats(c, &st);
        /* 0..18 (the reader at 6 and 10 queued 11..14 and 15..18) and 40..44 */
        if (st.resident_frames >= 24)
            break;
        usleep(1000);
    }
    reel_cache_get_stats(c, &st);
    {
        uint64_t misses = st.misses;
        ck_assert_int_eq(reel_frame_get(q, 42, 0, &f), REEL_OK);
        reel_frame_release(f);
        reel_cache_get_stats(c, &st);
        ck_assert_uint_eq(st.misses, misses);
    }
    ck_assert_int_eq(reel_seq_prefetch(q, -1, 5), REEL_INVALID);
    ck_assert_int_eq(reel_store_set_readahead(s, -1, 8), REEL_INVALID);
    ck_assert_int_eq(reel_store_set_readahead(s, 1, 0), REEL_INVALID);
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}
END_TEST

typedef struct each_ctx {
    int64_t next;
    size_t batches, max_batch;
    int stop_at;
} each_ctx;

static int each(void *ctx, reel_frame **frames, size_t n)
{
    each_ctx *e = ctx;
    size_t k;
    for (k = 0; k < n; k++) {
        reel_frame_info fi;
        reel_frame_meta(frames[k], &fi);
        if (fi.index != e->next++ || !expect_pixels(frames[k], fi.index))
            return -1;
    }
    e->batches++;
    e->max_batch = n > e->max_batch ? n : e->max_batch;
    return e->stop_at && (int)e->batches == e->stop_at ? 7 : 0;
}

START_TEST(test_foreach)
{
    reel_store *s;
    reel_seq *q;
    reel_cache_stats st;
    reel_cache *c;
    each_ctx e = {5, 0, 0, 0};
    c = open_cached("fe.reel", 100 * COST, &s, &q);
    ck_assert_int_eq(reel_store_set_readahead(s, 1, 8), REEL_OK);
    ck_assert_int_eq(reel_seq_foreach(q, 5, -1, 10, each, &e, REEL_FOREACH_RELEASE), REEL_OK);
    ck_assert_int_eq(e.next, N);
    ck_assert_uint_eq(e.batches, 6); /* 59 frames in batches of 10 */
    ck_assert_uint_eq(e.max_batch, 10);
    /* every batch was released; read-ahead may still hold a load's transient pin: stop it */
    ck_assert_int_eq(reel_store_set_readahead(s, 0, 1), REEL_OK);
    reel_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.pinned_bytes, 0);
    ck_assert_int_eq(reel_store_set_readahead(s, 1, 8), REEL_OK);
    e = (each_ctx){0, 0, 0, 2};
    ck_assert_int_eq(reel_seq_foreach(q, 0, 30, 4, each, &e, REEL_FOREACH_RELEASE), 7);
    ck_assert_uint_eq(e.batches, 2);
    ck_assert_int_eq(reel_seq_foreach(q, 0, 10, 0, each, &e, 0), REEL_INVALID);
    ck_assert_int_eq(reel_seq_foreach(q, 0, 10, 4, NULL, &e, 0), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}
END_TEST

/* ---- lazy handles asked for their pixels by several threads at once: one load ---- */

typedef struct lazy_race {
    reel_seq *q;
    reel_frame *shared; /* one lazy handle all threads ask */
    pthread_barrier_t go;
    atomic_int bad;
} lazy_race;

static void *lazy_racer(void *arg)
{
    lazy_race *r = arg;
    reel_frame *own;
    const void *a, *b;
    if (reel_frame_get(r->q, 7, REEL_GET_LAZY, &own) != REEL_OK) {
        atomic_fetch_add(&r->bad, 1);
        return NULL;
    }
    pthread_barrier_wait(&r->go);
    if (reel_frame_pixels(own, &a, NULL) != REEL_OK || reel_frame_pixels(r->shared, &b, NULL) !=
        REEL_OK || a != b || !expect_pixels(own, 7))
        atomic_fetch_add(&r->bad, 1);
    reel_frame_release(own);
    return NULL;
}

START_TEST(test_lazy_race)
{
    reel_store *s;
    reel_cache *c;
    reel_cache_stats st;
    lazy_race r;
    pthread_t t[4];
    int i, round;
    memset(&r, 0, sizeof r);
    c = open_cached("z.reel", 100 * COST, &s, &r.q);
    for (round = 0; round < 20; round++) {
        uint64_t loads;
        ck_assert_int_eq(reel_cache_trim(c, 0), REEL_OK);
        reel_cache_get_stats(c, &st);
        loads = st.loads;
        ck_assert_int_eq(reel_frame_get(r.q, 7, REEL_GET_LAZY, &r.shared), REEL_OK);
        pthread_barrier_init(&r.go, NULL, 4);
        for (i = 0; i < 4; i++)
            pthread_create(&t[i], NULL, lazy_racer, &r);
        for (i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&r.go);
        ck_assert_int_eq(reel_frame_release(r.shared), REEL_OK);
        reel_cache_get_stats(c, &st);
        ck_assert_uint_eq(st.loads, loads + 1); /* 5 handles, 8 asks, one decode */
    }
    ck_assert_int_eq(atomic_load(&r.bad), 0);
    reel_seq_close(r.q);
    reel_close(s);
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}
END_TEST

/* A load that fails slowly, and a second thread that waits for it: the waiter gets the
 * loader's own message, not a generic one. */
static int failing_load(void *ctx, uint8_t *pixels, reel_frame_info *info)
{
    (void)ctx, (void)pixels, (void)info;
    usleep(100000);
    return reel__err(REEL_CORRUPT, "block 7 of part X does not match its hash");
}

typedef struct waiter {
    reel_cache *c;
    reel__pin_req r;
    int rc;
    char msg[256];
} waiter;

static void *wait_for_load(void *arg)
{
    waiter *w = arg;
    reel__pinned p;
    usleep(20000); /* the other thread is loading by now */
    w->rc = reel__cache_pin(w->c, &w->r, REEL__PIN_COUNTED, &p);
    snprintf(w->msg, sizeof w->msg, "%s", reel_errmsg());
    return NULL;
}

START_TEST(test_failed_load_message)
{
    waiter w;
    reel__pinned p;
    pthread_t t;
    int rc;
    memset(&w, 0, sizeof w);
    ck_assert_int_eq(reel_cache_new(1 << 20, &w.c), REEL_OK);
    w.r = (reel__pin_req){reel__cache_serial(), 1, 0, 64, failing_load, NULL, NULL, NULL, NULL, 1};
    pthread_create(&t, NULL, wait_for_load, &w);
    rc = reel__cache_pin(w.c, &w.r, REEL__PIN_COUNTED, &p);
    pthread_join(t, NULL);
    ck_assert_int_eq(rc, REEL_CORRUPT);
    ck_assert_int_eq(w.rc, REEL_CORRUPT);
    ck_assert_msg(strstr(w.msg, "block 7 of part X") != NULL, "waiter's message: %s", w.msg);
    ck_assert_int_eq(reel_cache_free(w.c), REEL_OK);
}
END_TEST

/* ---- the effective budget's recovery, on simulated times ---- */

/* After a cut, calm time counts when the budget is next consulted: every 250 ms of calm since
 * the first raise was due earns 1/16 of the budget, at once. */
START_TEST(test_calm_time_counts)
{
    const size_t B = 1600; /* a step of 100 */
    reel__calm k = {B, 0, 0, 100000, 2000, 0};
    k.now_ms = 100000 + 1999; /* pressure 1.999 s ago: still within the calm period */
    ck_assert_uint_eq(reel__budget_recovered(&k), 0);
    k.now_ms = 100000 + 2000; /* the calm period just ended: the first step */
    ck_assert_uint_eq(reel__budget_recovered(&k), 100);
    k.now_ms = 100000 + 2000 + 3 * 250 + 249; /* three more periods passed unconsulted */
    ck_assert_uint_eq(reel__budget_recovered(&k), 400);
    k.now_ms = 100000 + 62000; /* a quiet minute: the full budget at the first miss */
    ck_assert_uint_eq(reel__budget_recovered(&k), B);
    /* a raise at 2.5 s: the next is due 250 ms later, and credits what it finds */
    k.effective = 200;
    k.raised_ms = 102500;
    k.now_ms = 102749;
    ck_assert_uint_eq(reel__budget_recovered(&k), 200);
    k.now_ms = 102750;
    ck_assert_uint_eq(reel__budget_recovered(&k), 300);
    k.now_ms = 102500 + 10 * 250;
    ck_assert_uint_eq(reel__budget_recovered(&k), 1200);
    /* a raise from before the pressure counts for nothing: calm starts with the pressure */
    k.raised_ms = 50000;
    k.now_ms = 100000 + 2000 + 250;
    ck_assert_uint_eq(reel__budget_recovered(&k), 400);
    /* nothing to recover, a tiny budget (a step of 1 byte), no overshoot */
    k.effective = B;
    ck_assert_uint_eq(reel__budget_recovered(&k), B);
    k = (reel__calm){10, 3, 200000, 100000, 2000, 0};
    ck_assert_uint_eq(reel__budget_recovered(&k), 10);
    k.now_ms = 100000 + 2000 + 250;
    ck_assert_uint_eq(reel__budget_recovered(&k), 5);
    k = (reel__calm){B, 1550, 200000, 100000, 2000, 0};
    ck_assert_uint_eq(reel__budget_recovered(&k), B);
}
END_TEST

/* ---- threads: readers on shared frames, budget changes and trims, all at once ---- */

typedef struct stress {
    reel_seq *q;
    reel_cache *c;
    atomic_int bad, stop;
    unsigned seed;
} stress;

static void *reader(void *arg)
{
    stress *st = arg;
    unsigned seed = (unsigned)atomic_fetch_add(&st->bad, 0) + (unsigned)(uintptr_t)&seed;
    int i;
    for (i = 0; i < 1500; i++) {
        reel_frame *f;
        int64_t idx = rand_r(&seed) % N;
        if (reel_frame_get(st->q, idx, (i & 3) == 0 ? REEL_GET_LAZY : 0, &f) != REEL_OK ||
            !expect_pixels(f, idx))
            atomic_fetch_add(&st->bad, 1);
        reel_frame_release(f);
    }
    return NULL;
}

/* One-pass scans of 12 frames from random starts (a temporal sequence's scans hand their
 * reference on through reel_seq.scan_last). */
static void *scanner(void *arg)
{
    stress *st = arg;
    unsigned seed = (unsigned)(uintptr_t)&seed;
    int i, k;
    for (i = 0; i < 60; i++) {
        int64_t first = rand_r(&seed) % (N - 12);
        for (k = 0; k < 12; k++) {
            reel_frame *f;
            if (reel_frame_get(st->q, first + k, REEL_GET_ONCE, &f) != REEL_OK ||
                !expect_pixels(f, first + k))
                atomic_fetch_add(&st->bad, 1);
            reel_frame_release(f);
        }
    }
    return NULL;
}

static void *squeezer(void *arg)
{
    stress *st = arg;
    unsigned seed = 3;
    unsigned char *m = malloc(5000);
    int64_t n;
    while (!atomic_load(&st->stop)) {
        reel_cache_set_budget(st->c, (size_t)(rand_r(&seed) % 20) * COST);
        reel_cache_trim(st->c, (size_t)(rand_r(&seed) % 10) * COST);
        /* which frames are resident, frame by frame and by a pass over the table */
        if (m && (reel_seq_resident(st->q, 0, N, m, &n) != REEL_OK || n > N ||
                  reel_seq_resident(st->q, 0, 5000, m, &n) != REEL_OK || n > N))
            atomic_fetch_add(&st->bad, 1);
    }
    free(m);
    return NULL;
}

/* Temporal one-pass scans, budget changes, trims and residency queries at once. */
START_TEST(test_threads_temporal_scans)
{
    reel_store *s;
    stress st;
    pthread_t r[3], sq;
    reel_cache_stats cs;
    int i;
    memset(&st, 0, sizeof st);
    st.c = open_temporal("tt.reel", 8 * COST, &s, &st.q);
    pthread_create(&sq, NULL, squeezer, &st);
    for (i = 0; i < 3; i++)
        pthread_create(&r[i], NULL, scanner, &st);
    for (i = 0; i < 3; i++)
        pthread_join(r[i], NULL);
    atomic_store(&st.stop, 1);
    pthread_join(sq, NULL);
    ck_assert_int_eq(atomic_load(&st.bad), 0);
    ck_assert_int_eq(reel_cache_get_stats(st.c, &cs), REEL_OK);
    ck_assert_uint_eq(cs.pinned_bytes, 0);
    ck_assert_uint_eq(cs.hits + cs.misses, 3 * 60 * 12);
    reel_seq_close(st.q);
    reel_close(s);
    ck_assert_int_eq(reel_cache_free(st.c), REEL_OK);
}
END_TEST

START_TEST(test_threads_stress)
{
    reel_store *s;
    stress st;
    pthread_t r[4], sq;
    reel_cache_stats cs;
    int i;
    memset(&st, 0, sizeof st);
    open_store("t.reel", &s, &st.q);
    ck_assert_int_eq(reel_cache_new(8 * COST, &st.c), REEL_OK);
    ck_assert_int_eq(reel_store_set_cache(s, st.c), REEL_OK);
    pthread_create(&sq, NULL, squeezer, &st);
    for (i = 0; i < 4; i++)
        pthread_create(&r[i], NULL, reader, &st);
    for (i = 0; i < 4; i++)
        pthread_join(r[i], NULL);
    atomic_store(&st.stop, 1);
    pthread_join(sq, NULL);
    ck_assert_int_eq(atomic_load(&st.bad), 0);
    ck_assert_int_eq(reel_cache_get_stats(st.c, &cs), REEL_OK);
    ck_assert_uint_eq(cs.pinned_bytes, 0);
    ck_assert_uint_eq(cs.hits + cs.misses, 4 * 1500); /* one pin per get, lazy ones too */
    reel_seq_close(st.q);
    reel_close(s);
    ck_assert_int_eq(tu_sql_int(tu_path("t.reel"), "SELECT sum(count) FROM reel_access"), 6000);
    ck_assert_int_eq(reel_cache_free(st.c), REEL_OK);
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("cache", 120);
    tcase_add_test(tc, test_budget_never_exceeded);
    tcase_add_test(tc, test_pins_survive);
    tcase_add_test(tc, test_hits_and_lru_order);
    tcase_add_test(tc, test_lazy_and_errors);
    tcase_add_test(tc, test_shared_and_private);
    tcase_add_test(tc, test_access_counts_persist);
    tcase_add_test(tc, test_scan_resistance);
    tcase_add_test(tc, test_scan_resistance_temporal);
    tcase_add_test(tc, test_resident_map);
    tcase_add_test(tc, test_batch_and_window);
    tcase_add_test(tc, test_scoped_budget);
    tcase_add_test(tc, test_strict_mode);
    tcase_add_test(tc, test_timed_flush);
    tcase_add_test(tc, test_readahead);
    tcase_add_test(tc, test_foreach);
    tcase_add_test(tc, test_lazy_race);
    tcase_add_test(tc, test_failed_load_message);
    tcase_add_test(tc, test_threads_stress);
    tcase_add_test(tc, test_threads_temporal_scans);
    tcase_add_test(tc, test_calm_time_counts);
    return tu_run("cache", tc);
}
