/* cmd_import.c - `reel import`: videos into sequences, with progress and a summary line. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

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

/* The terminal's width in columns (stderr's, else $COLUMNS, else 80). */
static int term_columns(void)
{
    struct winsize ws;
    const char *env = getenv("COLUMNS");
    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return env && atoi(env) > 0 ? atoi(env) : 80;
}

/* One bar line that fits cols - 1 columns: the text, and the bar in the room left (none
 * under 10 columns); the text itself is cut to fit. */
static void draw_bar(const reel_import_progress *p, const char *text, int cols)
{
    char bar[512];
    int room = cols - 1 - (int)strlen(text) - 3, fill, i;
    if (room > (int)sizeof bar - 1)
        room = (int)sizeof bar - 1;
    if (p->frames_expected > 0 && room >= 10) {
        fill = (int)((double)room * (double)p->frames_done / (double)p->frames_expected);
        for (i = 0; i < room; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[room] = 0;
        fprintf(stderr, "\r[%s] %s\033[K", bar, text);
    } else
        fprintf(stderr, "\r%.*s\033[K", cols > 1 ? cols - 1 : 1, text);
}

static int on_progress(void *ctx, const reel_import_progress *p)
{
    progress_state *ps = ctx;
    double fps = p->seconds > 0 ? (double)p->frames_done / p->seconds : 0;
    char eta[32] = "?", text[256];
    if (p->frames_expected > 0 && fps > 0)
        format_eta((double)(p->frames_expected - p->frames_done) / fps, eta, sizeof eta);
    if (p->frames_expected > 0)
        snprintf(text, sizeof text, "%s %lld/%lld frames %.0f fps ETA %s", p->sequence,
                 (long long)p->frames_done, (long long)p->frames_expected, fps, eta);
    else
        snprintf(text, sizeof text, "%s %lld frames %.0f fps", p->sequence,
                 (long long)p->frames_done, fps);
    if (ps->mode == 1) {
        draw_bar(p, text, term_columns());
        fflush(stderr);
    } else if (ps->mode == 2 && p->seconds - ps->last_line >= 2.0) {
        ps->last_line = p->seconds; /* a log line: not the error prefix "reel: " */
        fprintf(stderr, "import %s: %lld/%lld frames, %.0f fps, ETA %s\n", p->path,
                (long long)p->frames_done, (long long)p->frames_expected, fps, eta);
    }
    return cli_interrupted();
}

typedef struct import_args {
    const char *store, *sequence, *name; /* name: the --name template */
    char **videos;
    int nvideos, quiet, json, level;
    int wait_ms; /* --wait: how long a write waits for the store's lock; 0 = the default */
    reel_import_options o;
} import_args;

/* "WxH" or "W:H": two whole numbers from 1 to 65535 (one of them may be -1) and nothing else. */
static int parse_scale(const char *s, int *w, int *h)
{
    char buf[32], *x;
    long long v[2];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    if (!(x = strpbrk(buf, "xX:")))
        return -1;
    *x = 0;
    if (cli_int64(buf, &v[0]) || cli_int64(x + 1, &v[1]) || v[0] < -1 || v[0] == 0 ||
        v[0] > 65535 || v[1] < -1 || v[1] == 0 || v[1] > 65535 || (v[0] == -1 && v[1] == -1))
        return -1;
    *w = (int)v[0];
    *h = (int)v[1];
    return 0;
}

/* Seconds as a decimal ("12", "1.5") into whole milliseconds, 0 .. INT_MAX ms. */
static int parse_seconds(const char *s, int *ms)
{
    char *end;
    double v;
    if (!*s || strspn(s, "0123456789.") != strlen(s))
        return -1;
    v = strtod(s, &end);
    if (*end || !(v >= 0) || v * 1000 > INT_MAX)
        return -1;
    *ms = (int)(v * 1000 + 0.5);
    return 0;
}

/* Frames per second: "25", "29.97" or "30000/1001", more than 0 and at most 10000. */
static int parse_fps(const char *s, int *num, int *den)
{
    char buf[64], *slash;
    long long n, d;
    int ms;
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    if ((slash = strchr(buf, '/'))) {
        *slash = 0;
        if (cli_int64(buf, &n) || cli_int64(slash + 1, &d) || n < 1 || d < 1 || n > INT_MAX ||
            d > INT_MAX || n > 10000 * d)
            return -1;
        *num = (int)n, *den = (int)d;
        return 0;
    }
    if (parse_seconds(buf, &ms) || ms < 1 || ms > 10000 * 1000) /* thousandths, as ms */
        return -1;
    *num = ms, *den = 1000;
    while (*num % 10 == 0 && *den % 10 == 0)
        *num /= 10, *den /= 10;
    return 0;
}

enum { OPT_SEQUENCE = 256, OPT_PIX_FMT, OPT_SCALE, OPT_LEVEL, OPT_STREAM, OPT_ON_ERROR,
       OPT_AUTOROTATE, OPT_REPLACE, OPT_JSON, OPT_CODEC, OPT_KEYINT, OPT_WAIT, OPT_NAME, OPT_FPS,
       OPT_START, OPT_DURATION, OPT_EVERY };

static const struct option options[] = {
    {"sequence", required_argument, NULL, OPT_SEQUENCE},
    {"pix-fmt", required_argument, NULL, OPT_PIX_FMT},
    {"scale", required_argument, NULL, OPT_SCALE},
    {"level", required_argument, NULL, OPT_LEVEL},
    {"stream", required_argument, NULL, OPT_STREAM},
    {"on-error", required_argument, NULL, OPT_ON_ERROR},
    {"autorotate", no_argument, NULL, OPT_AUTOROTATE},
    {"replace", no_argument, NULL, OPT_REPLACE},
    {"quiet", no_argument, NULL, 'q'},
    {"json", no_argument, NULL, OPT_JSON},
    {"codec", required_argument, NULL, OPT_CODEC},
    {"keyint", required_argument, NULL, OPT_KEYINT},
    {"wait", required_argument, NULL, OPT_WAIT},
    {"name", required_argument, NULL, OPT_NAME},
    {"fps", required_argument, NULL, OPT_FPS},
    {"start", required_argument, NULL, OPT_START},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"every", required_argument, NULL, OPT_EVERY},
    CLI_OPT_HELP,
    CLI_OPT_END};

static int parse(int argc, char **argv, import_args *a)
{
    static const char *const policies[] = {"skip", "repeat", "black", "fail"};
    long long v;
    int c, k, rc;
    memset(a, 0, sizeof *a);
    while ((c = cli_getopt(&cmd_import, argc, argv, "q", options)) != -1) {
        switch (c) {
        case OPT_SEQUENCE:
            a->sequence = optarg;
            break;
        case OPT_PIX_FMT:
            if (!strcmp(optarg, "native"))
                a->o.pix_fmt = REEL_PIX_NATIVE;
            else if (reel_pix_fmt_from_name(optarg, &a->o.pix_fmt) != REEL_OK)
                return cli_usage_error(&cmd_import, "unknown pixel format '%s'", optarg);
            break;
        case OPT_SCALE:
            if (parse_scale(optarg, &a->o.width, &a->o.height))
                return cli_usage_error(&cmd_import,
                                       "--scale wants WxH or W:H with W and H from 1 to 65535, "
                                       "one of them may be -1 to keep the aspect ratio (e.g. "
                                       "640x360, 640:-1), not '%s'",
                                       optarg);
            break;
        case OPT_NAME:
            a->name = optarg;
            break;
        case OPT_FPS:
            if (parse_fps(optarg, &a->o.fps_num, &a->o.fps_den))
                return cli_usage_error(&cmd_import,
                                       "--fps wants frames per second above 0 and up to 10000 "
                                       "(25, 29.97 or 30000/1001), not '%s'",
                                       optarg);
            break;
        case OPT_START:
        case OPT_DURATION:
            if (parse_seconds(optarg, c == OPT_START ? &a->o.start_ms : &a->o.duration_ms) ||
                (c == OPT_DURATION && !a->o.duration_ms))
                return cli_usage_error(&cmd_import,
                                       "%s wants seconds (e.g. 12 or 1.5%s), not '%s'",
                                       c == OPT_START ? "--start" : "--duration",
                                       c == OPT_START ? ", 0 or more" : ", at least 0.001",
                                       optarg);
            break;
        case OPT_EVERY:
            if ((rc = cli_number(&cmd_import, "--every", optarg, 1, INT_MAX, &v)) != EXIT_OK)
                return rc;
            a->o.every = (int)v;
            break;
        case OPT_LEVEL:
            if ((rc = cli_number(&cmd_import, "--level", optarg, 1, 22, &v)) != EXIT_OK)
                return rc;
            a->level = (int)v;
            break;
        case OPT_STREAM:
            if ((rc = cli_number(&cmd_import, "--stream", optarg, 0, 1000, &v)) != EXIT_OK)
                return rc;
            a->o.stream = (int)v + 1;
            break;
        case OPT_ON_ERROR:
            for (k = 0; k < 4 && strcmp(optarg, policies[k]); k++)
                ;
            if (k == 4)
                return cli_usage_error(&cmd_import,
                                       "--on-error wants skip, repeat, black or fail, not '%s'",
                                       optarg);
            a->o.on_error = k;
            break;
        case OPT_CODEC:
            if (!strcmp(optarg, "intra"))
                a->o.codec = REEL_CODEC_INTRA;
            else if (!strcmp(optarg, "temporal"))
                a->o.codec = REEL_CODEC_TEMPORAL;
            else if (!strcmp(optarg, "auto"))
                a->o.codec = REEL_CODEC_AUTO;
            else
                return cli_usage_error(&cmd_import,
                                       "--codec wants intra, temporal or auto, not '%s'", optarg);
            break;
        case OPT_KEYINT:
            if ((rc = cli_number(&cmd_import, "--keyint", optarg, 1, REEL_MAX_KEYINT, &v)) !=
                EXIT_OK)
                return rc;
            a->o.keyint = (int)v;
            break;
        case OPT_WAIT: /* 0: give up at once (1 ms: busy_timeout_ms 0 is the default) */
            if ((rc = cli_number(&cmd_import, "--wait", optarg, 0, INT_MAX / 1000, &v)) !=
                EXIT_OK)
                return rc;
            a->wait_ms = v ? (int)v * 1000 : 1;
            break;
        case OPT_AUTOROTATE: a->o.autorotate = 1; break;
        case OPT_REPLACE: a->o.replace = 1; break;
        case 'q': a->quiet = 1; break;
        case OPT_JSON: a->json = 1; break;
        default: return EXIT_USAGE;
        }
    }
    if ((rc = cli_operands(&cmd_import, argc, argv, 2, argc, "a store and at least one video")))
        return rc;
    a->store = argv[optind];
    a->videos = argv + optind + 1;
    a->nvideos = argc - optind - 1;
    if (a->sequence && a->nvideos > 1)
        return cli_usage_error(&cmd_import, "--sequence names one sequence: give one video, or "
                                            "--name TEMPLATE for many");
    if (a->sequence && a->name)
        return cli_usage_error(&cmd_import, "give --sequence or --name, not both");
    a->o.sequence = a->sequence;
    return EXIT_OK;
}

/* The parts of an operand a --name template takes: path without trailing '/', split. */
typedef struct name_parts {
    char dir[1024];  /* the directory part, "." when none */
    char name[512];  /* the last component */
    char parent[512];/* the last component of dir ("" at the top) */
} name_parts;

static void split(const char *path, name_parts *np)
{
    size_t n = strlen(path), start, pstart;
    while (n > 1 && path[n - 1] == '/')
        n--;
    for (start = n; start > 0 && path[start - 1] != '/'; start--)
        ;
    snprintf(np->name, sizeof np->name, "%.*s", (int)(n - start), path + start);
    n = start;
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (n == 0)
        snprintf(np->dir, sizeof np->dir, ".");
    else
        snprintf(np->dir, sizeof np->dir, "%.*s", (int)n, path);
    for (pstart = n; pstart > 0 && path[pstart - 1] != '/'; pstart--)
        ;
    snprintf(np->parent, sizeof np->parent, "%.*s", (int)(n - pstart), path + pstart);
    if (n == 0 || !strcmp(np->parent, "."))
        np->parent[0] = 0;
}

/*
 * The sequence name for operand number n (from 1) of path by the template t: {stem} (the last
 * component without its extension), {name} (with it), {ext} (without the dot), {parent} (the
 * directory holding it, last component only), {dir} (the whole directory part), {n}; "{{" and
 * "}}" are braces. 0, or -1 with why set for a field that does not exist.
 */
static int expand(const char *t, const char *path, int n, char *out, size_t cap, char *why,
                  size_t whycap)
{
    name_parts np;
    size_t len = 0;
    char num[32], stem[512];
    const char *dot;
    split(path, &np);
    snprintf(stem, sizeof stem, "%s", np.name);
    dot = strrchr(np.name, '.');
    if (dot && dot != np.name)
        stem[dot - np.name] = 0;
    else
        dot = NULL;
    snprintf(num, sizeof num, "%d", n);
    out[0] = 0;
    while (*t) {
        const char *v = NULL, *close;
        char one[2] = {*t, 0};
        if ((t[0] == '{' && t[1] == '{') || (t[0] == '}' && t[1] == '}')) {
            v = one, t += 2;
        } else if (*t == '{' && (close = strchr(t, '}'))) {
            size_t k = (size_t)(close - t - 1);
            v = !strncmp(t + 1, "stem", k) && k == 4     ? stem
                : !strncmp(t + 1, "name", k) && k == 4   ? np.name
                : !strncmp(t + 1, "ext", k) && k == 3    ? (dot ? dot + 1 : "")
                : !strncmp(t + 1, "parent", k) && k == 6 ? np.parent
                : !strncmp(t + 1, "dir", k) && k == 3    ? np.dir
                : !strncmp(t + 1, "n", k) && k == 1      ? num
                                                          : NULL;
            if (!v) {
                snprintf(why, whycap, "--name: unknown field {%.*s}: use {stem}, {name}, {ext}, "
                         "{parent}, {dir} or {n} ({{ and }} for braces)", (int)k, t + 1);
                return -1;
            }
            t = close + 1;
        } else if (*t == '{' || *t == '}') {
            snprintf(why, whycap, "--name: a lone '%c' (write {{ or }} for a brace)", *t);
            return -1;
        } else {
            v = one, t++;
        }
        len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s", v);
        if (len >= cap) {
            snprintf(why, whycap, "--name gives a name longer than %zu bytes for %s", cap - 1,
                     path);
            return -1;
        }
    }
    return 0;
}

static int by_text(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Every operand's name from the template, all different: EXIT_OK, or a usage error before
 * anything is imported. names[i] are freed by the caller (free_names). */
static int make_names(import_args *a, char ***out)
{
    char **names = calloc((size_t)a->nvideos + 1, sizeof *names), **sorted, why[512];
    int i, rc = EXIT_OK;
    *out = names;
    if (!names || !(sorted = calloc((size_t)a->nvideos + 1, sizeof *sorted))) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    for (i = 0; rc == EXIT_OK && i < a->nvideos; i++) {
        char buf[1024];
        if (expand(a->name, a->videos[i], i + 1, buf, sizeof buf, why, sizeof why))
            rc = cli_usage_error(&cmd_import, "%s", why);
        else if (!buf[0])
            rc = cli_usage_error(&cmd_import, "--name '%s' gives an empty name for %s", a->name,
                                 a->videos[i]);
        else if (!(names[i] = strdup(buf)))
            rc = EXIT_FAIL;
        sorted[i] = names[i];
    }
    if (rc == EXIT_OK) {
        qsort(sorted, (size_t)a->nvideos, sizeof *sorted, by_text);
        for (i = 1; rc == EXIT_OK && i < a->nvideos; i++)
            if (!strcmp(sorted[i - 1], sorted[i])) {
                int j, first = -1, second = -1;
                for (j = 0; j < a->nvideos; j++)
                    if (!strcmp(names[j], sorted[i]))
                        first < 0 ? (void)(first = j) : second < 0 ? (void)(second = j) : (void)0;
                rc = cli_usage_error(&cmd_import,
                                     "--name '%s' gives %s and %s the same name '%s'; nothing "
                                     "was imported (add a field that differs, e.g. {parent} or "
                                     "{n})",
                                     a->name, a->videos[first], a->videos[second], sorted[i]);
            }
    }
    free(sorted);
    return rc;
}

static void free_names(char **names, int n)
{
    int i;
    for (i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
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

static json_t *json_result(const char *video, const reel_import_result *r, int rc)
{
    json_t *o = json_object();
    cli_json_set(o, "video", cli_json_text(cli_shown(video)));
    cli_json_set(o, "status", json_string(rc == REEL_OK     ? "imported"
                                          : rc == REEL_DONE ? "unchanged"
                                          : rc == REEL_INTERRUPTED ? "interrupted"
                                                                   : "failed"));
    cli_json_set(o, "frames", json_integer(r->frames));
    cli_json_set(o, "resumed_from", json_integer(r->resumed_from));
    cli_json_set(o, "width", json_integer(r->width));
    cli_json_set(o, "height", json_integer(r->height));
    cli_json_set(o, "pix_fmt", json_string(r->pix_fmt ? reel_pix_fmt_name(r->pix_fmt) : ""));
    cli_json_set(o, "raw_bytes", json_integer(r->raw_bytes));
    cli_json_set(o, "stored_bytes", json_integer(r->stored_bytes));
    cli_json_set(o, "skipped", json_integer(r->skipped));
    cli_json_set(o, "repeated", json_integer(r->repeated));
    cli_json_set(o, "black", json_integer(r->black));
    cli_json_set(o, "truncated", json_boolean(r->truncated));
    cli_json_set(o, "rotation", json_integer(r->rotation));
    cli_json_set(o, "seconds", json_real(r->seconds));
    if (rc != REEL_OK && rc != REEL_DONE)
        cli_json_set(o, "error", cli_json_text(cli_shown(reel_errmsg())));
    return o;
}

static int run(int argc, char **argv)
{
    import_args a;
    reel_store *store;
    reel_open_options oo;
    progress_state ps;
    json_t *results = NULL;
    char **names = NULL;
    int i, rc, failures = 0;

    if ((rc = parse(argc, argv, &a)) != EXIT_OK)
        return rc;
    if (a.name && (rc = make_names(&a, &names)) != EXIT_OK) {
        free_names(names, a.nvideos);
        return rc;
    }
    memset(&oo, 0, sizeof oo);
    oo.compression_level = a.level;
    oo.busy_timeout_ms = a.wait_ms;
    if (reel_open(a.store, REEL_OPEN_CREATE, &oo, &store) != REEL_OK) {
        cli_error("%s", reel_errmsg());
        free_names(names, a.nvideos);
        return EXIT_FAIL;
    }
    cli_catch_signals();
    memset(&ps, 0, sizeof ps);
    ps.mode = a.quiet ? 0 : isatty(2) ? 1 : 2;
    a.o.progress = on_progress;
    a.o.log = REEL_IMPORT_LOG_QUIET; /* reel's own messages say what failed */
    a.o.progress_ctx = &ps;
    if (a.json)
        results = json_array();
    for (i = 0; i < a.nvideos && !cli_interrupted(); i++) {
        reel_import_result r;
        ps.last_line = 0;
        if (names)
            a.o.sequence = names[i];
        rc = reel_import(store, a.videos[i], &a.o, &r);
        if (ps.mode == 1)
            fprintf(stderr, "\r\033[K");
        if (a.json)
            cli_json_append(results, json_result(a.videos[i], &r, rc));
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
    if (reel_close(store) != REEL_OK) {
        cli_error("%s", reel_errmsg());
        failures++;
    }
    if (a.json && cli_json_emit(results) != EXIT_OK)
        failures++;
    free_names(names, a.nvideos);
    return failures ? EXIT_FAIL : EXIT_OK;
}

const command cmd_import = {
    "import", "decode videos or image sequences once and store every frame (resumable, "
              "idempotent)",
    "import STORE VIDEO... [--sequence NAME | --name TEMPLATE] [--pix-fmt FMT] [--scale WxH]\n"
    "                   [--fps F] [--start S] [--duration S] [--every N] [--codec C]\n"
    "                   [--keyint N] [--level N] [--stream N] [--on-error POLICY]\n"
    "                   [--autorotate] [--replace] [--wait SECONDS] [--quiet] [--json]\n\n"
    "  STORE              the store file; created if missing\n"
    "  VIDEO              any file FFmpeg can read; each becomes one sequence. Or an image\n"
    "                     sequence, one image per frame: a directory, a quoted glob\n"
    "                     ('dir/*.png', in natural order: img2 before img10) or a pattern\n"
    "                     ('dir/img_%04d.png', from the first of 0..4 to the first gap); any\n"
    "                     image format FFmpeg reads, all of one size unless --scale\n"
    "  --sequence NAME    sequence name (one video only; default: file name without extension,\n"
    "                     for an image sequence the name of its directory)\n"
    "  --name TEMPLATE    names for many videos from their paths: {stem} (file name without\n"
    "                     extension), {name}, {ext}, {parent} (the directory holding it),\n"
    "                     {dir} (the whole directory part), {n} (its position, from 1);\n"
    "                     e.g. --name '{parent}/{stem}' for cam*/walk.mp4. Two videos given\n"
    "                     one name: refused before anything is imported\n"
    "  --pix-fmt FMT      stored format: native (the decoder's own, lossless), rgb24 (default),\n"
    "                     bgr24, gray8, yuv420p, yuv444p, gray16le, yuv420p10le\n"
    "  --scale WxH        resize to W x H while importing (also W:H); -1 for one side keeps\n"
    "                     the aspect ratio (640:-1), rounded to even where the format needs it\n"
    "  --fps F            image sequences: frames per second (25, 29.97, 30000/1001; default\n"
    "                     25); frame i has timestamp i/F, i its position in the file order\n"
    "  --start S          skip the frames of the first S seconds (decimal)\n"
    "  --duration S       keep S seconds of frames from --start on\n"
    "  --every N          keep every Nth frame of those (the first, N+1th...)\n"
    "  --codec C          intra: each frame alone (fastest to write and to read at random);\n"
    "                     temporal: a frame may be stored as its difference from the one\n"
    "                     before it, when that is smaller (still scenes, static cameras);\n"
    "                     auto (default): temporal when the first frames show it pays\n"
    "  --keyint N         temporal: a frame that needs no other at least every N frames, so\n"
    "                     a random read decodes at most N (1..64, default 4)\n"
    "  --level N          zstd level of the stored frames (default 1)\n"
    "  --stream N         use video stream N (default: the best one)\n"
    "  --on-error POLICY  a packet that fails to decode: skip (default; recorded, no pixels),\n"
    "                     repeat (the previous frame), black, or fail (remove the sequence)\n"
    "  --autorotate       apply the stream's rotation metadata to the pixels\n"
    "  --replace          replace a same-named sequence made from another file or options\n"
    "  --wait SECONDS     how long each write waits for the store's lock while another\n"
    "                     process (another import) holds it (default 5; 0: not at all)\n"
    "  --quiet            no progress and no summary\n"
    "  --json             print a JSON array with one object per video on stdout\n\n"
    "Options may come before or after the operands; '--' ends them (for a name beginning with\n"
    "'-'). SIGINT or SIGTERM stops the import at a committed frame.\n"
    "Re-running the same import does nothing; after an interruption (Ctrl-C, kill) it resumes\n"
    "from the last committed frame. The options that change the frames (--pix-fmt, --scale,\n"
    "--fps, --start, --duration, --every, --codec...) are recorded: the same source with other\n"
    "values is another import, refused for an existing sequence unless --replace.",
    run};
