/* bench_probe.c - `reel bench`, random access: reel in a reader process of its own (its
 * peak RSS is a reader's), FFmpeg seeking in this one, every seeked frame compared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_run.h"

/* ---- 1 and 7. random access through a budget, against FFmpeg seeking ------------------------ */

/*
 * The reel side of random access runs in a reader process of its own, forked when the bench
 * starts (before FFmpeg is loaded or anything imported), so that its peak RSS (VmHWM) is what
 * a program reading frames through reel would have: the library, SQLite, zstd and the cache.
 */
typedef struct probe_result {
    double seconds;
    long hwm_kib, start_kib; /* peak RSS of the reader, and its RSS before the first read */
    int rc;
} probe_result;

static long status_kib(const char *field)
{
    char line[256];
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, strlen(field)))
            v = atol(line + strlen(field) + 1);
    if (f)
        fclose(f);
    return v;
}

/* The random indexes, the same in the reader and in the FFmpeg run. */
int64_t *bench_random_indexes(long long n, int64_t frames)
{
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    unsigned seed = 42;
    long long i;
    for (i = 0; idx && i < n; i++)
        idx[i] = (int64_t)(rand_r(&seed) % (unsigned)frames);
    return idx;
}

int bench_random_reads(const bench *b, const char *path, const char *name, double *seconds,
                       int64_t *stored)
{
    reel_store *s = NULL;
    reel_seq *q = NULL;
    reel_cache *c = NULL;
    reel_seq_info info;
    int64_t *idx = NULL;
    long long i;
    double t0;
    int rc;
    if ((rc = reel_open(path, REEL_OPEN_READONLY, NULL, &s)) != REEL_OK ||
        (rc = reel_cache_new(b->budget, &c)) != REEL_OK ||
        (rc = reel_store_set_cache(s, c)) != REEL_OK ||
        (rc = reel_store_set_readahead(s, 0, 1)) != REEL_OK ||
        (rc = reel_seq_open(s, name, &q)) != REEL_OK ||
        (rc = reel_seq_get_info(q, &info)) != REEL_OK)
        goto out;
    if (stored)
        *stored = info.stored_bytes;
    if (!(idx = bench_random_indexes(b->nrandom, info.frame_count))) {
        rc = REEL_NOMEM;
        goto out;
    }
    t0 = bench_now();
    for (i = 0; i < b->nrandom && rc == REEL_OK; i++) {
        reel_frame *f;
        const void *px;
        if ((rc = reel_frame_get(q, idx[i], 0, &f)) == REEL_OK)
            rc = reel_frame_pixels(f, &px, NULL);
        reel_frame_release(f);
    }
    *seconds = bench_now() - t0;
out:
    free(idx);
    reel_seq_close(q);
    reel_close(s);
    reel_cache_free(c);
    return rc;
}

/* In the reader: n random frames through a private cache of the budget, and the peak RSS. */
static void probe_read(const bench *b, probe_result *r)
{
    r->start_kib = status_kib("VmRSS:");
    r->rc = bench_random_reads(b, b->path, b->name, &r->seconds, NULL);
    r->hwm_kib = status_kib("VmHWM:");
}

void bench_probe_start(const bench *b, bench_probe *p)
{
    int go[2], res[2];
    p->pid = -1;
    if (pipe(go) != 0 || pipe(res) != 0)
        return;
    if ((p->pid = fork()) == 0) {
        probe_result r;
        char c;
        close(go[1]);
        close(res[0]);
        memset(&r, 0, sizeof r);
        if (read(go[0], &c, 1) == 1 && c == 'g') {
            probe_read(b, &r);
            if (write(res[1], &r, sizeof r) != (ssize_t)sizeof r)
                _exit(1);
        }
        _exit(0);
    }
    close(go[0]);
    close(res[1]);
    p->go = go[1];
    p->result = res[0];
}

/* Run the reader (once the sequence exists) and collect what it measured. */
static int probe_run(bench *b, bench_probe *p, probe_result *r)
{
    int ok = p->pid > 0 && write(p->go, "g", 1) == 1 &&
             read(p->result, r, sizeof *r) == (ssize_t)sizeof *r;
    close(p->go);
    close(p->result);
    if (p->pid > 0)
        waitpid(p->pid, NULL, 0);
    p->pid = -1;
    if (!ok) {
        cli_error("bench: the reader process failed");
        return EXIT_FAIL;
    }
    if (r->rc != REEL_OK) {
        cli_error("bench: the reader process: %s: %s", b->path, reel_errstr(r->rc));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

void bench_probe_stop(bench_probe *p)
{
    if (p->pid <= 0)
        return;
    close(p->go); /* the reader sees no go and leaves */
    close(p->result);
    waitpid(p->pid, NULL, 0);
    p->pid = -1;
}

int bench_ffmpeg_random(bench *b, const char *video, const int64_t *idx, long long n,
                        double *seconds, int *checked, int *mismatches)
{
    bench_video v;
    uint8_t *got = malloc(b->info.frame_size), *want = malloc(b->info.frame_size);
    double t = 0;
    long long i, found = 0, missing = 0, first_missing = -1;
    int rc = EXIT_OK;
    if (!got || !want || bv_open(&v, video, 0, &b->info) != 0) {
        free(got);
        free(want);
        return EXIT_FAIL;
    }
    for (i = 0; i < n && rc == EXIT_OK; i++) {
        reel_frame_info fi, first;
        int64_t pts;
        double t0;
        int r;
        if (reel_frame_read(b->q, idx[i], want, b->info.frame_size, &fi) != REEL_OK ||
            reel_frame_get_info(b->q, 0, &first) != REEL_OK) {
            rc = cli_fail(b->path, REEL_ERROR);
            break;
        }
        /* the source video has the sequence's timestamps; another encoding, its own */
        pts = strcmp(video, b->video)
                  ? bv_map_pts(&v, b->info.time_base, first.pts, fi.pts, fi.duration)
                  : fi.pts;
        t0 = bench_now();
        r = bv_seek_decode(&v, pts, got);
        if (r < 0) {
            cli_error("%s: FFmpeg could not seek to frame %lld", video, (long long)idx[i]);
            rc = EXIT_FAIL;
        } else if (r > 0) { /* no decoded frame has its timestamp (one reel guessed) */
            if (!missing++)
                first_missing = idx[i];
            continue;
        }
        t += bench_now() - t0;
        found++;
        (*checked)++;
        *mismatches += memcmp(got, want, b->info.frame_size) != 0;
    }
    bv_close(&v);
    free(got);
    free(want);
    if (rc == EXIT_OK && missing)
        fprintf(stderr,
                "reel: bench: %s: %lld of %lld frames sought (the first: frame %lld) have no "
                "frame of their timestamp when FFmpeg decodes: left out of the seek baseline\n",
                video, missing, n, first_missing);
    if (rc == EXIT_OK && !found) {
        cli_error("%s: FFmpeg found none of the frames sought by their timestamps", video);
        rc = EXIT_FAIL;
    }
    *seconds = found ? t / (double)found : 0;
    return rc;
}

int bench_random(bench *b, bench_probe *p)
{
    probe_result r;
    int64_t *idx;
    double t_ff = 0;
    long long nseek = b->nseek < b->nrandom ? b->nseek : b->nrandom;
    int rc;
    figure *f;
    bench_say(b, "random access through reel, in a reader process");
    if ((rc = probe_run(b, p, &r)) != EXIT_OK)
        return rc;
    if (!(idx = bench_random_indexes(nseek, b->info.frame_count)))
        return cli_fail("bench", REEL_NOMEM);
    bench_say(b, "random access by FFmpeg seeking");
    rc = bench_ffmpeg_random(b, b->video, idx, nseek, &t_ff, &b->checked, &b->mismatches);
    free(idx);
    if (rc != EXIT_OK)
        return rc;
    b->random_fps = (double)b->nrandom / r.seconds;
    b->ffmpeg_seek_fps = 1 / t_ff;
    f = bench_versus(b, "random_access",
                     b->info.codec == REEL_CODEC_TEMPORAL ? "random access (temporal)"
                                                           : "random access (intra)",
                     "frames/s", b->random_fps, "FFmpeg seek + decode", 1 / t_ff);
    f->target = b->gop >= 250 ? ">= 100x" : ">= 100x (GOP 250)";
    f->met = b->gop >= 250 ? f->ratio >= 100 : -1;
    f = bench_figure(b, "peak_rss", "peak RSS of the reader", "MiB");
    f->reel = (double)r.hwm_kib / 1024;
    f->base = (double)b->budget / MIB;
    f->baseline = "cache budget";
    f->ratio = f->reel - f->base;
    f->ratio_fmt = "%+.1f MiB";
    f->target = "<= budget + 32 MiB";
    f->met = f->ratio <= 32;
    b->rss_before = (double)r.start_kib / 1024;
    return EXIT_OK;
}

