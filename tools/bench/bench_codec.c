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
    f = bench_versus(b, "random_h264", "random access", "frames/s", b->random_fps,
                     "seeking lossless H.264 -g 10", 1 / t_seek);
    f->target = ">= 10x";
    f->met = f->ratio >= 10;
    return EXIT_OK;
}
