/* check_publish.c - reel_publish() through the C API: options out of range refused; the
 * snapshot written beside the store and removed, stale ones of killed publishes removed; a
 * directory destination's damaged, short and stale temporary objects repaired or removed; and
 * the remote-read limits: junk in REEL_REMOTE_TIMEOUT, a URL's password in no message, an
 * interrupted open. (The servers' faults: tests/check_remote_faults.sh.) */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define FRAMES 12

/* A pid no process has: a child that has exited and been reaped. */
static int dead_pid(void)
{
    pid_t p = fork();
    ck_assert_int_ge(p, 0);
    if (p == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(p, NULL, 0), p);
    return (int)p;
}

/* A file at path holding text. */
static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* How many names in dir hold part. */
static int files_with(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)))
        n += strstr(e->d_name, part) != NULL;
    closedir(d);
    return n;
}

/* Every frame of sequence "s" of the store at a and at b are the same bytes. */
static void same_frames(reel_store *a, const char *b_name)
{
    reel_store *b;
    reel_seq *qa, *qb;
    int64_t i;
    ck_assert_int_eq(reel_open(b_name, REEL_OPEN_READONLY, NULL, &b), REEL_OK);
    ck_assert_int_eq(reel_seq_open(a, "s", &qa), REEL_OK);
    ck_assert_int_eq(reel_seq_open(b, "s", &qb), REEL_OK);
    for (i = 0; i < FRAMES; i++) {
        reel_frame *fa, *fb;
        const void *pa, *pb;
        size_t na, nb;
        ck_assert_int_eq(reel_frame_get(qa, i, 0, &fa), REEL_OK);
        ck_assert_int_eq(reel_frame_get(qb, i, 0, &fb), REEL_OK);
        ck_assert_int_eq(reel_frame_pixels(fa, &pa, &na), REEL_OK);
        ck_assert_int_eq(reel_frame_pixels(fb, &pb, &nb), REEL_OK);
        ck_assert_uint_eq(na, nb);
        ck_assert(memcmp(pa, pb, na) == 0);
        reel_frame_release(fa);
        reel_frame_release(fb);
    }
    reel_seq_close(qa);
    reel_seq_close(qb);
    reel_close(b);
}

static reel_store *make_store(void)
{
    reel_store *s;
    reel_seq *q;
    setenv("REEL_BLOCK_CACHE", tu_path("cache"), 1);
    tu_make_store("s.reel", REEL_PIX_RGB24, 160, 120, FRAMES, &s, &q);
    reel_seq_close(q);
    return s;
}

START_TEST(test_options_refused)
{
    reel_store *s = make_store();
    reel_publish_options o;
    reel_publish_result r;
    char pub[4200];
    snprintf(pub, sizeof pub, "%s", tu_path("pub"));
    memset(&o, 0, sizeof o);
    o.verify_existing = 2;
    ck_assert_int_eq(reel_publish(s, pub, &o, &r), REEL_INVALID);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "verify_existing"));
    o.verify_existing = 0;
    o.reserved[6] = 1;
    ck_assert_int_eq(reel_publish(s, pub, &o, &r), REEL_INVALID);
    o.reserved[6] = 0;
    o.part_bytes = -1;
    ck_assert_int_eq(reel_publish(s, pub, &o, &r), REEL_INVALID);
    ck_assert_int_eq(reel_publish(s, NULL, &o, &r), REEL_MISUSE);
    ck_assert_int_eq(access(tu_path("pub"), F_OK), -1); /* nothing was written */
    o.part_bytes = 0;
    o.verify_existing = 1;
    ck_assert_int_eq(reel_publish(s, pub, &o, &r), REEL_OK);
    ck_assert_int_gt(r.uploaded_parts, 0);
    reel_close(s);
}
END_TEST

START_TEST(test_snapshot_beside_store)
{
    reel_store *s = make_store();
    reel_publish_options o;
    reel_publish_result r;
    char stale[4300], journal[4400], live[4300], pub[4200];
    int dead = dead_pid();
    snprintf(stale, sizeof stale, "%s.publish-%d.tmp", tu_path("s.reel"), dead);
    snprintf(journal, sizeof journal, "%s-journal", stale);
    snprintf(live, sizeof live, "%s.publish-%d.tmp", tu_path("s.reel"), (int)getppid());
    put_file(stale, "a snapshot a killed publish left");
    put_file(journal, "");
    put_file(live, ""); /* a live process's: not touched */
    snprintf(pub, sizeof pub, "%s", tu_path("pub"));
    memset(&o, 0, sizeof o);
    o.part_bytes = 65536;
    ck_assert_int_eq(reel_publish(s, pub, &o, &r), REEL_OK);
    ck_assert_int_eq(access(stale, F_OK), -1);
    ck_assert_int_eq(access(journal, F_OK), -1);
    ck_assert_int_eq(access(live, F_OK), 0);
    ck_assert_int_eq(files_with(tu_dir(), ".publish-"), 1); /* its own snapshot is gone too */
    unlink(live);
    same_frames(s, pub);
    reel_close(s);
}
END_TEST

START_TEST(test_directory_repaired)
{
    reel_store *s = make_store();
    reel_publish_options o;
    reel_publish_result r;
    char pub[4200], parts[4300], path[4600], tmp[4600];
    DIR *d;
    struct dirent *e;
    int damaged = 0, dead = dead_pid();
    snprintf(pub, sizeof pub, "%s", tu_path("pub"));
    snprintf(parts, sizeof parts, "%s/parts", pub);
    memset(&o, 0, sizeof o);
    o.part_bytes = 65536;
    ck_assert_int_eq(reel_publish(s, pub, &o, &r), REEL_OK);
    ck_assert_int_gt(r.parts, 3);
    ck_assert_ptr_nonnull(d = opendir(parts));
    while ((e = readdir(d)) && damaged < 3) { /* one flipped byte, one cut short, one emptied */
        if (!strstr(e->d_name, ".part"))
            continue;
        snprintf(path, sizeof path, "%s/%s", parts, e->d_name);
        ck_assert_int_eq(tu_sh(damaged == 0   ? "printf X | dd of='%s' bs=1 seek=100 "
                                                "conv=notrunc 2>/dev/null"
                               : damaged == 1 ? "truncate -s 1000 '%s'"
                                              : ": >'%s'",
                               path),
                         0);
        damaged++;
    }
    closedir(d);
    ck_assert_int_eq(damaged, 3);
    snprintf(tmp, sizeof tmp, "%s/x.part.%d.tmp", parts, dead);
    put_file(tmp, "");
    ck_assert_int_eq(reel_publish(s, pub, &o, &r), REEL_OK);
    ck_assert_int_eq(r.uploaded_parts, 3);
    ck_assert_int_eq(access(tmp, F_OK), -1);
    ck_assert_int_eq(files_with(parts, ".tmp"), 0);
    same_frames(s, pub);
    ck_assert_int_eq(reel_publish(s, pub, &o, &r), REEL_OK);
    ck_assert_int_eq(r.uploaded_parts, 0);
    reel_close(s);
}
END_TEST

START_TEST(test_remote_limits)
{
    reel_store *s = NULL;
    const char *url = "http://alice:NeverShownPw@127.0.0.1:1/pub";
    setenv("REEL_REMOTE_TIMEOUT", "soon", 1);
    ck_assert_int_eq(reel_open(url, REEL_OPEN_READONLY, NULL, &s), REEL_INVALID);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "REEL_REMOTE_TIMEOUT='soon'"));
    setenv("REEL_REMOTE_TIMEOUT", "-3", 1);
    ck_assert_int_eq(reel_open(url, REEL_OPEN_READONLY, NULL, &s), REEL_INVALID);
    setenv("REEL_REMOTE_TIMEOUT", "1e999", 1);
    ck_assert_int_eq(reel_open(url, REEL_OPEN_READONLY, NULL, &s), REEL_INVALID);
    setenv("REEL_REMOTE_TIMEOUT", "2", 1);
    ck_assert_int_eq(reel_open(url, REEL_OPEN_READONLY, NULL, &s), REEL_IO);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "http://127.0.0.1:1/pub"));
    ck_assert_ptr_null(strstr(reel_errmsg(), "NeverShownPw"));
    ck_assert_ptr_null(strstr(reel_errmsg(), "alice"));
    reel_interrupt(1);
    ck_assert_int_eq(reel_open(url, REEL_OPEN_READONLY, NULL, &s), REEL_INTERRUPTED);
    ck_assert_ptr_nonnull(strstr(reel_errmsg(), "interrupted"));
    ck_assert_ptr_null(strstr(reel_errmsg(), "NeverShownPw"));
    reel_interrupt(0);
    unsetenv("REEL_REMOTE_TIMEOUT");
    ck_assert_ptr_null(s);
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("publish", 120);
    tcase_add_test(tc, test_options_refused);
    tcase_add_test(tc, test_snapshot_beside_store);
    tcase_add_test(tc, test_directory_repaired);
    tcase_add_test(tc, test_remote_limits);
    return tu_run("publish", tc);
}
