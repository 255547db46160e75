/* check_store.c - opening stores, schema versions and migration, sequences, views, errors. */
#include <check.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reel.h"
#include "store/schema.h"
#include "testutil.h"
#include "tier/handles.h"

static const reel_seq_params params = {64, 48, REEL_PIX_RGB24, {1, 30}, "unit test", 0, 0};

START_TEST(test_open_arguments)
{
    reel_store *s = NULL;
    reel_open_options o;
    ck_assert_int_eq(reel_open(NULL, REEL_OPEN_CREATE, NULL, &s), REEL_MISUSE);
    ck_assert_int_eq(reel_open(tu_path("a.reel"), REEL_OPEN_CREATE, NULL, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_open(tu_path("a.reel"), 0x100, NULL, &s), REEL_INVALID);
    ck_assert_int_eq(reel_open(tu_path("a.reel"), REEL_OPEN_CREATE | REEL_OPEN_READONLY, NULL, &s),
                     REEL_INVALID);
    memset(&o, 0, sizeof o);
    o.reserved[3] = 1;
    ck_assert_int_eq(reel_open(tu_path("a.reel"), REEL_OPEN_CREATE, &o, &s), REEL_INVALID);
    memset(&o, 0, sizeof o);
    o.page_size = 3000;
    ck_assert_int_eq(reel_open(tu_path("a.reel"), REEL_OPEN_CREATE, &o, &s), REEL_INVALID);
    memset(&o, 0, sizeof o);
    o.compression_level = 23;
    ck_assert_int_eq(reel_open(tu_path("a.reel"), REEL_OPEN_CREATE, &o, &s), REEL_INVALID);
    ck_assert_int_eq(reel_open(tu_path("missing.reel"), 0, NULL, &s), REEL_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "missing.reel"));
    ck_assert_int_eq(reel_open(tu_path("missing.reel"), REEL_OPEN_READONLY, NULL, &s),
                     REEL_NOTFOUND);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(reel_close(NULL), REEL_OK);
}
END_TEST

START_TEST(test_create_reopen_pragmas)
{
    reel_store *s;
    reel_seq *q;
    reel_open_options o;
    const char *p = tu_path("a.reel");
    memset(&o, 0, sizeof o);
    o.page_size = 16384;
    ck_assert_int_eq(reel_open(p, REEL_OPEN_CREATE, &o, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "one", &params, &q), REEL_OK);
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(tu_sql_int(p, "PRAGMA page_size"), 16384);
    ck_assert_int_eq(tu_sql_int(p, "PRAGMA application_id"), 0x7265656c);
    ck_assert_int_eq(tu_sql_int(p, "SELECT value FROM reel_meta WHERE key = 'schema_version'"),
                     reel__schema_latest());
    ck_assert_int_eq(reel_open(p, 0, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "one", &q), REEL_OK);
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    {
        sqlite3 *db;
        sqlite3_stmt *st;
        sqlite3_open(p, &db);
        sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
        ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
        ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
}
END_TEST

START_TEST(test_not_a_store)
{
    reel_store *s = NULL;
    FILE *f = fopen(tu_path("text.reel"), "w");
    fputs("this is not a database, just text that is long enough to look like a header\n", f);
    fclose(f);
    ck_assert_int_eq(reel_open(tu_path("text.reel"), 0, NULL, &s), REEL_CORRUPT);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "not a reel store"));
    ck_assert_int_eq(reel_open(tu_path("text.reel"), REEL_OPEN_READONLY, NULL, &s), REEL_CORRUPT);
    tu_sql(tu_path("other.db"), "CREATE TABLE t(x)");
    ck_assert_int_eq(reel_open(tu_path("other.db"), 0, NULL, &s), REEL_CORRUPT);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "not a reel store"));
    f = fopen(tu_path("empty.reel"), "w");
    fclose(f);
    ck_assert_int_eq(reel_open(tu_path("empty.reel"), REEL_OPEN_READONLY, NULL, &s), REEL_CORRUPT);
    ck_assert_ptr_null(s);
}
END_TEST

/* A version-1 store (what the first migration alone makes), with a user's table in it. */
static void make_v1_store(const char *p)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(p, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "PRAGMA application_id = 1919247724", NULL, NULL, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(reel__schema_migrate(db, 1), REEL_OK);
    ck_assert_int_eq(sqlite3_exec(db,
                                  "CREATE TABLE labels(sequence TEXT, idx INTEGER, label TEXT);"
                                  "INSERT INTO labels VALUES('walk', 3, 'person')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

START_TEST(test_migration)
{
    reel_store *s = NULL;
    const char *p = tu_path("v1.reel");
    make_v1_store(p);
    ck_assert_int_eq(tu_sql_int(p, "SELECT value FROM reel_meta WHERE key = 'schema_version'"), 1);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM sqlite_schema WHERE type = 'view'"), 0);
    /* read-only cannot migrate */
    ck_assert_int_eq(reel_open(p, REEL_OPEN_READONLY, NULL, &s), REEL_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "older"));
    ck_assert_int_eq(reel_open(p, 0, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(tu_sql_int(p, "SELECT value FROM reel_meta WHERE key = 'schema_version'"),
                     reel__schema_latest());
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND "
                                   "name IN ('reel_sequences', 'reel_frames')"),
                     2);
    /* the user's table is untouched */
    ck_assert_int_eq(tu_sql_int(p, "SELECT idx FROM labels WHERE label = 'person'"), 3);
    ck_assert_int_eq(reel_open(p, REEL_OPEN_READONLY, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
}
END_TEST

/* Frames checksummed by reel's own XXH64 (tests/fixtures/v1-hash.reel was written by f543b9d,
 * before the checksum came from libxxhash): every one still decodes and matches its stored
 * checksum, and the stored values are libxxhash's for the decoded pixels. */
static int fixture_seq(void *ctx, const char *name)
{
    tu_read_fixture_seq(ctx, name, 6, REEL_CODEC_INTRA, 1); /* stores before codecs: intra */
    return 0;
}

START_TEST(test_checksums_of_existing_stores)
{
    const char *src = getenv("srcdir");
    reel_store *s;
    char fixture[4096];
    const char *p = tu_path("old.reel");
    snprintf(fixture, sizeof fixture, "%s/tests/fixtures/v1-hash.reel", src ? src : ".");
    ck_assert_int_eq(tu_sh("cp '%s' '%s'", fixture, p), 0);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_frame"), 18);
    ck_assert_int_eq(reel_open(p, 0, NULL, &s), REEL_OK); /* migrates schema 4 */
    ck_assert_int_eq(reel_seq_list(s, fixture_seq, s), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_frames WHERE ref IS NULL"), 18);
    /* their checksums stay of version 1 (the pixels alone) */
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_frame WHERE checksum_v = 1"), 18);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_sequences WHERE codec = 'intra'"), 3);
}
END_TEST

START_TEST(test_newer_version_refused)
{
    reel_store *s = NULL;
    const char *p = tu_path("new.reel");
    ck_assert_int_eq(reel_open(p, REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    reel_close(s);
    s = NULL;
    tu_sql(p, "UPDATE reel_meta SET value = 999 WHERE key = 'schema_version'");
    ck_assert_int_eq(reel_open(p, 0, NULL, &s), REEL_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "version 999 is newer"));
    ck_assert_int_eq(reel_open(p, REEL_OPEN_READONLY, NULL, &s), REEL_UNSUPPORTED);
    ck_assert_ptr_null(s);
    tu_sql(p, "UPDATE reel_meta SET value = 'x' WHERE key = 'schema_version'");
    ck_assert_int_eq(reel_open(p, 0, NULL, &s), REEL_CORRUPT);
}
END_TEST

START_TEST(test_readonly_refuses_writes)
{
    reel_store *s;
    reel_seq *q, *q2;
    uint8_t px[64 * 48 * 3] = {0};
    reel_frame_in in = {px, sizeof px, 0, 1, 0, REEL_STATUS_OK};
    const char *p = tu_path("ro.reel");
    ck_assert_int_eq(reel_open(p, REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "one", &params, &q), REEL_OK);
    ck_assert_int_eq(reel_frame_append(q, &in, NULL), REEL_OK);
    reel_seq_close(q);
    reel_close(s);
    ck_assert_int_eq(reel_open(p, REEL_OPEN_READONLY, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "two", &params, &q2), REEL_READONLY);
    ck_assert_int_eq(reel_seq_open(s, "one", &q), REEL_OK);
    in.pts = 1;
    ck_assert_int_eq(reel_frame_append(q, &in, NULL), REEL_READONLY);
    ck_assert_int_eq(reel_seq_remove(s, "one"), REEL_READONLY);
    ck_assert_int_eq(reel_frame_read(q, 0, px, sizeof px, NULL), REEL_OK);
    reel_seq_close(q);
    reel_close(s);
    ck_assert_int_eq(tu_sql_int(p, "SELECT frames FROM reel_sequences"), 1);
}
END_TEST

static int collect(void *ctx, const char *name)
{
    char *buf = ctx;
    strcat(buf, name);
    strcat(buf, ",");
    return 0;
}

static int stop_at_first(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return 42;
}

START_TEST(test_sequences)
{
    reel_store *s;
    reel_seq *a, *b, *c, *x = NULL;
    reel_seq_info info;
    reel_seq_params bad = params;
    char names[256] = "";
    char longname[300];
    int64_t n;
    ck_assert_int_eq(reel_open(tu_path("q.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "walk", &params, &a), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "run", &params, &b), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "walk", &params, &x), REEL_EXISTS);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "'walk'"));
    ck_assert_int_eq(reel_seq_open(s, "nope", &x), REEL_NOTFOUND);
    ck_assert_int_eq(reel_seq_list(s, collect, names), REEL_OK);
    ck_assert_str_eq(names, "run,walk,");
    ck_assert_int_eq(reel_seq_list(s, stop_at_first, NULL), 42);
    ck_assert_int_eq(reel_seq_get_info(a, &info), REEL_OK);
    ck_assert_str_eq(info.name, "walk");
    ck_assert_str_eq(info.source, "unit test");
    ck_assert_int_eq(info.width, 64);
    ck_assert_int_eq(info.height, 48);
    ck_assert_int_eq(info.pix_fmt, REEL_PIX_RGB24);
    ck_assert_uint_eq(info.frame_size, 64 * 48 * 3);
    ck_assert_int_eq(info.time_base.num, 1);
    ck_assert_int_eq(info.time_base.den, 30);
    ck_assert_int_eq(info.frame_count, 0);
    ck_assert_int_eq(info.duration, 0);
    ck_assert_int_eq(reel_seq_frame_count(a, &n), REEL_OK);
    ck_assert_int_eq(n, 0);

    /* bad parameters */
    bad.width = 0;
    ck_assert_int_eq(reel_seq_create(s, "bad", &bad, &x), REEL_INVALID);
    bad = params;
    bad.time_base.den = 0;
    ck_assert_int_eq(reel_seq_create(s, "bad", &bad, &x), REEL_INVALID);
    bad = params;
    bad.pix_fmt = 77;
    ck_assert_int_eq(reel_seq_create(s, "bad", &bad, &x), REEL_UNSUPPORTED);
    ck_assert_int_eq(reel_seq_create(s, "", &params, &x), REEL_INVALID);
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    ck_assert_int_eq(reel_seq_create(s, longname, &params, &x), REEL_INVALID);
    ck_assert_ptr_null(x);

    /* close with open sequences is refused; the store stays usable */
    ck_assert_int_eq(reel_close(s), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_remove(s, "run"), REEL_OK);
    ck_assert_int_eq(reel_seq_remove(s, "run"), REEL_NOTFOUND);
    ck_assert_int_eq(reel_seq_get_info(b, &info), REEL_NOTFOUND);
    ck_assert_int_eq(reel_seq_open(s, "walk", &c), REEL_OK);
    names[0] = 0;
    reel_seq_list(s, collect, names);
    ck_assert_str_eq(names, "walk,");
    ck_assert_int_eq(reel_seq_close(a), REEL_OK);
    ck_assert_int_eq(reel_seq_close(b), REEL_OK);
    ck_assert_int_eq(reel_seq_close(c), REEL_OK);
    ck_assert_int_eq(reel_seq_close(NULL), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
}
END_TEST

START_TEST(test_misuse)
{
    reel_store *s;
    reel_seq *q;
    reel_seq_info info;
    int64_t n;
    uint32_t fake[16] = {0};
    ck_assert_int_eq(reel_open(tu_path("m.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_create(NULL, "x", &params, &q), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_create((reel_store *)fake, "x", &params, &q), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_create(s, NULL, &params, &q), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_create(s, "x", NULL, &q), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_create(s, "x", &params, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_open(NULL, "x", &q), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_open(s, NULL, &q), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_open(s, "x", NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_remove(NULL, "x"), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_remove(s, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_list(NULL, collect, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_list(s, NULL, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_get_info(NULL, &info), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_get_info((reel_seq *)fake, &info), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_frame_count(NULL, &n), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_close((reel_seq *)fake), REEL_MISUSE);
    ck_assert_int_eq(reel_close((reel_store *)fake), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_create(s, "x", &params, &q), REEL_OK);
    ck_assert_int_eq(reel_seq_get_info(q, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_seq_frame_count(q, NULL), REEL_MISUSE);
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

static void *other_thread(void *arg)
{
    (void)arg;
    /* a fresh thread has no message; a failure here does not touch the main thread's */
    if (reel_errmsg()[0] != 0)
        return (void *)1;
    reel_open(NULL, 0, NULL, NULL);
    return NULL;
}

START_TEST(test_errmsg_thread_local)
{
    reel_store *s;
    pthread_t t;
    void *ret;
    ck_assert_int_eq(reel_open(tu_path("none.reel"), 0, NULL, &s), REEL_NOTFOUND);
    ck_assert_int_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, &ret);
    ck_assert_ptr_null(ret);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "none.reel"));
}
END_TEST

START_TEST(test_views)
{
    reel_store *s;
    reel_seq *q;
    const char *p = tu_path("v.reel");
    tu_make_store("v.reel", REEL_PIX_GRAY8, 40, 30, 5, &s, &q);
    reel_seq_close(q);
    reel_close(s);
    ck_assert_int_eq(tu_sql_int(p, "SELECT frames FROM reel_sequences WHERE name = 's'"), 5);
    ck_assert_int_eq(tu_sql_int(p, "SELECT raw_bytes FROM reel_sequences"), 5 * 40 * 30);
    ck_assert_int_eq(tu_sql_int(p, "SELECT ratio > 0 AND stored_bytes > 0 AND width = 40 AND "
                                   "height = 30 AND pix_fmt = 'gray8' AND source = 'test pattern' "
                                   "AND created_at LIKE '20%' FROM reel_sequences"),
                     1);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_frames WHERE sequence = 's'"), 5);
    ck_assert_int_eq(tu_sql_int(p, "SELECT sum(stored_bytes) = (SELECT stored_bytes FROM "
                                   "reel_sequences) FROM reel_frames"),
                     1);
    ck_assert_int_eq(tu_sql_int(p, "SELECT keyframe + (status = 'ok') + (raw_bytes = 1200) + "
                                   "access_count + (last_access IS NULL) + (time_s = 0.12) "
                                   "FROM reel_frames WHERE idx = 3"),
                     4);
    ck_assert_int_eq(tu_sql_int(p, "SELECT keyframe FROM reel_frames WHERE idx = 0"), 1);
    /* a single-frame lookup through the view is indexed: no full scan anywhere in the plan */
    {
        sqlite3 *db;
        sqlite3_stmt *st;
        char plan[2048] = "";
        sqlite3_open(p, &db);
        ck_assert_int_eq(sqlite3_prepare_v2(db,
                                            "EXPLAIN QUERY PLAN SELECT * FROM reel_frames "
                                            "WHERE sequence = 's' AND idx = 3",
                                            -1, &st, NULL),
                         SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            strncat(plan, (const char *)sqlite3_column_text(st, 3), sizeof plan - strlen(plan) - 2);
            strcat(plan, ";");
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        ck_assert_msg(strstr(plan, "SCAN") == NULL, "plan scans: %s", plan);
    }
}
END_TEST

/* ---- the file replaced under an open store -------------------------------------------- */

enum { RW = 32, RH = 24, RN = 12, READERS = 6 };

typedef struct replaced {
    reel_seq *q;
    const char *path;
    int wrong, refused, other; /* frames of another store, clear refusals, anything else */
} replaced;

/* Read every frame: each one is frame i of the store first opened (tu_fill(i)), or refused
 * with the message naming the store; never another store's pixels. */
static void *read_all(void *arg)
{
    replaced *r = arg;
    uint8_t buf[RW * RH], want[RW * RH];
    int i, rc, wrong = 0, refused = 0, other = 0;
    for (i = 0; i < RN; i++) {
        rc = reel_frame_read(r->q, i, buf, sizeof buf, NULL);
        tu_fill(want, REEL_PIX_GRAY8, RW, RH, (uint32_t)i);
        if (rc == REEL_OK)
            wrong += memcmp(buf, want, sizeof buf) != 0;
        else if (rc == REEL_IO && strstr(reel_errmsg(), r->path) &&
                 strstr(reel_errmsg(), "was replaced on disk since it was opened: open it again"))
            refused++;
        else
            other++;
    }
    __atomic_add_fetch(&r->wrong, wrong, __ATOMIC_RELAXED);
    __atomic_add_fetch(&r->refused, refused, __ATOMIC_RELAXED);
    __atomic_add_fetch(&r->other, other, __ATOMIC_RELAXED);
    return NULL;
}

/* A store "s" of RN frames: tu_fill(first + i). */
static void make_gray(const char *name, uint32_t first)
{
    reel_seq_params p = {RW, RH, REEL_PIX_GRAY8, {1, 25}, NULL, 0, 0};
    uint8_t buf[RW * RH];
    reel_store *s;
    reel_seq *q;
    int i;
    ck_assert_int_eq(reel_open(tu_path(name), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_create(s, "s", &p, &q), REEL_OK);
    for (i = 0; i < RN; i++) {
        reel_frame_in in = {buf, sizeof buf, i, 1, 0, REEL_STATUS_OK};
        tu_fill(buf, REEL_PIX_GRAY8, RW, RH, first + (uint32_t)i);
        ck_assert_int_eq(reel_frame_append(q, &in, NULL), REEL_OK);
    }
    reel_seq_close(q);
    ck_assert_int_eq(reel_close(s), REEL_OK);
}

/* Another store renamed over the path of an open one, opened read-only or read-write: the
 * read connections it holds keep reading the file they opened; a new connection (a new
 * reader thread, SQL of the user's, a write) is refused with a message naming the store. */
static void replaced_under(int flags)
{
    replaced r = {NULL, NULL, 0, 0, 0};
    reel__reader *held[16];
    pthread_t t[READERS];
    char path[4096], other[4096];
    reel_store *s;
    sqlite3 *db;
    int i, n = 0;
    make_gray("a.reel", 0);
    make_gray("b.reel", 5000);
    snprintf(path, sizeof path, "%s", tu_path("a.reel"));
    snprintf(other, sizeof other, "%s", tu_path("b.reel"));
    r.path = path;
    ck_assert_int_eq(reel_open(path, flags, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "s", &r.q), REEL_OK);
    ck_assert_int_eq(reel_store_set_readahead(s, 0, 1), REEL_OK);
    for (i = 0; i < READERS; i++) /* readers open connections: the pool grows */
        pthread_create(&t[i], NULL, read_all, &r);
    for (i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(r.wrong + r.refused + r.other, 0);
    ck_assert_int_eq(rename(other, path), 0);
    /* the pool's connections still read the file first opened, from the cache or not (a
     * read-write open cannot save its access counts to a file no longer there) */
    i = reel_cache_trim(reel_cache_default(), 0);
    ck_assert_int_eq(i, flags & REEL_OPEN_READONLY ? REEL_OK : REEL_IO);
    read_all(&r);
    ck_assert_int_eq(r.wrong + r.refused + r.other, 0);
    /* with every pooled connection taken, a read needs a new one: refused */
    while (n < 16 && s->db->pool && reel__reader_get(s->db, &held[n]) == REEL_OK)
        n++;
    ck_assert_int_gt(n, 0);
    read_all(&r);
    ck_assert_int_eq(r.refused, RN);
    ck_assert_int_eq(reel_store_sql(s, &db), REEL_IO);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "replaced on disk"));
    while (n > 0)
        reel__reader_put(s->db, held[--n]);
    /* readers in new threads, more than the pool holds: right frames or refusals only */
    r.refused = 0;
    for (i = 0; i < READERS; i++)
        pthread_create(&t[i], NULL, read_all, &r);
    for (i = 0; i < READERS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(r.wrong, 0);
    ck_assert_int_eq(r.other, 0);
    if (!(flags & REEL_OPEN_READONLY)) { /* a write would go to the file no longer there */
        uint8_t px[RW * RH] = {0};
        reel_frame_in in = {px, sizeof px, 100, 1, 0, REEL_STATUS_OK};
        ck_assert_int_eq(reel_frame_append(r.q, &in, NULL), REEL_IO);
        ck_assert_ptr_nonnull(strstr(reel_errmsg(), "replaced on disk"));
    }
    reel_seq_close(r.q);
    reel_close(s);
    /* the store now at the path is the other one, whole */
    ck_assert_int_eq(tu_sql_int(path, "SELECT count(*) FROM reel_frame"), RN);
    ck_assert_int_eq(reel_open(path, REEL_OPEN_READONLY, NULL, &s), REEL_OK);
    reel_close(s);
}

START_TEST(test_replaced_under_readers)
{
    replaced_under(REEL_OPEN_READONLY);
    ck_assert_int_eq(tu_sh("rm -f '%s'*", tu_path("a.reel")), 0);
    replaced_under(0);
}
END_TEST

/* Removed under an open store: a new connection says so, and creates nothing. */
START_TEST(test_removed_under_store)
{
    reel_store *s;
    sqlite3 *db;
    make_gray("a.reel", 0);
    ck_assert_int_eq(reel_open(tu_path("a.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    ck_assert_int_eq(unlink(tu_path("a.reel")), 0);
    ck_assert_int_eq(reel_store_sql(s, &db), REEL_IO);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "was removed from disk since it was opened"));
    ck_assert_int_eq(access(tu_path("a.reel"), F_OK), -1);
    reel_close(s);
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("store", 60);
    tcase_add_test(tc, test_open_arguments);
    tcase_add_test(tc, test_create_reopen_pragmas);
    tcase_add_test(tc, test_not_a_store);
    tcase_add_test(tc, test_migration);
    tcase_add_test(tc, test_checksums_of_existing_stores);
    tcase_add_test(tc, test_newer_version_refused);
    tcase_add_test(tc, test_readonly_refuses_writes);
    tcase_add_test(tc, test_sequences);
    tcase_add_test(tc, test_misuse);
    tcase_add_test(tc, test_errmsg_thread_local);
    tcase_add_test(tc, test_views);
    tcase_add_test(tc, test_replaced_under_readers);
    tcase_add_test(tc, test_removed_under_store);
    return tu_run("store", tc);
}
