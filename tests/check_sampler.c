/* check_sampler.c - reel_sample: shares that cover every item once, shuffled by seed and
 * epoch, chunk-local, resumable at any position, and refusal of options out of range. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "reel.h"

static reel_sample_options opts(int64_t items, int64_t chunk, int rank, int world)
{
    reel_sample_options o;
    memset(&o, 0, sizeof o);
    o.items = items;
    o.chunk = chunk;
    o.rank = rank;
    o.world = world;
    o.seed = 42;
    return o;
}

/* Rank's whole share, malloc'ed; *n its length. */
static int64_t *share(const reel_sample_options *o, int64_t *n)
{
    int64_t *v;
    *n = reel_sample_count(o);
    v = malloc((size_t)(*n ? *n : 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(reel_sample(o, 0, *n, v), REEL_OK);
    return v;
}

START_TEST(test_shares_cover_every_item)
{
    static const int64_t cases[][3] = {/* items, chunk, world */
                                       {1000, 64, 4},  {1000, 64, 3},  {1001, 0, 7}, {5, 2, 8},
                                       {256, 256, 2},  {257, 256, 2},  {1, 0, 1},    {97, 1, 5},
                                       {4096, 100, 1}, {10000, 3, 16}};
    size_t c;
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int64_t items = cases[c][0], chunk = cases[c][1], world = cases[c][2];
        int *seen = calloc((size_t)items, sizeof *seen);
        int64_t total = 0, i, n, m = -1;
        int r;
        for (r = 0; r < world; r++) {
            reel_sample_options o = opts(items, chunk, r, (int)world);
            int64_t *v = share(&o, &n);
            ck_assert(m < 0 || n == m); /* equal shares */
            m = n;
            for (i = 0; i < n; i++) {
                ck_assert(v[i] >= 0 && v[i] < items);
                seen[v[i]]++;
            }
            total += n;
            free(v);
        }
        ck_assert_int_eq(m, (items + world - 1) / world);
        for (i = 0; i < items; i++) /* each once; the padding adds at most world - 1 */
            ck_assert_msg(seen[i] == 1 || (seen[i] == 2 && items % world),
                          "case %zu: item %lld seen %d times", c, (long long)i, seen[i]);
        ck_assert_int_eq(total - items, m * world - items);
        free(seen);
    }
}
END_TEST

START_TEST(test_seed_and_epoch_shuffle)
{
    reel_sample_options o = opts(5000, 50, 1, 3);
    int64_t n, i, *a = share(&o, &n), *b, *e, *s, sorted = 0, same_e = 0, same_s = 0;
    b = share(&o, &n);
    ck_assert(memcmp(a, b, (size_t)n * sizeof *a) == 0); /* deterministic */
    o.epoch = 1;
    e = share(&o, &n);
    o.epoch = 0;
    o.seed = 43;
    s = share(&o, &n);
    for (i = 0; i + 1 < n; i++)
        sorted += a[i] < a[i + 1];
    for (i = 0; i < n; i++) {
        same_e += a[i] == e[i];
        same_s += a[i] == s[i];
    }
    ck_assert_int_lt(sorted, n * 3 / 4); /* not in store order */
    ck_assert_int_lt(same_e, n / 20);    /* another epoch, another order */
    ck_assert_int_lt(same_s, n / 20);
    free(a);
    free(b);
    free(e);
    free(s);
}
END_TEST

START_TEST(test_chunk_local)
{
    /* a worker's share covers about share/chunk + 2 chunks, visited one after another */
    enum { ITEMS = 100000, CHUNK = 256, WORLD = 8 };
    int r;
    for (r = 0; r < WORLD; r++) {
        reel_sample_options o = opts(ITEMS, CHUNK, r, WORLD);
        int64_t n, i, switches = 0, *v = share(&o, &n);
        char *hit = calloc(ITEMS / CHUNK + 1, 1);
        int64_t distinct = 0;
        for (i = 0; i < n; i++) {
            if (!hit[v[i] / CHUNK]++)
                distinct++;
            switches += i > 0 && v[i] / CHUNK != v[i - 1] / CHUNK;
        }
        ck_assert_int_le(distinct, n / CHUNK + 2);
        ck_assert_int_eq(switches, distinct - 1); /* no chunk is left and come back to */
        free(hit);
        free(v);
    }
}
END_TEST

START_TEST(test_resume_anywhere)
{
    reel_sample_options o = opts(777, 10, 2, 4);
    int64_t n, *all = share(&o, &n), part[200], at;
    for (at = 0; at < n; at += 37) {
        int64_t k = n - at < 50 ? n - at : 50;
        ck_assert_int_eq(reel_sample(&o, at, k, part), REEL_OK);
        ck_assert(memcmp(part, all + at, (size_t)k * sizeof *part) == 0);
    }
    free(all);
}
END_TEST

START_TEST(test_huge_and_empty)
{
    /* 10^12 items among 1000 workers: no table, any position at once */
    reel_sample_options o = opts(1000000000000, 4096, 999, 1000);
    int64_t v[64], i, j;
    ck_assert_int_eq(reel_sample_count(&o), 1000000000);
    ck_assert_int_eq(reel_sample(&o, 999999936, 64, v), REEL_OK);
    for (i = 0; i < 64; i++) {
        ck_assert(v[i] >= 0 && v[i] < o.items);
        for (j = 0; j < i; j++)
            ck_assert(v[i] != v[j]);
    }
    o = opts(0, 0, 0, 1);
    ck_assert_int_eq(reel_sample_count(&o), 0);
    ck_assert_int_eq(reel_sample(&o, 0, 0, NULL), REEL_OK);
}
END_TEST

START_TEST(test_refusals)
{
    reel_sample_options o = opts(100, 0, 0, 2);
    int64_t v[60];
    ck_assert_int_eq(reel_sample(&o, 0, 51, v), REEL_INVALID); /* past the share of 50 */
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "outside"));
    ck_assert_int_eq(reel_sample(&o, 51, 0, v), REEL_INVALID);
    ck_assert_int_eq(reel_sample(&o, -1, 1, v), REEL_INVALID);
    ck_assert_int_eq(reel_sample(&o, 0, -1, v), REEL_INVALID);
    ck_assert_int_eq(reel_sample(&o, 40, INT64_MAX, v), REEL_INVALID);
    ck_assert_int_eq(reel_sample(NULL, 0, 1, v), REEL_MISUSE);
    ck_assert_int_eq(reel_sample(&o, 0, 1, NULL), REEL_MISUSE);
    o.rank = 2;
    ck_assert_int_eq(reel_sample(&o, 0, 1, v), REEL_INVALID);
    ck_assert_int_eq(reel_sample_count(&o), 0);
    o.rank = -1;
    ck_assert_int_eq(reel_sample(&o, 0, 1, v), REEL_INVALID);
    o = opts(100, -1, 0, 1);
    ck_assert_int_eq(reel_sample(&o, 0, 1, v), REEL_INVALID);
    o = opts(-5, 0, 0, 1);
    ck_assert_int_eq(reel_sample(&o, 0, 0, v), REEL_INVALID);
    o = opts(100, 0, 0, 0);
    ck_assert_int_eq(reel_sample(&o, 0, 0, v), REEL_INVALID);
    o = opts(100, 0, 0, 1);
    o.reserved[1] = 1;
    ck_assert_int_eq(reel_sample(&o, 0, 1, v), REEL_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sampler");
    TCase *tc = tcase_create("sampler");
    SRunner *sr;
    int failed;
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_shares_cover_every_item);
    tcase_add_test(tc, test_seed_and_epoch_shuffle);
    tcase_add_test(tc, test_chunk_local);
    tcase_add_test(tc, test_resume_anywhere);
    tcase_add_test(tc, test_huge_and_empty);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
