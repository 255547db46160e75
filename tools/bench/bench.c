/*
 * bench.c - reel-bench, run as `reel bench`: every performance figure of reel in one run, each
 * against the
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_run.h"

/* ---- rows and shared steps ----------------------------------------------------------------- */

void bench_say(const bench *b, const char *what)
{
    (void)b;
    fprintf(stderr, "reel: bench: %s\n", what);
}

figure *bench_figure(bench *b, const char *key, const char *what, const char *unit)
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

figure *bench_versus(bench *b, const char *key, const char *what, const char *unit, double reel,
                     const char *baseline, double base)
{
    figure *f = bench_figure(b, key, what, unit);
    f->reel = reel;
    f->base = base;
    f->baseline = baseline;
    f->ratio = reel / base;
    return f;
}

int bench_read_frames(bench *b, int64_t n, unsigned flags)
{
    int64_t i;
    for (i = 0; i < n; i++) {
        reel_frame *fr;
        int rc = reel_frame_get(b->q, i, flags, &fr);
        reel_frame_release(fr);
        if (rc != REEL_OK)
            return cli_fail(b->path, rc);
    }
    return EXIT_OK;
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
        int rc = reel_frame_get_info(b->q, i, &fi);
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

static int on_source(void *ctx, int n, const char *const *v, const int *t)
{
    source_row *r = ctx;
    (void)t;
    if (n < 2 || !v[0] || !v[1])
        return 0;
    r->found = 1;
    r->size = atoll(v[1]);
    snprintf(r->path, sizeof r->path, "%s", v[0]);
    return 0;
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

/* CPU seconds this process has used so far (all its threads). */
static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static int import_into(bench *b, const char *path, int pix_fmt, double *seconds)
{
    reel_store *s;
    reel_import_options o;
    reel_import_result r;
    int rc;
    memset(&o, 0, sizeof o);
    o.sequence = b->name;
    o.pix_fmt = pix_fmt;
    o.codec = b->codec;
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
    double t_import = 0, t_decode = 0, cpu_import, cpu_decode, bound;
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
        reel_seq_get_info(q, &b->info);
        b->pix_fmt = b->info.pix_fmt;
        reel_seq_close(q);
    }
    reel_close(s);
    bench_say(b, have ? "import into a scratch store" : "import");
    snprintf(b->scratch, sizeof b->scratch, "%s.bench-import", b->path);
    remove_store(b->scratch);
    cpu_import = cpu_seconds();
    rc = import_into(b, have ? b->scratch : b->path, b->pix_fmt, &t_import);
    cpu_import = cpu_seconds() - cpu_import;
    b->import_seconds = t_import;
    remove_store(b->scratch);
    if (rc != EXIT_OK)
        return rc;
    bench_say(b, "decode+convert alone");
    memset(&o, 0, sizeof o);
    o.pix_fmt = b->pix_fmt;
    if (!have || b->pix_fmt == REEL_PIX_NATIVE) { /* the stored format, now known */
        if ((rc = reel_open(b->path, REEL_OPEN_READONLY, NULL, &s)) != REEL_OK ||
            (rc = reel_seq_open(s, b->name, &q)) != REEL_OK)
            return cli_fail(b->path, rc);
        reel_seq_get_info(q, &b->info);
        o.pix_fmt = b->pix_fmt = b->info.pix_fmt;
        reel_seq_close(q);
        reel_close(s);
    }
    cpu_decode = cpu_seconds();
    if ((rc = reel__decode_only(b->video, &o, &frames, &t_decode)) != REEL_OK)
        return cli_fail(b->video, rc);
    cpu_decode = cpu_seconds() - cpu_decode;
    bench_versus(b, "import", "import, whole video", "s", t_import, "decode+convert alone",
                 t_decode);
    /* the import cannot beat its CPU spread over every core: how close it comes */
    bound = cpu_import / (double)b->cores;
    f = bench_versus(b, "import_efficiency", "import: CPU bound / wall", "x", bound / t_import,
                     "(all cores busy: 1)", 1);
    f->target = ">= 0.90";
    f->met = bound / t_import >= 0.90;
    if (frames > 0) {
        f = bench_versus(b, "compress_cpu", "compression CPU per frame", "ms",
                         1e3 * (cpu_import - cpu_decode) / (double)frames,
                         "decode+convert CPU per frame", 1e3 * cpu_decode / (double)frames);
    }
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
    if (b->ll_checked)
        printf("lossless H.264: %d of %d frames seeked equal reel's\n",
               b->ll_checked - b->ll_mismatches, b->ll_checked);
    printf("pixels: %d of %d frames read by FFmpeg seeking equal reel's%s\n",
           b->checked - b->mismatches, b->checked,
           b->mismatches ? " (the sequence was scaled or rotated at import, or made from other "
                            "frames)"
                          : "");
    bench_keyints_print(b);
}

static int print_json(const bench *b, size_t sample)
{
    json_t *doc = json_object(), *o, *figs = json_array();
    int i;
    o = json_object();
    cli_json_set(o, "cores", json_integer(b->cores));
    cli_json_set(o, "cpu", cli_json_text(b->cpu));
    cli_json_set(o, "ram_gib", json_real(b->mem_gib));
    cli_json_set(doc, "machine", o);
    o = json_object();
    cli_json_set(o, "path", cli_json_text(b->video));
    cli_json_set(o, "stream", cli_json_text(b->video_desc));
    cli_json_set(o, "frames", json_integer(b->info.frame_count));
    cli_json_set(o, "gop", json_integer(b->gop));
    cli_json_set(o, "keyframes", json_integer(b->keyframes));
    cli_json_set(doc, "video", o);
    o = json_object();
    cli_json_set(o, "store", cli_json_text(b->path));
    cli_json_set(o, "sequence", cli_json_text(b->name));
    cli_json_set(o, "pix_fmt", json_string(reel_pix_fmt_name(b->info.pix_fmt)));
    cli_json_set(o, "width", json_integer(b->info.width));
    cli_json_set(o, "height", json_integer(b->info.height));
    cli_json_set(o, "budget_bytes", json_integer((json_int_t)b->budget));
    cli_json_set(o, "random_reads", json_integer(b->nrandom));
    cli_json_set(o, "seeks", json_integer(b->nseek < b->nrandom ? b->nseek : b->nrandom));
    cli_json_set(o, "sample_frames", json_integer((json_int_t)sample));
    cli_json_set(doc, "settings", o);
    cli_json_set(doc, "rss_before_mib", json_real(b->rss_before));
    cli_json_set(doc, "pixels_checked", json_integer(b->checked));
    cli_json_set(doc, "pixels_mismatched", json_integer(b->mismatches));
    cli_json_set(doc, "h264_lossless_checked", json_integer(b->ll_checked));
    cli_json_set(doc, "h264_lossless_mismatched", json_integer(b->ll_mismatches));
    for (i = 0; i < b->nfig; i++) {
        const figure *f = &b->fig[i];
        o = json_object();
        cli_json_set(o, "key", json_string(f->key));
        cli_json_set(o, "figure", cli_json_text(f->what));
        cli_json_set(o, "unit", cli_json_text(f->unit));
        cli_json_set(o, "reel", json_real(f->reel));
        cli_json_set(o, "baseline", cli_json_text(f->baseline));
        cli_json_set(o, "baseline_value", json_real(f->base));
        cli_json_set(o, "ratio", json_real(f->ratio));
        cli_json_set(o, "target", cli_json_text(f->target));
        cli_json_set(o, "met", f->met < 0 ? json_null() : json_boolean(f->met));
        cli_json_append(figs, o);
    }
    cli_json_set(doc, "figures", figs);
    bench_keyints_json(b, doc);
    return cli_json_emit(doc);
}

/* ---- the command ------------------------------------------------------------------------------ */

static int run(int argc, char **argv);
static const command bench_cmd = {
    "bench", "measure reel against FFmpeg, zstd, FFV1 and pread on one video, in one run",
    "bench STORE SEQUENCE --video SOURCE [--json] [--pix-fmt FMT] [--codec C] [--random N]\n"
    "            [--seeks N] [--sample N] [--budget MIB] [--remote LOCATION] [--keyints LIST]\n\n"
    "  Imports SOURCE into STORE as SEQUENCE if it is not there (with --pix-fmt, default\n"
    "  rgb24, and --codec, default auto; else into a scratch store beside STORE, removed\n"
    "  after), then measures, each against its baseline in the same run:\n"
    "    import          whole import vs decoding and converting alone; its CPU spread over\n"
    "                    every core vs its wall time (target >= 0.90); compression vs decode\n"
    "                    CPU per frame; vs ffmpeg transcoding to FFV1 -g 1 (target <= 0.5x)\n"
    "    random access   --random N (1000) cold reads through a --budget MIB (64) cache vs\n"
    "                    FFmpeg seeking to the keyframe before and decoding forward, on the\n"
    "                    first --seeks N (30), pixels checked equal (target >= 100x at GOP\n"
    "                    250); vs seeking in lossless H.264 with a 10-frame GOP (>= 10x)\n"
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
    "    size            the stored sample vs zstd -3 and libavcodec's FFV1 (target >= 2.2x on\n"
    "                    camera footage); the sample coded in intra and temporal mode vs FFV1\n"
    "                    (temporal >= 1.30x on camera footage), zstd -3 and each other; the\n"
    "                    whole stored sequence vs lossless H.264 -g 10 (ffmpeg -qp 0)\n"
    "    temporal decode a temporal frame's decode vs plain zstd -1 of the same frame (>= 0.8x)\n"
    "  --remote LOCATION  also publish the sequence to LOCATION (s3://BUCKET/PREFIX, an HTTP\n"
    "                   server taking PUT, or a directory) and read it back: random access with\n"
    "                   the node's block cache cold (>= 20x FFmpeg seeking) and warm (>= 0.8x\n"
    "                   the local store), a scan with it cold (>= 1x FFmpeg on 1 thread) and\n"
    "                   the bytes it fetched (<= 1.05x the published size)\n"
    "  --keyints LIST   also store the whole sequence again at each keyint of LIST (e.g.\n"
    "                   1,4,8,16; 1: intra) and measure its size against lossless H.264 -g 10\n"
    "                   and its random access (the same reads, in this process) against\n"
    "                   seeking in that file and against keyint 1's\n"
    "  The FFV1 and H.264 transcodes run the ffmpeg program (Debian's ffmpeg package).\n"
    "  Reads are not counted as accesses. Progress goes to stderr; --json prints the figures\n"
    "  for scripts.",
    run};


static int parse(bench *b, int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},          {"video", required_argument, NULL, 'v'},
        {"pix-fmt", required_argument, NULL, 'p'}, {"random", required_argument, NULL, 'r'},
        {"seeks", required_argument, NULL, 's'},   {"sample", required_argument, NULL, 'n'},
        {"budget", required_argument, NULL, 'b'},  {"codec", required_argument, NULL, 'c'},
        {"remote", required_argument, NULL, 'R'},  {"keyints", required_argument, NULL, 'k'},
        CLI_OPT_HELP,
        CLI_OPT_END};
    long long v;
    int c, rc;
    while ((c = cli_getopt(&bench_cmd, argc, argv, "", options)) != -1) {
        switch (c) {
        case 'j': b->json = 1; break;
        case 'R': b->remote = optarg; break;
        case 'k': {
            char *p = optarg, *end;
            for (b->nkeyints = 0; *p; p = *end ? end + 1 : end) {
                long k = strtol(p, &end, 10);
                if (end == p || (*end && (*end != ',' || !end[1])) || k < 1 ||
                    k > REEL_MAX_KEYINT || b->nkeyints == 8)
                    return cli_usage_error(&bench_cmd,
                                           "--keyints wants up to 8 comma-separated keyints "
                                           "of 1..%d (1: intra), not '%s'",
                                           REEL_MAX_KEYINT, optarg);
                b->keyints[b->nkeyints++] = (int)k;
            }
            if (!b->nkeyints)
                return cli_usage_error(&bench_cmd, "--keyints wants at least one keyint");
            break;
        }
        case 'c':
            b->codec = !strcmp(optarg, "intra")      ? REEL_CODEC_INTRA
                       : !strcmp(optarg, "temporal") ? REEL_CODEC_TEMPORAL
                       : !strcmp(optarg, "auto")     ? REEL_CODEC_AUTO
                                                     : -1;
            if (b->codec < 0)
                return cli_usage_error(&bench_cmd, "--codec wants intra, temporal or auto, not '%s'",
                                       optarg);
            break;
        case 'v': b->video = optarg; break;
        case 'p':
            if (!strcmp(optarg, "native"))
                b->pix_fmt = REEL_PIX_NATIVE;
            else if (reel_pix_fmt_from_name(optarg, &b->pix_fmt) != REEL_OK)
                return cli_usage_error(&bench_cmd, "unknown pixel format '%s'", optarg);
            break;
        case 'r':
        case 's':
        case 'n':
        case 'b':
            if ((rc = cli_number(&bench_cmd,
                                 c == 'r'   ? "--random"
                                 : c == 's' ? "--seeks"
                                 : c == 'n' ? "--sample"
                                            : "--budget",
                                 optarg, 1, c == 'b' ? 1 << 20 : 1000000000, &v)) != EXIT_OK)
                return rc;
            if (c == 'r')
                b->nrandom = v;
            else if (c == 's')
                b->nseek = v;
            else if (c == 'n')
                b->nsample = v;
            else
                b->budget = (size_t)v << 20;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if ((rc = cli_operands(&bench_cmd, argc, argv, 2, 2, "a store and a sequence")))
        return rc;
    b->path = argv[optind];
    b->name = argv[optind + 1];
    if (!b->video)
        return cli_usage_error(&bench_cmd, "give the source video with --video SOURCE");
    return EXIT_OK;
}

/* Open STORE read-only (reads are measurements, not counted) with a private cache. */
static int open_reader(bench *b)
{
    bench_video v;
    int rc;
    if ((rc = reel_open(b->path, REEL_OPEN_READONLY, NULL, &b->s)) != REEL_OK ||
        (rc = reel_seq_open(b->s, b->name, &b->q)) != REEL_OK ||
        (rc = reel_seq_get_info(b->q, &b->info)) != REEL_OK ||
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

/* SIGINT or SIGTERM: the scratch files go (the store measured is only read, or holds an
 * import that resumes), then exit 1. Only async-signal-safe calls. */
static char scratch_files[7][4128];

static void on_signal(int sig)
{
    static const char msg[] = "reel: bench: interrupted; scratch files removed\n";
    size_t i;
    (void)sig;
    for (i = 0; i < sizeof scratch_files / sizeof scratch_files[0]; i++)
        if (scratch_files[i][0])
            unlink(scratch_files[i]);
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(EXIT_FAIL);
    _exit(EXIT_FAIL);
}

static void catch_signals(const bench *b)
{
    static const char *const ends[] = {".bench-import",         ".bench-import-wal",
                                       ".bench-import-shm",     ".bench-import-journal",
                                       ".bench-raw",            BENCH_FFV1_FILE,
                                       BENCH_H264_FILE};
    struct sigaction sa;
    size_t i;
    for (i = 0; i < sizeof ends / sizeof ends[0]; i++)
        snprintf(scratch_files[i], sizeof scratch_files[i], "%.4000s%s", b->path, ends[i]);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int run(int argc, char **argv)
{
    bench b;
    bench_probe p = {-1, -1, -1};
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
    bench_probe_start(&b, &p); /* before FFmpeg is loaded: the reader stays a small process */
    catch_signals(&b);          /* after: the reader has nothing to remove */
    if (reel__av_load() == REEL_OK)
        av_log_set_level(AV_LOG_ERROR);
    describe_machine(&b);
    if ((rc = phase_import(&b)) != EXIT_OK || (rc = open_reader(&b)) != EXIT_OK)
        goto out;
    sample = (size_t)(b.nsample < b.info.frame_count ? b.nsample : b.info.frame_count);
    if ((rc = bench_random(&b, &p)) != EXIT_OK)
        goto out;
    if (!(raw = bench_sample_frames(&b, sample))) {
        rc = EXIT_FAIL;
        goto out;
    }
    if ((rc = bench_cold(&b, raw, sample)) != EXIT_OK || (rc = bench_hits(&b)) != EXIT_OK ||
        (rc = bench_readahead(&b)) != EXIT_OK || (rc = bench_scan(&b)) != EXIT_OK ||
        (rc = bench_size(&b, raw, sample)) != EXIT_OK ||
        (rc = bench_codecs(&b, raw, sample)) != EXIT_OK || (rc = bench_outer(&b)) != EXIT_OK ||
        (rc = bench_keyints(&b)) != EXIT_OK ||
        (b.remote && (rc = bench_remote(&b)) != EXIT_OK))
        goto out;
    if (!b.json)
        print_table(&b, sample);
    else if (print_json(&b, sample) != EXIT_OK)
        rc = EXIT_FAIL;
out:
    bench_probe_stop(&p);
    free(raw);
    reel_seq_close(b.q);
    reel_close(b.s);
    reel_cache_free(b.cache);
    return rc;
}

int main(int argc, char **argv)
{
    int a;
    for (a = 1; a < argc && strcmp(argv[a], "--"); a++)
        if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
            cli_usage(&bench_cmd, stdout);
            return EXIT_OK;
        }
    return run(argc, argv);
}
