/* check_images.c - image sequences into reel_import (src/import/images.c): PNG and JPEG
 * folders made by ffmpeg here, bit-exact against ffmpeg's own decode; the directory, glob and
 * %0Nd listings in natural order; timestamps from fps; start/duration/every and aspect-ratio
 * scaling (for videos too); idempotence, other options, resume; hostile folders; and
 * reel_png_encode (src/import/png.c), decoded back through an import. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reel.h"
#include "testutil.h"

static char fx[256];

static const char *fixture(const char *name)
{
    return tu_join(fx, name);
}

#define FF "ffmpeg -nostdin -v error -y "
#define NOISY "-f lavfi -i testsrc2=size=%s:rate=25,noise=alls=8:allf=t "

static void make_fixtures(void)
{
    snprintf(fx, sizeof fx, "/tmp/reel-images-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(fx));
#define MAKE(...) ck_assert_int_eq(tu_sh(__VA_ARGS__), 0)
    MAKE("mkdir -p %s/png %s/jpg %s/empty %s/many", fx, fx, fx, fx);
    MAKE(FF NOISY "-frames:v 12 %s/png/img_%%02d.png", "64x48", fx);
    /* f1.jpg .. f12.jpg: a name sort would put f10 before f2 */
    MAKE(FF NOISY "-frames:v 12 -start_number 1 -q:v 3 %s/jpg/f%%d.jpg", "64x48", fx);
    MAKE(FF NOISY "-frames:v 150 %s/many/%%04d.png", "32x24", fx);
    MAKE(FF NOISY "-frames:v 50 -c:v libx264 -preset veryfast -pix_fmt yuv420p %s/clip.mp4",
         "64x48", fx);
#undef MAKE
}

static void remove_fixtures(void)
{
    if (fx[0])
        tu_sh("rm -rf '%s'", fx);
}

/* A folder of its own for one test: tu_path(name), the PNGs copied in. */
static const char *png_copy(const char *name)
{
    static char dir[512];
    snprintf(dir, sizeof dir, "%s", tu_path(name));
    ck_assert_int_eq(tu_sh("cp -r '%s' '%s'", fixture("png"), dir), 0);
    return dir;
}

static int import(reel_store *s, const char *path, const char *name, reel_import_options *o,
                  reel_import_result *r)
{
    reel_import_options zero;
    if (!o) {
        memset(&zero, 0, sizeof zero);
        o = &zero;
    }
    o->sequence = name;
    o->log = REEL_IMPORT_LOG_QUIET;
    return reel_import(s, path, o, r);
}

static uint8_t *read_all(reel_store *s, const char *name, size_t *len, reel_seq_info *info)
{
    reel_seq *q;
    uint8_t *buf;
    ck_assert_int_eq(reel_seq_open(s, name, &q), REEL_OK);
    ck_assert_int_eq(reel_seq_get_info(q, info), REEL_OK);
    *len = info->frame_size * (size_t)info->frame_count;
    buf = malloc(*len + 1);
    ck_assert_int_eq(reel_frame_read_range(q, 0, (size_t)info->frame_count, buf, *len), REEL_OK);
    reel_seq_close(q);
    return buf;
}

/* The sequence holds exactly what ffmpeg's command (its rawvideo on stdout) gives. */
static void expect_ffmpeg(reel_store *s, const char *name, const char *cmd)
{
    reel_seq_info info;
    size_t len, ref_len;
    uint8_t *got = read_all(s, name, &len, &info);
    char *ref = tu_slurp(&ref_len, "%s", cmd);
    ck_assert_msg(len == ref_len && len > 0, "%s: %zu bytes stored, ffmpeg gives %zu", name, len,
                  ref_len);
    ck_assert_msg(memcmp(got, ref, len) == 0, "%s: frames differ from ffmpeg's", name);
    free(got);
    free(ref);
}

static int64_t pts_of(reel_store *s, const char *name, int64_t i)
{
    reel_seq *q;
    reel_frame_info fi;
    ck_assert_int_eq(reel_seq_open(s, name, &q), REEL_OK);
    ck_assert_int_eq(reel_frame_get_info(q, i, &fi), REEL_OK);
    reel_seq_close(q);
    return fi.pts;
}

START_TEST(test_png_pattern_exact)
{
    reel_store *s;
    reel_import_result r;
    reel_import_options o;
    reel_seq *q;
    reel_seq_info info;
    char pat[600], cmd[1200];
    snprintf(pat, sizeof pat, "%s", fixture("png/img_%02d.png"));
    ck_assert_int_eq(reel_open(tu_path("s.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_msg(import(s, pat, "p", NULL, &r) == REEL_OK, "%s", reel_errmsg());
    ck_assert_int_eq(r.frames, 12);
    ck_assert_int_eq(r.pix_fmt, REEL_PIX_RGB24);
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -i '%s' -f rawvideo -pix_fmt rgb24 -",
             pat);
    expect_ffmpeg(s, "p", cmd);
    /* frame i at i / 25 s by default; --fps 30000/1001 gives that time base */
    ck_assert_int_eq(reel_seq_open(s, "p", &q), REEL_OK);
    ck_assert_int_eq(reel_seq_get_info(q, &info), REEL_OK);
    ck_assert_int_eq(info.time_base.num, 1);
    ck_assert_int_eq(info.time_base.den, 25);
    reel_seq_close(q);
    ck_assert_int_eq(pts_of(s, "p", 7), 7);
    memset(&o, 0, sizeof o);
    o.fps_num = 30000;
    o.fps_den = 1001;
    ck_assert_int_eq(import(s, pat, "p30", &o, &r), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "p30", &q), REEL_OK);
    ck_assert_int_eq(reel_seq_get_info(q, &info), REEL_OK);
    ck_assert_int_eq(info.time_base.num, 1001);
    ck_assert_int_eq(info.time_base.den, 30000);
    reel_seq_close(q);
    /* the directory and a glob give the same frames in the same order */
    ck_assert_int_eq(import(s, fixture("png"), "dir", NULL, &r), REEL_OK);
    expect_ffmpeg(s, "dir", cmd);
    snprintf(pat, sizeof pat, "%s", fixture("png/*.png"));
    ck_assert_int_eq(import(s, pat, "glob", NULL, &r), REEL_OK);
    expect_ffmpeg(s, "glob", cmd);
    /* the default name: the directory's */
    ck_assert_int_eq(import(s, fixture("png/"), NULL, NULL, &r), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "png", &q), REEL_OK);
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

START_TEST(test_jpeg_glob_natural_native)
{
    reel_store *s;
    reel_import_result r;
    reel_import_options o;
    char glob[600], cmd[1200], mix[512];
    snprintf(glob, sizeof glob, "%s", fixture("jpg/f*.jpg"));
    ck_assert_int_eq(reel_open(tu_path("s.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    memset(&o, 0, sizeof o);
    o.pix_fmt = REEL_PIX_NATIVE;
    ck_assert_msg(import(s, glob, "j", &o, &r) == REEL_OK, "%s", reel_errmsg());
    ck_assert_int_eq(r.frames, 12);
    ck_assert_int_eq(r.pix_fmt, REEL_PIX_YUV420P);
    /* ffmpeg's %d order is f1, f2 ... f12: the natural order of the glob */
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -v error -start_number 1 -i '%s' -f rawvideo -pix_fmt yuvj420p -",
             fixture("jpg/f%d.jpg"));
    expect_ffmpeg(s, "j", cmd);
    /* PNGs and JPEGs in one folder: the decoder changes with the codec, the order stays; each
     * frame is what ffmpeg makes of its file alone */
    snprintf(mix, sizeof mix, "%s", tu_path("mix"));
    ck_assert_int_eq(tu_sh("mkdir '%s' && cd '%s' && cp png/img_0[1-4].png png/img_0[6-9].png "
                           "'%s' && cp jpg/f5.jpg '%s/img_05.jpg' && cp jpg/f1.jpg "
                           "'%s/img_10.jpg'",
                           mix, fx, mix, mix, mix),
                     0);
    ck_assert_msg(import(s, tu_path("mix"), "mix", NULL, &r) == REEL_OK, "%s", reel_errmsg());
    ck_assert_int_eq(r.frames, 10);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && for f in $(ls | sort -V); do ffmpeg -nostdin -v error -i $f -f rawvideo "
             "-pix_fmt rgb24 - || exit 1; done",
             tu_path("mix"));
    expect_ffmpeg(s, "mix", cmd);
    reel_close(s);
}
END_TEST

START_TEST(test_window_every_and_aspect)
{
    reel_store *s;
    reel_import_result r;
    reel_import_options o;
    char pat[600];
    snprintf(pat, sizeof pat, "%s", fixture("many/%04d.png"));
    ck_assert_int_eq(reel_open(tu_path("s.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    /* 150 images at 25 fps: 2 s from 1 s on is positions 25..74; every 10th: 25, 35 ... 65 */
    memset(&o, 0, sizeof o);
    o.start_ms = 1000;
    o.duration_ms = 2000;
    o.every = 10;
    ck_assert_msg(import(s, pat, "w", &o, &r) == REEL_OK, "%s", reel_errmsg());
    ck_assert_int_eq(r.frames, 5);
    ck_assert_int_eq(pts_of(s, "w", 0), 25);
    ck_assert_int_eq(pts_of(s, "w", 4), 65);
    /* the same with other options is another import */
    o.every = 5;
    ck_assert_int_eq(import(s, pat, "w", &o, &r), REEL_EXISTS);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "other options"));
    o.every = 10;
    ck_assert_int_eq(import(s, pat, "w", &o, &r), REEL_DONE);
    /* a window past the end keeps nothing: refused, nothing made */
    o.start_ms = 60000;
    ck_assert_int_eq(import(s, pat, "w2", &o, &r), REEL_NOTFOUND);
    /* a video: the same window by its timestamps (50 frames at 25 fps) */
    memset(&o, 0, sizeof o);
    o.start_ms = 400;
    o.duration_ms = 800;
    o.every = 3;
    ck_assert_msg(import(s, fixture("clip.mp4"), "v", &o, &r) == REEL_OK, "%s", reel_errmsg());
    ck_assert_int_eq(r.frames, 7); /* frames 10..29, every 3rd: 10, 13 ... 28 */
    ck_assert_int_eq(r.truncated, 0);
    ck_assert_int_eq(import(s, fixture("clip.mp4"), "full", NULL, &r), REEL_OK);
    ck_assert_int_eq(r.frames, 50);
    for (int k = 0; k < 7; k++)
        ck_assert_int_eq(pts_of(s, "v", k), pts_of(s, "full", 10 + 3 * k));
    /* aspect ratio: 32x24 to width 20 is 15 high in rgb24, 16 in yuv420p */
    memset(&o, 0, sizeof o);
    o.width = 20;
    o.height = -1;
    ck_assert_int_eq(import(s, pat, "a1", &o, &r), REEL_OK);
    ck_assert_int_eq(r.width, 20);
    ck_assert_int_eq(r.height, 15);
    o.pix_fmt = REEL_PIX_YUV420P;
    ck_assert_int_eq(import(s, pat, "a2", &o, &r), REEL_OK);
    ck_assert_int_eq(r.height, 16);
    o.width = -1;
    o.height = 12;
    o.pix_fmt = 0;
    ck_assert_int_eq(import(s, fixture("clip.mp4"), "a3", &o, &r), REEL_OK);
    ck_assert_int_eq(r.width, 16);
    ck_assert_int_eq(r.height, 12);
    reel_close(s);
}
END_TEST

static int slow_stop(void *ctx, const reel_import_progress *p)
{
    int *calls = ctx;
    (void)p;
    usleep(120000); /* past the 100 ms between calls: every image asks */
    return ++*calls >= 40;
}

START_TEST(test_idempotent_resume_and_change)
{
    reel_store *s;
    reel_import_result r;
    reel_import_options o;
    const char *dir = png_copy("set");
    char d[512], cmd[1200];
    int calls = 0;
    int64_t kept;
    snprintf(d, sizeof d, "%s", dir);
    ck_assert_int_eq(reel_open(tu_path("s.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_int_eq(import(s, fixture("many"), "m", NULL, &r), REEL_OK);
    ck_assert_int_eq(import(s, fixture("many"), "m", NULL, &r), REEL_DONE);
    /* interrupted, then resumed: the frames of a clean run */
    memset(&o, 0, sizeof o);
    o.progress = slow_stop;
    o.progress_ctx = &calls;
    o.workers = 1;
    ck_assert_int_eq(import(s, fixture("many"), "m2", &o, &r), REEL_INTERRUPTED);
    kept = r.frames;
    ck_assert_int_lt(kept, 150);
    o.progress = NULL;
    ck_assert_int_eq(import(s, fixture("many"), "m2", &o, &r), REEL_OK);
    ck_assert_int_eq(r.resumed_from, kept);
    ck_assert_int_eq(r.frames, 150);
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -i '%s' -f rawvideo -pix_fmt rgb24 -",
             fixture("many/%04d.png"));
    expect_ffmpeg(s, "m2", cmd);
    /* a changed image (same name and size class) is another source */
    ck_assert_int_eq(import(s, d, "c", NULL, &r), REEL_OK);
    ck_assert_int_eq(tu_sh("cp '%s/img_05.png' '%s/img_04.png'", d, d), 0);
    ck_assert_int_eq(import(s, d, "c", NULL, &r), REEL_EXISTS);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "a different file"));
    memset(&o, 0, sizeof o);
    o.replace = 1;
    ck_assert_int_eq(import(s, d, "c", &o, &r), REEL_OK);
    /* the same files in another folder are the same source */
    ck_assert_int_eq(tu_sh("mv '%s' '%s.moved'", d, d), 0);
    snprintf(d + strlen(d), sizeof d - strlen(d), ".moved");
    ck_assert_int_eq(import(s, d, "c", NULL, &r), REEL_DONE);
    reel_close(s);
}
END_TEST

START_TEST(test_hostile_folders)
{
    reel_store *s;
    reel_import_result r;
    reel_import_options o;
    reel_seq *q;
    reel_frame_info fi;
    const char *dir;
    char d[512], pat[600];
    ck_assert_int_eq(reel_open(tu_path("s.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_int_eq(import(s, fixture("empty"), "e", NULL, &r), REEL_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "no files"));
    snprintf(pat, sizeof pat, "%s", fixture("png/nothing_*.png"));
    ck_assert_int_eq(import(s, pat, "e", NULL, &r), REEL_NOTFOUND);
    snprintf(pat, sizeof pat, "%s", fixture("png/nothing_%03d.png"));
    ck_assert_int_eq(import(s, pat, "e", NULL, &r), REEL_NOTFOUND);
    snprintf(pat, sizeof pat, "%s", fixture("png/img_%s.png"));
    ck_assert_int_eq(import(s, pat, "e", NULL, &r), REEL_INVALID);
    snprintf(pat, sizeof pat, "%s", fixture("png/img_%02d_%02d.png"));
    ck_assert_int_eq(import(s, pat, "e", NULL, &r), REEL_INVALID);
    ck_assert_int_eq(reel_seq_open(s, "e", &q), REEL_NOTFOUND);

    /* a text file among the images: refused, naming it; nothing left behind */
    dir = png_copy("text");
    snprintf(d, sizeof d, "%s", dir);
    ck_assert_int_eq(tu_sh("echo 'not an image' > '%s/notes.txt'", d), 0);
    ck_assert_int_eq(import(s, d, "t", NULL, &r), REEL_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "notes.txt"));
    ck_assert_int_eq(reel_seq_open(s, "t", &q), REEL_NOTFOUND);
    /* an empty file is not an image either */
    ck_assert_int_eq(tu_sh("rm '%s/notes.txt' && : > '%s/img_99.png'", d, d), 0);
    ck_assert_int_eq(import(s, d, "t", NULL, &r), REEL_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "img_99.png"));

    /* a truncated PNG: a skipped frame by default, the import refused under fail */
    dir = png_copy("cut");
    snprintf(d, sizeof d, "%s", dir);
    ck_assert_int_eq(tu_sh("head -c 200 '%s/img_03.png' > '%s/x' && mv '%s/x' '%s/img_03.png'",
                           d, d, d, d),
                     0);
    ck_assert_msg(import(s, d, "cut", NULL, &r) == REEL_OK, "%s", reel_errmsg());
    ck_assert_int_eq(r.frames, 12);
    ck_assert_int_eq(r.skipped, 1);
    ck_assert_int_eq(reel_seq_open(s, "cut", &q), REEL_OK);
    ck_assert_int_eq(reel_frame_get_info(q, 2, &fi), REEL_OK);
    ck_assert_int_eq(fi.status, REEL_STATUS_SKIPPED);
    ck_assert_int_eq(fi.pts, 2);
    ck_assert_int_eq(reel_frame_get_info(q, 3, &fi), REEL_OK);
    ck_assert_int_eq(fi.status, REEL_STATUS_OK);
    reel_seq_close(q);
    memset(&o, 0, sizeof o);
    o.on_error = REEL_ON_ERROR_FAIL;
    ck_assert_int_eq(import(s, d, "cutfail", &o, &r), REEL_CORRUPT);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "img_03.png"));
    ck_assert_int_eq(reel_seq_open(s, "cutfail", &q), REEL_NOTFOUND);

    /* mixed sizes: refused naming the file, or all scaled to one size */
    dir = png_copy("mixed");
    snprintf(d, sizeof d, "%s", dir);
    ck_assert_int_eq(tu_sh(FF "-f lavfi -i testsrc2=size=32x48 -frames:v 1 '%s/img_07b.png'", d),
                     0);
    ck_assert_int_eq(import(s, d, "mx", NULL, &r), REEL_INVALID);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "img_07b.png"));
    ck_assert_int_eq(reel_seq_open(s, "mx", &q), REEL_NOTFOUND);
    memset(&o, 0, sizeof o);
    o.width = 64;
    o.height = 48;
    ck_assert_int_eq(import(s, d, "mx", &o, &r), REEL_OK);
    ck_assert_int_eq(r.frames, 13);

    /* options out of range */
    memset(&o, 0, sizeof o);
    o.every = -1;
    ck_assert_int_eq(import(s, fixture("png"), "o", &o, &r), REEL_INVALID);
    o.every = 0;
    o.fps_num = 25;
    ck_assert_int_eq(import(s, fixture("png"), "o", &o, &r), REEL_INVALID);
    o.fps_num = 0;
    o.width = o.height = -1;
    ck_assert_int_eq(import(s, fixture("png"), "o", &o, &r), REEL_INVALID);
    o.width = -2;
    o.height = 10;
    ck_assert_int_eq(import(s, fixture("png"), "o", &o, &r), REEL_INVALID);
    o.width = 0;
    o.height = 0;
    o.start_ms = -5;
    ck_assert_int_eq(import(s, fixture("png"), "o", &o, &r), REEL_INVALID);
    reel_close(s);
}
END_TEST

/* Big-endian 32-bit integer at p. */
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* reel_png_encode: a PNG of the right size, depth and colour type for each format; the
 * lossless ones (grey, RGB, BGR) decode back through reel_import bit-exact; YUV becomes 8-bit
 * RGB; bad arguments are refused and leave the OUT parameters alone. */
START_TEST(test_png_encode)
{
    static const struct {
        int fmt, depth, colour, exact;
    } cases[] = {
        {REEL_PIX_GRAY8, 8, 0, 1},    {REEL_PIX_RGB24, 8, 2, 1},  {REEL_PIX_BGR24, 8, 2, 1},
        {REEL_PIX_GRAY16LE, 16, 0, 1}, {REEL_PIX_YUV420P, 8, 2, 0}, {REEL_PIX_YUV444P, 8, 2, 0},
    };
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const int w = 37, h = 21; /* odd: chroma planes round up */
    reel_store *s;
    size_t i;
    ck_assert_int_eq(reel_open(tu_path("png.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *name = reel_pix_fmt_name(cases[i].fmt);
        size_t size, png_size = 0, len;
        uint8_t *px, *back;
        void *png = NULL;
        char dir[512], file[600];
        FILE *f;
        reel_seq_info info;
        reel_import_options o = {0};
        ck_assert_int_eq(reel_frame_size(cases[i].fmt, w, h, &size), REEL_OK);
        px = malloc(size);
        ck_assert_ptr_nonnull(px);
        tu_fill(px, cases[i].fmt, w, h, 7 + (uint32_t)i);
        ck_assert_int_eq(reel_png_encode(cases[i].fmt, w, h, px, size, &png, &png_size), REEL_OK);
        ck_assert_msg(png_size > 33 && memcmp(png, sig, 8) == 0, "%s: not a PNG", name);
        ck_assert_msg(memcmp((uint8_t *)png + 12, "IHDR", 4) == 0, "%s: no IHDR first", name);
        ck_assert_uint_eq(be32((uint8_t *)png + 16), (uint32_t)w);
        ck_assert_uint_eq(be32((uint8_t *)png + 20), (uint32_t)h);
        ck_assert_msg(((uint8_t *)png)[24] == cases[i].depth && ((uint8_t *)png)[25] ==
                      cases[i].colour, "%s: depth %d colour type %d", name,
                      ((uint8_t *)png)[24], ((uint8_t *)png)[25]);
        /* back through FFmpeg's PNG decoder, as an image sequence of one */
        snprintf(dir, sizeof dir, "%s", tu_path(name));
        ck_assert_int_eq(tu_sh("mkdir '%s'", dir), 0);
        snprintf(file, sizeof file, "%s/0.png", dir);
        f = fopen(file, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(png, 1, png_size, f), png_size);
        ck_assert_int_eq(fclose(f), 0);
        reel_free(png);
        o.pix_fmt = cases[i].exact ? cases[i].fmt : REEL_PIX_RGB24;
        ck_assert_int_eq(import(s, dir, name, &o, NULL), REEL_OK);
        back = read_all(s, name, &len, &info);
        ck_assert_int_eq(info.frame_count, 1);
        ck_assert_int_eq(info.width, w);
        ck_assert_int_eq(info.height, h);
        if (cases[i].exact)
            ck_assert_msg(len == size && memcmp(back, px, size) == 0,
                          "%s: the PNG does not decode to the frame's pixels", name);
        free(back);
        /* refusals: a size that is not one frame, NULL pixels, a format that is none */
        png = (void *)1;
        png_size = 99;
        ck_assert_int_eq(reel_png_encode(cases[i].fmt, w, h, px, size - 1, &png, &png_size),
                         REEL_INVALID);
        ck_assert_ptr_nonnull(strstr(reel_errmsg(), "is not one 37x21 frame"));
        ck_assert_int_eq(reel_png_encode(cases[i].fmt, w, h, NULL, size, &png, &png_size),
                         REEL_MISUSE);
        ck_assert_int_eq(reel_png_encode(cases[i].fmt, w, h, px, size, NULL, &png_size),
                         REEL_MISUSE);
        ck_assert_int_eq(reel_png_encode(99, w, h, px, size, &png, &png_size), REEL_INVALID);
        ck_assert_int_eq(reel_png_encode(cases[i].fmt, 0, h, px, size, &png, &png_size),
                         REEL_INVALID);
        ck_assert_msg(png == (void *)1 && png_size == 99, "%s: a refusal wrote its OUT", name);
        free(px);
    }
    reel_close(s);
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("images", 300);
    tcase_add_unchecked_fixture(tc, make_fixtures, remove_fixtures);
    tcase_add_test(tc, test_png_pattern_exact);
    tcase_add_test(tc, test_jpeg_glob_natural_native);
    tcase_add_test(tc, test_window_every_and_aspect);
    tcase_add_test(tc, test_idempotent_resume_and_change);
    tcase_add_test(tc, test_hostile_folders);
    tcase_add_test(tc, test_png_encode);
    return tu_run("images", tc);
}
