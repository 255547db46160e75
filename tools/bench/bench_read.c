/* bench_read.c - `reel bench`: cold reads (against the codec alone, plain zstd and pread),
 * cache hits on 1 and 2 threads, read-ahead, the sequential scan (against FFmpeg decoding)
 * and sizes (against zstd -3 and FFV1). */
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "bench_run.h"
#include "codec/codec.h"
#include "store/frame.h"

/* ---- 3. cold reads, against plain zstd and pread ------------------------------------------- */

/* The first n frames' raw pixels, read once (not through the cache, not counted). */
uint8_t *bench_sample_frames(bench *b, size_t n)
{
    uint8_t *raw = malloc(n * b->info.frame_size);
    if (raw && reel_frame_read_range(b->q, 0, n, raw, n * b->info.frame_size) != REEL_OK) {
        cli_fail(b->path, REEL_ERROR);
        free(raw);
        return NULL;
    }
    return raw;
}

static double time_zstd(const uint8_t *raw, size_t n, size_t fs, int level, size_t *total)
{
    size_t cap = ZSTD_compressBound(fs), i;
    uint8_t *z = malloc(n * cap), *out = malloc(fs);
    size_t *len = malloc(n * sizeof *len);
    ZSTD_DCtx *d = ZSTD_createDCtx();
    double t = -1;
    *total = 0;
    if (z && out && len && d) {
        for (i = 0; i < n; i++) {
            len[i] = ZSTD_compress(z + i * cap, cap, raw + i * fs, fs, level);
            *total += len[i];
        }
        t = bench_now();
        for (i = 0; i < n; i++)
            if (ZSTD_decompressDCtx(d, out, fs, z + i * cap, len[i]) != fs)
                t = -1e9;
        t = bench_now() - t;
    }
    ZSTD_freeDCtx(d);
    free(len);
    free(out);
    free(z);
    return t;
}

/* The codec alone: the stored blobs of the first n frames, read once from the file with plain
 * SQLite, then decoded (unfilter, checksum) from memory and timed. */
static double time_codec(bench *b, size_t n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    reel__codec *codec = reel__codec_new();
    void **blob = calloc(n, sizeof *blob);
    size_t *len = calloc(n, sizeof *len), i;
    int *filter = calloc(n, sizeof *filter);
    uint64_t *sum = calloc(n, sizeof *sum);
    uint8_t *out = malloc(2 * b->info.frame_size);
    double t = -1;
    const char *why;
    int bad = 0;
    reel__geom g = {b->info.pix_fmt, b->info.width, b->info.height};
    if (codec && blob && len && filter && sum && out &&
        sqlite3_open_v2(b->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT f.idx, " REEL__FRAME_COLUMNS REEL__FRAME_FROM
                           "JOIN reel_sequence AS s ON s.id = f.seq_id WHERE s.name = ?1 "
                           "AND f.idx < ?2",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)n);
        while (sqlite3_step(st) == SQLITE_ROW) {
            int64_t k = sqlite3_column_int64(st, 0);
            reel__stored row = {.geom = g};
            if (k < 0 || k >= (int64_t)n || blob[k])
                continue;
            reel__frame_row(st, 1, &row); /* the checksum as the store reads it (its version) */
            len[k] = row.len;
            if (row.present && (blob[k] = malloc(len[k] ? len[k] : 1)))
                memcpy(blob[k], row.data, len[k]);
            filter[k] = row.filter;
            sum[k] = row.checksum;
        }
        t = bench_now();
        /* in order: a temporal frame's reference is the one before */
        for (i = 0; i < n && !bad; i++) {
            reel__blob bl = {blob[i], len[i], filter[i], sum[i]};
            uint8_t *dst = out + (i & 1) * b->info.frame_size;
            const uint8_t *ref = i ? out + ((i - 1) & 1) * b->info.frame_size : NULL;
            why = "no stored pixels";
            if (!blob[i] || reel__decode_ref(codec, &g, &bl, ref, dst, &why) != REEL_OK) {
                cli_error("bench: the codec alone: frame %zu (filter %d): %s", i, filter[i],
                          why); /* damaged, or not stored: no baseline */
                bad = 1;
            }
        }
        t = bad ? -1 : bench_now() - t;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    for (i = 0; blob && i < n; i++)
        free(blob[i]);
    free(blob);
    free(len);
    free(filter);
    free(sum);
    free(out);
    reel__codec_free(codec);
    return t;
}

/* Write the frames to a flat file beside the store, read it once, then time pread of each. */
static double time_pread(bench *b, const uint8_t *raw, size_t n)
{
    size_t fs = b->info.frame_size, i;
    uint8_t *out = malloc(fs);
    double t = -1;
    FILE *f;
    int fd;
    snprintf(b->scratch, sizeof b->scratch, "%s.bench-raw", b->path);
    if (!out || !(f = fopen(b->scratch, "wb"))) {
        free(out);
        return -1;
    }
    fwrite(raw, fs, n, f);
    fclose(f);
    if ((fd = open(b->scratch, O_RDONLY)) >= 0) {
        int pass;
        for (pass = 0; pass < 2; pass++) { /* the first pass brings it into the page cache */
            t = bench_now();
            for (i = 0; i < n; i++)
                if (pread(fd, out, fs, (off_t)(i * fs)) != (ssize_t)fs)
                    t = -1e9;
            t = bench_now() - t;
        }
        close(fd);
    }
    unlink(b->scratch);
    free(out);
    return t;
}

/* Get frames [0, n) once each through an empty cache; seconds, or -1 (error reported). */
static double cold_pass(bench *b, size_t n, size_t budget)
{
    double t;
    reel_cache_set_budget(b->cache, budget);
    reel_cache_trim(b->cache, 0);
    t = bench_now();
    if (bench_read_frames(b, (int64_t)n, REEL_GET_ONCE) != EXIT_OK)
        return -1;
    return bench_now() - t;
}

/*
 * Cold reads twice: into a cache with room for everything (each frame takes new memory from
 * the system, page faults included), then into a cache holding 16 frames (steady state: a
 * load reuses what an eviction gave back), each against the codec alone on the same blobs in
 * RAM, plain zstd and pread.
 */
int bench_cold(bench *b, const uint8_t *raw, size_t n)
{
    size_t fs = b->info.frame_size, zbytes;
    double t_fill, t_full, t_codec, t_zstd, t_pread, mb = (double)(n * fs) / 1e6;
    figure *f;
    bench_say(b, "cold reads");
    reel_store_set_readahead(b->s, 0, 1);
    if ((t_fill = cold_pass(b, n, (size_t)4 << 30)) < 0 ||
        (t_full = cold_pass(b, n, 16 * (fs + 4096))) < 0)
        return EXIT_FAIL;
    t_codec = time_codec(b, n);
    t_zstd = time_zstd(raw, n, fs, 1, &zbytes);
    t_pread = time_pread(b, raw, n);
    if (t_codec <= 0 || t_zstd <= 0 || t_pread <= 0) {
        cli_error("bench: a cold-read baseline failed (the codec on the stored blobs, zstd or "
                  "pread)");
        return EXIT_FAIL;
    }
    f = bench_versus(b, "cold_read_codec", "cold read, cache full", "MB/s", mb / t_full,
                     "reel's codec alone, in RAM", mb / t_codec);
    f->target = ">= 0.9x";
    f->met = f->ratio >= 0.9;
    bench_versus(b, "cold_read_fill", "cold read, cache filling", "MB/s", mb / t_fill,
                 "reel's codec alone, in RAM", mb / t_codec);
    bench_versus(b, "cold_read_zstd", "cold read, cache full", "MB/s", mb / t_full,
                 "plain zstd -1, no filter", mb / t_zstd);
    f = bench_versus(b, "cold_read_pread", "cold read, cache full", "MB/s", mb / t_full,
                     "pread of raw frames", mb / t_pread);
    f->ratio_fmt = "%.3fx";
    return EXIT_OK;
}

/* ---- 4. cache hits on 1 and 2 threads --------------------------------------------------------- */

/* One thread's job, on a cache-line pair of its own: the two jobs of a round sit side by side. */
typedef struct hit_job {
    _Alignas(128) reel_seq *q;
    int64_t first, count;
    double seconds;
    long long ops;
    int rc;
} hit_job;

static void *hits(void *arg)
{
    hit_job *j = arg;
    double t0 = bench_now(), end = t0 + j->seconds;
    int64_t i = 0;
    long long ops = 0;
    do {
        int k, rc;
        for (k = 0; k < 1000; k++) {
            reel_frame *f;
            if ((rc = reel_frame_get(j->q, j->first + i, 0, &f)) != REEL_OK) {
                j->rc = rc;
                return NULL;
            }
            reel_frame_release(f);
            i = i + 1 == j->count ? 0 : i + 1;
        }
        ops += 1000;
    } while (bench_now() < end);
    j->ops = ops;
    j->seconds = bench_now() - t0;
    return NULL;
}

/* Plain arithmetic for half a second: independent multiply chains, no memory. The 2-thread
 * speed-up of this loop is what the machine allows at the moment (a shared VM's vCPUs do not
 * always run at once). */
static void *arith(void *arg)
{
    double *rate = arg, t0 = bench_now();
    uint64_t x[4] = {1, 2, 3, 4}, n = 0;
    while (bench_now() - t0 < 0.5) {
        int i, k;
        for (i = 0; i < 100000; i++)
            for (k = 0; k < 4; k++)
                x[k] = x[k] * 6364136223846793005ULL + 1442695040888963407ULL;
        n++;
    }
    *rate = (double)n / (bench_now() - t0) + (double)((x[0] ^ x[1] ^ x[2] ^ x[3]) & 1) * 1e-12;
    return NULL;
}

static double arith_scaling(void)
{
    double one, two[2];
    pthread_t t[2];
    int k;
    arith(&one);
    for (k = 0; k < 2; k++)
        pthread_create(&t[k], NULL, arith, &two[k]);
    for (k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    return (two[0] + two[1]) / one;
}

/* One round: get+release per second on 1 thread over the warm frames, then on 2 threads over
 * one half each; 0 or a reel error code. */
static int hit_round(bench *b, int64_t warm, double *r1, double *r2)
{
    hit_job one = {b->q, 0, warm, 0.5, 0, 0}, two[2];
    pthread_t t[2];
    int k;
    hits(&one);
    for (k = 0; k < 2; k++) {
        two[k] = (hit_job){b->q, k * (warm / 2), warm / 2 ? warm / 2 : 1, 0.5, 0, 0};
        pthread_create(&t[k], NULL, hits, &two[k]);
    }
    for (k = 0; k < 2; k++)
        pthread_join(t[k], NULL);
    *r1 = (double)one.ops / one.seconds / 1e6;
    *r2 = ((double)two[0].ops / two[0].seconds + (double)two[1].ops / two[1].seconds) / 1e6;
    return one.rc ? one.rc : two[0].rc ? two[0].rc : two[1].rc;
}

/* Five rounds of half a second each; the best of each kind counts (noise only slows). */
int bench_hits(bench *b)
{
    int64_t warm = b->info.frame_count < 128 ? b->info.frame_count : 128;
    double best1 = 0, best2 = 0, r1, r2;
    reel_cache_stats before, after;
    figure *f;
    int k, rc;
    bench_say(b, "cache hits");
    reel_cache_set_budget(b->cache, (size_t)4 << 30); /* room for every warm frame */
    if (bench_read_frames(b, warm, 0) != EXIT_OK)
        return EXIT_FAIL;
    reel_cache_get_stats(b->cache, &before);
    for (k = 0; k < 5; k++) {
        if ((rc = hit_round(b, warm, &r1, &r2)) != REEL_OK)
            return cli_fail(b->path, rc);
        best1 = r1 > best1 ? r1 : best1;
        best2 = r2 > best2 ? r2 : best2;
    }
    reel_cache_get_stats(b->cache, &after);
    if (after.misses != before.misses) { /* the figure would measure loads, not hits */
        cli_error("bench: %llu gets of resident frames missed the cache",
                  (unsigned long long)(after.misses - before.misses));
        return EXIT_FAIL;
    }
    f = bench_figure(b, "hits_1", "cache hits, 1 thread", "M/s");
    f->reel = best1;
    f->target = ">= 5 M/s";
    f->met = f->reel >= 5;
    f->baseline = "-";
    f->ratio_fmt = NULL;
    f = bench_versus(b, "hits_2", "cache hits, 2 threads", "M/s", best2, "1 thread", best1);
    f->target = ">= 1.6x";
    f->met = f->ratio >= 1.6;
    f = bench_figure(b, "cpu_scaling", "plain arithmetic, 2 threads", "x");
    f->reel = arith_scaling();
    f->baseline = "1 thread (what the CPUs allow now)";
    f->ratio_fmt = NULL;
    return EXIT_OK;
}

/* ---- read-ahead and 2. the sequential scan ----------------------------------------------------- */

/* The cache budget for sequential reads: the run's budget, but room for 32 frames at least
 * (read-ahead must not evict what it loaded before the reader gets there). */
static size_t scan_budget(const bench *b)
{
    size_t need = 32 * (b->info.frame_size + 4096);
    return b->budget > need ? b->budget : need;
}

/* Sequential gets with 1 ms of the caller's own work each: the share that did not wait. */
int bench_readahead(bench *b)
{
    int64_t n = b->info.frame_count < 300 ? b->info.frame_count : 300, i, waited = 0;
    figure *f;
    bench_say(b, "read-ahead");
    reel_cache_set_budget(b->cache, scan_budget(b));
    reel_cache_trim(b->cache, 0);
    reel_store_set_readahead(b->s, 1, 8);
    for (i = 0; i < n; i++) {
        reel_frame *fr;
        double t0 = bench_now(), dt;
        if (reel_frame_get(b->q, i, 0, &fr) != REEL_OK)
            return cli_fail(b->path, REEL_ERROR);
        dt = bench_now() - t0;
        waited += dt > 0.0002;
        reel_frame_release(fr);
        while (bench_now() - t0 < 0.001 + dt)
            ; /* the caller's own work */
    }
    f = bench_figure(b, "readahead", "read-ahead, 1 ms work/frame", "% no wait");
    f->reel = 100.0 * (double)(n - waited) / (double)n;
    f->baseline = "-";
    f->ratio_fmt = NULL;
    f->target = "> 95%";
    f->met = f->reel > 95;
    return EXIT_OK;
}

static int ffmpeg_scan(bench *b, int threads, double *fps)
{
    bench_video v;
    uint8_t *scratch = malloc(b->info.frame_size);
    int64_t frames = 0;
    double t0;
    int rc = -1;
    if (scratch && bv_open(&v, b->video, threads, &b->info) == 0) {
        t0 = bench_now();
        rc = bv_decode_all(&v, scratch, &frames);
        *fps = (double)frames / (bench_now() - t0);
        bv_close(&v);
    }
    free(scratch);
    if (rc != 0)
        cli_error("%s: FFmpeg could not decode it", b->video);
    return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

int bench_scan(bench *b)
{
    double t, fps1, fpsn;
    figure *f;
    bench_say(b, "sequential scan through reel");
    reel_cache_set_budget(b->cache, scan_budget(b));
    reel_cache_trim(b->cache, 0);
    reel_store_set_readahead(b->s, 1, 8);
    t = bench_now();
    if (bench_read_frames(b, b->info.frame_count, REEL_GET_ONCE) != EXIT_OK)
        return EXIT_FAIL;
    t = bench_now() - t;
    bench_say(b, "decoding the video on 1 thread, then on all");
    if (ffmpeg_scan(b, 1, &fps1) != EXIT_OK || ffmpeg_scan(b, 0, &fpsn) != EXIT_OK)
        return EXIT_FAIL;
    b->ffmpeg_fps1 = fps1;
    f = bench_versus(b, "scan_1", "sequential scan", "frames/s", (double)b->info.frame_count / t,
                     "FFmpeg decode, 1 thread", fps1);
    f->target = ">= 2x";
    f->met = f->ratio >= 2;
    bench_versus(b, "scan_all", "sequential scan", "frames/s", (double)b->info.frame_count / t,
                 "FFmpeg decode, all threads", fpsn);
    return EXIT_OK;
}

/* ---- 6. sizes ------------------------------------------------------------------------------ */

int bench_size(bench *b, const uint8_t *raw, size_t n)
{
    size_t fs = b->info.frame_size, zbytes = 0, i;
    int64_t stored = 0, ffv1 = 0;
    double rawb = (double)(n * fs);
    figure *f;
    bench_say(b, "sizes: zstd -3 and FFV1 on the same frames");
    for (i = 0; i < n; i++) {
        reel_frame_info fi;
        if (reel_frame_get_info(b->q, (int64_t)i, &fi) != REEL_OK)
            return cli_fail(b->path, REEL_ERROR);
        stored += (int64_t)fi.stored_bytes;
    }
    time_zstd(raw, n, fs, 3, &zbytes);
    if (bv_ffv1_size(raw, n, &b->info, &ffv1) != 0) {
        cli_error("bench: FFV1 could not encode %s frames", reel_pix_fmt_name(b->info.pix_fmt));
        return EXIT_FAIL;
    }
    f = bench_versus(b, "size_zstd", "compression ratio (raw/stored)", "x", rawb / (double)stored,
                     "zstd -3 on raw frames", rawb / (double)zbytes);
    f->target = ">= 2.2x (camera)";
    f->met = f->reel >= 2.2;
    bench_versus(b, "size_ffv1", "compression ratio (raw/stored)", "x", rawb / (double)stored,
                 "FFV1 level 3", rawb / (double)ffv1);
    return EXIT_OK;
}

