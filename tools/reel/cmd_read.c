/* cmd_read.c - `reel cat` (frames to stdout, raw or y4m) and `reel export` (one frame to a
 * PNG, PPM/PGM or raw file). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* ---- cat ---- */

static const char *y4m_colorspace(int fmt)
{
    switch (fmt) {
    case REEL_PIX_YUV420P: return "420jpeg";
    case REEL_PIX_YUV444P: return "444";
    case REEL_PIX_GRAY8: return "mono";
    case REEL_PIX_GRAY16LE: return "mono16";
    case REEL_PIX_YUV420P10LE: return "420p10";
    default: return "444"; /* RGB is converted to yuv444p */
    }
}

static long long gcd(long long a, long long b)
{
    while (b) {
        long long t = a % b;
        a = b;
        b = t;
    }
    return a ? a : 1;
}

typedef struct cat_args {
    const char *store, *name;
    long long from, count;
    int y4m;
} cat_args;

static const struct option cat_options[] = {
    {"from", required_argument, NULL, 'f'}, {"count", required_argument, NULL, 'n'},
    {"format", required_argument, NULL, 'F'}, CLI_OPT_HELP, CLI_OPT_END};

static int cat_parse(int argc, char **argv, cat_args *a)
{
    int c, rc;
    memset(a, 0, sizeof *a);
    a->count = -1;
    while ((c = cli_getopt(&cmd_cat, argc, argv, "", cat_options)) != -1) {
        switch (c) {
        case 'f':
        case 'n':
            if ((rc = cli_number(&cmd_cat, c == 'f' ? "--from" : "--count", optarg, 0, INT64_MAX,
                                 c == 'f' ? &a->from : &a->count)) != EXIT_OK)
                return rc;
            break;
        case 'F':
            if (strcmp(optarg, "raw") && strcmp(optarg, "y4m"))
                return cli_usage_error(&cmd_cat, "--format wants raw or y4m, not '%s'", optarg);
            a->y4m = !strcmp(optarg, "y4m");
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if ((rc = cli_operands(&cmd_cat, argc, argv, 2, 2, "a store and a sequence")))
        return rc;
    a->store = argv[optind];
    a->name = argv[optind + 1];
    return EXIT_OK;
}

/* The y4m frame rate of frames lasting duration x num/den seconds: den/(duration x num),
 * reduced; when the product does not fit a y4m header, the nearest rate in microhertz. */
static void y4m_rate(long long num, long long den, long long duration, long long *fn,
                     long long *fd)
{
    long long d;
    if (num <= 0 || den <= 0 || duration <= 0) {
        *fn = 25, *fd = 1;
        return;
    }
    d = gcd(den, duration);
    den /= d, duration /= d;
    if (__builtin_mul_overflow(duration, num, &d) || d > INT32_MAX || den > INT32_MAX) {
        double fps = (double)den / ((double)duration * (double)num);
        *fn = fps * 1e6 >= 1 && fps * 1e6 < (double)INT32_MAX ? (long long)(fps * 1e6 + 0.5) : 25;
        *fd = *fn == 25 ? 1 : 1000000;
        d = gcd(*fn, *fd);
    } else {
        *fn = den, *fd = d;
        d = gcd(den, d);
    }
    *fn /= d, *fd /= d;
}

static int write_all(const void *p, size_t n)
{
    return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

/* The YUV4MPEG2 stream header of a sequence read from frame from (its rate from that frame's
 * duration). */
static void y4m_header(reel_seq *q, const reel_seq_info *info, long long from, long long end)
{
    reel_frame_info fi;
    long long fn, fd;
    if (reel_frame_get_info(q, from < end ? from : 0, &fi) != REEL_OK)
        fi.duration = 0;
    y4m_rate(info->time_base.num, info->time_base.den, fi.duration, &fn, &fd);
    printf("YUV4MPEG2 W%d H%d F%lld:%lld Ip A1:1 C%s\n", info->width, info->height, fn, fd,
           y4m_colorspace(info->pix_fmt));
}

/* A black frame of info's format into buf. */
static void black_frame(uint8_t *buf, const reel_seq_info *info)
{
    size_t luma = (size_t)info->width * (size_t)info->height;
    memset(buf, 0, info->frame_size);
    if (info->pix_fmt == REEL_PIX_YUV420P || info->pix_fmt == REEL_PIX_YUV444P)
        memset(buf + luma, 128, info->frame_size - luma);
}

/* Frame i to stdout (buf: room for it; *warned: skipped frames met so far). */
static int cat_frame(const cat_args *a, reel_seq *q, const reel_seq_info *info, long long i,
                     uint8_t *buf, long long *warned)
{
    int r = cli_read_counted(q, i, 1, buf, info->frame_size);
    int rgb = info->pix_fmt == REEL_PIX_RGB24 || info->pix_fmt == REEL_PIX_BGR24;
    const uint8_t *out = buf;
    void *conv = NULL;
    size_t size = info->frame_size;
    if (r == REEL_NODATA) {
        if (!(*warned)++)
            cli_error("sequence '%s' frame %lld was skipped at import: writing a black frame "
                      "(and the same for any other)",
                      a->name, i);
        black_frame(buf, info);
    } else if (r != REEL_OK) {
        return cli_fail(a->store, r);
    }
    if (a->y4m && rgb) {
        reel_image im = {info->pix_fmt, info->width, info->height, buf, info->frame_size};
        if ((r = reel_frame_convert(&im, REEL_PIX_YUV444P, &conv, &size)) != REEL_OK)
            return cli_fail("converting frames to yuv444p", r);
        out = conv;
    }
    if ((a->y4m && write_all("FRAME\n", 6)) || write_all(out, size)) {
        reel_free(conv);
        cli_error("writing frames: the output was closed");
        return EXIT_FAIL;
    }
    reel_free(conv);
    return EXIT_OK;
}

static int cat_run(int argc, char **argv)
{
    cat_args a;
    reel_store *s;
    reel_seq *q;
    reel_seq_info info;
    uint8_t *buf;
    long long i, end, warned = 0;
    int rc = cat_parse(argc, argv, &a);
    if (rc != EXIT_OK)
        return rc;
    if (isatty(1)) {
        cli_error("refusing to write binary frames to a terminal; pipe or redirect stdout");
        return EXIT_FAIL;
    }
    if (cli_open_seq(a.store, a.name, 1, &s, &q, &info) != EXIT_OK)
        return EXIT_FAIL;
    if (a.from > info.frame_count ||
        (a.count >= 0 && a.count > info.frame_count - a.from)) {
        cli_error("sequence '%s' has %lld frames; asked for %lld from frame %lld", a.name,
                  (long long)info.frame_count, a.count < 0 ? info.frame_count - a.from : a.count,
                  a.from);
        reel_seq_close(q);
        reel_close(s);
        return EXIT_FAIL;
    }
    end = a.count < 0 ? info.frame_count : a.from + a.count;
    if (a.y4m)
        y4m_header(q, &info, a.from, end);
    buf = malloc(info.frame_size);
    if (!buf) {
        cli_error("out of memory for a frame of %zu bytes", info.frame_size);
        rc = EXIT_FAIL;
    }
    cli_catch_signals();
    for (i = a.from; buf && i < end && rc == EXIT_OK; i++) {
        if (cli_interrupted()) {
            cli_error("interrupted after %lld frame(s)", i - a.from);
            rc = EXIT_FAIL;
            break;
        }
        rc = cat_frame(&a, q, &info, i, buf, &warned);
    }
    if (rc == EXIT_OK && fflush(stdout) != 0) {
        cli_error("writing frames: the output was closed");
        rc = EXIT_FAIL;
    }
    free(buf);
    reel_seq_close(q);
    cli_close_counted(s);
    return rc;
}

const command cmd_cat = {"cat", "write frames to stdout, raw or as a y4m stream",
                         "cat STORE SEQUENCE [--from I] [--count N] [--format raw|y4m]\n\n"
                         "  Reads are counted as accesses when the file is writable.\n"
                         "  --from I        first frame (default 0)\n"
                         "  --count N       number of frames (default: to the end)\n"
                         "  --format raw    the stored bytes, frame after frame (default)\n"
                         "  --format y4m    a YUV4MPEG2 stream for ffmpeg -i - or ffplay -\n"
                         "                  (RGB sequences are converted to yuv444p)",
                         cat_run};

/* ---- export ---- */

static int write_file(const char *path, const void *head, size_t hn, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(head, 1, hn, f) == hn && fwrite(data, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        cli_error("%s: cannot write the file", path);
    return ok ? EXIT_OK : EXIT_FAIL;
}

static int write_png(const char *path, const uint8_t *buf, const reel_seq_info *info)
{
    void *png;
    size_t n;
    int rc = reel_png_encode(info->pix_fmt, info->width, info->height, buf, info->frame_size, &png,
                             &n);
    if (rc != REEL_OK)
        return cli_fail(path, rc);
    rc = write_file(path, "", 0, png, n);
    reel_free(png);
    return rc;
}

static int write_pnm(const char *path, const uint8_t *buf, const reel_seq_info *info, int pgm)
{
    char head[64];
    reel_image im = {info->pix_fmt, info->width, info->height, buf, info->frame_size};
    void *pix;
    size_t size;
    int rc = reel_frame_convert(&im, pgm ? REEL_PIX_GRAY8 : REEL_PIX_RGB24, &pix, &size);
    if (rc != REEL_OK)
        return cli_fail(path, rc);
    snprintf(head, sizeof head, "P%c\n%d %d\n255\n", pgm ? '5' : '6', info->width, info->height);
    rc = write_file(path, head, strlen(head), pix, size);
    reel_free(pix);
    return rc;
}

static int export_run(int argc, char **argv)
{
    const char *store = NULL, *name = NULL, *index = NULL, *out = NULL, *ext;
    reel_store *s;
    reel_seq *q;
    reel_seq_info info;
    long long idx;
    uint8_t *buf;
    static const struct option options[] = {{"output", required_argument, NULL, 'o'},
                                            CLI_OPT_HELP, CLI_OPT_END};
    int c, rc;
    while ((c = cli_getopt(&cmd_export, argc, argv, "o:", options)) != -1) {
        if (c != 'o')
            return EXIT_USAGE;
        out = optarg;
    }
    if ((rc = cli_operands(&cmd_export, argc, argv, 3, 3, "a store, a sequence and an index")))
        return rc;
    store = argv[optind];
    name = argv[optind + 1];
    index = argv[optind + 2];
    if (!out)
        return cli_usage_error(&cmd_export, "give the output file with -o FILE");
    if ((rc = cli_number(&cmd_export, "INDEX", index, 0, INT64_MAX, &idx)) != EXIT_OK)
        return rc;
    ext = strrchr(out, '.');
    if (!ext || (strcmp(ext, ".png") && strcmp(ext, ".ppm") && strcmp(ext, ".pgm") &&
                 strcmp(ext, ".raw")))
        return cli_usage_error(&cmd_export, "the output must end in .png, .ppm, .pgm or .raw");
    if (cli_open_seq(store, name, 1, &s, &q, &info) != EXIT_OK)
        return EXIT_FAIL;
    buf = malloc(info.frame_size);
    rc = buf ? cli_read_counted(q, idx, 0, buf, info.frame_size) : REEL_NOMEM;
    if (rc != REEL_OK)
        rc = cli_fail(store, rc);
    else if (!strcmp(ext, ".png"))
        rc = write_png(out, buf, &info);
    else if (!strcmp(ext, ".raw"))
        rc = write_file(out, "", 0, buf, info.frame_size);
    else
        rc = write_pnm(out, buf, &info, !strcmp(ext, ".pgm"));
    if (rc == EXIT_OK)
        fprintf(stderr, "wrote frame %lld of '%s' (%dx%d) to %s\n", idx, name, info.width,
                info.height, out);
    free(buf);
    reel_seq_close(q);
    cli_close_counted(s);
    return rc;
}

const command cmd_export = {"export", "write one frame to a .png, .ppm, .pgm or .raw file",
                            "export STORE SEQUENCE INDEX -o FILE\n\n"
                            "  -o, --output FILE  where to write the frame:\n"
                            "  FILE.png   an RGB (or grey) PNG, made with FFmpeg's PNG encoder\n"
                            "  FILE.ppm   binary PPM (RGB);  FILE.pgm: binary PGM (grey)\n"
                            "  FILE.raw   the stored bytes of the frame, unconverted",
                            export_run};
