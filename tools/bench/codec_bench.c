/*
 * reel-codec-bench - the frame codec against plain zstd, and store page sizes, in one run.
 *
 *   reel-codec-bench RAWFILE WIDTHxHEIGHT [--pix-fmt FMT] [--filter auto|med|avg|rans|best] [--level N]
 *                    [--baseline-level N]
 *                    [--frames N] [--reps N] [--pages] [--temporal KEYINT]
 * Defaults: reel at zstd level 1 (the store's default), the plain-zstd baseline at level 3.
 *
 * RAWFILE holds frames of the given size and format back to back (e.g. made with
 * `ffmpeg -i IN -f rawvideo -pix_fmt yuv420p OUT.yuv`). It prints:
 *   - size: raw bytes against plain zstd of the raw frames, and against reel's codec;
 *   - decode speed: reel's decode (decompress + unfilter + checksum check) against plain
 *     ZSTD_decompress of the unfiltered frames, alternating the two in each repetition;
 *   - with --pages: stores written with 4K, 16K and 64K pages: write time, file size and
 *     random-read time;
 *   - with --temporal KEYINT: the share of luma samples equal to the frame before's (what a
 *     camera's encoder skipped), and the frames in chains of KEYINT coded three ways: intra
 *     (no reference), the smaller of intra and the whole-frame difference (DELTA, filter 2),
 *     and the store's choice today (BLOCKS, filter 3, when smaller); with each one's encode
 *     time and the decode time of its frames, each given its reference.
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
            if ((med[i].filter & 0xf) != REEL__FILTER_RANS && /* rANS, not zstd */
                ZSTD_isError(ZSTD_decompressDCtx(dctx, scratch, scap, med[i].data, med[i].len)))
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
           base_level, filter == REEL__FILTER_AUTO   ? "auto"
           : filter == REEL__FILTER_BEST ? "best (auto, none or rANS)"
           : (filter & 0xf) == REEL__FILTER_RANS ? "med + rANS instead of"
           : filter == 1                 ? "med"
                                         : "avg",
           level);
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

/* Share of the first plane's samples equal to the same sample of the frame before. */
static double zero_share(const uint8_t *raw, size_t n, size_t fs, int fmt, int w, int h)
{
    reel__plane p[REEL__MAX_PLANES];
    size_t i, k, same = 0, luma;
    if (n < 2 || !reel__planes(fmt, w, h, p))
        return 0;
    luma = reel__plane_bytes(&p[0]);
    for (i = 1; i < n; i++)
        for (k = 0; k < luma; k++)
            same += raw[i * fs + k] == raw[(i - 1) * fs + k];
    return (double)same / (double)(luma * (n - 1));
}

/* One way of coding the sample: its bytes, encode and decode seconds, and its blobs. */
typedef struct way {
    const char *name;
    size_t bytes, temporal;
    double t_enc, t_dec;
} way;

/* Code frame i of the sample: intra (0), the smaller of intra and DELTA (1), BEST (2). */
static int code_frame(reel__codec *c, int how, const reel__geom *g, const uint8_t *px,
                      const uint8_t *ref, blob *out)
{
    reel__blob b;
    if (reel__encode_ref(c, REEL__FILTER_BEST, 1, g, px, how == 1 ? NULL : ref, &b, NULL))
        return -1;
    if (how == 1 && ref) {
        reel__blob d;
        size_t len = b.len;
        out->data = malloc(len);
        memcpy(out->data, b.data, len);
        *out = (blob){out->data, len, b.checksum, b.filter};
        if (reel__encode_ref(c, REEL__FILTER_DELTA, 1, g, px, ref, &d, NULL))
            return -1;
        if (d.len < len) {
            free(out->data);
            out->data = malloc(d.len);
            memcpy(out->data, d.data, d.len);
            *out = (blob){out->data, d.len, d.checksum, d.filter};
        }
        return 0;
    }
    out->data = malloc(b.len);
    memcpy(out->data, b.data, b.len);
    *out = (blob){out->data, b.len, b.checksum, b.filter};
    return 0;
}

/* The best of 3 decodes of the n blobs bl of raw, each given the frame before as reference. */
static double decode_seconds(reel__codec *c, const reel__geom *g, const blob *bl,
                             const uint8_t *raw, size_t n, size_t fs, uint8_t *out)
{
    double best = 1e9, t0;
    size_t i;
    int r;
    for (r = 0; r < 3; r++) {
        t0 = bench_now();
        for (i = 0; i < n; i++) {
            const char *why;
            reel__blob b = {bl[i].data, bl[i].len, bl[i].filter, bl[i].sum};
            if (reel__decode_ref(c, g, &b, i ? raw + (i - 1) * fs : NULL, out, &why))
                die(why);
            if (memcmp(out, raw + i * fs, fs) != 0)
                die("a frame decoded differently");
        }
        t0 = bench_now() - t0;
        best = t0 < best ? t0 : best;
    }
    return best;
}

static void bench_temporal(const uint8_t *raw, size_t n, size_t fs, int fmt, int w, int h,
                           int keyint)
{
    reel__codec *c = reel__codec_new();
    reel__geom g = {fmt, w, h};
    way ways[3] = {{"intra", 0, 0, 0, 0},
                   {"intra or DELTA (filter 2)", 0, 0, 0, 0},
                   {"BEST: intra or BLOCKS (filter 3)", 0, 0, 0, 0}};
    blob *bl = calloc(n, sizeof *bl);
    uint8_t *out = malloc(fs);
    size_t i;
    int k;
    if (!c || !bl || !out)
        die("out of memory");
    printf("zero temporal differences: %.1f%% of luma samples\n",
           100 * zero_share(raw, n, fs, fmt, w, h));
    for (k = 0; k < 3; k++) {
        double t0 = bench_now();
        for (i = 0; i < n; i++) {
            const uint8_t *ref = k && i % (size_t)keyint ? raw + (i - 1) * fs : NULL;
            if (code_frame(c, k, &g, raw + i * fs, ref, &bl[i]))
                die(reel_errmsg());
            ways[k].bytes += bl[i].len;
            ways[k].temporal += reel__filter_is_delta(bl[i].filter);
        }
        ways[k].t_enc = bench_now() - t0;
        ways[k].t_dec = decode_seconds(c, &g, bl, raw, n, fs, out);
        for (i = 0; i < n; i++)
            free(bl[i].data);
        printf("keyint %d, %-34s ratio %6.3f  %3zu%% temporal  encode %5.2f ms/frame  "
               "decode %5.2f ms/frame\n",
               keyint, ways[k].name, (double)(n * fs) / (double)ways[k].bytes,
               100 * ways[k].temporal / n, 1e3 * ways[k].t_enc / (double)n,
               1e3 * ways[k].t_dec / (double)n);
    }
    free(bl);
    free(out);
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
    int keyint = 0;
    size_t max_frames = 200, fs, n;
    uint8_t *raw;
    FILE *f;
    if (argc < 3 || sscanf(argv[2], "%dx%d", &w, &h) != 2) {
        fprintf(stderr, "usage: reel-codec-bench RAWFILE WxH [--pix-fmt FMT] [--filter auto|med|avg|rans|best] "
                        "[--level N] [--baseline-level N] [--frames N] [--reps N] [--pages] "
                        "[--temporal KEYINT]\n");
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
                     : !strcmp(f, "rans") ? REEL__FILTER_RANS
                     : !strcmp(f, "best") ? REEL__FILTER_BEST
                     : REEL__FILTER_AUTO;
        } else if (!strcmp(argv[i], "--baseline-level") && i + 1 < argc)
            base_level = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--frames") && i + 1 < argc)
            max_frames = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--pages"))
            pages = 1;
        else if (!strcmp(argv[i], "--temporal") && i + 1 < argc)
            keyint = atoi(argv[++i]);
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
    if (keyint > 0)
        bench_temporal(raw, n, fs, fmt, w, h, keyint);
    else
        bench_codec(raw, n, fs, fmt, w, h, filter, level, base_level, reps);
    if (pages)
        bench_pages(raw, n, fs, fmt, w, h);
    free(raw);
    return 0;
}
