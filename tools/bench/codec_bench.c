/*
 * reel-codec-bench - the frame codec against plain zstd, and store page sizes, in one run.
 *
 *   reel-codec-bench RAWFILE WIDTHxHEIGHT [--pix-fmt FMT] [--filter auto|med|avg] [--level N]
 *                    [--baseline-level N]
 *                    [--frames N] [--reps N] [--pages]
 * Defaults: reel at zstd level 1 (the store's default), the plain-zstd baseline at level 3.
 *
 * RAWFILE holds frames of the given size and format back to back (e.g. made with
 * `ffmpeg -i IN -f rawvideo -pix_fmt yuv420p OUT.yuv`). It prints:
 *   - size: raw bytes against plain zstd of the raw frames, and against reel's codec;
 *   - decode speed: reel's decode (decompress + unfilter + checksum check) against plain
 *     ZSTD_decompress of the unfiltered frames, alternating the two in each repetition;
 *   - with --pages: stores written with 4K, 16K and 64K pages: write time, file size and
 *     random-read time.
 * This grows into `reel bench`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include <sqlite3.h>

#include "base/clock.h"
#include "base/hash.h"
#include "base/pixfmt.h"
#include "codec/codec.h"

#define BENCH_NAME "reel-codec-bench"
#include "bench.h"

typedef struct blob {
    void *data;
    size_t len;
    uint64_t sum;
    int filter;
} blob;

static void bench_codec(const uint8_t *raw, size_t n, size_t fs, int fmt, int w, int h, int filter,
                        int level, int base_level, int reps)
{
    reel__codec *c = reel__codec_new();
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    blob *plain = calloc(n, sizeof *plain), *med = calloc(n, sizeof *med);
    uint8_t *out = malloc(fs);
    size_t i, plain_total = 0, med_total = 0;
    size_t scap = fs * 2;
    uint8_t *scratch = malloc(scap);
    double t_zmed = 0, t_plain = 0, t_med = 0, t0, best_plain = 1e9, best_med = 1e9;
    int r;
    if (!c || !dctx || !plain || !med || !out)
        die("out of memory");
    double t_enc_plain = 0, t_enc_reel = 0;
    for (i = 0; i < n; i++) {
        reel__geom g = {fmt, w, h};
        reel__blob b;
        t0 = bench_now();
        if (reel__encode(c, REEL__FILTER_NONE, base_level, &g, raw + i * fs, &b) != REEL_OK)
            die(reel_errmsg());
        t_enc_plain += bench_now() - t0;
        plain[i].data = malloc(b.len);
        memcpy(plain[i].data, b.data, b.len);
        plain[i].len = b.len;
        plain[i].sum = b.checksum;
        plain[i].filter = b.filter;
        plain_total += b.len;
        t0 = bench_now();
        if (reel__encode(c, filter, level, &g, raw + i * fs, &b) != REEL_OK)
            die(reel_errmsg());
        t_enc_reel += bench_now() - t0;
        med[i].data = malloc(b.len);
        memcpy(med[i].data, b.data, b.len);
        med[i].len = b.len;
        med[i].sum = b.checksum;
        med[i].filter = b.filter;
        med_total += b.len;
    }
    for (r = 0; r < reps; r++) {
        double a, b;
        t0 = bench_now();
        for (i = 0; i < n; i++)
            if (ZSTD_decompressDCtx(dctx, out, fs, plain[i].data, plain[i].len) != fs)
                die("plain zstd decode failed");
        a = bench_now() - t0;
        t0 = bench_now();
        for (i = 0; i < n; i++) {
            const char *why;
            reel__geom g = {fmt, w, h};
            reel__blob bl = {med[i].data, med[i].len, med[i].filter, med[i].sum};
            if (reel__decode(c, &g, &bl, out, &why) != REEL_OK)
                die(why);
            if (memcmp(out, raw + i * fs, fs) != 0)
                die("roundtrip differs");
        }
        b = bench_now() - t0;
        t0 = bench_now();
        for (i = 0; i < n; i++)
            if (ZSTD_isError(ZSTD_decompressDCtx(dctx, scratch, scap, med[i].data, med[i].len)))
                die("zstd part of reel decode failed");
        t_zmed += bench_now() - t0;
        t_plain += a;
        t_med += b;
        best_plain = a < best_plain ? a : best_plain;
        best_med = b < best_med ? b : best_med;
    }
    printf("frames            %zu of %dx%d %s, %d repetitions\n", n, w, h,
           reel_pix_fmt_name(fmt), reps);
    printf("baseline          plain zstd level %d on raw frames; reel: filter %s + zstd level %d\n",
           base_level, filter == REEL__FILTER_AUTO ? "auto" : filter == 1 ? "med" : "avg", level);
    {
        size_t k, avg_planes = 0;
        for (k = 0; k < n; k++)
            avg_planes += (size_t)__builtin_popcount((unsigned)med[k].filter >> 4);
        printf("predictors        %zu of %zu planes AVG, the rest MED\n", avg_planes,
               n * (size_t)reel__planes(fmt, w, h, (reel__plane[REEL__MAX_PLANES]){{0, 0, 0}}));
    }
    printf("size  plain zstd  %.3f of raw (ratio %.3f)\n", (double)plain_total / (n * fs),
           (double)(n * fs) / plain_total);
    printf("size  reel        %.3f of raw (ratio %.3f)   target ratio >= 2.2\n",
           (double)med_total / (n * fs), (double)(n * fs) / med_total);
    printf("encode plain zstd %.0f MB/s; reel %.0f MB/s (%.2f ms a frame, one thread)\n",
           n * fs / t_enc_plain / 1e6, n * fs / t_enc_reel / 1e6, t_enc_reel * 1e3 / n);
    printf("decode plain zstd %.0f MB/s (best rep %.0f MB/s)\n", n * fs * reps / t_plain / 1e6,
           n * fs / best_plain / 1e6);
    printf("decode reel       %.0f MB/s (best rep %.0f MB/s), incl. unfilter + checksum\n",
           n * fs * reps / t_med / 1e6, n * fs / best_med / 1e6);
    printf("  of which zstd   %.0f%% of reel's decode time; unfilter + checksum %.0f MB/s\n",
           100 * t_zmed / t_med, n * fs * reps / (t_med - t_zmed) / 1e6);
    printf("speed reel / plain zstd: %.2fx (all reps), %.2fx (best reps)   target >= 0.8x\n",
           t_plain / t_med, best_plain / best_med);
    for (i = 0; i < n; i++) {
        free(plain[i].data);
        free(med[i].data);
    }
    free(plain);
    free(med);
    free(out);
    free(scratch);
    ZSTD_freeDCtx(dctx);
    reel__codec_free(c);
}

/* Seconds to fetch 8n random blobs with plain SQLite (no decoding). */
static double fetch_time(const char *path, size_t n)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    size_t i, sink = 0;
    double t0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT data FROM reel_blob WHERE id = ?", -1, &st, NULL))
        die("cannot reopen the page-size store");
    srand(2);
    t0 = bench_now();
    for (i = 0; i < 8 * n; i++) {
        sqlite3_bind_int64(st, 1, 1 + rand() % (int)n);
        if (sqlite3_step(st) != SQLITE_ROW)
            die("blob fetch failed");
        sink += (size_t)sqlite3_column_bytes(st, 0);
        sqlite3_reset(st);
    }
    t0 = bench_now() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return sink ? t0 : 0;
}

static void bench_pages(const uint8_t *raw, size_t n, size_t fs, int fmt, int w, int h)
{
    static const int sizes[] = {4096, 16384, 65536};
    size_t k, i;
    uint8_t *out = malloc(fs);
    printf("page size   write MB/s   file MB   random read ms/frame   blob fetch ms/frame\n");
    for (k = 0; k < 3; k++) {
        char path[64];
        reel_open_options o;
        reel_store *s;
        reel_seq *q;
        reel_seq_params p = {w, h, fmt, {1, 25}, NULL, 0, 0};
        reel_frame_in *in = calloc(n, sizeof *in);
        double t0, tw, tr, tf;
        FILE *f;
        long bytes;
        memset(&o, 0, sizeof o);
        o.page_size = sizes[k];
        snprintf(path, sizeof path, "/tmp/reel-pagebench-%d.reel", (int)getpid());
        unlink(path);
        if (reel_open(path, REEL_OPEN_CREATE, &o, &s) || reel_seq_create(s, "b", &p, &q))
            die(reel_errmsg());
        for (i = 0; i < n; i++)
            in[i] = (reel_frame_in){raw + i * fs, fs, (int64_t)i, 1, 0, 0};
        t0 = bench_now();
        if (reel_frames_append(q, in, n, NULL))
            die(reel_errmsg());
        tw = bench_now() - t0;
        srand(1);
        t0 = bench_now();
        for (i = 0; i < 4 * n; i++)
            if (reel_frame_read(q, rand() % (int)n, out, fs, NULL))
                die(reel_errmsg());
        tr = bench_now() - t0;
        reel_seq_close(q);
        reel_close(s);
        tf = fetch_time(path, n);
        f = fopen(path, "rb");
        fseek(f, 0, SEEK_END);
        bytes = ftell(f);
        fclose(f);
        printf("%9d   %10.0f   %7.2f   %20.3f   %19.3f\n", sizes[k], n * fs / tw / 1e6,
               bytes / 1e6, tr * 1e3 / (4 * n), tf * 1e3 / (8 * n));
        unlink(path);
        free(in);
    }
    free(out);
}

int main(int argc, char **argv)
{
    int w, h, fmt = REEL_PIX_YUV420P, filter = REEL__FILTER_AUTO, level = 1, base_level = 3, reps = 5, pages = 0, i;
    size_t max_frames = 200, fs, n;
    uint8_t *raw;
    FILE *f;
    if (argc < 3 || sscanf(argv[2], "%dx%d", &w, &h) != 2) {
        fprintf(stderr, "usage: reel-codec-bench RAWFILE WxH [--pix-fmt FMT] [--filter auto|med|avg] "
                        "[--level N] [--baseline-level N] [--frames N] [--reps N] [--pages]\n");
        return 2;
    }
    for (i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--pix-fmt") && i + 1 < argc) {
            if (reel_pix_fmt_from_name(argv[++i], &fmt))
                die(reel_errmsg());
        } else if (!strcmp(argv[i], "--level") && i + 1 < argc)
            level = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc) {
            const char *f = argv[++i];
            filter = !strcmp(f, "med") ? REEL__FILTER_STRIP16
                     : !strcmp(f, "avg") ? REEL__FILTER_STRIP16 | (7 << 4)
                     : REEL__FILTER_AUTO;
        } else if (!strcmp(argv[i], "--baseline-level") && i + 1 < argc)
            base_level = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--frames") && i + 1 < argc)
            max_frames = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--pages"))
            pages = 1;
        else
            die("unknown option");
    }
    if (reel_frame_size(fmt, w, h, &fs))
        die(reel_errmsg());
    if (!(f = fopen(argv[1], "rb")))
        die("cannot open the raw file");
    raw = malloc(fs * max_frames);
    if (!raw)
        die("out of memory");
    n = fread(raw, fs, max_frames, f);
    fclose(f);
    if (n == 0)
        die("no complete frame in the raw file");
    bench_codec(raw, n, fs, fmt, w, h, filter, level, base_level, reps);
    if (pages)
        bench_pages(raw, n, fs, fmt, w, h);
    free(raw);
    return 0;
}
