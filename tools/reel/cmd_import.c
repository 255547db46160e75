/* cmd_import.c - `reel import`: videos into sequences, with progress and a summary line. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct progress_state {
    int mode; /* 0 quiet, 1 terminal bar, 2 plain lines */
    double last_line;
} progress_state;

static void format_eta(double s, char *buf, size_t cap)
{
    long t = s < 0 ? 0 : (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}

static int on_progress(void *ctx, const reel_import_progress *p)
{
    progress_state *ps = ctx;
    double fps = p->seconds > 0 ? (double)p->frames_done / p->seconds : 0;
    char eta[32] = "?";
    if (p->frames_expected > 0 && fps > 0)
        format_eta((double)(p->frames_expected - p->frames_done) / fps, eta, sizeof eta);
    if (ps->mode == 1) {
        char bar[31];
        int i, fill = p->frames_expected > 0
                          ? (int)(30.0 * (double)p->frames_done / (double)p->frames_expected)
                          : 0;
        for (i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : (p->frames_expected > 0 ? '.' : ' ');
        bar[30] = 0;
        if (p->frames_expected > 0)
            fprintf(stderr, "\r%s [%s] %lld/%lld frames  %.0f fps  ETA %s \033[K", p->sequence,
                    bar, (long long)p->frames_done, (long long)p->frames_expected, fps, eta);
        else
            fprintf(stderr, "\r%s %lld frames  %.0f fps \033[K", p->sequence,
                    (long long)p->frames_done, fps);
        fflush(stderr);
    } else if (ps->mode == 2 && p->seconds - ps->last_line >= 2.0) {
        ps->last_line = p->seconds;
        fprintf(stderr, "reel: import %s: %lld/%lld frames, %.0f fps, ETA %s\n", p->path,
                (long long)p->frames_done, (long long)p->frames_expected, fps, eta);
    }
    return interrupted;
}

typedef struct import_args {
    const char *store, *sequence;
    char **videos;
    int nvideos, quiet, json, level;
    reel_import_options o;
} import_args;

static int parse_scale(const char *s, int *w, int *h)
{
    char x;
    return sscanf(s, "%d%c%d", w, &x, h) == 3 && (x == 'x' || x == 'X') && *w > 0 && *h > 0 ? 0
                                                                                           : -1;
}

static int parse(int argc, char **argv, import_args *a)
{
    static const char *const policies[] = {"skip", "repeat", "black", "fail"};
    int i, k;
    memset(a, 0, sizeof *a);
    a->videos = calloc((size_t)argc, sizeof *a->videos);
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(arg, "--sequence") || !strcmp(arg, "--pix-fmt") ||
                    !strcmp(arg, "--scale") || !strcmp(arg, "--level") ||
                    !strcmp(arg, "--on-error") || !strcmp(arg, "--stream");
        if (takes && !val)
            return cli_usage_error(&cmd_import, "%s needs a value", arg);
        if (!strcmp(arg, "--sequence")) {
            a->sequence = val;
        } else if (!strcmp(arg, "--pix-fmt")) {
            if (!strcmp(val, "native"))
                a->o.pix_fmt = REEL_PIX_NATIVE;
            else if (reel_pix_fmt_from_name(val, &a->o.pix_fmt) != REEL_OK)
                return cli_usage_error(&cmd_import, "unknown pixel format '%s'", val);
        } else if (!strcmp(arg, "--scale")) {
            if (parse_scale(val, &a->o.width, &a->o.height))
                return cli_usage_error(&cmd_import, "--scale wants WxH, e.g. 640x360");
        } else if (!strcmp(arg, "--level")) {
            a->level = atoi(val);
            if (a->level < 1 || a->level > 22)
                return cli_usage_error(&cmd_import, "--level wants 1..22");
        } else if (!strcmp(arg, "--stream")) {
            long long s;
            if (cli_int64(val, &s) || s > 1000)
                return cli_usage_error(&cmd_import, "--stream wants a stream index");
            a->o.stream = (int)s + 1;
        } else if (!strcmp(arg, "--on-error")) {
            for (k = 0; k < 4 && strcmp(val, policies[k]); k++)
                ;
            if (k == 4)
                return cli_usage_error(&cmd_import, "--on-error wants skip, repeat, black or fail");
            a->o.on_error = k;
        } else if (!strcmp(arg, "--autorotate")) {
            a->o.autorotate = 1;
        } else if (!strcmp(arg, "--replace")) {
            a->o.replace = 1;
        } else if (!strcmp(arg, "--quiet") || !strcmp(arg, "-q")) {
            a->quiet = 1;
        } else if (!strcmp(arg, "--json")) {
            a->json = 1;
        } else if (arg[0] == '-' && arg[1]) {
            return cli_usage_error(&cmd_import, "unknown option %s", arg);
        } else if (!a->store) {
            a->store = arg;
        } else {
            a->videos[a->nvideos++] = argv[i];
        }
        i += takes;
    }
    if (!a->store || a->nvideos == 0)
        return cli_usage_error(&cmd_import, "give a store and at least one video");
    if (a->sequence && a->nvideos > 1)
        return cli_usage_error(&cmd_import, "--sequence names one sequence: give one video");
    a->o.sequence = a->sequence;
    return EXIT_OK;
}

static void summary(const char *video, const reel_import_result *r, int rc, int quiet)
{
    char raw[32], stored[32];
    if (quiet)
        return;
    if (rc == REEL_DONE) {
        fprintf(stderr, "%s: already imported (%lld frames); nothing to do\n", video,
                (long long)r->frames);
        return;
    }
    fprintf(stderr, "%s: %lld frames %dx%d %s in %.1f s (%.0f fps)%s, %s -> %s stored (ratio %.2f)",
            video, (long long)r->frames, r->width, r->height, reel_pix_fmt_name(r->pix_fmt),
            r->seconds, r->seconds > 0 ? (double)(r->frames - r->resumed_from) / r->seconds : 0,
            r->resumed_from ? " resumed" : "", human_bytes((double)r->raw_bytes, raw),
            human_bytes((double)r->stored_bytes, stored),
            r->stored_bytes ? (double)r->raw_bytes / (double)r->stored_bytes : 0);
    if (r->skipped + r->repeated + r->black)
        fprintf(stderr, "; undecodable frames: %lld skipped, %lld repeated, %lld black",
                (long long)r->skipped, (long long)r->repeated, (long long)r->black);
    if (r->truncated)
        fprintf(stderr, "; the file is truncated: kept the frames before the cut");
    fputc('\n', stderr);
}

static void json_result(const char *video, const reel_import_result *r, int rc, int first)
{
    printf("%s\n  {\"video\": ", first ? "" : ",");
    json_string(stdout, video);
    printf(", \"status\": \"%s\", \"frames\": %lld, \"resumed_from\": %lld, \"width\": %d, "
           "\"height\": %d, \"pix_fmt\": ",
           rc == REEL_OK ? "imported" : rc == REEL_DONE ? "unchanged" : "failed",
           (long long)r->frames, (long long)r->resumed_from, r->width, r->height);
    json_string(stdout, r->pix_fmt ? reel_pix_fmt_name(r->pix_fmt) : "");
    printf(", \"raw_bytes\": %lld, \"stored_bytes\": %lld, \"skipped\": %lld, \"repeated\": %lld, "
           "\"black\": %lld, \"truncated\": %s, \"rotation\": %d, \"seconds\": %.3f",
           (long long)r->raw_bytes, (long long)r->stored_bytes, (long long)r->skipped,
           (long long)r->repeated, (long long)r->black, r->truncated ? "true" : "false",
           r->rotation, r->seconds);
    if (rc != REEL_OK && rc != REEL_DONE) {
        printf(", \"error\": ");
        json_string(stdout, reel_errmsg());
    }
    printf("}");
}

static int run(int argc, char **argv)
{
    import_args a;
    reel_store *store;
    reel_open_options oo;
    progress_state ps;
    int i, rc, failures = 0;
    struct sigaction sa;

    if ((rc = parse(argc, argv, &a)) != EXIT_OK) {
        free(a.videos);
        return rc;
    }
    memset(&oo, 0, sizeof oo);
    oo.compression_level = a.level;
    if (reel_open(a.store, REEL_OPEN_CREATE, &oo, &store) != REEL_OK) {
        cli_error("%s", reel_errmsg());
        free(a.videos);
        return EXIT_FAIL;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    memset(&ps, 0, sizeof ps);
    ps.mode = a.quiet ? 0 : isatty(2) ? 1 : 2;
    a.o.progress = on_progress;
    a.o.log = REEL_IMPORT_LOG_QUIET; /* reel's own messages say what failed */
    a.o.progress_ctx = &ps;
    if (a.json)
        printf("[");
    for (i = 0; i < a.nvideos && !interrupted; i++) {
        reel_import_result r;
        ps.last_line = 0;
        rc = reel_import(store, a.videos[i], &a.o, &r);
        if (ps.mode == 1)
            fprintf(stderr, "\r\033[K");
        if (a.json)
            json_result(a.videos[i], &r, rc, i == 0);
        if (rc == REEL_OK || rc == REEL_DONE) {
            summary(a.videos[i], &r, rc, a.quiet);
        } else if (rc == REEL_INTERRUPTED) {
            cli_error("%s: interrupted with %lld frames committed; run the same command again to "
                      "resume",
                      a.videos[i], (long long)r.frames);
            failures++;
        } else {
            cli_error("%s", reel_errmsg());
            failures++;
        }
    }
    if (a.json)
        printf("\n]\n");
    reel_close(store);
    free(a.videos);
    return failures ? EXIT_FAIL : EXIT_OK;
}

const command cmd_import = {
    "import", "decode videos once and store every frame (resumable, idempotent)",
    "import STORE VIDEO... [--sequence NAME] [--pix-fmt FMT] [--scale WxH] [--level N]\n"
    "                   [--stream N] [--on-error POLICY] [--autorotate] [--replace] [--quiet]\n"
    "                   [--json]\n\n"
    "  STORE              the store file; created if missing\n"
    "  VIDEO              any file FFmpeg can read; each becomes one sequence\n"
    "  --sequence NAME    sequence name (one video only; default: file name without extension)\n"
    "  --pix-fmt FMT      stored format: native (the decoder's own, lossless), rgb24 (default),\n"
    "                     bgr24, gray8, yuv420p, yuv444p, gray16le, yuv420p10le\n"
    "  --scale WxH        resize to W x H while importing\n"
    "  --level N          zstd level of the stored frames (default 1)\n"
    "  --stream N         use video stream N (default: the best one)\n"
    "  --on-error POLICY  a packet that fails to decode: skip (default; recorded, no pixels),\n"
    "                     repeat (the previous frame), black, or fail (remove the sequence)\n"
    "  --autorotate       apply the stream's rotation metadata to the pixels\n"
    "  --replace          replace a same-named sequence made from another file or options\n"
    "  --quiet            no progress and no summary\n"
    "  --json             print one JSON object per video on stdout\n\n"
    "Re-running the same import does nothing; after an interruption (Ctrl-C, kill) it resumes\n"
    "from the last committed frame.",
    run};
