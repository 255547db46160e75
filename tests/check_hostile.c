/* check_hostile.c - stores edited by hand or damaged, made by each test with the sqlite3 API
 * (or by cutting the file): geometry that would ask for gigabytes, numbers out of range,
 * counts that lie, blobs that cannot hold their frame or are gone, empty, truncated and
 * not-a-file stores, dropped views, read-only media, and a fork. Each gets a clear error
 * naming what and where, nothing is allocated for what a row merely claims, and nothing is
 * written by a read. */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reel.h"
#include "testutil.h"

enum { W = 64, H = 48, N = 5 };

/* A closed store at tu_path(name) with sequence "s": N gray8 frames of W x H. */
static const char *make(const char *name)
{
    reel_store *s;
    reel_seq *q;
    tu_make_store(name, REEL_PIX_GRAY8, W, H, N, &s, &q);
    reel_seq_close(q);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    return tu_path(name);
}

static int open_seq(const char *path, int flags, reel_store **s, reel_seq **q)
{
    int rc = reel_open(path, flags, NULL, s);
    if (rc != REEL_OK)
        return rc;
    if ((rc = reel_seq_open(*s, "s", q)) != REEL_OK) {
        reel_close(*s);
        *s = NULL;
    }
    return rc;
}

static long peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

/* Width and height of 16384 (805 MB frames) or 65535 (12.9 GB): refused at open under the
 * cap, before anything is allocated; a raised cap lets the sequence open, and a frame whose
 * row and blob do not fit it is refused before the cache sets memory aside. */
START_TEST(test_geometry_cap)
{
    const char *p = make("g.reel");
    reel_store *s;
    reel_seq *q;
    reel_open_options o;
    reel_frame *f;
    uint8_t buf[16];
    long before = peak_rss_mib();
    tu_sql(p, "UPDATE reel_sequence SET width = 16384, height = 16384, pix_fmt = 'rgb24'");
    ck_assert_int_eq(open_seq(p, REEL_OPEN_READONLY, &s, &q), REEL_CORRUPT);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "cap"));
    tu_sql(p, "UPDATE reel_sequence SET width = 65535, height = 65535");
    ck_assert_int_eq(open_seq(p, REEL_OPEN_READONLY, &s, &q), REEL_CORRUPT);
    memset(&o, 0, sizeof o);
    o.max_frame_mib = 13000;
    ck_assert_int_eq(reel_open(p, REEL_OPEN_READONLY, &o, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "s", &q), REEL_OK);
    ck_assert_int_eq(reel_frame_get(q, 0, 0, &f), REEL_CORRUPT); /* probed, not allocated */
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "frame 0"));
    ck_assert_int_eq(reel_frame_read(q, 0, buf, sizeof buf, NULL), REEL_FULL);
    reel_seq_close(q);
    reel_close(s);
    ck_assert_int_lt(peak_rss_mib() - before, 64);
    o.max_frame_mib = -1;
    ck_assert_int_eq(reel_open(p, REEL_OPEN_READONLY, &o, &s), REEL_INVALID);
    /* a new sequence over the cap is refused too */
    {
        reel_seq_params sp = {16384, 16384, REEL_PIX_RGB24, {1, 25}, NULL, 0, 0};
        ck_assert_int_eq(reel_open(tu_path("new.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
        ck_assert_int_eq(reel_seq_create(s, "big", &sp, &q), REEL_INVALID);
        reel_close(s);
    }
}
END_TEST

/* Numbers out of range are refused, not truncated: a width of 2^32 + 320 is not 320. */
START_TEST(test_numbers_out_of_range)
{
    const char *p = make("n.reel");
    reel_store *s;
    reel_seq *q;
    tu_sql(p, "UPDATE reel_sequence SET width = 4294967360");
    ck_assert_int_eq(open_seq(p, REEL_OPEN_READONLY, &s, &q), REEL_CORRUPT);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "out of range"));
    tu_sql(p, "UPDATE reel_sequence SET width = 64, tb_den = 4294967297");
    ck_assert_int_eq(open_seq(p, REEL_OPEN_READONLY, &s, &q), REEL_CORRUPT);
    tu_sql(p, "UPDATE reel_sequence SET tb_den = 25, height = 'forty-eight'");
    ck_assert_int_eq(open_seq(p, REEL_OPEN_READONLY, &s, &q), REEL_CORRUPT);
}
END_TEST

/* A recorded frame count that disagrees with the frame rows is damage, whatever it says. */
START_TEST(test_counts_that_lie)
{
    static const char *const counts[] = {"1", "-3", "'many'", "9000000000000000000", "5.5"};
    const char *p = make("c.reel");
    reel_store *s;
    reel_seq *q;
    int64_t n;
    size_t i;
    char sql[128];
    for (i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        snprintf(sql, sizeof sql, "UPDATE reel_sequence SET frames = %s", counts[i]);
        tu_sql(p, sql);
        ck_assert_int_eq(open_seq(p, REEL_OPEN_READONLY, &s, &q), REEL_OK);
        ck_assert_msg(reel_seq_frame_count(q, &n) == REEL_CORRUPT, "frames = %s", counts[i]);
        ck_assert_ptr_nonnull(strstr(reel_errmsg(), "frames recorded"));
        reel_seq_close(q);
        reel_close(s);
    }
    tu_sql(p, "UPDATE reel_sequence SET frames = 5");
    ck_assert_int_eq(open_seq(p, REEL_OPEN_READONLY, &s, &q), REEL_OK);
    ck_assert_int_eq(reel_seq_frame_count(q, &n), REEL_OK);
    ck_assert_int_eq(n, N);
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

/* A frame row whose blob is gone, and blobs too small to hold their frame. */
START_TEST(test_rows_that_lie)
{
    const char *p = make("r.reel");
    reel_store *s;
    reel_seq *q;
    reel_frame *f;
    uint8_t buf[W * H];
    tu_sql(p, "DELETE FROM reel_blob WHERE id = (SELECT blob_id FROM reel_frame WHERE idx = 1)");
    tu_sql(p, "UPDATE reel_frame SET stored_bytes = 0 WHERE idx = 2");
    tu_sql(p, "UPDATE reel_frame SET raw_bytes = 999999999 WHERE idx = 3");
    ck_assert_int_eq(open_seq(p, REEL_OPEN_READONLY, &s, &q), REEL_OK);
    ck_assert_int_eq(reel_frame_get(q, 1, 0, &f), REEL_CORRUPT);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "frame 1"));
    ck_assert_int_eq(reel_frame_read(q, 1, buf, sizeof buf, NULL), REEL_CORRUPT);
    ck_assert_int_eq(reel_frame_get(q, 2, 0, &f), REEL_CORRUPT);
    ck_assert_int_eq(reel_frame_get(q, 3, 0, &f), REEL_CORRUPT);
    ck_assert_int_eq(reel_frame_get(q, 4, 0, &f), REEL_OK); /* the rest reads */
    reel_frame_release(f);
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

/* Geometry edited to another of the same frame size (64x48 gray8 to 48x64, or to 32x32 rgb24):
 * the checksum covers width, height and pixel format, so every frame is corrupt, by read,
 * get and range; put back, every frame reads again. */
static void expect_all_corrupt(const char *p)
{
    reel_store *s;
    reel_seq *q;
    reel_frame *f;
    uint8_t buf[W * H * N];
    int64_t i;
    ck_assert_int_eq(open_seq(p, REEL_OPEN_READONLY, &s, &q), REEL_OK);
    for (i = 0; i < N; i++) {
        ck_assert_int_eq(reel_frame_read(q, i, buf, W * H, NULL), REEL_CORRUPT);
        ck_assert_msg(strstr(reel_errmsg(), "checksum") && strstr(reel_errmsg(), "'s' frame"),
                      "%s", reel_errmsg());
        ck_assert_int_eq(reel_frame_get(q, i, 0, &f), REEL_CORRUPT);
    }
    ck_assert_int_eq(reel_frame_read_range(q, 0, N, buf, sizeof buf), REEL_CORRUPT);
    reel_seq_close(q);
    reel_close(s);
}

START_TEST(test_geometry_swapped)
{
    const char *p = make("swap.reel");
    reel_store *s;
    reel_seq *q;
    uint8_t buf[W * H];
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_frame WHERE checksum_v = 2"), N);
    tu_sql(p, "UPDATE reel_sequence SET width = 48, height = 64");
    expect_all_corrupt(p);
    tu_sql(p, "UPDATE reel_sequence SET width = 32, height = 32, pix_fmt = 'rgb24'");
    expect_all_corrupt(p);
    tu_sql(p, "UPDATE reel_sequence SET width = 64, height = 48, pix_fmt = 'gray8'");
    ck_assert_int_eq(open_seq(p, REEL_OPEN_READONLY, &s, &q), REEL_OK);
    ck_assert_int_eq(reel_frame_read(q, N - 1, buf, sizeof buf, NULL), REEL_OK);
    reel_seq_close(q);
    reel_close(s);
    /* a checksum version that is not 1 binds the geometry too: a lie there is no way round */
    tu_sql(p, "UPDATE reel_frame SET checksum_v = 7; UPDATE reel_sequence SET width = 48, "
              "height = 64");
    expect_all_corrupt(p);
}
END_TEST

/* Files that are not stores: empty (left empty: a read never creates), truncated, text, a
 * directory. */
START_TEST(test_not_stores)
{
    char p[512];
    reel_store *s;
    struct stat st;
    FILE *f;
    snprintf(p, sizeof p, "%s", make("t.reel"));
    ck_assert_ptr_nonnull(f = fopen(tu_path("empty.reel"), "w"));
    fclose(f);
    ck_assert_int_eq(reel_open(tu_path("empty.reel"), 0, NULL, &s), REEL_CORRUPT);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "empty"));
    ck_assert_int_eq(reel_open(tu_path("empty.reel"), REEL_OPEN_READONLY, NULL, &s), REEL_CORRUPT);
    ck_assert_int_eq(stat(tu_path("empty.reel"), &st), 0);
    ck_assert_int_eq(st.st_size, 0);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(tu_sh("head -c %lld '%s' > '%s'", (long long)st.st_size / 2, p,
                           tu_path("cut.reel")),
                     0);
    ck_assert_int_ne(reel_open(tu_path("cut.reel"), REEL_OPEN_READONLY, NULL, &s), REEL_OK);
    ck_assert_msg(strstr(reel_errmsg(), "cut.reel") && strstr(reel_errmsg(), "truncated"), "%s",
                  reel_errmsg());
    ck_assert_int_eq(tu_sh("echo 'plain text, no store' > '%s'", tu_path("text.reel")), 0);
    ck_assert_int_eq(reel_open(tu_path("text.reel"), 0, NULL, &s), REEL_CORRUPT);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "not a reel store"));
    ck_assert_int_eq(reel_open(tu_dir(), 0, NULL, &s), REEL_INVALID);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "directory"));
}
END_TEST

/* Views a user dropped come back with the next read-write open. */
START_TEST(test_views_repaired)
{
    const char *p = make("v.reel");
    reel_store *s;
    tu_sql(p, "DROP VIEW reel_sequences; DROP VIEW reel_frames; DROP VIEW reel_hot_frames");
    ck_assert_int_eq(reel_open(p, 0, NULL, &s), REEL_OK);
    reel_close(s);
    ck_assert_int_eq(tu_sql_int(p, "SELECT frames FROM reel_sequences WHERE name = 's'"), N);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_frames"), N);
    ck_assert_int_eq(tu_sql_int(p, "SELECT count(*) FROM reel_hot_frames"), 0);
}
END_TEST

/* A store on a read-only mount (a bind mount remounted read-only; as root, as CI runs) or a
 * read-only directory (otherwise) reads, and nothing is written beside it. */
START_TEST(test_read_only_media)
{
    char ro[600], cmd[1400];
    reel_store *s;
    reel_seq *q;
    uint8_t buf[W * H], want[W * H];
    int mounted = 0;
    make("m.reel");
    snprintf(ro, sizeof ro, "%s-ro", tu_dir());
    ck_assert_int_eq(tu_sh("mkdir -p '%s'", ro), 0);
    if (geteuid() == 0) {
        snprintf(cmd, sizeof cmd, "mount --bind '%s' '%s' && mount -o remount,ro,bind '%s'",
                 tu_dir(), ro, ro);
        ck_assert_msg(tu_sh("%s", cmd) == 0, "as root, a read-only bind mount must work: %s", cmd);
        mounted = 1;
        ck_assert_int_ne(tu_sh("touch '%s/probe' 2>/dev/null", ro), 0); /* really read-only */
    } else {
        ck_assert_int_eq(tu_sh("cp '%s' '%s/' && chmod 555 '%s'", tu_path("m.reel"), ro, ro), 0);
    }
    snprintf(cmd, sizeof cmd, "%s/m.reel", ro);
    ck_assert_msg(open_seq(cmd, REEL_OPEN_READONLY, &s, &q) == REEL_OK, "%s", reel_errmsg());
    ck_assert_int_eq(reel_frame_read(q, 3, buf, sizeof buf, NULL), REEL_OK);
    tu_fill(want, REEL_PIX_GRAY8, W, H, 3);
    ck_assert_mem_eq(buf, want, sizeof buf);
    reel_seq_close(q);
    reel_close(s);
    ck_assert_int_eq(tu_sh("ls '%s' | grep -c -e -wal -e -shm", ro), 1); /* none made */
    if (mounted)
        ck_assert_int_eq(tu_sh("umount '%s'", ro), 0);
    tu_sh("chmod 755 '%s'; rm -rf '%s'", ro, ro);
}
END_TEST

/* After fork(), the child's inherited handles refuse (the parent's state stays the parent's);
 * a store opened again in the child works; the parent's counts are written once. */
START_TEST(test_fork)
{
    const char *p = make("f.reel");
    reel_store *s;
    reel_seq *q;
    reel_frame *f;
    int status;
    pid_t pid;
    ck_assert_int_eq(open_seq(p, 0, &s, &q), REEL_OK);
    ck_assert_int_eq(reel_store_set_flush_interval(s, 0), REEL_OK);
    ck_assert_int_eq(reel_frame_get(q, 2, 0, &f), REEL_OK);
    reel_frame_release(f);
    ck_assert_int_ge(pid = fork(), 0);
    if (pid == 0) {
        reel_store *cs;
        reel_seq *cq;
        int bad = 0;
        bad |= (reel_frame_get(q, 2, 0, &f) != REEL_MISUSE) << 0;
        bad |= (strstr(reel_errmsg(), "fork") == NULL) << 1;
        bad |= (reel_flush(s) != REEL_MISUSE) << 2;
        bad |= (reel_seq_close(q) != REEL_MISUSE) << 3;
        bad |= (reel_close(s) != REEL_MISUSE) << 4;
        bad |= (open_seq(p, REEL_OPEN_READONLY, &cs, &cq) != REEL_OK) << 5;
        bad |= (reel_frame_get(cq, 3, 0, &f) != REEL_OK) << 6;
        reel_frame_release(f);
        reel_seq_close(cq);
        reel_close(cs);
        _exit(bad);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    reel_seq_close(q);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(tu_sql_int(p, "SELECT sum(count) FROM reel_access"), 1);
}
END_TEST

typedef struct {
    const char *path;
    atomic_int *stop;
} reader_arg;

/* Read the store's frames, one after another and at random, until told to stop. */
static void *fork_reader(void *arg)
{
    const reader_arg *a = arg;
    reel_store *s;
    reel_seq *q;
    reel_frame *f;
    int64_t i = 0;
    if (open_seq(a->path, REEL_OPEN_READONLY, &s, &q) != REEL_OK)
        return (void *)1;
    while (!atomic_load(a->stop)) {
        if (reel_frame_get(q, (i * 7) % N, i % 2 ? REEL_GET_LAZY : 0, &f) == REEL_OK)
            reel_frame_release(f);
        i++;
    }
    reel_seq_close(q);
    reel_close(s);
    return NULL;
}

/* A child forked while two threads read opens the store again and reads: every one of them
 * finishes (the threads held SQLite's per-file and allocator mutexes at random moments: a
 * child that found one locked would wait forever). A child still running after 30 s counts as
 * hung and is killed (a hang check). */
START_TEST(test_fork_under_readers)
{
    const char *p = make("fr.reel");
    atomic_int stop = 0;
    reader_arg a = {p, &stop};
    pthread_t th[2];
    int k, hung = 0, failed = 0;
    for (k = 0; k < 2; k++)
        ck_assert_int_eq(pthread_create(&th[k], NULL, fork_reader, &a), 0);
    usleep(100 * 1000);
    for (k = 0; k < 12; k++) {
        int status, waited;
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            reel_store *cs;
            reel_seq *cq;
            reel_frame *f;
            int bad = open_seq(p, REEL_OPEN_READONLY, &cs, &cq) != REEL_OK;
            bad |= !bad && reel_frame_get(cq, k % N, 0, &f) != REEL_OK;
            _exit(bad);
        }
        for (waited = 0; waitpid(pid, &status, WNOHANG) == 0; waited++) {
            if (waited == 3000) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                hung++;
                break;
            }
            usleep(10 * 1000);
        }
        failed += waited < 3000 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    atomic_store(&stop, 1);
    for (k = 0; k < 2; k++) {
        void *r;
        ck_assert_int_eq(pthread_join(th[k], &r), 0);
        ck_assert_ptr_null(r);
    }
    ck_assert_int_eq(hung, 0);
    ck_assert_int_eq(failed, 0);
}
END_TEST

/* Names: at most 255 bytes of UTF-8, refused rather than cut; a leading dash is a name. */
START_TEST(test_names)
{
    reel_store *s;
    reel_seq *q;
    reel_seq_params sp = {8, 8, REEL_PIX_GRAY8, {1, 25}, NULL, 0, 0};
    char name[300];
    ck_assert_int_eq(reel_open(tu_path("names.reel"), REEL_OPEN_CREATE, NULL, &s), REEL_OK);
    memset(name, 'x', 256);
    name[256] = 0;
    ck_assert_int_eq(reel_seq_create(s, name, &sp, &q), REEL_INVALID);
    name[255] = 0;
    ck_assert_int_eq(reel_seq_create(s, name, &sp, &q), REEL_OK);
    reel_seq_close(q);
    ck_assert_int_eq(reel_seq_create(s, "caf\xc3\xa9", &sp, &q), REEL_OK);
    reel_seq_close(q);
    ck_assert_int_eq(reel_seq_create(s, "bad\xff", &sp, &q), REEL_INVALID);
    ck_assert_int_eq(reel_seq_create(s, "over\xc0\xaf", &sp, &q), REEL_INVALID); /* overlong */
    ck_assert_int_eq(reel_seq_create(s, "-dash", &sp, &q), REEL_OK);
    reel_seq_close(q);
    reel_close(s);
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("hostile", 60);
    tcase_add_test(tc, test_geometry_cap);
    tcase_add_test(tc, test_numbers_out_of_range);
    tcase_add_test(tc, test_counts_that_lie);
    tcase_add_test(tc, test_rows_that_lie);
    tcase_add_test(tc, test_geometry_swapped);
    tcase_add_test(tc, test_not_stores);
    tcase_add_test(tc, test_views_repaired);
    tcase_add_test(tc, test_read_only_media);
    tcase_add_test(tc, test_fork);
    tcase_add_test(tc, test_fork_under_readers);
    tcase_add_test(tc, test_names);
    return tu_run("hostile", tc);
}
