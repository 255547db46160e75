/*
 * bench_codec.c - `reel bench`: the two codec modes side by side on the sample frames in RAM
 * (sizes against zstd -3, FFV1 and lossless H.264; how fast a temporal frame decodes against
 * plain zstd on the same frames), and what a user would run instead of reel, with the ffmpeg
 * program on the whole video: transcoding to FFV1 (its time, against the import) and to
 * lossless H.264 with a short GOP (its size, and random access by seeking in it).
 */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "bench_run.h"
#include "base/hash.h"
#include "codec/codec.h"

extern char **environ;

#define KEYINT REEL_DEFAULT_KEYINT

/* ---- the codec modes on the sample ------------------------------------------------------- */

typedef struct coded {
    size_t intra, temporal; /* total bytes of the sample in each mode */
    size_t deltas;          /* frames the temporal mode coded against the one before */
    double t_delta, t_zstd; /* decoding those frames, and plain zstd -1 of the same frames */
    size_t delta_bytes;     /* their raw bytes */
} coded;

/* Encode the sample in both modes; time the decoding of the temporal frames against plain
 * zstd -1 decompression of the same raw frames. */
static int code_sample(bench *b, const uint8_t *raw, size_t n, coded *out)
{
    size_t fs = b->info.frame_size, i, cap = ZSTD_compressBound(fs);
    reel__geom g = {b->info.pix_fmt, b->info.width, b->info.height};
    reel__codec *c = reel__codec_new();
    ZSTD_DCtx *d = ZSTD_createDCtx();
    uint8_t *z = malloc(cap), *dst = malloc(fs);
    uint8_t **blobs = calloc(n, sizeof *blobs);
    size_t *lens = calloc(n, sizeof *lens);
    int *ids = calloc(n, sizeof *ids);
    int rc = EXIT_FAIL;
    memset(out, 0, sizeof *out);
    if (!c || !d || !z || !dst || !blobs || !lens || !ids)
        goto done;
    for (i = 0; i < n; i++) {
        reel__blob bl;
        size_t alone = 0;
        const uint8_t *ref = i % KEYINT ? raw + (i - 1) * fs : NULL;
        if (reel__encode_ref(c, REEL__FILTER_BEST, 1, &g, raw + i * fs, NULL, &bl, NULL) !=
            REEL_OK)
            goto done;
        out->intra += bl.len;
        if (reel__encode_ref(c, REEL__FILTER_BEST, 1, &g, raw + i * fs, ref, &bl, &alone) !=
            REEL_OK)
            goto done;
        out->temporal += bl.len;
        if (reel__filter_is_delta(bl.filter) && (blobs[i] = malloc(bl.len))) {
            memcpy(blobs[i], bl.data, bl.len);
            lens[i] = bl.len;
            ids[i] = bl.filter;
            out->deltas++;
        }
    }
    for (i = 0; i < n; i++) { /* temporal frames: decode against the reference */
        reel__blob bl = {blobs[i], lens[i], ids[i], 0};
        const char *why;
        double t0;
        if (!blobs[i])
            continue;
        bl.checksum = reel__checksum(raw + i * fs, fs);
        t0 = bench_now();
        if (reel__decode_ref(c, &g, &bl, raw + (i - 1) * fs, dst, &why) != REEL_OK) {
            cli_error("bench: a temporal frame did not decode: %s", why);
            goto done;
        }
        out->t_delta += bench_now() - t0;
        out->delta_bytes += fs;
    }
    for (i = 0; i < n; i++) { /* the same frames with plain zstd -1 */
        size_t len;
        double t0;
        if (!blobs[i])
            continue;
        len = ZSTD_compress(z, cap, raw + i * fs, fs, 1);
        t0 = bench_now();
        if (ZSTD_isError(len) || ZSTD_decompressDCtx(d, dst, fs, z, len) != fs)
            goto done;
        out->t_zstd += bench_now() - t0;
    }
    rc = EXIT_OK;
done:
    for (i = 0; blobs && i < n; i++)
        free(blobs[i]);
    free(blobs);
    free(lens);
    free(ids);
    free(z);
    free(dst);
    ZSTD_freeDCtx(d);
    reel__codec_free(c);
    if (rc != EXIT_OK)
        cli_error("bench: coding the sample failed: %s", reel_errmsg());
    return rc;
}

int bench_codecs(bench *b, const uint8_t *raw, size_t n)
{
    size_t fs = b->info.frame_size, zbytes = 0, i;
    double rawb = (double)(n * fs);
    int64_t ffv1 = 0;
    coded cd;
    figure *f;
    bench_say(b, "codec modes on the sample: intra, temporal, zstd -3, FFV1");
    if (code_sample(b, raw, n, &cd) != EXIT_OK)
        return EXIT_FAIL;
    {
        size_t cap = ZSTD_compressBound(fs);
        uint8_t *z = malloc(cap);
        if (!z)
            return cli_fail("bench", REEL_NOMEM);
        for (i = 0; i < n; i++)
            zbytes += ZSTD_compress(z, cap, raw + i * fs, fs, 3);
        free(z);
    }
    if (bv_ffv1_size(raw, n, &b->info, &ffv1) != 0) {
        cli_error("bench: FFV1 could not encode %s frames", reel_pix_fmt_name(b->info.pix_fmt));
        return EXIT_FAIL;
    }
    f = bench_versus(b, "ratio_temporal_ffv1", "ratio, temporal mode", "x",
                     rawb / (double)cd.temporal, "FFV1 level 3", rawb / (double)ffv1);
    f->target = ">= 1.30x (camera)";
    f->met = f->ratio >= 1.30;
    f = bench_versus(b, "ratio_intra_ffv1", "ratio, intra mode", "x", rawb / (double)cd.intra,
                     "FFV1 level 3", rawb / (double)ffv1);
    f->target = ">= 1x";
    f->met = f->ratio >= 0.9995;
    f = bench_versus(b, "ratio_temporal_intra", "ratio, temporal mode", "x",
                     rawb / (double)cd.temporal, "intra mode", rawb / (double)cd.intra);
    f->target = ">= 1x";
    f->met = f->ratio >= 0.9995;
    f = bench_versus(b, "ratio_temporal_zstd", "ratio, temporal mode", "x",
                     rawb / (double)cd.temporal, "zstd -3 on raw frames", rawb / (double)zbytes);
    f->target = ">= 1x";
    f->met = f->ratio >= 0.9995;
    f = bench_versus(b, "ratio_intra_zstd", "ratio, intra mode", "x", rawb / (double)cd.intra,
                     "zstd -3 on raw frames", rawb / (double)zbytes);
    f->target = ">= 1x";
    f->met = f->ratio >= 0.9995;
    if (cd.deltas > 0) {
        f = bench_versus(b, "delta_decode", "decode, temporal frames", "MB/s",
                         (double)cd.delta_bytes / cd.t_delta / 1e6, "plain zstd -1, same frames",
                         (double)cd.delta_bytes / cd.t_zstd / 1e6);
        f->target = ">= 0.8x";
        f->met = f->ratio >= 0.8;
    } else {
        f = bench_figure(b, "delta_decode", "decode, temporal frames", "MB/s");
        f->baseline = "(no frame of the sample was coded temporally)";
    }
    f = bench_figure(b, "temporal_share", "temporal frames in the sample", "%");
    f->reel = 100.0 * (double)cd.deltas / (double)n;
    return EXIT_OK;
}

/* ---- what a user would run instead ------------------------------------------------------- */

/* Run ffmpeg with args (NULL-terminated, after "ffmpeg"); its wall time in *seconds. */
static int run_ffmpeg(const char *const *args, double *seconds)
{
    const char *argv[32] = {"ffmpeg", "-nostdin", "-v", "error", "-y"};
    pid_t pid;
    int n = 5, status;
    double t0 = bench_now();
    while (*args && n < 31)
        argv[n++] = *args++;
    argv[n] = NULL;
    if (posix_spawnp(&pid, "ffmpeg", NULL, NULL, (char *const *)argv, environ) != 0) {
        cli_error("bench: cannot run ffmpeg (apt-get install ffmpeg)");
        return EXIT_FAIL;
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        cli_error("bench: ffmpeg failed");
        return EXIT_FAIL;
    }
    *seconds = bench_now() - t0;
    return EXIT_OK;
}

static long long file_bytes(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

int bench_outer(bench *b)
{
    char ffv1[4200], h264[4200];
    const char *to_ffv1[] = {"-i", b->video, "-map", "0:v:0", "-c:v", "ffv1", "-level", "3",
                             "-g", "1", ffv1, NULL};
    const char *to_h264[] = {"-i",      b->video,  "-map", "0:v:0", "-c:v", "libx264", "-qp",
                             "0",       "-preset", "ultrafast",     "-g",   "10",      h264,
                             NULL};
    double t_ffv1, t_h264, t_seek = 0;
    long long nseek = b->nseek < b->nrandom ? b->nseek : b->nrandom;
    int64_t *idx;
    int rc;
    figure *f;
    snprintf(ffv1, sizeof ffv1, "%.4000s" BENCH_FFV1_FILE, b->path);
    snprintf(h264, sizeof h264, "%.4000s" BENCH_H264_FILE, b->path);
    bench_say(b, "ffmpeg: the whole video to FFV1 (what a user would do for random access)");
    rc = run_ffmpeg(to_ffv1, &t_ffv1);
    unlink(ffv1);
    if (rc != EXIT_OK)
        return rc;
    f = bench_versus(b, "import_ffv1", "import, whole video", "s", b->import_seconds,
                     "ffmpeg to FFV1 (-g 1)", t_ffv1);
    f->target = "<= 0.5x";
    f->met = f->ratio <= 0.5;
    if (b->info.pix_fmt != REEL_PIX_YUV420P) { /* lossless H.264 is exact for yuv420p */
        f = bench_figure(b, "h264_lossless", "lossless H.264 -g 10", "x");
        f->baseline = "(for yuv420p sequences only)";
        return EXIT_OK;
    }
    bench_say(b, "ffmpeg: the whole video to lossless H.264 with a 10-frame GOP");
    if ((rc = run_ffmpeg(to_h264, &t_h264)) != EXIT_OK) {
        unlink(h264);
        return rc;
    }
    b->h264_ratio = (double)b->info.raw_bytes / (double)file_bytes(h264);
    f = bench_versus(b, "ratio_h264", "ratio, stored sequence", "x",
                     (double)b->info.raw_bytes / (double)b->info.stored_bytes,
                     "lossless H.264, -g 10", (double)b->info.raw_bytes / (double)file_bytes(h264));
    bench_say(b, "random access by FFmpeg seeking in the lossless H.264 file");
    if (!(idx = bench_random_indexes(nseek, b->info.frame_count))) {
        unlink(h264);
        return cli_fail("bench", REEL_NOMEM);
    }
    rc = bench_ffmpeg_random(b, h264, idx, nseek, &t_seek, &b->ll_checked, &b->ll_mismatches);
    free(idx);
    unlink(h264);
    if (rc != EXIT_OK)
        return rc;
    b->h264_seek_fps = 1 / t_seek;
    f = bench_versus(b, "random_h264", "random access", "frames/s", b->random_fps,
                     "seeking lossless H.264 -g 10", 1 / t_seek);
    f->target = ">= 10x";
    f->met = f->ratio >= 10;
    return EXIT_OK;
}

/* ---- --keyints: the clip at other chain lengths ------------------------------------------- */

/* CPU seconds of this process (every thread). */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void remove_scratch(const char *path)
{
    static const char *const ends[] = {"", "-wal", "-shm", "-journal"};
    char p[4200];
    size_t i;
    for (i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        snprintf(p, sizeof p, "%.4000s%s", path, ends[i]);
        unlink(p);
    }
}

#define KEYINT_ROUNDS 3 /* random-access rounds over the keyints, interleaved */

/* Store every frame of the sequence as sequence name of the store s with keyint k (1:
 * intra); its compression CPU per frame in *encode_ms. */
static int store_at(bench *b, reel_store *s, const char *name, int k, uint8_t *px,
                    double *encode_ms)
{
    reel_seq *q = NULL;
    reel_seq_params sp = {b->info.width, b->info.height, b->info.pix_fmt, b->info.time_base,
                          "bench --keyints", k > 1 ? REEL_CODEC_TEMPORAL : REEL_CODEC_INTRA,
                          k > 1 ? k : 0};
    int64_t i;
    double cpu = 0;
    int rc;
    if ((rc = reel_seq_create(s, name, &sp, &q)) != REEL_OK)
        return rc;
    for (i = 0; i < b->info.frame_count && rc == REEL_OK; i++) {
        reel_frame_info fi;
        reel_frame_in in;
        double t0;
        if ((rc = reel_frame_read(b->q, i, px, b->info.frame_size, &fi)) != REEL_OK &&
            rc != REEL_NODATA)
            break;
        in = (reel_frame_in){rc == REEL_OK ? px : NULL, rc == REEL_OK ? b->info.frame_size : 0,
                             fi.pts, fi.duration, fi.flags, fi.status};
        t0 = cpu_now();
        rc = reel_frame_append(q, &in, NULL); /* compresses, then commits the frame */
        cpu += cpu_now() - t0;
    }
    *encode_ms = 1e3 * cpu / (double)(b->info.frame_count ? b->info.frame_count : 1);
    reel_seq_close(q);
    return rc;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Every keyint's sequence in one scratch store (the import's scratch name: removed on
 * signals), then KEYINT_ROUNDS rounds of random access over them in turn, so that a change
 * of the machine's load falls on all of them alike; the median round and the range. */
int bench_keyints(bench *b)
{
    reel_store *s = NULL;
    uint8_t *px;
    double fps[8][KEYINT_ROUNDS];
    int i, j, rc = REEL_OK;
    char name[8][32];
    if (!b->nkeyints)
        return EXIT_OK;
    if (!(px = malloc(b->info.frame_size)))
        return cli_fail("bench", REEL_NOMEM);
    snprintf(b->scratch, sizeof b->scratch, "%.4000s.bench-import", b->path);
    remove_scratch(b->scratch);
    bench_say(b, "--keyints: the whole clip stored at each keyint");
    if ((rc = reel_open(b->scratch, REEL_OPEN_CREATE, NULL, &s)) == REEL_OK) {
        for (i = 0; i < b->nkeyints && rc == REEL_OK; i++) {
            b->keyint_rows[i].keyint = b->keyints[i];
            snprintf(name[i], sizeof name[i], "keyint-%d-%d", b->keyints[i], i);
            rc = store_at(b, s, name[i], b->keyints[i], px, &b->keyint_rows[i].encode_ms);
        }
        if (reel_close(s) != REEL_OK && rc == REEL_OK)
            rc = REEL_IO;
    }
    bench_say(b, "--keyints: random access at each keyint, rounds in turn");
    for (j = 0; j < KEYINT_ROUNDS && rc == REEL_OK; j++)
        for (i = 0; i < b->nkeyints && rc == REEL_OK; i++) {
            int64_t stored = 0;
            double t = 0;
            if ((rc = bench_random_reads(b, b->scratch, name[i], &t, &stored)) == REEL_OK) {
                fps[i][j] = (double)b->nrandom / t;
                b->keyint_rows[i].ratio =
                    stored > 0 ? (double)b->info.raw_bytes / (double)stored : 0;
            }
        }
    remove_scratch(b->scratch);
    free(px);
    if (rc != REEL_OK)
        return cli_fail(b->path, rc);
    for (i = 0; i < b->nkeyints; i++) {
        qsort(fps[i], KEYINT_ROUNDS, sizeof fps[i][0], cmp_double);
        b->keyint_rows[i].random_fps = fps[i][KEYINT_ROUNDS / 2];
        b->keyint_rows[i].fps_lo = fps[i][0];
        b->keyint_rows[i].fps_hi = fps[i][KEYINT_ROUNDS - 1];
    }
    return EXIT_OK;
}
/* The intra row's random access (keyint 1), 0 without one. */
static double intra_fps(const bench *b)
{
    int i;
    for (i = 0; i < b->nkeyints; i++)
        if (b->keyint_rows[i].keyint == 1)
            return b->keyint_rows[i].random_fps;
    return 0;
}

void bench_keyints_print(const bench *b)
{
    double intra = intra_fps(b);
    int i;
    if (!b->nkeyints)
        return;
    printf("\nthe whole clip stored at each keyint (1: intra), %lld random reads through a "
           "fresh %.0f MiB cache in this process, median of %d rounds (range); ",
           b->nrandom, (double)b->budget / MIB, KEYINT_ROUNDS);
    if (b->h264_ratio > 0)
        printf("lossless H.264 -g 10: %.2fx, seeking %.0f frames/s\n", b->h264_ratio,
               b->h264_seek_fps);
    else
        printf("no lossless H.264 (yuv420p sequences only)\n");
    printf("%-7s %8s %10s %20s %12s %12s %12s\n", "keyint", "ratio", "vs x264",
           "random frames/s", "vs seeking", "vs intra", "encode ms");
    for (i = 0; i < b->nkeyints; i++) {
        const struct keyint_row *r = &b->keyint_rows[i];
        char fps[40], vs_x264[16] = "-", vs_seek[16] = "-", vs_intra[16] = "-";
        snprintf(fps, sizeof fps, "%.0f (%.0f-%.0f)", r->random_fps, r->fps_lo, r->fps_hi);
        if (b->h264_ratio > 0 && b->h264_seek_fps > 0) {
            snprintf(vs_x264, sizeof vs_x264, "%.2fx", r->ratio / b->h264_ratio);
            snprintf(vs_seek, sizeof vs_seek, "%.1fx", r->random_fps / b->h264_seek_fps);
        }
        if (intra > 0)
            snprintf(vs_intra, sizeof vs_intra, "%.2fx", r->random_fps / intra);
        printf("%-7d %7.2fx %10s %20s %12s %12s %12.2f\n", r->keyint, r->ratio, vs_x264, fps,
               vs_seek, vs_intra, r->encode_ms);
    }
}

void bench_keyints_json(const bench *b, json_t *doc)
{
    json_t *rows = json_array();
    int i;
    if (!b->nkeyints) {
        json_decref(rows);
        return;
    }
    for (i = 0; i < b->nkeyints; i++) {
        const struct keyint_row *r = &b->keyint_rows[i];
        json_t *o = json_object();
        cli_json_set(o, "keyint", json_integer(r->keyint));
        cli_json_set(o, "ratio", json_real(r->ratio));
        cli_json_set(o, "random_fps", json_real(r->random_fps));
        cli_json_set(o, "random_fps_min", json_real(r->fps_lo));
        cli_json_set(o, "random_fps_max", json_real(r->fps_hi));
        cli_json_set(o, "encode_cpu_ms", json_real(r->encode_ms));
        cli_json_append(rows, o);
    }
    cli_json_set(doc, "keyints", rows);
    cli_json_set(doc, "h264_lossless_ratio", json_real(b->h264_ratio));
    cli_json_set(doc, "h264_lossless_seek_fps", json_real(b->h264_seek_fps));
}
