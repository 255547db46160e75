/*
 * cmd_bench.c - `reel bench`: every performance figure of reel in one run, each against the
 * baseline a user would otherwise use, measured in the same process on the same data, and
 * printed as ratios (this machine is shared and noisy: absolute times drift, ratios less).
 *
 * Phases, in order: import (into STORE when SEQUENCE is missing, else into a scratch store
 * beside it) against decode+convert alone; random access through a cold RAM tier with a byte
 * budget (peak RSS sampled meanwhile) against FFmpeg seeking; cold reads against plain zstd
 * and pread of raw frames; cache hits on 1 and 2 threads; read-ahead against a caller's 1 ms
 * of work per frame; a sequential scan against decoding the video on 1 and all threads; and
 * sizes against zstd -3 and FFV1. Reads go through a read-only handle: they are not counted.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include "bench_video.h"
#include "cli.h"

#define MIB (1024.0 * 1024.0)
#define MAX_FIGS 20

typedef struct figure {
    const char *key, *what, *unit, *baseline, *target;
    double reel, base, ratio;
    const char *ratio_fmt; /* printf format of the ratio column */
    int met;               /* 1 met, 0 missed, -1 no target */
} figure;

typedef struct bench {
    const char *path, *name, *video;
    char scratch[4096];
    int json, pix_fmt;
    long long nrandom, nseek, nsample;
    size_t budget;
    reel_store *s;
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
} bench;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void say(const bench *b, const char *what)
{
    (void)b;
    fprintf(stderr, "reel: bench: %s\n", what);
}

static figure *add(bench *b, const char *key, const char *what, const char *unit)
{
    figure *f = &b->fig[b->nfig++];
    memset(f, 0, sizeof *f);
    f->key = key;
    f->what = what;
    f->unit = unit;
    f->ratio_fmt = "%.2fx";
    f->met = -1;
    f->baseline = "";
    f->target = "";
    return f;
}

static void remove_store(const char *path)
{
    char p[4200];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

/* ---- machine and video ------------------------------------------------------------------ */

static void describe_machine(bench *b)
{
    char line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(b->cpu, sizeof b->cpu, "unknown CPU");
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && colon) {
            snprintf(b->cpu, sizeof b->cpu, "%s", colon + 2);
            b->cpu[strcspn(b->cpu, "\n")] = 0;
            break;
        }
    }
    if (f)
        fclose(f);
    b->cores = sysconf(_SC_NPROCESSORS_ONLN);
    b->mem_gib = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE) / (MIB * 1024);
}

/* GOP: the longest run of frames from one keyframe to the next. */
static int measure_gop(bench *b)
{
    int64_t i, last = -1;
    b->gop = 0;
    b->keyframes = 0;
    for (i = 0; i < b->info.frame_count; i++) {
        reel_frame_info fi;
        int rc = reel_frame_info_get(b->q, i, &fi);
        if (rc != REEL_OK)
            return cli_fail(b->path, rc);
        if (fi.flags & REEL_FRAME_KEY) {
            if (last >= 0 && i - last > b->gop)
                b->gop = i - last;
            last = i;
            b->keyframes++;
        }
    }
    if (b->info.frame_count - (last < 0 ? 0 : last) > b->gop)
        b->gop = b->info.frame_count - (last < 0 ? 0 : last);
    return EXIT_OK;
}

/* The sequence must have been imported from SOURCE (same size in bytes), or the random-access
 * and pixel comparisons would compare two different videos. A sequence made through the API
 * has no record: it is taken on trust. */
typedef struct source_row {
    int found;
    long long size;
    char path[1024];
} source_row;

static void on_source(void *ctx, int n, const char *const *v)
{
    source_row *r = ctx;
    if (n < 2 || !v[0] || !v[1])
        return;
    r->found = 1;
    r->size = atoll(v[1]);
    snprintf(r->path, sizeof r->path, "%s", v[0]);
}

static int check_source(const bench *b)
{
    source_row r;
    struct stat st;
    memset(&r, 0, sizeof r);
    if (cli_query(b->path,
                  "SELECT r.path, r.size FROM reel_source r JOIN reel_sequence s ON "
                  "s.id = r.seq_id WHERE s.name = ?1",
                  b->name, on_source, &r) != 0)
        return EXIT_FAIL;
    if (stat(b->video, &st) != 0) {
        cli_error("%s: cannot read it", b->video);
        return EXIT_FAIL;
    }
    if (r.found && r.size != (long long)st.st_size) {
        cli_error("%s: sequence '%s' was imported from %s (%lld bytes), not from %s (%lld "
                  "bytes); give its source video or another sequence name",
                  b->path, b->name, r.path, r.size, b->video, (long long)st.st_size);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* ---- 5. import against decode+convert ------------------------------------------------------ */

static int import_into(bench *b, const char *path, int pix_fmt, double *seconds)
{
    reel_store *s;
    reel_import_options o;
    reel_import_result r;
    int rc;
    memset(&o, 0, sizeof o);
    o.sequence = b->name;
    o.pix_fmt = pix_fmt;
    if ((rc = reel_open(path, REEL_OPEN_CREATE, NULL, &s)) != REEL_OK)
        return cli_fail(path, rc);
    rc = reel_import(s, b->video, &o, &r);
    reel_close(s);
    if (rc != REEL_OK)
        return cli_fail(b->video, rc);
    *seconds = r.seconds;
    return EXIT_OK;
}

/* Import (the sequence itself when missing), then decode+convert alone into the same format. */
static int phase_import(bench *b)
{
    reel_import_options o;
    reel_store *s;
    reel_seq *q;
    double t_import = 0, t_decode = 0;
    int64_t frames;
    int have, rc;
    figure *f;
    if ((rc = reel_open(b->path, REEL_OPEN_CREATE, NULL, &s)) != REEL_OK)
        return cli_fail(b->path, rc);
    have = reel_seq_open(s, b->name, &q) == REEL_OK;
    if (have && check_source(b) != EXIT_OK) {
        reel_seq_close(q);
        reel_close(s);
        return EXIT_FAIL;
    }
    if (have) {
        reel_seq_info_get(q, &b->info);
        b->pix_fmt = b->info.pix_fmt;
        reel_seq_close(q);
    }
    reel_close(s);
    say(b, have ? "import into a scratch store" : "import");
    snprintf(b->scratch, sizeof b->scratch, "%s.bench-import", b->path);
    remove_store(b->scratch);
    rc = import_into(b, have ? b->scratch : b->path, b->pix_fmt, &t_import);
    remove_store(b->scratch);
    if (rc != EXIT_OK)
        return rc;
    say(b, "decode+convert alone");
    memset(&o, 0, sizeof o);
    o.pix_fmt = b->pix_fmt;
    if (!have || b->pix_fmt == REEL_PIX_NATIVE) { /* the stored format, now known */
        if ((rc = reel_open(b->path, REEL_OPEN_READONLY, NULL, &s)) != REEL_OK ||
            (rc = reel_seq_open(s, b->name, &q)) != REEL_OK)
            return cli_fail(b->path, rc);
        reel_seq_info_get(q, &b->info);
        o.pix_fmt = b->pix_fmt = b->info.pix_fmt;
        reel_seq_close(q);
        reel_close(s);
    }
    if ((rc = reel__decode_only(b->video, &o, &frames, &t_decode)) != REEL_OK)
        return cli_fail(b->video, rc);
    f = add(b, "import", "import, whole video", "s");
    f->reel = t_import;
    f->base = t_decode;
    f->baseline = "decode+convert alone";
    f->ratio = t_import / t_decode;
    f->target = "<= 1.5x";
    f->met = f->ratio <= 1.5;
    return EXIT_OK;
}

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

typedef struct probe {
    pid_t pid;
    int go, result; /* pipe ends: the parent writes go, reads result */
} probe;

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
static int64_t *random_indexes(long long n, int64_t frames)
{
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    unsigned seed = 42;
    long long i;
    for (i = 0; idx && i < n; i++)
        idx[i] = (int64_t)(rand_r(&seed) % (unsigned)frames);
    return idx;
}

/* In the reader: open the store with a private cache of the budget, read n random frames. */
static void probe_read(const bench *b, probe_result *r)
{
    reel_store *s = NULL;
    reel_seq *q = NULL;
    reel_cache *c = NULL;
    reel_seq_info info;
    int64_t *idx = NULL;
    long long i;
    double t0;
    r->start_kib = status_kib("VmRSS:");
    if ((r->rc = reel_open(b->path, REEL_OPEN_READONLY, NULL, &s)) != REEL_OK ||
        (r->rc = reel_cache_new(b->budget, &c)) != REEL_OK ||
        (r->rc = reel_store_set_cache(s, c)) != REEL_OK ||
        (r->rc = reel_store_set_readahead(s, 0, 1)) != REEL_OK ||
        (r->rc = reel_seq_open(s, b->name, &q)) != REEL_OK ||
        (r->rc = reel_seq_info_get(q, &info)) != REEL_OK)
        goto out;
    if (!(idx = random_indexes(b->nrandom, info.frame_count))) {
        r->rc = REEL_NOMEM;
        goto out;
    }
    t0 = now();
    for (i = 0; i < b->nrandom && r->rc == REEL_OK; i++) {
        reel_frame *f;
        const void *px;
        if ((r->rc = reel_frame_get(q, idx[i], 0, &f)) == REEL_OK)
            r->rc = reel_frame_pixels(f, &px, NULL);
        reel_frame_release(f);
    }
    r->seconds = now() - t0;
    r->hwm_kib = status_kib("VmHWM:");
out:
    free(idx);
    reel_seq_close(q);
    reel_close(s);
    reel_cache_free(c);
}

static void probe_start(const bench *b, probe *p)
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
static int probe_run(bench *b, probe *p, probe_result *r)
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

static void probe_stop(probe *p)
{
    if (p->pid <= 0)
        return;
    close(p->go); /* the reader sees no go and leaves */
    close(p->result);
    waitpid(p->pid, NULL, 0);
    p->pid = -1;
}

/* FFmpeg seeks to the first n of idx; each frame is checked against reel's pixels. */
static int ffmpeg_random(bench *b, const int64_t *idx, long long n, double *seconds)
{
    bench_video v;
    uint8_t *got = malloc(b->info.frame_size), *want = malloc(b->info.frame_size);
    double t = 0;
    long long i;
    int rc = EXIT_OK;
    if (!got || !want || bv_open(&v, b->video, 0, &b->info) != 0) {
        free(got);
        free(want);
        return EXIT_FAIL;
    }
    for (i = 0; i < n && rc == EXIT_OK; i++) {
        reel_frame_info fi;
        double t0;
        if (reel_frame_read(b->q, idx[i], want, b->info.frame_size, &fi) != REEL_OK) {
            rc = cli_fail(b->path, REEL_ERROR);
            break;
        }
        t0 = now();
        if (bv_seek_decode(&v, fi.pts, got) != 0) {
            cli_error("%s: FFmpeg could not seek to frame %lld", b->video, (long long)idx[i]);
            rc = EXIT_FAIL;
        }
        t += now() - t0;
        b->checked++;
        b->mismatches += memcmp(got, want, b->info.frame_size) != 0;
    }
    bv_close(&v);
    free(got);
    free(want);
    *seconds = t;
    return rc;
}

static int phase_random(bench *b, probe *p)
{
    probe_result r;
    int64_t *idx;
    double t_ff = 0;
    long long nseek = b->nseek < b->nrandom ? b->nseek : b->nrandom;
    int rc;
    figure *f;
    say(b, "random access through reel, in a reader process");
    if ((rc = probe_run(b, p, &r)) != EXIT_OK)
        return rc;
    if (!(idx = random_indexes(nseek, b->info.frame_count)))
        return cli_fail("bench", REEL_NOMEM);
    say(b, "random access by FFmpeg seeking");
    rc = ffmpeg_random(b, idx, nseek, &t_ff);
    free(idx);
    if (rc != EXIT_OK)
        return rc;
    f = add(b, "random_access", "random access", "frames/s");
    f->reel = (double)b->nrandom / r.seconds;
    f->base = (double)nseek / t_ff;
    f->baseline = "FFmpeg seek + decode";
    f->ratio = f->reel / f->base;
    f->target = b->gop >= 250 ? ">= 100x" : ">= 100x (GOP 250)";
    f->met = b->gop >= 250 ? f->ratio >= 100 : -1;
    f = add(b, "peak_rss", "peak RSS of the reader", "MiB");
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

/* ---- 3. cold reads, against plain zstd and pread ------------------------------------------- */

/* The first n frames' raw pixels, read once (not through the cache, not counted). */
static uint8_t *sample_frames(bench *b, size_t n)
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
        t = now();
        for (i = 0; i < n; i++)
            if (ZSTD_decompressDCtx(d, out, fs, z + i * cap, len[i]) != fs)
                t = -1e9;
        t = now() - t;
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
    uint8_t *out = malloc(b->info.frame_size);
    double t = -1;
    const char *why;
    if (codec && blob && len && filter && sum && out &&
        sqlite3_open_v2(b->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT f.idx, f.filter, f.checksum, b.data FROM reel_frame f "
                           "JOIN reel_sequence s ON s.id = f.seq_id JOIN reel_blob b ON "
                           "b.id = f.blob_id WHERE s.name = ?1 AND f.idx < ?2",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)n);
        while (sqlite3_step(st) == SQLITE_ROW) {
            int64_t k = sqlite3_column_int64(st, 0);
            if (k < 0 || k >= (int64_t)n || blob[k])
                continue;
            len[k] = (size_t)sqlite3_column_bytes(st, 3);
            if ((blob[k] = malloc(len[k] ? len[k] : 1)))
                memcpy(blob[k], sqlite3_column_blob(st, 3), len[k]);
            filter[k] = sqlite3_column_int(st, 1);
            sum[k] = (uint64_t)sqlite3_column_int64(st, 2);
        }
        t = now();
        for (i = 0; i < n; i++)
            if (!blob[i] || reel__decode(codec, filter[i], b->info.pix_fmt, b->info.width,
                                         b->info.height, blob[i], len[i], sum[i], out,
                                         &why) != REEL_OK)
                t = -1e9; /* a frame without pixels, or damaged: no baseline */
        t = now() - t;
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
            t = now();
            for (i = 0; i < n; i++)
                if (pread(fd, out, fs, (off_t)(i * fs)) != (ssize_t)fs)
                    t = -1e9;
            t = now() - t;
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
    size_t i;
    reel_cache_set_budget(b->cache, budget);
    reel_cache_trim(b->cache, 0);
    t = now();
    for (i = 0; i < n; i++) {
        reel_frame *fr;
        int rc = reel_frame_get(b->q, (int64_t)i, REEL_GET_ONCE, &fr);
        reel_frame_release(fr);
        if (rc != REEL_OK) {
            cli_fail(b->path, rc);
            return -1;
        }
    }
    return now() - t;
}

/*
 * Cold reads twice: into a cache with room for everything (each frame takes new memory from
 * the system, page faults included), then into a cache holding 16 frames (steady state: a
 * load reuses what an eviction gave back), each against the codec alone on the same blobs in
 * RAM, plain zstd and pread.
 */
static int phase_cold(bench *b, const uint8_t *raw, size_t n)
{
    size_t fs = b->info.frame_size, zbytes;
    double t_fill, t_full, t_codec, t_zstd, t_pread, mb = (double)(n * fs) / 1e6;
    figure *f;
    say(b, "cold reads");
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
    f = add(b, "cold_read_codec", "cold read, cache full", "MB/s");
    f->reel = mb / t_full;
    f->base = mb / t_codec;
    f->baseline = "reel's codec alone, in RAM";
    f->ratio = f->reel / f->base;
    f->target = ">= 0.9x";
    f->met = f->ratio >= 0.9;
    f = add(b, "cold_read_fill", "cold read, cache filling", "MB/s");
    f->reel = mb / t_fill;
    f->base = mb / t_codec;
    f->baseline = "reel's codec alone, in RAM";
    f->ratio = f->reel / f->base;
    f = add(b, "cold_read_zstd", "cold read, cache full", "MB/s");
    f->reel = mb / t_full;
    f->base = mb / t_zstd;
    f->baseline = "plain zstd -1, no filter";
    f->ratio = f->reel / f->base;
    f = add(b, "cold_read_pread", "cold read, cache full", "MB/s");
    f->reel = mb / t_full;
    f->base = mb / t_pread;
    f->baseline = "pread of raw frames";
    f->ratio = f->reel / f->base;
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
    double t0 = now(), end = t0 + j->seconds;
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
    } while (now() < end);
    j->ops = ops;
    j->seconds = now() - t0;
    return NULL;
}

/* Plain arithmetic for half a second: independent multiply chains, no memory. The 2-thread
 * speed-up of this loop is what the machine allows at the moment (a shared VM's vCPUs do not
 * always run at once). */
static void *arith(void *arg)
{
    double *rate = arg, t0 = now();
    uint64_t x[4] = {1, 2, 3, 4}, n = 0;
    while (now() - t0 < 0.5) {
        int i, k;
        for (i = 0; i < 100000; i++)
            for (k = 0; k < 4; k++)
                x[k] = x[k] * 6364136223846793005ULL + 1442695040888963407ULL;
        n++;
    }
    *rate = (double)n / (now() - t0) + (double)((x[0] ^ x[1] ^ x[2] ^ x[3]) & 1) * 1e-12;
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
static int phase_hits(bench *b)
{
    int64_t warm = b->info.frame_count < 128 ? b->info.frame_count : 128, i;
    double best1 = 0, best2 = 0, r1, r2;
    reel_cache_stats before, after;
    figure *f;
    int k, rc;
    say(b, "cache hits");
    reel_cache_set_budget(b->cache, (size_t)4 << 30); /* room for every warm frame */
    for (i = 0; i < warm; i++) {
        reel_frame *fr;
        if ((rc = reel_frame_get(b->q, i, 0, &fr)) != REEL_OK)
            return cli_fail(b->path, rc);
        reel_frame_release(fr);
    }
    reel_cache_stats_get(b->cache, &before);
    for (k = 0; k < 5; k++) {
        if ((rc = hit_round(b, warm, &r1, &r2)) != REEL_OK)
            return cli_fail(b->path, rc);
        best1 = r1 > best1 ? r1 : best1;
        best2 = r2 > best2 ? r2 : best2;
    }
    reel_cache_stats_get(b->cache, &after);
    if (after.misses != before.misses) { /* the figure would measure loads, not hits */
        cli_error("bench: %llu gets of resident frames missed the cache",
                  (unsigned long long)(after.misses - before.misses));
        return EXIT_FAIL;
    }
    f = add(b, "hits_1", "cache hits, 1 thread", "M/s");
    f->reel = best1;
    f->target = ">= 5 M/s";
    f->met = f->reel >= 5;
    f->baseline = "-";
    f->ratio_fmt = NULL;
    f = add(b, "hits_2", "cache hits, 2 threads", "M/s");
    f->reel = best2;
    f->base = best1;
    f->baseline = "1 thread";
    f->ratio = f->reel / f->base;
    f->target = ">= 1.6x";
    f->met = f->ratio >= 1.6;
    f = add(b, "cpu_scaling", "plain arithmetic, 2 threads", "x");
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
static int phase_readahead(bench *b)
{
    int64_t n = b->info.frame_count < 300 ? b->info.frame_count : 300, i, waited = 0;
    figure *f;
    say(b, "read-ahead");
    reel_cache_set_budget(b->cache, scan_budget(b));
    reel_cache_trim(b->cache, 0);
    reel_store_set_readahead(b->s, 1, 8);
    for (i = 0; i < n; i++) {
        reel_frame *fr;
        double t0 = now(), dt;
        if (reel_frame_get(b->q, i, 0, &fr) != REEL_OK)
            return cli_fail(b->path, REEL_ERROR);
        dt = now() - t0;
        waited += dt > 0.0002;
        reel_frame_release(fr);
        while (now() - t0 < 0.001 + dt)
            ; /* the caller's own work */
    }
    f = add(b, "readahead", "read-ahead, 1 ms work/frame", "% no wait");
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
        t0 = now();
        rc = bv_decode_all(&v, scratch, &frames);
        *fps = (double)frames / (now() - t0);
        bv_close(&v);
    }
    free(scratch);
    if (rc != 0)
        cli_error("%s: FFmpeg could not decode it", b->video);
    return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

static int phase_scan(bench *b)
{
    double t, fps1, fpsn;
    int64_t i;
    figure *f;
    say(b, "sequential scan through reel");
    reel_cache_set_budget(b->cache, scan_budget(b));
    reel_cache_trim(b->cache, 0);
    reel_store_set_readahead(b->s, 1, 8);
    t = now();
    for (i = 0; i < b->info.frame_count; i++) {
        reel_frame *fr;
        if (reel_frame_get(b->q, i, REEL_GET_ONCE, &fr) != REEL_OK)
            return cli_fail(b->path, REEL_ERROR);
        reel_frame_release(fr);
    }
    t = now() - t;
    say(b, "decoding the video on 1 thread, then on all");
    if (ffmpeg_scan(b, 1, &fps1) != EXIT_OK || ffmpeg_scan(b, 0, &fpsn) != EXIT_OK)
        return EXIT_FAIL;
    f = add(b, "scan_1", "sequential scan", "frames/s");
    f->reel = (double)b->info.frame_count / t;
    f->base = fps1;
    f->baseline = "FFmpeg decode, 1 thread";
    f->ratio = f->reel / f->base;
    f->target = ">= 2x";
    f->met = f->ratio >= 2;
    f = add(b, "scan_all", "sequential scan", "frames/s");
    f->reel = (double)b->info.frame_count / t;
    f->base = fpsn;
    f->baseline = "FFmpeg decode, all threads";
    f->ratio = f->reel / f->base;
    return EXIT_OK;
}

/* ---- 6. sizes ------------------------------------------------------------------------------ */

static int phase_size(bench *b, const uint8_t *raw, size_t n)
{
    size_t fs = b->info.frame_size, zbytes = 0, i;
    int64_t stored = 0, ffv1 = 0;
    double rawb = (double)(n * fs);
    figure *f;
    say(b, "sizes: zstd -3 and FFV1 on the same frames");
    for (i = 0; i < n; i++) {
        reel_frame_info fi;
        if (reel_frame_info_get(b->q, (int64_t)i, &fi) != REEL_OK)
            return cli_fail(b->path, REEL_ERROR);
        stored += (int64_t)fi.stored_bytes;
    }
    time_zstd(raw, n, fs, 3, &zbytes);
    if (bv_ffv1_size(raw, n, &b->info, &ffv1) != 0) {
        cli_error("bench: FFV1 could not encode %s frames", reel_pix_fmt_name(b->info.pix_fmt));
        return EXIT_FAIL;
    }
    f = add(b, "size_zstd", "compression ratio (raw/stored)", "x");
    f->reel = rawb / (double)stored;
    f->base = rawb / (double)zbytes;
    f->baseline = "zstd -3 on raw frames";
    f->ratio = f->reel / f->base;
    f->target = ">= 2.2x (camera)";
    f->met = f->reel >= 2.2;
    f = add(b, "size_ffv1", "compression ratio (raw/stored)", "x");
    f->reel = rawb / (double)stored;
    f->base = rawb / (double)ffv1;
    f->baseline = "FFV1 level 3";
    f->ratio = f->reel / f->base;
    return EXIT_OK;
}

/* ---- output ---------------------------------------------------------------------------------- */

static void print_table(const bench *b, size_t sample)
{
    int i;
    printf("machine   %ld cores, %s, %.1f GiB RAM\n", b->cores, b->cpu, b->mem_gib);
    printf("video     %s: %s, %lld frames, GOP %lld (%lld keyframes)\n", b->video, b->video_desc,
           (long long)b->info.frame_count, (long long)b->gop, (long long)b->keyframes);
    printf("stored    %s %dx%d as %s, zstd level 1, cache budget %.0f MiB for random access\n",
           b->path, b->info.width, b->info.height, reel_pix_fmt_name(b->info.pix_fmt),
           (double)b->budget / MIB);
    printf("settings  %lld random reads (FFmpeg seeks to the first %lld), %zu-frame sample for "
           "cold reads and sizes, read-ahead 1 worker / 8 frames\n\n",
           b->nrandom, b->nseek < b->nrandom ? b->nseek : b->nrandom, sample);
    printf("%-32s %12s  %-28s %12s %10s  %-18s %s\n", "figure", "reel", "baseline", "its value",
           "ratio", "target", "met");
    for (i = 0; i < b->nfig; i++) {
        const figure *f = &b->fig[i];
        char r[32] = "", rv[32], bv[32] = "";
        if (f->ratio_fmt)
            snprintf(r, sizeof r, f->ratio_fmt, f->ratio);
        snprintf(rv, sizeof rv, "%.*f %s", f->reel < 10 ? 2 : 0, f->reel, f->unit);
        if (f->base > 0)
            snprintf(bv, sizeof bv, "%.*f", f->base < 10 ? 2 : 0, f->base);
        printf("%-32s %12s  %-28s %12s %10s  %-18s %s\n", f->what, rv, f->baseline, bv, r,
               f->target, f->met < 0 ? "" : f->met ? "yes" : "NO");
    }
    printf("\nthe reader process: RSS %.1f MiB before opening the store, %lld random reads through "
           "a fresh cache\n",
           b->rss_before, b->nrandom);
    printf("pixels: %d of %d frames read by FFmpeg seeking equal reel's%s\n",
           b->checked - b->mismatches, b->checked,
           b->mismatches ? " (the sequence was scaled or rotated at import, or made from other "
                            "frames)"
                          : "");
}

static void print_json(const bench *b, size_t sample)
{
    int i;
    printf("{\"machine\": {\"cores\": %ld, \"cpu\": ", b->cores);
    json_string(stdout, b->cpu);
    printf(", \"ram_gib\": %.1f},\n \"video\": {\"path\": ", b->mem_gib);
    json_string(stdout, b->video);
    printf(", \"stream\": ");
    json_string(stdout, b->video_desc);
    printf(", \"frames\": %lld, \"gop\": %lld, \"keyframes\": %lld},\n",
           (long long)b->info.frame_count, (long long)b->gop, (long long)b->keyframes);
    printf(" \"settings\": {\"store\": ");
    json_string(stdout, b->path);
    printf(", \"sequence\": ");
    json_string(stdout, b->name);
    printf(", \"pix_fmt\": \"%s\", \"width\": %d, \"height\": %d, \"budget_bytes\": %zu, "
           "\"random_reads\": %lld, \"seeks\": %lld, \"sample_frames\": %zu},\n",
           reel_pix_fmt_name(b->info.pix_fmt), b->info.width, b->info.height, b->budget,
           b->nrandom, b->nseek < b->nrandom ? b->nseek : b->nrandom, sample);
    printf(" \"rss_before_mib\": %.1f, \"pixels_checked\": %d, \"pixels_mismatched\": %d,\n"
           " \"figures\": [\n",
           b->rss_before, b->checked, b->mismatches);
    for (i = 0; i < b->nfig; i++) {
        const figure *f = &b->fig[i];
        printf("  {\"key\": \"%s\", \"figure\": ", f->key);
        json_string(stdout, f->what);
        printf(", \"unit\": \"%s\", \"reel\": %.6g, \"baseline\": ", f->unit, f->reel);
        json_string(stdout, f->baseline);
        printf(", \"baseline_value\": %.6g, \"ratio\": %.6g, \"target\": ", f->base, f->ratio);
        json_string(stdout, f->target);
        printf(", \"met\": %s}%s\n", f->met < 0 ? "null" : f->met ? "true" : "false",
               i + 1 < b->nfig ? "," : "");
    }
    printf(" ]}\n");
}

/* ---- the command ------------------------------------------------------------------------------ */

static int parse(bench *b, int argc, char **argv)
{
    int i, pos = 0;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        long long v;
        if (!strcmp(a, "--json")) {
            b->json = 1;
        } else if (!strcmp(a, "--video") && i + 1 < argc) {
            b->video = argv[++i];
        } else if (!strcmp(a, "--pix-fmt") && i + 1 < argc) {
            if (!strcmp(argv[++i], "native"))
                b->pix_fmt = REEL_PIX_NATIVE;
            else if (reel_pix_fmt_from_name(argv[i], &b->pix_fmt) != REEL_OK)
                return cli_usage_error(&cmd_bench, "unknown pixel format '%s'", argv[i]);
        } else if ((!strcmp(a, "--random") || !strcmp(a, "--seeks") || !strcmp(a, "--sample") ||
                    !strcmp(a, "--budget")) &&
                   i + 1 < argc) {
            if (cli_int64(argv[++i], &v) != 0 || v < 1)
                return cli_usage_error(&cmd_bench, "%s wants a number >= 1", a);
            if (!strcmp(a, "--random"))
                b->nrandom = v;
            else if (!strcmp(a, "--seeks"))
                b->nseek = v;
            else if (!strcmp(a, "--sample"))
                b->nsample = v;
            else
                b->budget = (size_t)v << 20;
        } else if (a[0] == '-') {
            return cli_usage_error(&cmd_bench, "unknown option %s", a);
        } else if (pos == 0) {
            b->path = a, pos++;
        } else if (pos == 1) {
            b->name = a, pos++;
        } else {
            return cli_usage_error(&cmd_bench, "unexpected argument '%s'", a);
        }
    }
    if (!b->path || !b->name || !b->video)
        return cli_usage_error(&cmd_bench, "give a store, a sequence and --video SOURCE");
    return EXIT_OK;
}

/* Open STORE read-only (reads are measurements, not counted) with a private cache. */
static int open_reader(bench *b)
{
    bench_video v;
    int rc;
    if ((rc = reel_open(b->path, REEL_OPEN_READONLY, NULL, &b->s)) != REEL_OK ||
        (rc = reel_seq_open(b->s, b->name, &b->q)) != REEL_OK ||
        (rc = reel_seq_info_get(b->q, &b->info)) != REEL_OK ||
        (rc = reel_cache_new(b->budget, &b->cache)) != REEL_OK ||
        (rc = reel_store_set_cache(b->s, b->cache)) != REEL_OK)
        return cli_fail(b->path, rc);
    if (b->info.frame_count < 2) {
        cli_error("%s: sequence '%s' has %lld frames; the bench needs at least 2", b->path,
                  b->name, (long long)b->info.frame_count);
        return EXIT_FAIL;
    }
    if (bv_open(&v, b->video, 1, &b->info) != 0)
        return EXIT_FAIL;
    bv_describe(&v, b->video_desc, sizeof b->video_desc);
    bv_close(&v);
    return measure_gop(b);
}

static int run(int argc, char **argv)
{
    bench b;
    probe p = {-1, -1, -1};
    uint8_t *raw = NULL;
    size_t sample;
    int rc;
    memset(&b, 0, sizeof b);
    b.nrandom = 1000;
    b.nseek = 30;
    b.nsample = 200;
    b.budget = (size_t)64 << 20;
    b.pix_fmt = 0; /* as reel import: rgb24 */
    if ((rc = parse(&b, argc, argv)) != EXIT_OK)
        return rc;
    fflush(NULL);
    probe_start(&b, &p); /* before FFmpeg is loaded: the reader stays a small process */
    if (reel__av_load() == REEL_OK)
        av_log_set_level(AV_LOG_ERROR);
    describe_machine(&b);
    if ((rc = phase_import(&b)) != EXIT_OK || (rc = open_reader(&b)) != EXIT_OK)
        goto out;
    sample = (size_t)(b.nsample < b.info.frame_count ? b.nsample : b.info.frame_count);
    if ((rc = phase_random(&b, &p)) != EXIT_OK)
        goto out;
    if (!(raw = sample_frames(&b, sample))) {
        rc = EXIT_FAIL;
        goto out;
    }
    if ((rc = phase_cold(&b, raw, sample)) != EXIT_OK || (rc = phase_hits(&b)) != EXIT_OK ||
        (rc = phase_readahead(&b)) != EXIT_OK || (rc = phase_scan(&b)) != EXIT_OK ||
        (rc = phase_size(&b, raw, sample)) != EXIT_OK)
        goto out;
    if (b.json)
        print_json(&b, sample);
    else
        print_table(&b, sample);
out:
    probe_stop(&p);
    free(raw);
    reel_seq_close(b.q);
    reel_close(b.s);
    reel_cache_free(b.cache);
    return rc;
}

const command cmd_bench = {
    "bench", "measure reel against FFmpeg, zstd, FFV1 and pread on one video, in one run",
    "bench STORE SEQUENCE --video SOURCE [--json] [--pix-fmt FMT] [--random N] [--seeks N]\n"
    "            [--sample N] [--budget MIB]\n\n"
    "  Imports SOURCE into STORE as SEQUENCE if it is not there (with --pix-fmt, default rgb24;\n"
    "  else into a scratch store beside STORE, removed after), then measures, each against its\n"
    "  baseline in the same run:\n"
    "    import          whole import vs decoding and converting alone (target <= 1.5x)\n"
    "    random access   --random N (1000) cold reads through a --budget MIB (64) cache vs\n"
    "                    FFmpeg seeking to the keyframe before and decoding forward, on the\n"
    "                    first --seeks N (30), pixels checked equal (target >= 100x at GOP 250)\n"
    "    peak RSS        during the random reads (target <= budget + 32 MiB)\n"
    "    cold read       first --sample N (200) frames through an empty cache, into a cache\n"
    "                    that holds 16 frames and one with room for all (new memory), vs\n"
    "                    reel's codec on the same blobs in RAM (target >= 0.9x), plain zstd -1\n"
    "                    and pread of raw frames\n"
    "    cache hits      get+release of resident frames, 1 and 2 threads (best of 5 rounds)\n"
    "    read-ahead      sequential gets with 1 ms of work each that never wait (> 95%)\n"
    "    sequential scan whole sequence with read-ahead, through the --budget cache (room\n"
    "                    for 32 frames at least), vs FFmpeg decoding on 1 and all\n"
    "                    threads (target >= 2x the 1-thread rate)\n"
    "    size            the sample vs zstd -3 and libavcodec's FFV1 (target >= 2.2x on camera\n"
    "                    footage)\n"
    "  Reads are not counted as accesses. Progress goes to stderr; --json prints the figures\n"
    "  for scripts.",
    run};
