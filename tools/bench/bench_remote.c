/*
 * bench_remote.c - `reel bench --remote LOCATION`: the sequence published to LOCATION (an S3
 * bucket, an HTTP server or a directory) and read back from it, against FFmpeg and against
 * the local store: random access with the node's block cache cold and warm, a sequential scan
 * with it cold, and the bytes that scan fetched against the published size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_run.h"

/* A block cache of its own, empty, under the store's directory. */
static void fresh_cache(const bench *b, const char *tag, char *dir, size_t cap)
{
    char cmd[4400];
    snprintf(dir, cap, "%.4000s.bench-blocks-%s", b->path, tag);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        cli_error("bench: could not empty %s", dir);
    setenv("REEL_BLOCK_CACHE", dir, 1);
}

static void drop_cache(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        cli_error("bench: could not remove %s", dir);
}

/* Open the published sequence with a fresh RAM cache of the bench's budget. */
static int open_remote(bench *b, reel_store **s, reel_seq **q, reel_cache **c)
{
    int rc;
    *s = NULL, *q = NULL, *c = NULL;
    if ((rc = reel_open(b->remote, REEL_OPEN_READONLY, NULL, s)) != REEL_OK ||
        (rc = reel_cache_new(b->budget, c)) != REEL_OK ||
        (rc = reel_store_set_cache(*s, *c)) != REEL_OK ||
        (rc = reel_seq_open(*s, b->name, q)) != REEL_OK)
        return cli_fail(b->remote, rc);
    return EXIT_OK;
}

static void close_remote(reel_store *s, reel_seq *q, reel_cache *c)
{
    reel_seq_close(q);
    if (s)
        reel_store_set_cache(s, NULL);
    reel_cache_free(c);
    reel_close(s);
}

/* Read frames idx[0..n) (or 0..n-1 when idx is NULL); the time it took. */
static double read_frames(reel_seq *q, const int64_t *idx, int64_t n, int *failed)
{
    double t = bench_now();
    int64_t i;
    for (i = 0; i < n; i++) {
        reel_frame *f;
        if (reel_frame_get(q, idx ? idx[i] : i, idx ? 0 : REEL_GET_ONCE, &f) != REEL_OK) {
            cli_error("bench: %s", reel_errmsg());
            *failed = 1;
            break;
        }
        reel_frame_release(f);
    }
    return bench_now() - t;
}

int bench_remote(bench *b)
{
    reel_publish_options po;
    reel_publish_result pr;
    reel_remote_stats rs;
    const char *names[1] = {b->name};
    reel_store *s;
    reel_seq *q;
    reel_cache *c;
    char dir[4096];
    int64_t *idx;
    double t_cold = 0, t_warm = 0, t_scan;
    int failed = 0, rc;
    figure *f;
    bench_say(b, "publishing the sequence");
    memset(&po, 0, sizeof po);
    po.sequences = names;
    po.nsequences = 1;
    if ((rc = reel_publish(b->s, b->remote, &po, &pr)) != REEL_OK)
        return cli_fail(b->remote, rc);
    if (!(idx = bench_random_indexes(b->nrandom, b->info.frame_count)))
        return cli_fail("bench", REEL_NOMEM);
    bench_say(b, "random access from the published store, block cache cold, then warm");
    fresh_cache(b, "random", dir, sizeof dir);
    if (open_remote(b, &s, &q, &c) == EXIT_OK)
        t_cold = read_frames(q, idx, b->nrandom, &failed);
    else
        failed = 1;
    close_remote(s, q, c);
    if (!failed && open_remote(b, &s, &q, &c) == EXIT_OK) /* a new process's view: RAM empty */
        t_warm = read_frames(q, idx, b->nrandom, &failed);
    else
        failed = 1;
    close_remote(s, q, c);
    drop_cache(dir);
    free(idx);
    if (failed)
        return EXIT_FAIL;
    f = bench_versus(b, "remote_random_cold", "random access, remote, cold", "frames/s",
                     (double)b->nrandom / t_cold, "FFmpeg seek + decode (local)",
                     b->ffmpeg_seek_fps);
    f->target = ">= 20x";
    f->met = f->ratio >= 20;
    f = bench_versus(b, "remote_random_warm", "random access, remote, warm", "frames/s",
                     (double)b->nrandom / t_warm, "the local store", b->random_fps);
    f->target = ">= 0.8x";
    f->met = f->ratio >= 0.8;
    bench_say(b, "sequential scan of the published store, block cache cold");
    fresh_cache(b, "scan", dir, sizeof dir);
    if (open_remote(b, &s, &q, &c) != EXIT_OK) {
        close_remote(s, q, c);
        drop_cache(dir);
        return EXIT_FAIL;
    }
    t_scan = read_frames(q, NULL, b->info.frame_count, &failed);
    reel_store_get_remote_stats(s, &rs);
    close_remote(s, q, c);
    drop_cache(dir);
    unsetenv("REEL_BLOCK_CACHE");
    if (failed)
        return EXIT_FAIL;
    f = bench_versus(b, "remote_scan_cold", "sequential scan, remote, cold", "frames/s",
                     (double)b->info.frame_count / t_scan, "FFmpeg decode, 1 thread (local)",
                     b->ffmpeg_fps1);
    f->target = ">= 1x";
    f->met = f->ratio >= 1;
    f = bench_versus(b, "remote_scan_bytes", "bytes fetched by the scan", "MB",
                     (double)rs.bytes_fetched / 1e6, "the published size", (double)pr.bytes / 1e6);
    f->target = "<= 1.05x";
    f->met = f->ratio <= 1.05;
    return EXIT_OK;
}
