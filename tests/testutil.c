/* testutil.c - helpers shared by the libcheck suites. */
#include "testutil.h"

#include <check.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];
static char path[512];

const char *tu_dir(void)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/reel-test-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
    }
    return dir;
}

const char *tu_path(const char *name)
{
    snprintf(path, sizeof path, "%s/%s", tu_dir(), name);
    return path;
}

void tu_cleanup(void)
{
    char cmd[300];
    if (!dir[0])
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    dir[0] = 0;
}

void tu_fill(uint8_t *buf, int fmt, int w, int h, uint32_t seed)
{
    size_t size, i;
    uint32_t rng = seed * 2654435761u + 1;
    int wide = fmt == REEL_PIX_GRAY16LE || fmt == REEL_PIX_YUV420P10LE;
    ck_assert_int_eq(reel_frame_size(fmt, w, h, &size), REEL_OK);
    for (i = 0; i < (wide ? size / 2 : size); i++) {
        size_t x = i % (size_t)w, y = i / (size_t)w;
        int v = (int)((x * 3 + y * 2 + seed * 5) & 0xff) + (x > (size_t)w / 2 ? 60 : 0);
        rng = rng * 1664525u + 1013904223u;
        v += (int)(rng >> 28) - 8;
        if (wide) {
            unsigned s = (unsigned)(v * 4 + (int)(rng >> 30)) & 0x3ff;
            buf[2 * i] = (uint8_t)(s & 0xff);
            buf[2 * i + 1] = (uint8_t)(s >> 8);
        } else {
            buf[i] = (uint8_t)v;
        }
    }
}

void tu_make_store(const char *name, int fmt, int w, int h, int n, reel_store **store,
                   reel_seq **seq)
{
    reel_seq_params p = {w, h, fmt, {1, 25}, "test pattern", 0, 0};
    size_t fs;
    uint8_t *buf;
    int i;
    ck_assert_int_eq(reel_frame_size(fmt, w, h, &fs), REEL_OK);
    buf = malloc(fs);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(reel_open(tu_path(name), REEL_OPEN_CREATE, NULL, store), REEL_OK);
    ck_assert_int_eq(reel_seq_create(*store, "s", &p, seq), REEL_OK);
    for (i = 0; i < n; i++) {
        reel_frame_in in = {buf, fs, i, 1, i == 0 ? REEL_FRAME_KEY : 0, REEL_STATUS_OK};
        tu_fill(buf, fmt, w, h, (uint32_t)i);
        ck_assert_int_eq(reel_frame_append(*seq, &in, NULL), REEL_OK);
    }
    free(buf);
}

void tu_read_fixture_seq(reel_store *s, const char *name, int64_t frames, int codec, int keyint)
{
    reel_seq *q;
    reel_seq_info info;
    uint8_t *buf;
    int64_t i;
    ck_assert_int_eq(reel_seq_open(s, name, &q), REEL_OK);
    ck_assert_int_eq(reel_seq_get_info(q, &info), REEL_OK);
    ck_assert_int_eq(info.frame_count, frames);
    ck_assert_int_eq(info.codec, codec);
    ck_assert_int_eq(info.keyint, keyint);
    buf = malloc(info.frame_size);
    ck_assert_ptr_nonnull(buf);
    for (i = info.frame_count - 1; i >= 0; i--) /* the last first: a chain from the file */
        ck_assert_msg(reel_frame_read(q, i, buf, info.frame_size, NULL) == REEL_OK, "%s %lld: %s",
                      name, (long long)i, reel_errmsg());
    free(buf);
    { /* a fixture predates annotations (a read-only open of schema 9 has no table for them) */
        int64_t n = -1;
        reel_annot *a = NULL;
        ck_assert_int_eq(reel_annot_count(q, NULL, &n), REEL_OK);
        ck_assert_int_eq(n, 0);
        ck_assert_int_eq(reel_annot_get(q, "keypoints", 0, &a), REEL_NOTFOUND);
    }
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
}

void tu_sql(const char *file, const char *sql)
{
    sqlite3 *db;
    char *err = NULL;
    ck_assert_int_eq(sqlite3_open(file, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        ck_abort_msg("%s: %s", sql, err);
    sqlite3_close(db);
}

long long tu_sql_int(const char *file, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v = -1;
    ck_assert_int_eq(sqlite3_open(file, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void tu_setup(void) { tu_dir(); }

TCase *tu_tcase(const char *name, int timeout)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, tu_setup, tu_cleanup);
    tcase_set_timeout(tc, timeout);
    return tc;
}

int tu_run(const char *name, TCase *tc)
{
    Suite *s = suite_create(name);
    SRunner *sr;
    int failed;
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

int tu_sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    int rc;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

char *tu_slurp(size_t *len, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    FILE *p;
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    do {
        if (n + 65536 + 1 > cap) {
            cap = (n + 65536 + 1) * 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        got = fread(buf + n, 1, 65536, p);
        n += got;
    } while (got > 0);
    pclose(p);
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

const char *tu_join(const char *dir, const char *name)
{
    static char path[2][512];
    static int k;
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}
