/*
 * reel-cache-bench - the RAM tier's figures, each against its baseline in the same run.
 *
 *   reel-cache-bench STORE SEQUENCE [--seconds S]
 *
 *   hit path   get+release of resident frames per second, on 1 thread and on 2 threads
 *              (different frames), and the 2-thread speed-up (targets: >= 5 M/s, >= 1.6x);
 *   cold read  frames per second through an empty cache (store file in the OS page cache)
 *              against the codec decoding the same blobs already in memory (target >= 0.9x);
 *   read-ahead the share of sequential gets that never wait for a load when the caller does
 *              1 ms of its own work per frame (target > 95%).
 * This grows into `reel bench`.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define BENCH_NAME "reel-cache-bench"
#include "bench.h"

typedef struct hit_job {
    reel_seq *q;
    int64_t first, count;
    double seconds;
    long long ops;
} hit_job;

static void *hits(void *arg)
{
    hit_job *j = arg;
    double t0 = bench_now(), end = t0 + j->seconds;
    long long ops = 0;
    int64_t i = 0;
    while (1) {
        int k;
        for (k = 0; k < 1000; k++) {
            reel_frame *f;
            if (reel_frame_get(j->q, j->first + i, 0, &f) != REEL_OK)
                die(reel_errmsg());
            reel_frame_release(f);
            if (++i == j->count)
                i = 0;
        }
        ops += 1000;
        if (bench_now() >= end)
            break;
    }
    j->ops = ops;
    j->seconds = bench_now() - t0;
    return NULL;
}

int main(int argc, char **argv)
{
    reel_store *s;
    reel_seq *q;
    reel_seq_info info;
    reel_cache *c;
    reel_cache_stats st;
    hit_job one, two[2];
    pthread_t t[2];
    double secs = 1.0, r1, r2, t_cache, t_codec;
    int64_t n, i, warm;
    int k;
    if (argc < 3)
        die("usage: reel-cache-bench STORE SEQUENCE [--seconds S]");
    if (argc > 4 && !strcmp(argv[3], "--seconds"))
        secs = atof(argv[4]);
    if (reel_open(argv[1], REEL_OPEN_READONLY, NULL, &s) || reel_seq_open(s, argv[2], &q) ||
        reel_seq_info_get(q, &info))
        die(reel_errmsg());
    n = info.frame_count;
    if (reel_cache_new((size_t)1 << 34, &c) || reel_store_set_cache(s, c))
        die(reel_errmsg());

    /* hit path: 2 x 64 resident frames (or fewer), read-ahead off: it measures the cache */
    reel_store_set_readahead(s, 0, 1);
    warm = n < 128 ? n : 128;
    for (i = 0; i < warm; i++) {
        reel_frame *f;
        if (reel_frame_get(q, i, 0, &f))
            die(reel_errmsg());
        reel_frame_release(f);
    }
    one = (hit_job){q, 0, warm, secs, 0};
    hits(&one);
    r1 = one.ops / one.seconds;
    for (k = 0; k < 2; k++) {
        two[k] = (hit_job){q, k * (warm / 2), warm / 2 ? warm / 2 : 1, secs, 0};
        pthread_create(&t[k], NULL, hits, &two[k]);
    }
    for (k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    r2 = two[0].ops / two[0].seconds + two[1].ops / two[1].seconds;
    printf("hit path   1 thread %.2f M get+release/s   2 threads %.2f M/s (%.2fx)   targets >= 5 "
           "M/s, >= 1.6x\n",
           r1 / 1e6, r2 / 1e6, r2 / r1);

    /* cold reads through an empty cache, then the codec alone on the same blobs */
    reel_cache_trim(c, 0);
    t_cache = bench_now();
    for (i = 0; i < n; i++) {
        reel_frame *f;
        if (reel_frame_get(q, i, 0, &f))
            die(reel_errmsg());
        reel_frame_release(f);
        reel_cache_trim(c, 0);
    }
    t_cache = bench_now() - t_cache;
    {
        sqlite3 *db;
        sqlite3_stmt *stm;
        reel__codec *codec = reel__codec_new();
        void **blobs = calloc((size_t)n, sizeof *blobs);
        size_t *lens = calloc((size_t)n, sizeof *lens);
        int *filters = calloc((size_t)n, sizeof *filters);
        uint64_t *sums = calloc((size_t)n, sizeof *sums);
        uint8_t *out = malloc(info.frame_size);
        const char *why;
        if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) ||
            sqlite3_prepare_v2(db,
                               "SELECT f.idx, f.filter, f.checksum, b.data FROM reel_frame f JOIN "
                               "reel_sequence s ON s.id = f.seq_id JOIN reel_blob b ON b.id = "
                               "f.blob_id WHERE s.name = ?1",
                               -1, &stm, NULL))
            die("cannot read the blobs");
        sqlite3_bind_text(stm, 1, argv[2], -1, SQLITE_STATIC);
        while (sqlite3_step(stm) == SQLITE_ROW) {
            int64_t idx = sqlite3_column_int64(stm, 0);
            if (idx < 0 || idx >= n)
                continue;
            lens[idx] = (size_t)sqlite3_column_bytes(stm, 3);
            blobs[idx] = malloc(lens[idx]);
            memcpy(blobs[idx], sqlite3_column_blob(stm, 3), lens[idx]);
            filters[idx] = sqlite3_column_int(stm, 1);
            sums[idx] = (uint64_t)sqlite3_column_int64(stm, 2);
        }
        sqlite3_finalize(stm);
        sqlite3_close(db);
        t_codec = bench_now();
        for (i = 0; i < n; i++)
            if (blobs[i] && reel__decode(codec, filters[i], info.pix_fmt, info.width, info.height,
                                         blobs[i], lens[i], sums[i], out, &why))
                die(why);
        t_codec = bench_now() - t_codec;
        for (i = 0; i < n; i++)
            free(blobs[i]);
        free(blobs);
        free(lens);
        free(filters);
        free(sums);
        free(out);
        reel__codec_free(codec);
    }
    /* sequential reading with read-ahead (1 worker, 8 ahead) and 1 ms of the caller's own work
     * per frame: how many gets had to wait for a load (took over 0.2 ms)? */
    reel_store_set_readahead(s, 1, 8);
    reel_cache_trim(c, 0);
    {
        int64_t waited = 0, m = n < 600 ? n : 600;
        double worst = 0;
        for (i = 0; i < m; i++) {
            reel_frame *f;
            double t0 = bench_now(), dt;
            if (reel_frame_get(q, i, 0, &f))
                die(reel_errmsg());
            dt = bench_now() - t0;
            waited += dt > 0.0002;
            worst = dt > worst ? dt : worst;
            reel_frame_release(f);
            while (bench_now() - t0 < 0.001 + dt)
                ; /* the caller's own work */
        }
        printf("read-ahead %lld of %lld sequential gets did not wait (%.1f%%), longest wait %.2f "
               "ms   target: > 95%% never wait\n",
               (long long)(m - waited), (long long)m, 100.0 * (double)(m - waited) / (double)m,
               worst * 1e3);
    }
    printf("cold read  through the cache %.0f frames/s   codec alone %.0f frames/s   %.2fx   "
           "target >= 0.9x\n",
           n / t_cache, n / t_codec, t_codec / t_cache);
    reel_cache_stats_get(c, &st);
    printf("cache      %llu hits, %llu misses, %llu loads, load time mean %.2f ms, max %.2f ms\n",
           (unsigned long long)st.hits, (unsigned long long)st.misses,
           (unsigned long long)st.loads, st.load_seconds_total * 1e3 / (double)(st.loads ? st.loads : 1),
           st.load_seconds_max * 1e3);
    reel_seq_close(q);
    reel_close(s);
    reel_cache_free(c);
    return 0;
}
