/* check_share.c - opens of one store file sharing one set of cached frames (src/tier/share.c):
 * a second open's first read is a hit on the first open's frame; a file renamed over the path,
 * or removed and made again, is never served the frames of the file it replaced; closing one
 * open leaves the other's frames and reads working; access counts of both reach the file once;
 * a store moved to another cache stops sharing; threads opening, reading and closing one file
 * at once (run under TSan in CI). */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reel.h"
#include "testutil.h"

enum { W = 32, H = 24, N = 16 };
#define FS ((size_t)W * H) /* gray8 */

/* A store at path with sequence "s": N frames, frame i filled from seed base + i. */
static void make_store(const char *path, uint32_t base)
{
    reel_seq_params p = {W, H, REEL_PIX_GRAY8, {1, 25}, NULL, 0, 0};
    reel_store *s;
    reel_seq *q;
    uint8_t px[FS];
    int i;
    ck_assert_int_eq(reel_open(path, REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "s", &p, &q), REEL_OK);
    for (i = 0; i < N; i++) {
        reel_frame_in in = {px, FS, i, 1, i == 0 ? REEL_FRAME_KEY : 0, REEL_STATUS_OK};
        tu_fill(px, REEL_PIX_GRAY8, W, H, base + (uint32_t)i);
        ck_assert_int_eq(reel_frame_append(q, &in, NULL), REEL_OK);
    }
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
}

/* Open path (flags) in cache c, read-ahead off, with its sequence "s". */
static void open_in(const char *path, int flags, reel_cache *c, reel_store **s, reel_seq **q)
{
    ck_assert_int_eq(reel_open(path, flags, NULL, s), REEL_OK);
    ck_assert_int_eq(reel_store_set_readahead(*s, 0, 1), REEL_OK);
    if (c)
        ck_assert_int_eq(reel_store_set_cache(*s, c), REEL_OK);
    ck_assert_int_eq(reel_seq_open(*s, "s", q), REEL_OK);
}

static void close_both(reel_store *s, reel_seq *q)
{
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
}

/* Two opens a and b of one new store (flags fa, fb) in a private cache c. */
typedef struct pair {
    char path[4096];
    reel_store *a, *b;
    reel_seq *qa, *qb;
    reel_cache *c;
} pair;

static void pair_open(pair *p, const char *name, int fa, int fb)
{
    snprintf(p->path, sizeof p->path, "%s", tu_path(name));
    make_store(p->path, 0);
    ck_assert_int_eq(reel_cache_new(1 << 20, &p->c), REEL_OK);
    open_in(p->path, fa, p->c, &p->a, &p->qa);
    open_in(p->path, fb, p->c, &p->b, &p->qb);
}

static reel_cache_stats cache_stats(reel_cache *c)
{
    reel_cache_stats st;
    ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
    return st;
}

/* Get frame i and check its pixels are those of seed; the handle stays pinned. */
static reel_frame *get_checked(reel_seq *q, int64_t i, uint32_t seed)
{
    uint8_t want[FS];
    const void *px;
    size_t n;
    reel_frame *f;
    ck_assert_int_eq(reel_frame_get(q, i, 0, &f), REEL_OK);
    ck_assert_int_eq(reel_frame_pixels(f, &px, &n), REEL_OK);
    ck_assert_uint_eq(n, FS);
    tu_fill(want, REEL_PIX_GRAY8, W, H, seed);
    ck_assert_mem_eq(px, want, FS);
    return f;
}

static void read_checked(reel_seq *q, int64_t i, uint32_t seed)
{
    ck_assert_int_eq(reel_frame_release(get_checked(q, i, seed)), REEL_OK);
}

START_TEST(test_two_opens_share)
{
    pair p;
    reel_frame *fa, *fb;
    const void *pa, *pb;
    size_t n;
    reel_cache_stats st;
    pair_open(&p, "a.reel", REEL_OPEN_READONLY, REEL_OPEN_READONLY);
    fa = get_checked(p.qa, 3, 3);
    st = cache_stats(p.c);
    ck_assert_uint_eq(st.misses, 1);
    ck_assert_uint_eq(st.hits, 0);
    fb = get_checked(p.qb, 3, 3); /* the second open's first read: a hit */
    st = cache_stats(p.c);
    ck_assert_uint_eq(st.misses, 1);
    ck_assert_uint_eq(st.hits, 1);
    ck_assert_uint_eq(st.loads, 1);
    ck_assert_uint_eq(st.resident_frames, 1);
    ck_assert_int_eq(reel_frame_pixels(fa, &pa, &n), REEL_OK);
    ck_assert_int_eq(reel_frame_pixels(fb, &pb, &n), REEL_OK);
    ck_assert_ptr_eq(pa, pb); /* one copy of the frame, pinned by both */
    ck_assert_int_eq(reel_frame_release(fa), REEL_OK);
    ck_assert_int_eq(reel_frame_release(fb), REEL_OK);
    /* the sequence's counters are the file's: both handles see the one miss and the one hit */
    ck_assert_int_eq(reel_seq_get_cache_stats(p.qa, &st), REEL_OK);
    ck_assert_uint_eq(st.misses, 1);
    ck_assert_uint_eq(st.hits, 1);
    close_both(p.a, p.qa);
    close_both(p.b, p.qb);
    ck_assert_uint_eq(cache_stats(p.c).resident_frames, 0); /* the last close purged it */
    ck_assert_int_eq(reel_cache_free(p.c), REEL_OK);
}
END_TEST

/* The default cache too: two plain opens share it. */
START_TEST(test_default_cache_shared)
{
    const char *path = tu_path("d.reel");
    reel_store *a, *b;
    reel_seq *qa, *qb;
    reel_cache_stats st0, st;
    make_store(path, 0);
    open_in(path, REEL_OPEN_READONLY, NULL, &a, &qa);
    open_in(path, 0, NULL, &b, &qb); /* a read-write open of the same file */
    read_checked(qa, 5, 5);
    st0 = cache_stats(reel_cache_default());
    read_checked(qb, 5, 5);
    st = cache_stats(reel_cache_default());
    ck_assert_uint_eq(st.misses, st0.misses);
    ck_assert_uint_eq(st.hits, st0.hits + 1);
    close_both(a, qa);
    close_both(b, qb);
}
END_TEST

/* A file renamed over the path of an open store, or the store removed and made again: a new
 * open reads the new file, never the frames the old open cached. */
static void replaced(int remove_first)
{
    char path[4096], other[4096];
    reel_store *a, *b;
    reel_seq *qa, *qb;
    reel_cache *c;
    int64_t i;
    snprintf(path, sizeof path, "%s", tu_path("r.reel")); /* tu_path's buffer is reused */
    snprintf(other, sizeof other, "%s", tu_path("other.reel"));
    make_store(path, 0);
    ck_assert_int_eq(reel_cache_new(1 << 20, &c), REEL_OK);
    open_in(path, REEL_OPEN_READONLY, c, &a, &qa);
    for (i = 0; i < N; i++)
        read_checked(qa, i, (uint32_t)i);
    if (remove_first) {
        ck_assert_int_eq(unlink(path), 0);
        make_store(path, 1000);
    } else {
        make_store(other, 1000);
        ck_assert_int_eq(rename(other, path), 0);
    }
    open_in(path, REEL_OPEN_READONLY, c, &b, &qb);
    for (i = 0; i < N; i++)
        read_checked(qb, i, 1000 + (uint32_t)i); /* the new file's frames */
    ck_assert_uint_eq(cache_stats(c).misses, 2 * N);
    for (i = 0; i < N; i++)
        read_checked(qa, i, (uint32_t)i); /* the old open still reads its own file's */
    close_both(a, qa);
    close_both(b, qb);
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}

START_TEST(test_replaced_not_shared) { replaced(0); }
END_TEST

START_TEST(test_recreated_not_shared) { replaced(1); }
END_TEST

/* A store closed and its file replaced before the next open: its frames went with it. */
START_TEST(test_closed_then_replaced)
{
    const char *path = tu_path("c.reel");
    reel_store *a;
    reel_seq *qa;
    reel_cache *c;
    make_store(path, 0);
    ck_assert_int_eq(reel_cache_new(1 << 20, &c), REEL_OK);
    open_in(path, REEL_OPEN_READONLY, c, &a, &qa);
    read_checked(qa, 2, 2);
    close_both(a, qa);
    ck_assert_int_eq(unlink(path), 0);
    make_store(path, 500);
    open_in(path, REEL_OPEN_READONLY, c, &a, &qa);
    read_checked(qa, 2, 502);
    close_both(a, qa);
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}
END_TEST

START_TEST(test_close_one_keeps_other)
{
    pair p;
    reel_cache_stats st;
    int64_t i;
    pair_open(&p, "k.reel", REEL_OPEN_READONLY, REEL_OPEN_READONLY);
    for (i = 0; i < N; i++)
        read_checked(p.qa, i, (uint32_t)i);
    close_both(p.a, p.qa);
    ck_assert_uint_eq(cache_stats(p.c).resident_frames, N); /* still b's */
    for (i = 0; i < N; i++)
        read_checked(p.qb, i, (uint32_t)i);
    st = cache_stats(p.c);
    ck_assert_uint_eq(st.misses, N);
    ck_assert_uint_eq(st.hits, N);
    ck_assert_int_eq(reel_seq_get_cache_stats(p.qb, &st), REEL_OK);
    ck_assert_uint_eq(st.resident_frames, N);
    /* the first open again: it joins b's frames, and keeps them when b closes */
    open_in(p.path, REEL_OPEN_READONLY, p.c, &p.a, &p.qa);
    read_checked(p.qa, 0, 0);
    ck_assert_uint_eq(cache_stats(p.c).misses, N);
    close_both(p.b, p.qb);
    read_checked(p.qa, 1, 1);
    ck_assert_uint_eq(cache_stats(p.c).misses, N);
    close_both(p.a, p.qa);
    ck_assert_uint_eq(cache_stats(p.c).resident_frames, 0);
    ck_assert_int_eq(reel_cache_free(p.c), REEL_OK);
}
END_TEST

/* Reads through a read-only open and a read-write one of the file: each access reaches the
 * file once, whichever open read it. */
START_TEST(test_counts_once)
{
    pair p;
    reel_frame *f;
    int64_t count;
    pair_open(&p, "n.reel", 0, REEL_OPEN_READONLY);
    read_checked(p.qa, 4, 4);
    read_checked(p.qa, 4, 4);
    read_checked(p.qb, 4, 4);
    f = get_checked(p.qb, 4, 4);
    ck_assert_int_eq(reel_frame_access_count(f, &count), REEL_OK);
    ck_assert_int_eq(count, 4);
    ck_assert_int_eq(reel_frame_release(f), REEL_OK);
    ck_assert_int_eq(reel_flush(p.a), REEL_OK);
    ck_assert_int_eq(reel_flush(p.a), REEL_OK); /* nothing counted twice */
    close_both(p.b, p.qb);
    close_both(p.a, p.qa);
    ck_assert_int_eq(tu_sql_int(p.path, "SELECT access_count FROM reel_frames WHERE "
                                        "sequence = 's' AND idx = 4"),
                     4);
    ck_assert_int_eq(reel_cache_free(p.c), REEL_OK);
}
END_TEST

/* A store moved to another cache leaves the share: the other open keeps its frames, and the
 * moved one's policy goes with it. */
START_TEST(test_set_cache_leaves)
{
    pair p;
    reel_cache *d;
    reel_seq_policy pol = {0}, got;
    pair_open(&p, "m.reel", REEL_OPEN_READONLY, REEL_OPEN_READONLY);
    ck_assert_int_eq(reel_cache_new(1 << 20, &d), REEL_OK);
    pol.max_frames = 8;
    ck_assert_int_eq(reel_seq_set_policy(p.qb, &pol), REEL_OK);
    read_checked(p.qa, 7, 7);
    ck_assert_int_eq(reel_store_set_cache(p.b, d), REEL_OK);
    ck_assert_int_eq(reel_seq_get_policy(p.qb, &got), REEL_OK);
    ck_assert_int_eq(got.max_frames, 8);
    read_checked(p.qb, 7, 7);
    ck_assert_uint_eq(cache_stats(d).misses, 1); /* not a's frame any more */
    ck_assert_uint_eq(cache_stats(p.c).resident_frames, 1);
    read_checked(p.qa, 7, 7);
    ck_assert_uint_eq(cache_stats(p.c).misses, 1);
    ck_assert_int_eq(reel_store_set_cache(p.b, p.c), REEL_OK); /* and back: shared again */
    read_checked(p.qb, 7, 7);
    ck_assert_uint_eq(cache_stats(p.c).misses, 1);
    close_both(p.a, p.qa);
    close_both(p.b, p.qb);
    ck_assert_int_eq(reel_cache_free(p.c), REEL_OK);
    ck_assert_int_eq(reel_cache_free(d), REEL_OK);
}
END_TEST

/* Threads each opening the file, reading every frame (checked) and closing, several rounds,
 * in one cache: every frame right, nothing left resident or pinned at the end. */
enum { THREADS = 4, ROUNDS = 6 };
static const char *thread_path;
static reel_cache *thread_cache;

static void *reader(void *arg)
{
    int64_t t = (int64_t)(intptr_t)arg, r, i;
    for (r = 0; r < ROUNDS; r++) {
        reel_store *s;
        reel_seq *q;
        uint8_t want[FS];
        if (reel_open(thread_path, REEL_OPEN_READONLY, NULL, &s) != REEL_OK)
            return (void *)1;
        if (reel_store_set_readahead(s, (int)(r & 1), 4) != REEL_OK ||
            reel_store_set_cache(s, thread_cache) != REEL_OK ||
            reel_seq_open(s, "s", &q) != REEL_OK)
            return (void *)2;
        for (i = 0; i < N; i++) {
            int64_t k = (i * 7 + t + r) % N;
            reel_frame *f;
            const void *px;
            size_t n;
            if (reel_frame_get(q, k, 0, &f) != REEL_OK || reel_frame_pixels(f, &px, &n) != REEL_OK)
                return (void *)3;
            tu_fill(want, REEL_PIX_GRAY8, W, H, (uint32_t)k);
            if (n != FS || memcmp(px, want, FS) != 0)
                return (void *)4;
            reel_frame_release(f);
        }
        if (reel_seq_close(q) != REEL_OK || reel_close(s) != REEL_OK)
            return (void *)5;
    }
    return NULL;
}

START_TEST(test_threads_open_read_close)
{
    pthread_t th[THREADS];
    reel_cache_stats st;
    intptr_t i;
    void *ret;
    thread_path = tu_path("t.reel");
    make_store(thread_path, 0);
    ck_assert_int_eq(reel_cache_new(1 << 20, &thread_cache), REEL_OK);
    for (i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, reader, (void *)i), 0);
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(th[i], &ret), 0);
        ck_assert_ptr_null(ret);
    }
    st = cache_stats(thread_cache);
    ck_assert_uint_eq(st.resident_frames, 0);
    ck_assert_uint_eq(st.pinned_bytes, 0);
    ck_assert_uint_eq(st.hits + st.misses, (uint64_t)THREADS * ROUNDS * N);
    ck_assert_int_eq(reel_cache_free(thread_cache), REEL_OK);
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("share", 120);
    tcase_add_test(tc, test_two_opens_share);
    tcase_add_test(tc, test_default_cache_shared);
    tcase_add_test(tc, test_replaced_not_shared);
    tcase_add_test(tc, test_recreated_not_shared);
    tcase_add_test(tc, test_closed_then_replaced);
    tcase_add_test(tc, test_close_one_keeps_other);
    tcase_add_test(tc, test_counts_once);
    tcase_add_test(tc, test_set_cache_leaves);
    tcase_add_test(tc, test_threads_open_read_close);
    return tu_run("share", tc);
}
