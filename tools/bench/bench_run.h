/* bench_run.h - `reel bench`: one run's state and its phases. cmd_bench.c parses, imports,
 * runs the phases and prints; bench_probe.c measures random access (in a reader process of its
 * own) against FFmpeg seeking; bench_read.c measures cold reads, hits, read-ahead, the scan
 * and sizes. */
#ifndef REEL_BENCH_RUN_H
#define REEL_BENCH_RUN_H

#include <stdint.h>
#include <sys/types.h>

#include "bench_video.h"
#include "cli.h"

#define BENCH_NAME "reel bench"
#include "bench.h"

#define MIB (1024.0 * 1024.0)
#define MAX_FIGS 32

/* One row of the table. */
typedef struct figure {
    const char *key, *what, *unit, *baseline, *target;
    double reel, base, ratio;
    const char *ratio_fmt; /* printf format of the ratio column; NULL: no ratio */
    int met;               /* 1 met, 0 missed, -1 no target */
} figure;

typedef struct bench {
    const char *path, *name, *video;
    char scratch[4096];
    int json, pix_fmt, codec;
    long long nrandom, nseek, nsample;
    size_t budget;
    reel_store *s; /* read-only: the bench's reads are not counted */
    reel_seq *q;
    reel_seq_info info;
    reel_cache *cache;
    int64_t gop, keyframes;
    int mismatches, checked;
    double rss_before; /* MiB: the reader process before it opened the store */
    char video_desc[128], cpu[128];
    long cores;
    double mem_gib;
    figure fig[MAX_FIGS];
    int nfig;
    double random_fps;       /* reel's cold random access, frames/s (bench_random) */
    double import_seconds;   /* the import's wall time (phase_import) */
    int ll_checked, ll_mismatches; /* lossless H.264 frames checked against reel's */
    double ffmpeg_fps1;      /* FFmpeg decoding the video on 1 thread, frames/s */
    double ffmpeg_seek_fps;  /* FFmpeg seek + decode of random frames, frames/s */
    const char *remote;      /* --remote LOCATION: publish there and measure reads from it */
    double h264_ratio, h264_seek_fps; /* lossless H.264 -g 10: raw/file, seek + decode fps */
    int keyints[8], nkeyints;         /* --keyints: chain lengths to store the clip at (1: intra) */
    struct keyint_row {
        int keyint;
        double ratio, random_fps, fps_lo, fps_hi, encode_ms; /* fps: median, range */
    } keyint_rows[8];
} bench;

/* A progress line on stderr. */
void bench_say(const bench *b, const char *what);
/* A new row, no baseline, no target. */
figure *bench_figure(bench *b, const char *key, const char *what, const char *unit);
/* A new row of reel against a baseline: ratio = reel / base. */
figure *bench_versus(bench *b, const char *key, const char *what, const char *unit, double reel,
                     const char *baseline, double base);
/* Get and release frames [0, n) of the sequence in order with flags; EXIT_OK or EXIT_FAIL
 * (reported). */
int bench_read_frames(bench *b, int64_t n, unsigned flags);

/* bench_probe.c: the reader process, forked before FFmpeg is loaded. */
typedef struct bench_probe {
    pid_t pid;
    int go, result; /* pipe ends: the parent writes go, reads result */
} bench_probe;
void bench_probe_start(const bench *b, bench_probe *p);
void bench_probe_stop(bench_probe *p);
/* Random access and the reader's peak RSS (once the sequence exists). */
int bench_random(bench *b, bench_probe *p);
/* FFmpeg seeking in video to frames idx[0..n) of the sequence, decoding forward; each frame
 * is compared with reel's (*checked, *mismatches counted); *seconds per frame found. A frame
 * no decoded frame has the timestamp of is left out, said on stderr. EXIT_OK or EXIT_FAIL. */
int bench_ffmpeg_random(bench *b, const char *video, const int64_t *idx, long long n,
                        double *seconds, int *checked, int *mismatches);
/* b->nrandom random reads (bench_random_indexes) of sequence name of the store at path through
 * a fresh private cache of b->budget, read-ahead off: their seconds, and the sequence's stored
 * bytes in *stored (may be NULL). A reel status. */
int bench_random_reads(const bench *b, const char *path, const char *name, double *seconds,
                       int64_t *stored);
/* The same pseudo-random frame indexes every run: n of them in [0, frames). */
int64_t *bench_random_indexes(long long n, int64_t frames);

/* bench_codec.c: the codec modes side by side on the sample, and what a user would run
 * instead of reel (FFmpeg transcoding to FFV1, to lossless H.264). */
int bench_codecs(bench *b, const uint8_t *raw, size_t n);
int bench_outer(bench *b);
/* --keyints: the whole clip stored again at each keyint (scratch stores beside STORE), its
 * size and random access (the same reads, budget and indexes as bench_random's, in this
 * process) against lossless H.264 -g 10 and intra; printed after the table / in the JSON. */
int bench_keyints(bench *b);
void bench_keyints_print(const bench *b);
void bench_keyints_json(const bench *b, json_t *doc);
/* bench_remote.c: the sequence published to b->remote and read back from it. */
int bench_remote(bench *b);
/* Scratch files of bench_outer, beside STORE (removed on signals too). */
#define BENCH_FFV1_FILE ".bench-ffv1.mkv"
#define BENCH_H264_FILE ".bench-h264.mkv"

/* bench_read.c */
uint8_t *bench_sample_frames(bench *b, size_t n);
int bench_cold(bench *b, const uint8_t *raw, size_t n);
int bench_hits(bench *b);
int bench_readahead(bench *b);
int bench_scan(bench *b);
int bench_size(bench *b, const uint8_t *raw, size_t n);

#endif
