/* check_limits.c - every public call of reel.h that takes an integer (or a double count,
 * share or timeout), directly or in an options struct, called with the values at their limits
 * (0, -1, INT_MIN, INT_MAX, INT64_MIN, INT64_MAX, INT64_MAX - 1, SIZE_MAX, SIZE_MAX / 2, NaN,
 * +-inf) on a small real store: each returns its documented code at once, and none crashes,
 * hangs, allocates what the value claims or trips UBSan (run it in the ASan+UBSan build).
 * Table-driven: one row per call, argument and value, with the code expected. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define W 16
#define H 16
#define NFRAMES 8
#define I64MAX INT64_MAX
#define I64MIN INT64_MIN

/* The fixture every row runs against: a store with sequence "s" of NFRAMES gray8 frames. */
static reel_store *g_store;
static reel_seq *g_seq;
static reel_cache *g_cache;
static uint8_t g_buf[W * H * NFRAMES];
static reel_frame *g_frames[64];

static void open_fixture(void)
{
    tu_make_store("a.reel", REEL_PIX_GRAY8, W, H, NFRAMES, &g_store, &g_seq);
    ck_assert_int_eq(reel_cache_new(1 << 20, &g_cache), REEL_OK);
    ck_assert_int_eq(reel_store_set_cache(g_store, g_cache), REEL_OK);
}

static void close_fixture(void)
{
    ck_assert_int_eq(reel_seq_close(g_seq), REEL_OK);
    ck_assert_int_eq(reel_close(g_store), REEL_OK);
    ck_assert_int_eq(reel_cache_free(g_cache), REEL_OK);
}

/* One row: a call with one value at its limit and the code it must give. */
typedef struct row {
    const char *what;
    int (*fn)(int64_t v); /* ints, sizes and unsigned go through int64_t / uint64_t casts */
    int64_t v;
    int expect;
} row;

typedef struct drow {
    const char *what;
    int (*fn)(double v);
    double v;
    int expect;
} drow;

/* Runs every row; names each mismatch with reel_errmsg(), then fails if there was one. */
static void run_rows(const row *rows, size_t n)
{
    int bad = 0;
    for (size_t k = 0; k < n; k++) {
        int rc = rows[k].fn(rows[k].v);
        if (rc != rows[k].expect) {
            fprintf(stderr, "%s(%lld): %d (%s), expected %d: %s\n", rows[k].what,
                    (long long)rows[k].v, rc, reel_errstr(rc), rows[k].expect, reel_errmsg());
            bad++;
        }
    }
    ck_assert_msg(bad == 0, "%d of %zu rows gave another code (see stderr)", bad, n);
}

static void run_drows(const drow *rows, size_t n)
{
    int bad = 0;
    for (size_t k = 0; k < n; k++) {
        int rc = rows[k].fn(rows[k].v);
        if (rc != rows[k].expect) {
            fprintf(stderr, "%s(%g): %d (%s), expected %d: %s\n", rows[k].what, rows[k].v, rc,
                    reel_errstr(rc), rows[k].expect, reel_errmsg());
            bad++;
        }
    }
    ck_assert_msg(bad == 0, "%d of %zu rows gave another code (see stderr)", bad, n);
}

#define ROWS(t) run_rows(t, sizeof t / sizeof t[0])
#define DROWS(t) run_drows(t, sizeof t / sizeof t[0])
#define SZ(x) ((int64_t)(x)) /* a size_t limit carried in the row's int64_t */
#define SMAX SZ(SIZE_MAX)
#define SHALF SZ(SIZE_MAX / 2)

/* ---- pixel formats ---------------------------------------------------------------------- */

static int c_size_fmt(int64_t v) { size_t s; return reel_frame_size((int)v, 8, 8, &s); }
static int c_size_w(int64_t v) { size_t s; return reel_frame_size(REEL_PIX_RGB24, (int)v, 8, &s); }
static int c_size_h(int64_t v) { size_t s; return reel_frame_size(REEL_PIX_YUV420P, 8, (int)v, &s); }
static int c_lay_fmt(int64_t v)
{
    reel_plane_layout p[3];
    int n;
    return reel_pix_fmt_layout((int)v, 8, 8, p, &n);
}
static int c_lay_w(int64_t v)
{
    reel_plane_layout p[3];
    int n;
    return reel_pix_fmt_layout(REEL_PIX_YUV420P10LE, (int)v, 8, p, &n);
}
static int c_lay_h(int64_t v)
{
    reel_plane_layout p[3];
    int n;
    return reel_pix_fmt_layout(REEL_PIX_YUV444P, 8, (int)v, p, &n);
}
static int c_errstr(int64_t v) { return reel_errstr((int)v) != NULL ? REEL_OK : REEL_ERROR; }
static int c_fmtname(int64_t v) { return reel_pix_fmt_name((int)v) == NULL ? REEL_NOTFOUND : REEL_OK; }
static int c_interrupt(int64_t v)
{
    reel_interrupt((int)v);
    reel_interrupt(0);
    return REEL_OK;
}

START_TEST(test_pixfmt)
{
    static const row rows[] = {
        {"reel_frame_size fmt", c_size_fmt, 0, REEL_INVALID},
        {"reel_frame_size fmt", c_size_fmt, -1, REEL_INVALID},
        {"reel_frame_size fmt", c_size_fmt, INT_MIN, REEL_INVALID},
        {"reel_frame_size fmt", c_size_fmt, INT_MAX, REEL_INVALID},
        {"reel_frame_size width", c_size_w, 0, REEL_INVALID},
        {"reel_frame_size width", c_size_w, -1, REEL_INVALID},
        {"reel_frame_size width", c_size_w, INT_MIN, REEL_INVALID},
        {"reel_frame_size width", c_size_w, INT_MAX, REEL_INVALID},
        {"reel_frame_size width", c_size_w, 65535, REEL_OK},
        {"reel_frame_size width", c_size_w, 65536, REEL_INVALID},
        {"reel_frame_size height", c_size_h, 0, REEL_INVALID},
        {"reel_frame_size height", c_size_h, INT_MIN, REEL_INVALID},
        {"reel_frame_size height", c_size_h, INT_MAX, REEL_INVALID},
        {"reel_frame_size height", c_size_h, 65535, REEL_OK},
        {"reel_pix_fmt_layout fmt", c_lay_fmt, 0, REEL_INVALID},
        {"reel_pix_fmt_layout fmt", c_lay_fmt, INT_MIN, REEL_INVALID},
        {"reel_pix_fmt_layout fmt", c_lay_fmt, INT_MAX, REEL_INVALID},
        {"reel_pix_fmt_layout width", c_lay_w, 0, REEL_INVALID},
        {"reel_pix_fmt_layout width", c_lay_w, -1, REEL_INVALID},
        {"reel_pix_fmt_layout width", c_lay_w, INT_MIN, REEL_INVALID},
        {"reel_pix_fmt_layout width", c_lay_w, INT_MAX, REEL_INVALID},
        {"reel_pix_fmt_layout width", c_lay_w, 65535, REEL_OK},
        {"reel_pix_fmt_layout height", c_lay_h, 0, REEL_INVALID},
        {"reel_pix_fmt_layout height", c_lay_h, INT_MIN, REEL_INVALID},
        {"reel_pix_fmt_layout height", c_lay_h, INT_MAX, REEL_INVALID},
        {"reel_errstr", c_errstr, 0, REEL_OK},
        {"reel_errstr", c_errstr, -1, REEL_OK},
        {"reel_errstr", c_errstr, INT_MIN, REEL_OK},
        {"reel_errstr", c_errstr, INT_MAX, REEL_OK},
        {"reel_pix_fmt_name", c_fmtname, 0, REEL_NOTFOUND},
        {"reel_pix_fmt_name", c_fmtname, -1, REEL_NOTFOUND},
        {"reel_pix_fmt_name", c_fmtname, INT_MIN, REEL_NOTFOUND},
        {"reel_pix_fmt_name", c_fmtname, INT_MAX, REEL_NOTFOUND},
        {"reel_pix_fmt_name", c_fmtname, REEL_PIX_RGB24, REEL_OK},
        {"reel_interrupt", c_interrupt, INT_MIN, REEL_OK},
        {"reel_interrupt", c_interrupt, INT_MAX, REEL_OK},
        {"reel_interrupt", c_interrupt, -1, REEL_OK},
    };
    ROWS(rows);
}
END_TEST

/* ---- reel_open options ------------------------------------------------------------------ */

static int open_with(int flags, const reel_open_options *o)
{
    reel_store *s = NULL;
    int rc = reel_open(tu_path("o.reel"), flags, o, &s);
    if (rc == REEL_OK)
        ck_assert_int_eq(reel_close(s), REEL_OK);
    return rc;
}
#define OPEN_FIELD(field)                                                                      \
    static int c_open_##field(int64_t v)                                                       \
    {                                                                                          \
        reel_open_options o;                                                                   \
        memset(&o, 0, sizeof o);                                                               \
        o.field = (int)v;                                                                      \
        return open_with(REEL_OPEN_CREATE, &o);                                                \
    }
OPEN_FIELD(compression_level)
OPEN_FIELD(busy_timeout_ms)
OPEN_FIELD(page_size)
OPEN_FIELD(max_frame_mib)
static int c_open_reserved(int64_t v)
{
    reel_open_options o;
    memset(&o, 0, sizeof o);
    o.reserved[6] = (int)v;
    return open_with(REEL_OPEN_CREATE, &o);
}
static int c_open_flags(int64_t v) { return open_with((int)v, NULL); }

START_TEST(test_open)
{
    static const row rows[] = {
        {"reel_open compression_level", c_open_compression_level, -1, REEL_INVALID},
        {"reel_open compression_level", c_open_compression_level, INT_MIN, REEL_INVALID},
        {"reel_open compression_level", c_open_compression_level, INT_MAX, REEL_INVALID},
        {"reel_open busy_timeout_ms", c_open_busy_timeout_ms, -1, REEL_INVALID},
        {"reel_open busy_timeout_ms", c_open_busy_timeout_ms, INT_MIN, REEL_INVALID},
        {"reel_open busy_timeout_ms", c_open_busy_timeout_ms, INT_MAX, REEL_OK},
        {"reel_open page_size", c_open_page_size, -1, REEL_INVALID},
        {"reel_open page_size", c_open_page_size, INT_MIN, REEL_INVALID},
        {"reel_open page_size", c_open_page_size, INT_MAX, REEL_INVALID},
        {"reel_open max_frame_mib", c_open_max_frame_mib, -1, REEL_INVALID},
        {"reel_open max_frame_mib", c_open_max_frame_mib, INT_MIN, REEL_INVALID},
        {"reel_open max_frame_mib", c_open_max_frame_mib, INT_MAX, REEL_INVALID},
        {"reel_open reserved", c_open_reserved, -1, REEL_INVALID},
        {"reel_open reserved", c_open_reserved, INT_MIN, REEL_INVALID},
        {"reel_open flags", c_open_flags, -1, REEL_INVALID},
        {"reel_open flags", c_open_flags, INT_MIN, REEL_INVALID},
        {"reel_open flags", c_open_flags, INT_MAX, REEL_INVALID},
        {"reel_open compression_level", c_open_compression_level, 0, REEL_OK},
    };
    ROWS(rows);
}
END_TEST

/* ---- reel_seq_create params ------------------------------------------------------------- */

static int create_with(const reel_seq_params *p)
{
    reel_seq *q = NULL;
    int rc = reel_seq_create(g_store, "new", p, &q);
    if (rc == REEL_OK) {
        ck_assert_int_eq(reel_seq_close(q), REEL_OK);
        ck_assert_int_eq(reel_seq_remove(g_store, "new"), REEL_OK);
    }
    return rc;
}
static reel_seq_params base_params(void)
{
    reel_seq_params p;
    memset(&p, 0, sizeof p);
    p.width = W;
    p.height = H;
    p.pix_fmt = REEL_PIX_GRAY8;
    p.time_base.num = 1;
    p.time_base.den = 25;
    return p;
}
#define PARAM_FIELD(name, lhs, type)                                                           \
    static int c_par_##name(int64_t v)                                                         \
    {                                                                                          \
        reel_seq_params p = base_params();                                                     \
        p.lhs = (type)v;                                                                       \
        return create_with(&p);                                                                \
    }
PARAM_FIELD(width, width, int)
PARAM_FIELD(height, height, int)
PARAM_FIELD(pix_fmt, pix_fmt, int)
PARAM_FIELD(num, time_base.num, int32_t)
PARAM_FIELD(den, time_base.den, int32_t)
PARAM_FIELD(codec, codec, int)
static int c_par_keyint(int64_t v)
{
    reel_seq_params p = base_params();
    p.codec = REEL_CODEC_TEMPORAL;
    p.keyint = (int)v;
    return create_with(&p);
}

START_TEST(test_seq_create)
{
    static const row rows[] = {
        {"reel_seq_create width", c_par_width, 0, REEL_INVALID},
        {"reel_seq_create width", c_par_width, -1, REEL_INVALID},
        {"reel_seq_create width", c_par_width, INT_MIN, REEL_INVALID},
        {"reel_seq_create width", c_par_width, INT_MAX, REEL_INVALID},
        {"reel_seq_create height", c_par_height, 0, REEL_INVALID},
        {"reel_seq_create height", c_par_height, INT_MIN, REEL_INVALID},
        {"reel_seq_create height", c_par_height, INT_MAX, REEL_INVALID},
        {"reel_seq_create pix_fmt", c_par_pix_fmt, 0, REEL_UNSUPPORTED},
        {"reel_seq_create pix_fmt", c_par_pix_fmt, -1, REEL_UNSUPPORTED},
        {"reel_seq_create pix_fmt", c_par_pix_fmt, INT_MIN, REEL_UNSUPPORTED},
        {"reel_seq_create pix_fmt", c_par_pix_fmt, INT_MAX, REEL_UNSUPPORTED},
        {"reel_seq_create time_base.num", c_par_num, 0, REEL_INVALID},
        {"reel_seq_create time_base.num", c_par_num, -1, REEL_INVALID},
        {"reel_seq_create time_base.num", c_par_num, INT32_MIN, REEL_INVALID},
        {"reel_seq_create time_base.num", c_par_num, INT32_MAX, REEL_OK},
        {"reel_seq_create time_base.den", c_par_den, 0, REEL_INVALID},
        {"reel_seq_create time_base.den", c_par_den, INT32_MIN, REEL_INVALID},
        {"reel_seq_create time_base.den", c_par_den, INT32_MAX, REEL_OK},
        {"reel_seq_create codec", c_par_codec, -1, REEL_INVALID},
        {"reel_seq_create codec", c_par_codec, INT_MIN, REEL_INVALID},
        {"reel_seq_create codec", c_par_codec, INT_MAX, REEL_INVALID},
        {"reel_seq_create keyint", c_par_keyint, -1, REEL_INVALID},
        {"reel_seq_create keyint", c_par_keyint, INT_MIN, REEL_INVALID},
        {"reel_seq_create keyint", c_par_keyint, INT_MAX, REEL_INVALID},
        {"reel_seq_create keyint", c_par_keyint, REEL_MAX_KEYINT, REEL_OK},
    };
    open_fixture();
    ROWS(rows);
    close_fixture();
}
END_TEST

/* ---- appends and puts ------------------------------------------------------------------- */

static reel_frame_in base_in(void)
{
    reel_frame_in f;
    memset(&f, 0, sizeof f);
    f.pixels = g_buf;
    f.size = W * H;
    f.pts = 1000000;
    return f;
}
#define IN_FIELD(name, type)                                                                   \
    static int c_app_##name(int64_t v)                                                         \
    {                                                                                          \
        reel_frame_in f = base_in();                                                           \
        f.name = (type)v;                                                                      \
        return reel_frame_append(g_seq, &f, NULL);                                             \
    }                                                                                          \
    static int c_put_##name(int64_t v)                                                         \
    {                                                                                          \
        reel_frame_in f = base_in();                                                           \
        f.name = (type)v;                                                                      \
        return reel_frame_put(g_seq, &f, NULL);                                                \
    }
IN_FIELD(size, size_t)
IN_FIELD(pts, int64_t)
IN_FIELD(duration, int64_t)
IN_FIELD(flags, unsigned)
IN_FIELD(status, int)
static int c_apps_n(int64_t v)
{
    reel_frame_in f = base_in();
    f.pts = -5; /* passes the checks of one frame: ASan sees it if frames[1] is ever read */
    return reel_frames_append(g_seq, &f, (size_t)v, NULL);
}

START_TEST(test_append)
{
    static const row rows[] = {
        {"reel_frame_append size", c_app_size, 0, REEL_INVALID},
        {"reel_frame_append size", c_app_size, SMAX, REEL_INVALID},
        {"reel_frame_append size", c_app_size, SHALF, REEL_INVALID},
        {"reel_frame_append pts", c_app_pts, I64MIN, REEL_INVALID},
        {"reel_frame_append pts", c_app_pts, -1, REEL_INVALID},
        {"reel_frame_append duration", c_app_duration, -1, REEL_INVALID},
        {"reel_frame_append duration", c_app_duration, I64MIN, REEL_INVALID},
        {"reel_frame_append status", c_app_status, -1, REEL_INVALID},
        {"reel_frame_append status", c_app_status, INT_MIN, REEL_INVALID},
        {"reel_frame_append status", c_app_status, INT_MAX, REEL_INVALID},
        {"reel_frame_append flags", c_app_flags, SZ(UINT_MAX), REEL_INVALID},
        {"reel_frames_append n", c_apps_n, SMAX, REEL_INVALID},
        {"reel_frames_append n", c_apps_n, SHALF, REEL_INVALID},
        {"reel_frames_append n", c_apps_n, 0, REEL_OK},
        {"reel_frame_append duration", c_app_duration, I64MAX, REEL_OK},
        {"reel_frame_append pts", c_app_pts, I64MAX - 1, REEL_OK},
        {"reel_frame_put size", c_put_size, SMAX, REEL_INVALID},
        {"reel_frame_put size", c_put_size, 0, REEL_INVALID},
        {"reel_frame_put pts", c_put_pts, I64MIN, REEL_INVALID},
        {"reel_frame_put duration", c_put_duration, -1, REEL_INVALID},
        {"reel_frame_put duration", c_put_duration, I64MIN, REEL_INVALID},
        {"reel_frame_put status", c_put_status, INT_MIN, REEL_INVALID},
        {"reel_frame_put status", c_put_status, INT_MAX, REEL_INVALID},
        {"reel_frame_put flags", c_put_flags, SZ(UINT_MAX), REEL_INVALID},
    };
    open_fixture();
    ROWS(rows);
    close_fixture();
}
END_TEST

/* pts at INT64_MAX - 1 then INT64_MAX: legal, and the end of the last frame (pts + duration)
 * must not overflow in reel_seq_get_info or reel_seq_find_pts. */
START_TEST(test_append_pts_end)
{
    reel_frame_in f = base_in();
    reel_seq_info info;
    int64_t idx;
    open_fixture();
    f.pts = I64MAX - 1;
    f.duration = I64MAX;
    ck_assert_int_eq(reel_frame_append(g_seq, &f, &idx), REEL_OK);
    f.pts = I64MAX;
    ck_assert_int_eq(reel_frame_append(g_seq, &f, &idx), REEL_OK);
    ck_assert_int_eq(idx, NFRAMES + 1);
    f.pts = I64MAX;
    ck_assert_int_eq(reel_frame_append(g_seq, &f, NULL), REEL_INVALID);
    ck_assert_int_eq(reel_seq_get_info(g_seq, &info), REEL_OK);
    ck_assert_int_ge(info.duration, 0);
    ck_assert_int_eq(reel_seq_find_pts(g_seq, I64MAX, &idx), REEL_OK);
    ck_assert_int_eq(idx, NFRAMES + 1);
    ck_assert_int_eq(reel_seq_find_pts(g_seq, I64MAX - 1, &idx), REEL_OK);
    ck_assert_int_eq(idx, NFRAMES);
    close_fixture();
}
END_TEST

/* ---- reads ------------------------------------------------------------------------------ */

static int c_info(int64_t v) { reel_frame_info i; return reel_frame_get_info(g_seq, v, &i); }
static int c_read_idx(int64_t v) { return reel_frame_read(g_seq, v, g_buf, sizeof g_buf, NULL); }
static int c_read_cap(int64_t v) { return reel_frame_read(g_seq, 0, g_buf, (size_t)v, NULL); }
static int c_range_first(int64_t v) { return reel_frame_read_range(g_seq, v, 1, g_buf, sizeof g_buf); }
static int c_range_n(int64_t v) { return reel_frame_read_range(g_seq, 0, (size_t)v, g_buf, sizeof g_buf); }
static int c_range_n_end(int64_t v) { return reel_frame_read_range(g_seq, 4, (size_t)v, g_buf, SIZE_MAX); }
static int c_range_cap(int64_t v) { return reel_frame_read_range(g_seq, 0, 2, g_buf, (size_t)v); }
static int c_find(int64_t v) { int64_t i; return reel_seq_find_pts(g_seq, v, &i); }
static int c_unload(int64_t v) { return reel_frame_unload(g_seq, v); }
static int c_get(int64_t v)
{
    reel_frame *f = NULL;
    int rc = reel_frame_get(g_seq, v, 0, &f);
    reel_frame_release(f);
    return rc;
}
static int c_get_flags(int64_t v)
{
    reel_frame *f = NULL;
    int rc = reel_frame_get(g_seq, 1, (unsigned)v, &f);
    reel_frame_release(f);
    return rc;
}
static int c_gets_idx(int64_t v)
{
    int64_t idx[2] = {0, v};
    int rc = reel_frames_get(g_seq, idx, 2, 0, g_frames);
    if (rc == REEL_OK)
        reel_frames_release(g_frames, 2);
    return rc;
}
static int c_gets_n(int64_t v)
{
    int64_t idx[1] = {I64MIN};
    return reel_frames_get(g_seq, idx, (size_t)v, 0, g_frames);
}
static int c_win(int64_t center, int64_t radius)
{
    size_t n = 0;
    int64_t first;
    int rc = reel_frames_get_window(g_seq, center, radius, 0, g_frames, &n, &first);
    if (rc == REEL_OK)
        reel_frames_release(g_frames, n);
    return rc;
}
static int c_win_center(int64_t v) { return c_win(v, 1); }
static int c_win_radius(int64_t v) { return c_win(3, v); }
static int c_win_both(int64_t v) { return c_win(v, v); }

START_TEST(test_read)
{
    static const row rows[] = {
        {"reel_frame_get_info index", c_info, -1, REEL_NOTFOUND},
        {"reel_frame_get_info index", c_info, I64MIN, REEL_NOTFOUND},
        {"reel_frame_get_info index", c_info, I64MAX, REEL_NOTFOUND},
        {"reel_frame_get_info index", c_info, I64MAX - 1, REEL_NOTFOUND},
        {"reel_frame_get_info index", c_info, NFRAMES, REEL_NOTFOUND},
        {"reel_frame_get_info index", c_info, 0, REEL_OK},
        {"reel_frame_read index", c_read_idx, -1, REEL_NOTFOUND},
        {"reel_frame_read index", c_read_idx, I64MIN, REEL_NOTFOUND},
        {"reel_frame_read index", c_read_idx, I64MAX, REEL_NOTFOUND},
        {"reel_frame_read dst_capacity", c_read_cap, 0, REEL_FULL},
        {"reel_frame_read dst_capacity", c_read_cap, W * H - 1, REEL_FULL},
        {"reel_frame_read dst_capacity", c_read_cap, W * H, REEL_OK},
        {"reel_frame_read_range first", c_range_first, -1, REEL_INVALID},
        {"reel_frame_read_range first", c_range_first, I64MIN, REEL_INVALID},
        {"reel_frame_read_range first", c_range_first, I64MAX, REEL_INVALID},
        {"reel_frame_read_range first", c_range_first, I64MAX - 1, REEL_NOTFOUND},
        {"reel_frame_read_range n", c_range_n, 0, REEL_OK},
        {"reel_frame_read_range n", c_range_n, SMAX, REEL_INVALID},
        {"reel_frame_read_range n", c_range_n, SHALF, REEL_FULL},
        {"reel_frame_read_range n", c_range_n, NFRAMES, REEL_OK},
        {"reel_frame_read_range n (capacity SIZE_MAX)", c_range_n_end, SMAX, REEL_INVALID},
        {"reel_frame_read_range n (capacity SIZE_MAX)", c_range_n_end, SHALF, REEL_INVALID},
        {"reel_frame_read_range n (capacity SIZE_MAX)", c_range_n_end, I64MAX - 4, REEL_FULL},
        {"reel_frame_read_range n (capacity SIZE_MAX)", c_range_n_end, I64MAX - 3, REEL_INVALID},
        {"reel_frame_read_range n (capacity SIZE_MAX)", c_range_n_end, NFRAMES - 4, REEL_OK},
        {"reel_frame_read_range n (capacity SIZE_MAX)", c_range_n_end, NFRAMES - 3, REEL_NOTFOUND},
        {"reel_frame_read_range dst_capacity", c_range_cap, 0, REEL_FULL},
        {"reel_frame_read_range dst_capacity", c_range_cap, SMAX, REEL_OK},
        {"reel_seq_find_pts pts", c_find, I64MIN, REEL_NOTFOUND},
        {"reel_seq_find_pts pts", c_find, -1, REEL_NOTFOUND},
        {"reel_seq_find_pts pts", c_find, I64MAX, REEL_NOTFOUND},
        {"reel_seq_find_pts pts", c_find, 0, REEL_OK},
        {"reel_frame_get index", c_get, -1, REEL_NOTFOUND},
        {"reel_frame_get index", c_get, I64MIN, REEL_NOTFOUND},
        {"reel_frame_get index", c_get, I64MAX, REEL_NOTFOUND},
        {"reel_frame_get index", c_get, I64MAX - 1, REEL_NOTFOUND},
        {"reel_frame_get flags", c_get_flags, SZ(UINT_MAX), REEL_INVALID},
        {"reel_frame_get flags", c_get_flags, REEL_GET_LAZY | REEL_GET_ONCE, REEL_OK},
        {"reel_frames_get index", c_gets_idx, I64MIN, REEL_NOTFOUND},
        {"reel_frames_get index", c_gets_idx, I64MAX, REEL_NOTFOUND},
        {"reel_frames_get index", c_gets_idx, -1, REEL_NOTFOUND},
        {"reel_frames_get index", c_gets_idx, 7, REEL_OK},
        {"reel_frames_get n", c_gets_n, SMAX, REEL_INVALID},
        {"reel_frames_get n", c_gets_n, SHALF, REEL_INVALID},
        {"reel_frames_get n", c_gets_n, 0, REEL_OK},
        {"reel_frames_get_window center", c_win_center, I64MIN, REEL_NOTFOUND},
        {"reel_frames_get_window center", c_win_center, I64MAX, REEL_NOTFOUND},
        {"reel_frames_get_window center", c_win_center, -1, REEL_NOTFOUND},
        {"reel_frames_get_window radius", c_win_radius, -1, REEL_INVALID},
        {"reel_frames_get_window radius", c_win_radius, I64MIN, REEL_INVALID},
        {"reel_frames_get_window radius", c_win_radius, I64MAX, REEL_INVALID},
        {"reel_frames_get_window radius", c_win_radius, I64MAX - 1, REEL_INVALID},
        {"reel_frames_get_window radius", c_win_radius, 0, REEL_OK},
        {"reel_frames_get_window radius", c_win_radius, (int64_t)1 << 30, REEL_OK},
        {"reel_frames_get_window radius", c_win_radius, ((int64_t)1 << 30) + 1, REEL_INVALID},
        {"reel_frames_get_window radius", c_win_radius, 3, REEL_OK},
        {"reel_frames_get_window center+radius", c_win_both, I64MAX, REEL_INVALID},
        {"reel_frames_get_window center+radius", c_win_both, I64MIN, REEL_INVALID},
        {"reel_frame_unload index", c_unload, -1, REEL_OK},
        {"reel_frame_unload index", c_unload, I64MIN, REEL_OK},
        {"reel_frame_unload index", c_unload, I64MAX, REEL_OK},
    };
    open_fixture();
    ROWS(rows);
    close_fixture();
}
END_TEST

/* ---- iteration, read-ahead, flush ------------------------------------------------------- */

static int fe_cb(void *ctx, reel_frame **frames, size_t n)
{
    (void)frames;
    *(size_t *)ctx += n;
    return 0;
}
static int c_fe(int64_t first, int64_t count, size_t batch)
{
    size_t seen = 0;
    return reel_seq_foreach(g_seq, first, count, batch, fe_cb, &seen, REEL_FOREACH_RELEASE);
}
static int c_fe_first(int64_t v) { return c_fe(v, -1, 4); }
static int c_fe_count(int64_t v) { return c_fe(2, v, 4); }
static int c_fe_both(int64_t v) { return c_fe(v, v, 512); }
static int c_fe_batch(int64_t v) { return c_fe(0, -1, (size_t)v); }
static int c_fe_flags(int64_t v)
{
    size_t seen = 0;
    return reel_seq_foreach(g_seq, 0, -1, 4, fe_cb, &seen, (unsigned)v);
}
static int c_pf_first(int64_t v) { return reel_seq_prefetch(g_seq, v, 4); }
static int c_pf_count(int64_t v) { return reel_seq_prefetch(g_seq, 0, (size_t)v); }
static int c_pf_end(int64_t v) { return reel_seq_prefetch(g_seq, I64MAX - 1, (size_t)v); }
static int c_pfw(int64_t v) { return reel_seq_prefetch_wait(g_seq, (int)v); }
static int c_ra_workers(int64_t v) { return reel_store_set_readahead(g_store, (int)v, 8); }
static int c_ra_window(int64_t v) { return reel_store_set_readahead(g_store, 1, (int)v); }
static int c_flush_ms(int64_t v) { return reel_store_set_flush_interval(g_store, (int)v); }
static int c_wb(int64_t v) { return reel_store_set_writeback(g_store, (size_t)v); }
static int c_release_n(int64_t v)
{
    reel_frame *none[4] = {NULL, NULL, NULL, NULL};
    (void)v;
    return reel_frames_release(none, 4);
}

START_TEST(test_iterate)
{
    static const row rows[] = {
        {"reel_seq_foreach first", c_fe_first, -1, REEL_INVALID},
        {"reel_seq_foreach first", c_fe_first, I64MIN, REEL_INVALID},
        {"reel_seq_foreach first", c_fe_first, I64MAX, REEL_OK},
        {"reel_seq_foreach first", c_fe_first, I64MAX - 1, REEL_OK},
        {"reel_seq_foreach count", c_fe_count, I64MIN, REEL_OK},
        {"reel_seq_foreach count", c_fe_count, I64MAX, REEL_OK},
        {"reel_seq_foreach count", c_fe_count, 0, REEL_OK},
        {"reel_seq_foreach first+count", c_fe_both, I64MAX, REEL_OK},
        {"reel_seq_foreach first+count", c_fe_both, I64MAX - 1, REEL_OK},
        {"reel_seq_foreach first+count", c_fe_both, NFRAMES - 1, REEL_OK},
        {"reel_seq_foreach batch_size", c_fe_batch, 0, REEL_INVALID},
        {"reel_seq_foreach batch_size", c_fe_batch, SMAX, REEL_INVALID},
        {"reel_seq_foreach batch_size", c_fe_batch, SHALF, REEL_INVALID},
        {"reel_seq_foreach batch_size", c_fe_batch, 513, REEL_INVALID},
        {"reel_seq_foreach batch_size", c_fe_batch, 512, REEL_OK},
        {"reel_seq_foreach flags", c_fe_flags, SZ(UINT_MAX), REEL_INVALID},
        {"reel_seq_prefetch first", c_pf_first, -1, REEL_INVALID},
        {"reel_seq_prefetch first", c_pf_first, I64MIN, REEL_INVALID},
        {"reel_seq_prefetch first", c_pf_first, I64MAX, REEL_OK},
        {"reel_seq_prefetch count", c_pf_count, SMAX, REEL_INVALID},
        {"reel_seq_prefetch count", c_pf_count, SHALF, REEL_INVALID},
        {"reel_seq_prefetch count", c_pf_count, 1025, REEL_INVALID},
        {"reel_seq_prefetch count", c_pf_count, 0, REEL_OK},
        {"reel_seq_prefetch count", c_pf_count, 1024, REEL_OK},
        {"reel_seq_prefetch count (first INT64_MAX - 1)", c_pf_end, 1024, REEL_OK},
        {"reel_seq_prefetch_wait timeout_ms", c_pfw, INT_MIN, REEL_OK},
        {"reel_seq_prefetch_wait timeout_ms", c_pfw, -1, REEL_OK},
        {"reel_seq_prefetch_wait timeout_ms", c_pfw, INT_MAX, REEL_OK},
        {"reel_seq_prefetch_wait timeout_ms", c_pfw, 0, REEL_OK},
        {"reel_store_set_readahead workers", c_ra_workers, -1, REEL_INVALID},
        {"reel_store_set_readahead workers", c_ra_workers, INT_MIN, REEL_INVALID},
        {"reel_store_set_readahead workers", c_ra_workers, INT_MAX, REEL_INVALID},
        {"reel_store_set_readahead window", c_ra_window, -1, REEL_INVALID},
        {"reel_store_set_readahead window", c_ra_window, INT_MIN, REEL_INVALID},
        {"reel_store_set_readahead window", c_ra_window, INT_MAX, REEL_INVALID},
        {"reel_store_set_readahead workers", c_ra_workers, 0, REEL_OK},
        {"reel_store_set_readahead workers", c_ra_workers, 1, REEL_OK},
        {"reel_store_set_flush_interval ms", c_flush_ms, -1, REEL_INVALID},
        {"reel_store_set_flush_interval ms", c_flush_ms, INT_MIN, REEL_INVALID},
        {"reel_store_set_flush_interval ms", c_flush_ms, INT_MAX, REEL_OK},
        {"reel_store_set_flush_interval ms", c_flush_ms, 0, REEL_OK},
        {"reel_store_set_writeback batch", c_wb, 0, REEL_INVALID},
        {"reel_store_set_writeback batch", c_wb, SMAX, REEL_INVALID},
        {"reel_store_set_writeback batch", c_wb, SHALF, REEL_INVALID},
        {"reel_store_set_writeback batch", c_wb, 4097, REEL_INVALID},
        {"reel_store_set_writeback batch", c_wb, 4096, REEL_OK},
        {"reel_frames_release NULL entries", c_release_n, 0, REEL_OK},
    };
    size_t seen = 0;
    open_fixture();
    ROWS(rows);
    /* a count to INT64_MAX ends at the last frame */
    ck_assert_int_eq(reel_seq_foreach(g_seq, 2, I64MAX, 4, fe_cb, &seen, REEL_FOREACH_RELEASE),
                     REEL_OK);
    ck_assert_uint_eq(seen, NFRAMES - 2);
    close_fixture();
}
END_TEST

/* ---- caches ----------------------------------------------------------------------------- */

static int c_cnew(int64_t v)
{
    reel_cache *c = NULL;
    int rc = reel_cache_new((size_t)v, &c);
    if (rc == REEL_OK)
        ck_assert_int_eq(reel_cache_free(c), REEL_OK);
    return rc;
}
static int c_cset(int64_t v)
{
    size_t b = 0;
    int rc = reel_cache_set_budget(g_cache, (size_t)v);
    if (rc == REEL_OK) {
        ck_assert_int_eq(reel_cache_get_budget(g_cache, &b), REEL_OK);
        ck_assert_uint_eq(b, (size_t)v);
    }
    return rc;
}
static int c_ctrim(int64_t v) { return reel_cache_trim(g_cache, (size_t)v); }
static int c_cpress(int64_t v) { return reel_cache_report_pressure(g_cache, (int)v); }
static int c_cstrict(int64_t v)
{
    int rc = reel_cache_set_strict(g_cache, (int)v);
    reel_cache_set_strict(g_cache, 0);
    return rc;
}
static int c_cpush(int64_t v)
{
    int rc = reel_cache_push_budget(g_cache, (size_t)v);
    if (rc == REEL_OK)
        ck_assert_int_eq(reel_cache_pop_budget(g_cache), REEL_OK);
    return rc;
}
/* A read after the budget is at a limit: it must fit what is there, not what the value says. */
static int c_cget_after(int64_t v)
{
    reel_cache_stats st;
    ck_assert_int_eq(reel_cache_set_budget(g_cache, (size_t)v), REEL_OK);
    ck_assert_int_eq(c_get(5), REEL_OK);
    ck_assert_int_eq(reel_cache_get_stats(g_cache, &st), REEL_OK);
    ck_assert_uint_le(st.resident_bytes, (size_t)W * H * NFRAMES + 4 * 4096 * NFRAMES);
    return reel_cache_set_budget(g_cache, 1 << 20);
}

START_TEST(test_cache)
{
    static const row rows[] = {
        {"reel_cache_new budget", c_cnew, 0, REEL_OK},
        {"reel_cache_new budget", c_cnew, SMAX, REEL_OK},
        {"reel_cache_new budget", c_cnew, SHALF, REEL_OK},
        {"reel_cache_set_budget", c_cset, 0, REEL_OK},
        {"reel_cache_set_budget", c_cset, SMAX, REEL_OK},
        {"reel_cache_set_budget", c_cset, SHALF, REEL_OK},
        {"reel_cache_set_budget then get", c_cget_after, SMAX, REEL_OK},
        {"reel_cache_set_budget then get", c_cget_after, 0, REEL_OK},
        {"reel_cache_trim target", c_ctrim, 0, REEL_OK},
        {"reel_cache_trim target", c_ctrim, SMAX, REEL_OK},
        {"reel_cache_report_pressure level", c_cpress, -1, REEL_INVALID},
        {"reel_cache_report_pressure level", c_cpress, INT_MIN, REEL_INVALID},
        {"reel_cache_report_pressure level", c_cpress, INT_MAX, REEL_INVALID},
        {"reel_cache_report_pressure level", c_cpress, 3, REEL_INVALID},
        {"reel_cache_report_pressure level", c_cpress, REEL_PRESSURE_CRITICAL, REEL_OK},
        {"reel_cache_set_strict on", c_cstrict, INT_MIN, REEL_OK},
        {"reel_cache_set_strict on", c_cstrict, -1, REEL_OK},
        {"reel_cache_push_budget", c_cpush, 0, REEL_OK},
        {"reel_cache_push_budget", c_cpush, SMAX, REEL_OK},
        {"reel_cache_push_budget", c_cpush, SHALF, REEL_OK},
    };
    open_fixture();
    ROWS(rows);
    close_fixture();
}
END_TEST

static int monitor_with(const reel_pressure_options *o)
{
    int rc = reel_cache_start_pressure_monitor(g_cache, o);
    ck_assert_int_eq(reel_cache_stop_pressure_monitor(g_cache), REEL_OK);
    return rc;
}
static reel_pressure_options base_press(void)
{
    reel_pressure_options o;
    memset(&o, 0, sizeof o);
    o.root = tu_dir(); /* no proc/ or sys/ there: every source skipped */
    return o;
}
#define PRESS_FIELD(field)                                                                     \
    static int c_pr_##field(int64_t v)                                                         \
    {                                                                                          \
        reel_pressure_options o = base_press();                                                \
        o.field = (int)v;                                                                      \
        return monitor_with(&o);                                                               \
    }
PRESS_FIELD(interval_ms)
PRESS_FIELD(moderate_percent)
PRESS_FIELD(critical_percent)
PRESS_FIELD(target_percent)
PRESS_FIELD(calm_ms)
PRESS_FIELD(growth_check_kib)
static int c_pr_reserved(int64_t v)
{
    reel_pressure_options o = base_press();
    o.reserved[4] = (int)v;
    return monitor_with(&o);
}
static int c_pr_psi_mod(double v)
{
    reel_pressure_options o = base_press();
    o.psi_moderate = v;
    return monitor_with(&o);
}
static int c_pr_psi_crit(double v)
{
    reel_pressure_options o = base_press();
    o.psi_critical = v;
    return monitor_with(&o);
}

#define MON "reel_cache_start_pressure_monitor "
START_TEST(test_pressure_options)
{
    static const row rows[] = {
        {MON "interval_ms", c_pr_interval_ms, -1, REEL_INVALID},
        {MON "interval_ms", c_pr_interval_ms, INT_MIN, REEL_INVALID},
        {MON "interval_ms", c_pr_interval_ms, INT_MAX, REEL_OK},
        {MON "moderate_percent", c_pr_moderate_percent, -1, REEL_INVALID},
        {MON "moderate_percent", c_pr_moderate_percent, INT_MIN, REEL_INVALID},
        {MON "moderate_percent", c_pr_moderate_percent, INT_MAX, REEL_INVALID},
        {MON "critical_percent", c_pr_critical_percent, -1, REEL_INVALID},
        {MON "critical_percent", c_pr_critical_percent, INT_MIN, REEL_INVALID},
        {MON "critical_percent", c_pr_critical_percent, INT_MAX, REEL_INVALID},
        {MON "target_percent", c_pr_target_percent, -1, REEL_INVALID},
        {MON "target_percent", c_pr_target_percent, INT_MIN, REEL_INVALID},
        {MON "target_percent", c_pr_target_percent, INT_MAX, REEL_INVALID},
        {MON "calm_ms", c_pr_calm_ms, -1, REEL_INVALID},
        {MON "calm_ms", c_pr_calm_ms, INT_MIN, REEL_INVALID},
        {MON "calm_ms", c_pr_calm_ms, INT_MAX, REEL_OK},
        {MON "growth_check_kib", c_pr_growth_check_kib, -1, REEL_INVALID},
        {MON "growth_check_kib", c_pr_growth_check_kib, INT_MIN, REEL_INVALID},
        {MON "growth_check_kib", c_pr_growth_check_kib, INT_MAX, REEL_OK},
        {MON "reserved", c_pr_reserved, -1, REEL_INVALID},
        {MON "reserved", c_pr_reserved, INT_MIN, REEL_INVALID},
    };
    static const drow drows[] = {
        {MON "psi_moderate", c_pr_psi_mod, NAN, REEL_INVALID},
        {MON "psi_moderate", c_pr_psi_mod, INFINITY, REEL_INVALID},
        {MON "psi_moderate", c_pr_psi_mod, -INFINITY, REEL_INVALID},
        {MON "psi_moderate", c_pr_psi_mod, -1, REEL_INVALID},
        {MON "psi_moderate", c_pr_psi_mod, 101, REEL_INVALID},
        {MON "psi_moderate", c_pr_psi_mod, 20, REEL_OK},
        {MON "psi_critical", c_pr_psi_crit, NAN, REEL_INVALID},
        {MON "psi_critical", c_pr_psi_crit, INFINITY, REEL_INVALID},
        {MON "psi_critical", c_pr_psi_crit, -INFINITY, REEL_INVALID},
        {MON "psi_critical", c_pr_psi_crit, -1, REEL_INVALID},
    };
    open_fixture();
    ROWS(rows);
    DROWS(drows);
    close_fixture();
}
END_TEST
#undef MON

/* ---- policies and warm opens ------------------------------------------------------------ */

#define POLICY_FIELD(field, type)                                                              \
    static int c_pol_##field(int64_t v)                                                        \
    {                                                                                          \
        reel_seq_policy p;                                                                     \
        memset(&p, 0, sizeof p);                                                               \
        p.field = (type)v;                                                                     \
        int rc = reel_seq_set_policy(g_seq, &p);                                               \
        if (rc == REEL_OK) {                                                                   \
            ck_assert_int_eq(c_get(3), REEL_OK);                                               \
            ck_assert_int_eq(c_get(6), REEL_OK);                                               \
            ck_assert_int_eq(reel_seq_trim(g_seq, NULL), REEL_OK);                             \
        }                                                                                      \
        return rc;                                                                             \
    }
POLICY_FIELD(max_frames, uint64_t)
POLICY_FIELD(max_bytes, uint64_t)
POLICY_FIELD(window, int64_t)
POLICY_FIELD(priority, int)
POLICY_FIELD(trim_every, uint32_t)
POLICY_FIELD(trim_ms, uint32_t)
static int c_warm(double v)
{
    reel_seq *q = NULL;
    size_t loaded = 0;
    int rc = reel_seq_open_warm(g_store, "s", v, &q, &loaded);
    if (rc == REEL_OK) {
        ck_assert_uint_le(loaded, NFRAMES);
        ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    }
    return rc;
}

START_TEST(test_policy)
{
    static const row rows[] = {
        {"reel_seq_set_policy max_frames", c_pol_max_frames, -1 /* UINT64_MAX */, REEL_OK},
        {"reel_seq_set_policy max_frames", c_pol_max_frames, I64MAX, REEL_OK},
        {"reel_seq_set_policy max_bytes", c_pol_max_bytes, -1 /* UINT64_MAX */, REEL_OK},
        {"reel_seq_set_policy max_bytes", c_pol_max_bytes, I64MAX, REEL_OK},
        {"reel_seq_set_policy max_bytes", c_pol_max_bytes, 1, REEL_OK},
        {"reel_seq_set_policy window", c_pol_window, -1, REEL_INVALID},
        {"reel_seq_set_policy window", c_pol_window, I64MIN, REEL_INVALID},
        {"reel_seq_set_policy window", c_pol_window, I64MAX, REEL_OK},
        {"reel_seq_set_policy window", c_pol_window, I64MAX - 1, REEL_OK},
        {"reel_seq_set_policy priority", c_pol_priority, INT_MIN, REEL_INVALID},
        {"reel_seq_set_policy priority", c_pol_priority, INT_MAX, REEL_INVALID},
        {"reel_seq_set_policy priority", c_pol_priority, -1, REEL_OK},
        {"reel_seq_set_policy trim_every", c_pol_trim_every, SZ(UINT32_MAX), REEL_OK},
        {"reel_seq_set_policy trim_ms", c_pol_trim_ms, SZ(UINT32_MAX), REEL_OK},
    };
    static const drow drows[] = {
        {"reel_seq_open_warm share", c_warm, NAN, REEL_INVALID},
        {"reel_seq_open_warm share", c_warm, INFINITY, REEL_INVALID},
        {"reel_seq_open_warm share", c_warm, -INFINITY, REEL_INVALID},
        {"reel_seq_open_warm share", c_warm, -1, REEL_INVALID},
        {"reel_seq_open_warm share", c_warm, 1.5, REEL_INVALID},
        {"reel_seq_open_warm share", c_warm, 0, REEL_OK},
        {"reel_seq_open_warm share", c_warm, 1, REEL_OK},
    };
    reel_seq_policy wide;
    size_t freed = 1;
    open_fixture();
    ROWS(rows);
    /* a window of INT64_MAX keeps every frame: a trim frees nothing */
    memset(&wide, 0, sizeof wide);
    wide.window = I64MAX;
    ck_assert_int_eq(reel_seq_set_policy(g_seq, &wide), REEL_OK);
    for (int64_t i = 0; i < NFRAMES; i++)
        ck_assert_int_eq(c_get(i), REEL_OK);
    ck_assert_int_eq(reel_seq_trim(g_seq, &freed), REEL_OK);
    ck_assert_uint_eq(freed, 0);
    /* warm opens with a budget at its limit: share x SIZE_MAX must not become a count */
    ck_assert_int_eq(reel_cache_set_budget(g_cache, SIZE_MAX), REEL_OK);
    DROWS(drows);
    close_fixture();
}
END_TEST

/* ---- images ----------------------------------------------------------------------------- */

static int c_png(int fmt, int w, int h, size_t size)
{
    void *png = NULL;
    size_t n = 0;
    int rc = reel_png_encode(fmt, w, h, g_buf, size, &png, &n);
    reel_free(png);
    return rc;
}
static int c_png_fmt(int64_t v) { return c_png((int)v, W, H, W * H); }
static int c_png_w(int64_t v) { return c_png(REEL_PIX_GRAY8, (int)v, H, W * H); }
static int c_png_h(int64_t v) { return c_png(REEL_PIX_GRAY8, W, (int)v, W * H); }
static int c_png_size(int64_t v) { return c_png(REEL_PIX_GRAY8, W, H, (size_t)v); }
static int c_conv(int fmt, int w, int h, size_t size, int to)
{
    reel_image im = {fmt, w, h, g_buf, size};
    void *out = NULL;
    size_t n = 0;
    int rc = reel_frame_convert(&im, to, &out, &n);
    reel_free(out);
    return rc;
}
static int c_conv_fmt(int64_t v) { return c_conv((int)v, W, H, W * H, REEL_PIX_RGB24); }
static int c_conv_w(int64_t v) { return c_conv(REEL_PIX_GRAY8, (int)v, H, W * H, REEL_PIX_RGB24); }
static int c_conv_h(int64_t v) { return c_conv(REEL_PIX_GRAY8, W, (int)v, W * H, REEL_PIX_RGB24); }
static int c_conv_size(int64_t v) { return c_conv(REEL_PIX_GRAY8, W, H, (size_t)v, REEL_PIX_RGB24); }
static int c_conv_to(int64_t v) { return c_conv(REEL_PIX_GRAY8, W, H, W * H, (int)v); }

START_TEST(test_images)
{
    static const row rows[] = {
        {"reel_png_encode fmt", c_png_fmt, 0, REEL_INVALID},
        {"reel_png_encode fmt", c_png_fmt, INT_MIN, REEL_INVALID},
        {"reel_png_encode fmt", c_png_fmt, INT_MAX, REEL_INVALID},
        {"reel_png_encode width", c_png_w, 0, REEL_INVALID},
        {"reel_png_encode width", c_png_w, INT_MIN, REEL_INVALID},
        {"reel_png_encode width", c_png_w, INT_MAX, REEL_INVALID},
        {"reel_png_encode height", c_png_h, -1, REEL_INVALID},
        {"reel_png_encode height", c_png_h, INT_MAX, REEL_INVALID},
        {"reel_png_encode size", c_png_size, 0, REEL_INVALID},
        {"reel_png_encode size", c_png_size, SMAX, REEL_INVALID},
        {"reel_png_encode size", c_png_size, SHALF, REEL_INVALID},
        {"reel_png_encode size", c_png_size, W * H, REEL_OK},
        {"reel_frame_convert pix_fmt", c_conv_fmt, 0, REEL_INVALID},
        {"reel_frame_convert pix_fmt", c_conv_fmt, INT_MIN, REEL_INVALID},
        {"reel_frame_convert pix_fmt", c_conv_fmt, INT_MAX, REEL_INVALID},
        {"reel_frame_convert width", c_conv_w, 0, REEL_INVALID},
        {"reel_frame_convert width", c_conv_w, INT_MIN, REEL_INVALID},
        {"reel_frame_convert width", c_conv_w, INT_MAX, REEL_INVALID},
        {"reel_frame_convert height", c_conv_h, -1, REEL_INVALID},
        {"reel_frame_convert height", c_conv_h, INT_MAX, REEL_INVALID},
        {"reel_frame_convert size", c_conv_size, 0, REEL_INVALID},
        {"reel_frame_convert size", c_conv_size, SMAX, REEL_INVALID},
        {"reel_frame_convert to", c_conv_to, 0, REEL_INVALID},
        {"reel_frame_convert to", c_conv_to, -1, REEL_INVALID},
        {"reel_frame_convert to", c_conv_to, INT_MIN, REEL_INVALID},
        {"reel_frame_convert to", c_conv_to, INT_MAX, REEL_INVALID},
        {"reel_frame_convert to", c_conv_to, REEL_PIX_YUV444P, REEL_OK},
    };
    ROWS(rows);
}
END_TEST

/* ---- import ----------------------------------------------------------------------------- */

static char g_video[4096];
#define IMPORT_FIELD(field)                                                                    \
    static int c_imp_##field(int64_t v)                                                        \
    {                                                                                          \
        reel_import_options o;                                                                 \
        memset(&o, 0, sizeof o);                                                               \
        o.sequence = "imp";                                                                    \
        o.log = REEL_IMPORT_LOG_QUIET;                                                         \
        o.workers = 1;                                                                         \
        o.replace = 1;                                                                         \
        o.field = (int)v;                                                                      \
        int rc = reel_import(g_store, g_video, &o, NULL);                                      \
        if (rc == REEL_OK)                                                                     \
            ck_assert_int_eq(reel_seq_remove(g_store, "imp"), REEL_OK);                        \
        return rc;                                                                             \
    }
IMPORT_FIELD(pix_fmt)
IMPORT_FIELD(width)
IMPORT_FIELD(height)
IMPORT_FIELD(stream)
IMPORT_FIELD(on_error)
IMPORT_FIELD(autorotate)
IMPORT_FIELD(replace)
IMPORT_FIELD(workers)
IMPORT_FIELD(log)
IMPORT_FIELD(codec)
IMPORT_FIELD(keyint)
IMPORT_FIELD(every)
IMPORT_FIELD(start_ms)
IMPORT_FIELD(duration_ms)
IMPORT_FIELD(fps_num)

START_TEST(test_import)
{
    static const row rows[] = {
        {"reel_import pix_fmt", c_imp_pix_fmt, -2, REEL_UNSUPPORTED},
        {"reel_import pix_fmt", c_imp_pix_fmt, INT_MIN, REEL_UNSUPPORTED},
        {"reel_import pix_fmt", c_imp_pix_fmt, INT_MAX, REEL_UNSUPPORTED},
        {"reel_import pix_fmt", c_imp_pix_fmt, REEL_PIX_NATIVE, REEL_OK},
        {"reel_import width", c_imp_width, -1, REEL_INVALID},
        {"reel_import width", c_imp_width, INT_MIN, REEL_INVALID},
        {"reel_import width", c_imp_width, INT_MAX, REEL_INVALID},
        {"reel_import height", c_imp_height, -1, REEL_INVALID},
        {"reel_import height", c_imp_height, INT_MIN, REEL_INVALID},
        {"reel_import height", c_imp_height, INT_MAX, REEL_INVALID},
        {"reel_import stream", c_imp_stream, -1, REEL_INVALID},
        {"reel_import stream", c_imp_stream, INT_MIN, REEL_INVALID},
        {"reel_import stream", c_imp_stream, INT_MAX, REEL_NOTFOUND},
        {"reel_import on_error", c_imp_on_error, -1, REEL_INVALID},
        {"reel_import on_error", c_imp_on_error, INT_MIN, REEL_INVALID},
        {"reel_import on_error", c_imp_on_error, INT_MAX, REEL_INVALID},
        {"reel_import autorotate", c_imp_autorotate, INT_MIN, REEL_OK},
        {"reel_import replace", c_imp_replace, INT_MIN, REEL_OK},
        {"reel_import workers", c_imp_workers, -1, REEL_INVALID},
        {"reel_import workers", c_imp_workers, INT_MIN, REEL_INVALID},
        {"reel_import workers", c_imp_workers, INT_MAX, REEL_OK}, /* at most 16 run */
        {"reel_import log", c_imp_log, -1, REEL_INVALID},
        {"reel_import log", c_imp_log, INT_MIN, REEL_INVALID},
        {"reel_import log", c_imp_log, INT_MAX, REEL_INVALID},
        {"reel_import codec", c_imp_codec, -1, REEL_INVALID},
        {"reel_import codec", c_imp_codec, INT_MIN, REEL_INVALID},
        {"reel_import codec", c_imp_codec, INT_MAX, REEL_INVALID},
        {"reel_import keyint", c_imp_keyint, -1, REEL_INVALID},
        {"reel_import keyint", c_imp_keyint, INT_MIN, REEL_INVALID},
        {"reel_import keyint", c_imp_keyint, INT_MAX, REEL_INVALID},
        {"reel_import every", c_imp_every, -1, REEL_INVALID},
        {"reel_import every", c_imp_every, INT_MIN, REEL_INVALID},
        {"reel_import every", c_imp_every, INT_MAX, REEL_OK},
        {"reel_import start_ms", c_imp_start_ms, -1, REEL_INVALID},
        {"reel_import start_ms", c_imp_start_ms, INT_MIN, REEL_INVALID},
        {"reel_import start_ms", c_imp_start_ms, INT_MAX, REEL_NOTFOUND},
        {"reel_import duration_ms", c_imp_duration_ms, -1, REEL_INVALID},
        {"reel_import duration_ms", c_imp_duration_ms, INT_MIN, REEL_INVALID},
        {"reel_import duration_ms", c_imp_duration_ms, INT_MAX, REEL_OK},
        {"reel_import fps_num", c_imp_fps_num, -1, REEL_INVALID},
        {"reel_import fps_num", c_imp_fps_num, INT_MAX, REEL_INVALID}, /* without fps_den */
    };
    snprintf(g_video, sizeof g_video, "%s", tu_path("v.mkv"));
    ck_assert_int_eq(tu_sh("ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=32x24:rate=5 "
                           "-frames:v 4 -c:v ffv1 '%s'", g_video),
                     0);
    open_fixture();
    ROWS(rows);
    close_fixture();
}
END_TEST

/* ---- publish and sampling --------------------------------------------------------------- */

static int c_pub(size_t nseq, int64_t part, int verify, int reserved)
{
    static const char *const names[] = {"s"};
    reel_publish_options o;
    memset(&o, 0, sizeof o);
    o.sequences = names;
    o.nsequences = nseq;
    o.part_bytes = part;
    o.verify_existing = verify;
    o.reserved[6] = reserved;
    return reel_publish(g_store, tu_path("pub"), &o, NULL);
}
static int c_pub_n(int64_t v) { return c_pub((size_t)v, 0, 0, 0); }
static int c_pub_part(int64_t v) { return c_pub(1, v, 0, 0); }
static int c_pub_verify(int64_t v) { return c_pub(1, 0, (int)v, 0); }
static int c_pub_reserved(int64_t v) { return c_pub(1, 0, 0, (int)v); }

static reel_sample_options base_sample(void)
{
    reel_sample_options o;
    memset(&o, 0, sizeof o);
    o.items = 100;
    o.world = 3;
    return o;
}
static int sample_with(const reel_sample_options *o, int64_t pos, int64_t count)
{
    int64_t items[8];
    return reel_sample(o, pos, count, items);
}
#define SAMPLE_FIELD(field, type)                                                              \
    static int c_smp_##field(int64_t v)                                                        \
    {                                                                                          \
        reel_sample_options o = base_sample();                                                 \
        o.field = (type)v;                                                                     \
        int64_t n = reel_sample_count(&o);                                                     \
        int rc = sample_with(&o, 0, 1);                                                        \
        ck_assert_msg(rc != REEL_OK || n >= 1, #field ": a sample from an empty share");       \
        return rc;                                                                             \
    }
SAMPLE_FIELD(items, int64_t)
SAMPLE_FIELD(chunk, int64_t)
SAMPLE_FIELD(rank, int)
SAMPLE_FIELD(world, int)
SAMPLE_FIELD(seed, uint64_t)
SAMPLE_FIELD(epoch, uint64_t)
static int c_smp_pos(int64_t v)
{
    reel_sample_options o = base_sample();
    return sample_with(&o, v, 1);
}
static int c_smp_count(int64_t v)
{
    reel_sample_options o = base_sample();
    return sample_with(&o, 0, v > 8 || v < 0 ? v : v);
}
static int c_smp_big(int64_t v)
{
    reel_sample_options o = base_sample();
    o.items = I64MAX;
    o.chunk = v;
    o.world = 1;
    return sample_with(&o, I64MAX - 8, 8);
}

START_TEST(test_publish_sample)
{
    static const row rows[] = {
        {"reel_publish nsequences", c_pub_n, SMAX, REEL_INVALID},
        {"reel_publish nsequences", c_pub_n, SHALF, REEL_INVALID},
        {"reel_publish part_bytes", c_pub_part, -1, REEL_INVALID},
        {"reel_publish part_bytes", c_pub_part, I64MIN, REEL_INVALID},
        {"reel_publish part_bytes", c_pub_part, I64MAX, REEL_INVALID},
        {"reel_publish part_bytes", c_pub_part, I64MAX - 1, REEL_INVALID},
        {"reel_publish verify_existing", c_pub_verify, -1, REEL_INVALID},
        {"reel_publish verify_existing", c_pub_verify, INT_MIN, REEL_INVALID},
        {"reel_publish verify_existing", c_pub_verify, INT_MAX, REEL_INVALID},
        {"reel_publish reserved", c_pub_reserved, -1, REEL_INVALID},
        {"reel_publish part_bytes", c_pub_part, 1, REEL_OK},
        {"reel_sample items", c_smp_items, -1, REEL_INVALID},
        {"reel_sample items", c_smp_items, I64MIN, REEL_INVALID},
        {"reel_sample items", c_smp_items, I64MAX, REEL_OK},
        {"reel_sample items", c_smp_items, I64MAX - 1, REEL_OK},
        {"reel_sample items", c_smp_items, 0, REEL_INVALID},
        {"reel_sample chunk", c_smp_chunk, -1, REEL_INVALID},
        {"reel_sample chunk", c_smp_chunk, I64MIN, REEL_INVALID},
        {"reel_sample chunk", c_smp_chunk, I64MAX, REEL_OK},
        {"reel_sample rank", c_smp_rank, -1, REEL_INVALID},
        {"reel_sample rank", c_smp_rank, INT_MIN, REEL_INVALID},
        {"reel_sample rank", c_smp_rank, INT_MAX, REEL_INVALID},
        {"reel_sample world", c_smp_world, 0, REEL_INVALID},
        {"reel_sample world", c_smp_world, -1, REEL_INVALID},
        {"reel_sample world", c_smp_world, INT_MIN, REEL_INVALID},
        {"reel_sample world", c_smp_world, INT_MAX, REEL_OK},
        {"reel_sample seed", c_smp_seed, -1, REEL_OK},
        {"reel_sample epoch", c_smp_epoch, -1, REEL_OK},
        {"reel_sample position", c_smp_pos, -1, REEL_INVALID},
        {"reel_sample position", c_smp_pos, I64MIN, REEL_INVALID},
        {"reel_sample position", c_smp_pos, I64MAX, REEL_INVALID},
        {"reel_sample position", c_smp_pos, 33, REEL_OK},
        {"reel_sample position", c_smp_pos, 34, REEL_INVALID},
        {"reel_sample count", c_smp_count, -1, REEL_INVALID},
        {"reel_sample count", c_smp_count, I64MIN, REEL_INVALID},
        {"reel_sample count", c_smp_count, I64MAX, REEL_INVALID},
        {"reel_sample count", c_smp_count, 0, REEL_OK},
        {"reel_sample items INT64_MAX chunk", c_smp_big, 0, REEL_OK},
        {"reel_sample items INT64_MAX chunk", c_smp_big, I64MAX, REEL_OK},
        {"reel_sample items INT64_MAX chunk", c_smp_big, 1, REEL_OK},
    };
    open_fixture();
    ROWS(rows);
    close_fixture();
}
END_TEST

/* ---- a published store's manifest: every number at its limits ---------------------------- */

static char *slurp_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The manifest with the number at [at, at + n) replaced by value, written over path. */
static void write_edited(const char *path, const char *text, size_t at, size_t n, const char *value)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(text, 1, at, f);
    fputs(value, f);
    fputs(text + at + n, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* Open the published store and read every frame of "s": the code of the first failure, its
 * message in g_msg. */
static char g_msg[1024];
static int open_and_read(const char *dir)
{
    reel_store *s = NULL;
    reel_seq *q = NULL;
    int64_t n = 0;
    int rc = reel_open(dir, REEL_OPEN_READONLY, NULL, &s);
    if (rc == REEL_OK && (rc = reel_seq_open(s, "s", &q)) == REEL_OK &&
        (rc = reel_seq_frame_count(q, &n)) == REEL_OK)
        for (int64_t i = 0; i < n && rc == REEL_OK; i++)
            rc = reel_frame_read(q, i, g_buf, sizeof g_buf, NULL);
    snprintf(g_msg, sizeof g_msg, "%s", rc == REEL_OK ? "" : reel_errmsg());
    reel_seq_close(q);
    reel_close(s);
    return rc;
}

START_TEST(test_manifest_numbers)
{
    static const char *const limits[] = {"0", "-1", "-9223372036854775808", "9223372036854775807",
                                         "9223372036854775806", "18446744073709551615",
                                         "1e308", "-1e308", "1.5", "99999999999999999999999"};
    char dir[4200], man[4300];
    size_t len, at, end, tries = 0, ok = 0;
    char *text;
    int in_string = 0;
    snprintf(dir, sizeof dir, "%s", tu_path("pub"));
    snprintf(man, sizeof man, "%s/manifest.json", dir);
    setenv("REEL_BLOCK_CACHE", tu_path("cache"), 1); /* never the user's */
    open_fixture();
    ck_assert_int_eq(reel_publish(g_store, dir, NULL, NULL), REEL_OK);
    close_fixture();
    ck_assert_int_eq(open_and_read(dir), REEL_OK);
    text = slurp_file(man, &len);
    for (at = 0; at < len; at = end) {
        end = at + 1;
        if (text[at] == '"' && (at == 0 || text[at - 1] != '\\'))
            in_string = !in_string;
        if (in_string || !(text[at] == '-' || (text[at] >= '0' && text[at] <= '9')))
            continue;
        while (end < len && strchr("0123456789+-.eE", text[end]))
            end++;
        for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++) {
            int rc;
            write_edited(man, text, at, end - at, limits[k]);
            rc = open_and_read(dir);
            ck_assert_msg(rc == REEL_OK || rc == REEL_CORRUPT || rc == REEL_UNSUPPORTED,
                          "manifest number at %zu set to %s: %d (%s): %s", at, limits[k], rc,
                          reel_errstr(rc), g_msg);
            ck_assert_msg(rc == REEL_OK || g_msg[0],
                          "a refused manifest without a message");
            tries++;
            ok += rc == REEL_OK;
        }
    }
    write_edited(man, text, 0, 0, "");
    ck_assert_int_eq(open_and_read(dir), REEL_OK);
    fprintf(stderr, "manifest: %zu edits of its numbers, %zu read fine\n", tries, ok);
    ck_assert_uint_gt(tries, 20);
    free(text);
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("limits", 120);
    tcase_add_test(tc, test_manifest_numbers);
    tcase_add_test(tc, test_pixfmt);
    tcase_add_test(tc, test_open);
    tcase_add_test(tc, test_seq_create);
    tcase_add_test(tc, test_append);
    tcase_add_test(tc, test_append_pts_end);
    tcase_add_test(tc, test_read);
    tcase_add_test(tc, test_iterate);
    tcase_add_test(tc, test_cache);
    tcase_add_test(tc, test_pressure_options);
    tcase_add_test(tc, test_policy);
    tcase_add_test(tc, test_images);
    tcase_add_test(tc, test_import);
    tcase_add_test(tc, test_publish_sample);
    return tu_run("limits", tc);
}
