/* check_annot.c - annotations through the C API (reel_annot_*): JSON and arrays set, replaced,
 * read, listed, counted and removed; bad arguments refused with nothing written; hostile rows
 * in the file answered REEL_CORRUPT; a removed sequence, a read-only store; a publish carrying
 * only the chosen sequences' annotations; a writer beside a running import never answered
 * REEL_BUSY; and no committed row lost when the writer is killed -9. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <sqlite3.h>
#include <unistd.h>

#include "testutil.h"

#define KP 51 /* 17 keypoints of (x, y, visibility) */

static reel_annot value(int64_t index, int kind, const void *v, size_t size)
{
    reel_annot a;
    memset(&a, 0, sizeof a);
    a.index = index;
    a.kind = kind;
    a.value = v;
    a.size = size;
    return a;
}

static reel_annot json(int64_t index, const char *text)
{
    return value(index, REEL_ANNOT_JSON, text, strlen(text));
}

static reel_annot keypoints(int64_t index, const float *v)
{
    reel_annot a = value(index, REEL_ANNOT_BLOB, v, KP * sizeof(float));
    a.dtype = "float32";
    a.ndim = 2;
    a.shape[0] = 17;
    a.shape[1] = 3;
    a.producer = "test";
    return a;
}

static void fill_kp(float *v, int64_t index)
{
    int i;
    for (i = 0; i < KP; i++)
        v[i] = (float)index * 100.0f + (float)i;
}

/* The other processes of these tests are this program run again (spawn): a child that is only
 * forked from a process that has used libreel inherits the locks its threads held at the fork
 * (the default cache's pressure monitor stays after reel_close and reads /proc now and then),
 * and under ASan, whose allocator does not take its locks across a fork as glibc's does, such
 * a child hung in free() (inside reel_import, in about 1 run of 10). exec leaves them behind. */
static pid_t spawn(const char *mode, const char *a1, const char *a2, const char *a3)
{
    char *argv[] = {"check_annot", (char *)mode, (char *)a1, (char *)a2, (char *)a3, NULL};
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    return pid;
}

/* --import STORE VIDEO: import VIDEO as sequence "video". */
static int child_import(const char *store, const char *video)
{
    reel_store *is;
    reel_import_options o;
    memset(&o, 0, sizeof o);
    o.sequence = "video";
    if (reel_open(store, 0, NULL, &is) != REEL_OK || reel_import(is, video, &o, NULL) != REEL_OK) {
        fprintf(stderr, "the import beside the writes: %s\n", reel_errmsg());
        return 3;
    }
    return reel_close(is) == REEL_OK ? 0 : 4;
}

/* --writer STORE ROUND FD: batches of 50 keypoints under key rROUND until killed, each one's
 * number written to FD once committed. */
static int child_writer(const char *store, const char *round, const char *fd)
{
    reel_store *s;
    reel_seq *q;
    reel_annot a[50];
    static float kp[50][KP];
    char key[16], line[64];
    int64_t b;
    snprintf(key, sizeof key, "r%s", round);
    if (reel_open(store, 0, NULL, &s) != REEL_OK || reel_seq_open(s, "s", &q) != REEL_OK)
        return 2;
    for (b = 0;; b++) {
        int j;
        for (j = 0; j < 50; j++) {
            fill_kp(kp[j], b * 50 + j);
            a[j] = keypoints(b * 50 + j, kp[j]);
        }
        if (reel_annots_set(q, key, a, 50) != REEL_OK)
            return 3;
        snprintf(line, sizeof line, "%lld\n", (long long)b);
        if (write(atoi(fd), line, strlen(line)) < 0)
            return 4;
    }
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static long long count_rows(const char *store)
{
    return tu_sql_int(store, "SELECT count(*) FROM reel_annotation");
}

START_TEST(test_round_trip)
{
    reel_store *s;
    reel_seq *q;
    reel_annot a, *got;
    float kp[KP];
    int64_t n;
    tu_make_store("a.reel", REEL_PIX_GRAY8, 32, 16, 4, &s, &q);
    a = json(1, "{\"label\": \"walk\"}");
    ck_assert_int_eq(reel_annot_set(q, "tag", &a), REEL_OK);
    fill_kp(kp, 2);
    a = keypoints(2, kp);
    ck_assert_int_eq(reel_annot_set(q, "kp", &a), REEL_OK);
    ck_assert_int_eq(reel_annot_get(q, "tag", 1, &got), REEL_OK);
    ck_assert_int_eq(got->kind, REEL_ANNOT_JSON);
    ck_assert_str_eq(got->value, "{\"label\": \"walk\"}");
    ck_assert_ptr_null(got->producer);
    reel_free(got);
    ck_assert_int_eq(reel_annot_get(q, "kp", 2, &got), REEL_OK);
    ck_assert_int_eq(got->kind, REEL_ANNOT_BLOB);
    ck_assert_str_eq(got->dtype, "float32");
    ck_assert_int_eq(got->ndim, 2);
    ck_assert_int_eq(got->shape[0], 17);
    ck_assert_int_eq(got->shape[1], 3);
    ck_assert_uint_eq(got->size, sizeof kp);
    ck_assert_int_eq(memcmp(got->value, kp, sizeof kp), 0);
    ck_assert_str_eq(got->producer, "test");
    reel_free(got);
    /* replaced, not added */
    a = json(1, "\"run\"");
    ck_assert_int_eq(reel_annot_set(q, "tag", &a), REEL_OK);
    ck_assert_int_eq(reel_annot_get(q, "tag", 1, &got), REEL_OK);
    ck_assert_str_eq(got->value, "\"run\"");
    reel_free(got);
    ck_assert_int_eq(reel_annot_count(q, NULL, &n), REEL_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(reel_annot_count(q, "kp", &n), REEL_OK);
    ck_assert_int_eq(n, 1);
    /* a frame not there yet may be annotated; the view joins it once it exists */
    a = json(9, "1");
    ck_assert_int_eq(reel_annot_set(q, "tag", &a), REEL_OK);
    ck_assert_int_eq(tu_sql_int(tu_path("a.reel"),
                                "SELECT count(*) FROM reel_frame_annotations WHERE idx = 9"),
                     0);
    /* an empty array and a scalar */
    a = keypoints(3, kp);
    a.shape[0] = 0;
    a.size = 0;
    a.value = NULL;
    ck_assert_int_eq(reel_annot_set(q, "kp", &a), REEL_OK);
    a = keypoints(0, kp);
    a.ndim = 0;
    a.size = 4;
    ck_assert_int_eq(reel_annot_set(q, "kp", &a), REEL_OK);
    ck_assert_int_eq(reel_annot_get(q, "kp", 3, &got), REEL_OK);
    ck_assert_uint_eq(got->size, 0);
    ck_assert_int_eq(got->shape[0], 0);
    reel_free(got);
    ck_assert_int_eq(reel_annot_get(q, "kp", 0, &got), REEL_OK);
    ck_assert_int_eq(got->ndim, 0);
    reel_free(got);
    /* removed */
    ck_assert_int_eq(reel_annot_delete(q, "tag", 1), REEL_OK);
    ck_assert_int_eq(reel_annot_delete(q, "tag", 1), REEL_NOTFOUND);
    ck_assert_int_eq(reel_annot_get(q, "tag", 1, &got), REEL_NOTFOUND);
    ck_assert_ptr_null(got);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "frame 1 has no annotation 'tag'"));
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

typedef struct walk {
    char seen[512];
} walk;

static int note(void *ctx, const char *key, const reel_annot *a)
{
    walk *w = ctx;
    size_t len = strlen(w->seen);
    snprintf(w->seen + len, sizeof w->seen - len, "%s%lld:%s", len ? " " : "",
             (long long)a->index, key);
    return 0;
}

static int stop_at_two(void *ctx, const char *key, const reel_annot *a)
{
    (void)key;
    ++*(int *)ctx;
    return a->index == 2 ? 42 : 0;
}

START_TEST(test_many_and_foreach)
{
    reel_store *s;
    reel_seq *q;
    reel_annot a[100], *got;
    static float kp[100][KP];
    walk w = {""};
    int i, calls = 0;
    tu_make_store("m.reel", REEL_PIX_GRAY8, 32, 16, 4, &s, &q);
    for (i = 0; i < 100; i++) {
        fill_kp(kp[i], 99 - i);
        a[i] = keypoints(99 - i, kp[i]);
    }
    ck_assert_int_eq(reel_annots_set(q, "kp", a, 100), REEL_OK);
    ck_assert_int_eq(reel_annots_set(q, "kp", a, 0), REEL_OK);
    ck_assert_int_eq(reel_annot_get(q, "kp", 40, &got), REEL_OK);
    ck_assert_int_eq(memcmp(got->value, kp[59], sizeof kp[59]), 0);
    reel_free(got);
    a[0] = json(2, "[1, 2]");
    a[1] = json(1, "null");
    ck_assert_int_eq(reel_annots_set(q, "tag", a, 2), REEL_OK);
    ck_assert_int_eq(reel_annot_foreach(q, "tag", note, &w), REEL_OK);
    ck_assert_str_eq(w.seen, "1:tag 2:tag");
    w.seen[0] = '\0';
    ck_assert_int_eq(reel_annot_foreach(q, NULL, stop_at_two, &calls), 42);
    ck_assert_int_eq(calls, 4); /* 0:kp 1:kp 1:tag 2:kp (stops): by index, then key */
    ck_assert_int_eq(reel_annot_foreach(q, "none", note, &w), REEL_OK);
    ck_assert_str_eq(w.seen, "");
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

START_TEST(test_bad_arguments)
{
    reel_store *s;
    reel_seq *q;
    reel_annot a, batch[3], *got = NULL;
    float kp[KP] = {0};
    char longkey[300];
    int64_t n;
    const char *store = tu_path("b.reel");
    tu_make_store("b.reel", REEL_PIX_GRAY8, 32, 16, 2, &s, &q);
    a = json(0, "1");
    ck_assert_int_eq(reel_annot_set(NULL, "k", &a), REEL_MISUSE);
    ck_assert_int_eq(reel_annot_set((reel_seq *)s, "k", &a), REEL_MISUSE);
    ck_assert_int_eq(reel_annot_set(q, NULL, &a), REEL_MISUSE);
    ck_assert_int_eq(reel_annot_set(q, "k", NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_annots_set(q, "k", NULL, 2), REEL_MISUSE);
    ck_assert_int_eq(reel_annot_get(q, "k", 0, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_annot_get(q, "k", -1, &got), REEL_INVALID);
    ck_assert_int_eq(reel_annot_foreach(q, NULL, NULL, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_annot_count(q, NULL, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_annot_delete(q, NULL, 0), REEL_MISUSE);
    ck_assert_int_eq(reel_annot_set(q, "", &a), REEL_INVALID);
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    ck_assert_int_eq(reel_annot_set(q, longkey, &a), REEL_INVALID);
    longkey[255] = '\0';
    ck_assert_int_eq(reel_annot_set(q, longkey, &a), REEL_OK); /* 255 bytes: the limit */
    ck_assert_int_eq(reel_annot_set(q, "\xff\xfe", &a), REEL_INVALID);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "UTF-8"));
    a.index = -1;
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_INVALID);
    a = json(0, "{nope");
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_INVALID);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "not valid JSON"));
    a = json(0, "");
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_INVALID);
    a = json(0, "\"a\0b\"");
    a.size = 5;
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_INVALID);
    a = json(0, "1");
    a.kind = 3;
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_INVALID);
    a = json(0, "1");
    a.dtype = "uint8";
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_INVALID);
    a = keypoints(0, kp);
    a.dtype = "float128";
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_INVALID);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "float128"));
    a.dtype = NULL;
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_INVALID);
    a = keypoints(0, kp);
    a.size -= 1;
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_INVALID);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "203 bytes given"));
    a = keypoints(0, kp);
    a.ndim = REEL_ANNOT_MAX_DIMS + 1;
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_INVALID);
    a = keypoints(0, kp);
    a.shape[1] = -3;
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_INVALID);
    a = keypoints(0, kp); /* a shape whose product overflows */
    a.ndim = 8;
    for (n = 0; n < 8; n++)
        a.shape[n] = (int64_t)1 << 40;
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_INVALID);
    a = keypoints(0, kp);
    a.size = (size_t)REEL_ANNOT_MAX_BYTES + 1;
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_INVALID);
    a = keypoints(0, NULL);
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_MISUSE);
    /* a batch with one bad item: nothing of it written, the item named */
    batch[0] = json(0, "1");
    batch[1] = json(1, "2");
    batch[2] = json(2, "{bad");
    ck_assert_int_eq(reel_annots_set(q, "batch", batch, 3), REEL_INVALID);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "item 2"));
    batch[2] = keypoints(2, kp);
    batch[2].ndim = 1;
    ck_assert_int_eq(reel_annots_set(q, "batch", batch, 3), REEL_INVALID);
    ck_assert_int_eq(reel_annot_count(q, "batch", &n), REEL_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(count_rows(store), 1); /* the 255-byte key's */
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

/* Rows a hostile file may hold (the table's CHECK constraints switched off to write them). */
START_TEST(test_hostile_rows)
{
    static const char *const rows[] = {
        "(1, 0, 'k', 'blob', x'0000', 'float32', '[1]')",     /* 2 bytes for 4 */
        "(1, 1, 'k', 'blob', x'00000000', 'float99', '[1]')", /* no such dtype */
        "(1, 2, 'k', 'blob', x'00000000', 'float32', '[1')",  /* shape */
        "(1, 3, 'k', 'blob', x'00000000', 'float32', '[-1]')",
        "(1, 4, 'k', 'blob', x'00000000', 'float32', '[1,1,1,1,1,1,1,1,1]')",
        "(1, 5, 'k', 'blob', x'00000000', 'float32', '[99999999999999999999]')",
        "(1, 6, 'k', 'json', x'31', NULL, NULL)", /* JSON as a blob */
        "(1, 7, 'k', 'blob', '1234', 'uint8', '[4]')",
        "(1, 8, 'k', 'what', '1', NULL, NULL)",
        "(1, 9, 'k', 'blob', x'00000000', NULL, '[1]')",
        "(1, 10, 'k', 'blob', x'00000000', 'float32', NULL)",
    };
    reel_store *s;
    reel_seq *q;
    reel_annot *got;
    char sql[512];
    const char *store = tu_path("h.reel");
    walk w = {""};
    size_t i;
    tu_make_store("h.reel", REEL_PIX_GRAY8, 32, 16, 2, &s, &q);
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        snprintf(sql, sizeof sql,
                 "PRAGMA ignore_check_constraints = 1; INSERT INTO reel_annotation(seq_id, idx, "
                 "key, kind, value, dtype, shape) VALUES %s",
                 rows[i]);
        tu_sql(store, sql);
        ck_assert_int_eq(reel_annot_get(q, "k", (int64_t)i, &got), REEL_CORRUPT);
        ck_assert_ptr_null(got);
        ck_assert_ptr_nonnull(strstr(reel_errmsg(), "sequence 's' frame"));
    }
    ck_assert_int_eq(reel_annot_foreach(q, "k", note, &w), REEL_CORRUPT);
    /* a good row still reads, and the shape may have spaces */
    tu_sql(store, "INSERT INTO reel_annotation(seq_id, idx, key, kind, value, dtype, shape) "
                  "VALUES(1, 0, 'ok', 'blob', x'0100000002000000', 'int32', ' [ 2 ] ')");
    ck_assert_int_eq(reel_annot_get(q, "ok", 0, &got), REEL_OK);
    ck_assert_int_eq(got->shape[0], 2);
    ck_assert_int_eq(((const int32_t *)got->value)[1], 2);
    reel_free(got);
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

START_TEST(test_removed_and_readonly)
{
    reel_store *s, *r;
    reel_seq *q, *rq;
    reel_annot a = json(0, "1"), *got;
    const char *store = tu_path("r.reel");
    int64_t n;
    tu_make_store("r.reel", REEL_PIX_GRAY8, 32, 16, 2, &s, &q);
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_OK);
    reel_seq_close(q);
    reel_close(s);
    ck_assert_int_eq(reel_open(store, REEL_OPEN_READONLY, NULL, &r), REEL_OK);
    ck_assert_int_eq(reel_seq_open(r, "s", &rq), REEL_OK);
    ck_assert_int_eq(reel_annot_set(rq, "k", &a), REEL_READONLY);
    ck_assert_int_eq(reel_annot_delete(rq, "k", 0), REEL_READONLY);
    ck_assert_int_eq(reel_annot_get(rq, "k", 0, &got), REEL_OK);
    reel_free(got);
    reel_seq_close(rq);
    reel_close(r);
    /* the sequence removed under a handle: writes refused, its rows gone */
    ck_assert_int_eq(reel_open(store, 0, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "s", &q), REEL_OK);
    ck_assert_int_eq(reel_seq_remove(s, "s"), REEL_OK);
    ck_assert_int_eq(count_rows(store), 0);
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "sequence 's' was removed"));
    ck_assert_int_eq(reel_annot_count(q, NULL, &n), REEL_OK);
    ck_assert_int_eq(n, 0);
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

/* A publish of one sequence of two, with orphans kept: the published store has that
 * sequence's annotations only (neither the other's nor older orphans), and its readers, through
 * the API and SQL, see them. */
START_TEST(test_publish)
{
    reel_store *s, *p;
    reel_seq *q, *q2, *pq;
    reel_seq_params sp = {32, 16, REEL_PIX_GRAY8, {1, 25}, NULL, 0, 0};
    reel_annot a = json(0, "\"mine\""), *got;
    reel_publish_options o;
    const char *names[] = {"s"};
    char pub[4200];
    sqlite3 *db;
    sqlite3_stmt *st;
    tu_make_store("p.reel", REEL_PIX_GRAY8, 32, 16, 2, &s, &q);
    tu_sql(tu_path("p.reel"),
           "INSERT INTO reel_meta(key, value) VALUES('annotations.on_remove', 'orphan')");
    ck_assert_int_eq(reel_seq_create(s, "other", &sp, &q2), REEL_OK);
    ck_assert_int_eq(reel_annot_set(q, "k", &a), REEL_OK);
    a = json(0, "\"theirs\"");
    ck_assert_int_eq(reel_annot_set(q2, "k", &a), REEL_OK);
    ck_assert_int_eq(reel_annot_set(q2, "j", &a), REEL_OK);
    tu_sql(tu_path("p.reel"), "INSERT INTO reel_annotation(seq_id, idx, key, kind, value, "
                              "orphan_of, source_hash) VALUES(NULL, 0, 'old', 'json', '1', 7, "
                              "'x')");
    memset(&o, 0, sizeof o);
    o.sequences = names;
    o.nsequences = 1;
    snprintf(pub, sizeof pub, "%s", tu_path("pub"));
    ck_assert_int_eq(reel_publish(s, pub, &o, NULL), REEL_OK);
    ck_assert_int_eq(count_rows(tu_path("p.reel")), 4); /* the store itself keeps all */
    ck_assert_int_eq(reel_open(pub, REEL_OPEN_READONLY, NULL, &p), REEL_OK);
    ck_assert_int_eq(reel_seq_open(p, "s", &pq), REEL_OK);
    ck_assert_int_eq(reel_annot_get(pq, "k", 0, &got), REEL_OK);
    ck_assert_str_eq(got->value, "\"mine\"");
    reel_free(got);
    reel_seq_close(pq);
    ck_assert_int_eq(reel_store_sql(p, &db), REEL_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT group_concat(sequence || ':' || idx || ':' || "
                                        "key), (SELECT count(*) FROM reel_annotation) FROM "
                                        "reel_frame_annotations",
                                        -1, &st, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "s:0:k");
    ck_assert_int_eq(sqlite3_column_int(st, 1), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    reel_close(p);
    reel_seq_close(q);
    reel_seq_close(q2);
    reel_close(s);
}
END_TEST

/* Annotations written while reel_import() of a 400-frame video runs into the same store (in
 * another process, batched transactions): every write succeeds (waits for the lock are bounded by
 * one import transaction, well under the 5 s busy timeout), and nothing is lost. */
START_TEST(test_beside_import)
{
    const char *store = tu_path("i.reel");
    reel_store *s;
    reel_seq *q;
    reel_annot a;
    float kp[KP];
    pid_t pid;
    int status, busy = 0, during = 0;
    int64_t i = 0, n;
    char video[4200], file[4200];
    double longest = 0;
    ck_assert_int_eq(tu_sh("ffmpeg -nostdin -v error -y -f lavfi -i "
                           "testsrc2=size=320x240:rate=25 -frames:v 400 -c:v libx264 -preset "
                           "ultrafast -pix_fmt yuv420p %s",
                           tu_path("v.mp4")),
                     0);
    tu_make_store("i.reel", REEL_PIX_GRAY8, 32, 16, 2, &s, &q);
    snprintf(video, sizeof video, "%s", tu_path("v.mp4")); /* tu_path's buffer is reused */
    snprintf(file, sizeof file, "%s", tu_path("i.reel"));
    pid = spawn("--import", file, video, NULL);
    for (;;) {
        int rc, done = waitpid(pid, &status, WNOHANG) == pid;
        double t0, t;
        fill_kp(kp, i);
        a = keypoints(i, kp);
        t0 = now_ms();
        rc = reel_annot_set(q, "kp", &a);
        t = now_ms() - t0;
        longest = t > longest ? t : longest;
        busy += rc == REEL_BUSY;
        ck_assert_msg(rc == REEL_OK, "write %lld beside the import: %s", (long long)i,
                      reel_errmsg());
        i++;
        if (done)
            break;
        during++;
        /* a writer as a model is, with a moment between results: one writing back to back
         * leaves the lock free only between its own commits, and SQLite's busy handler (it
         * polls) then let the import's open wait out its 5 s under TSan */
        usleep(1000);
    }
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_int_eq(busy, 0);
    ck_assert_int_gt(during, 0);
    ck_assert_int_eq(reel_annot_count(q, "kp", &n), REEL_OK);
    ck_assert_int_eq(n, i);
    ck_assert_int_eq(tu_sql_int(store, "SELECT frames FROM reel_sequence WHERE name = 'video'"),
                     400);
    printf("beside_import: %d annotation writes while the import ran, none busy; the longest "
           "took %.0f ms (the busy timeout: 5000)\n",
           during, longest);
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

/* kill -9 of a process writing batches of 50 annotations: every batch it was told was
 * committed is in the file, whole, and no batch is there in part. */
START_TEST(test_killed_writer)
{
    const char *store = tu_path("k.reel");
    reel_store *s;
    reel_seq *q;
    int fd[2], round;
    for (round = 0; round < 3; round++) {
        int64_t told = -1, n;
        pid_t pid;
        char line[64], wfd[16], file[4200];
        FILE *in;
        if (round == 0) {
            tu_make_store("k.reel", REEL_PIX_GRAY8, 32, 16, 2, &s, &q);
            reel_seq_close(q);
            reel_close(s);
        }
        ck_assert_int_eq(pipe(fd), 0);
        snprintf(file, sizeof file, "%s", tu_path("k.reel")); /* tu_path's buffer is reused */
        snprintf(line, sizeof line, "%d", round);
        snprintf(wfd, sizeof wfd, "%d", fd[1]);
        pid = spawn("--writer", file, line, wfd);
        close(fd[1]);
        in = fdopen(fd[0], "r");
        ck_assert_ptr_nonnull(in);
        while (told < 10 * (round + 1) && fgets(line, sizeof line, in))
            told = atoll(line);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        while (fgets(line, sizeof line, in)) /* told before it died */
            told = atoll(line);
        fclose(in);
        snprintf(line, sizeof line, "SELECT count(*) FROM reel_annotation WHERE key = 'r%d'",
                 round);
        n = tu_sql_int(store, line);
        ck_assert_int_ge(n, (told + 1) * 50);
        ck_assert_int_le(n, (told + 2) * 50);
        ck_assert_int_eq(n % 50, 0);
    }
    ck_assert_int_eq(reel_open(store, 0, NULL, &s), REEL_OK); /* and it opens for writing */
    reel_close(s);
}
END_TEST

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--import"))
        return child_import(argv[2], argv[3]);
    if (argc == 5 && !strcmp(argv[1], "--writer"))
        return child_writer(argv[2], argv[3], argv[4]);
    /* 300 s: an import of 400 frames and a writer beside it, under a sanitizer on a loaded host */
    TCase *tc = tu_tcase("annot", 300);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_many_and_foreach);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_hostile_rows);
    tcase_add_test(tc, test_removed_and_readonly);
    tcase_add_test(tc, test_publish);
    tcase_add_test(tc, test_beside_import);
    tcase_add_test(tc, test_killed_writer);
    return tu_run("annot", tc);
}
