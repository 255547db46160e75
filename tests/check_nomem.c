/*
 * check_nomem.c - allocation failure at every allocation site of libreel in turn, during open,
 * read and import: the Nth allocation fails for N = 1, 2, ... until the operation needs fewer
 * (base/alloc.c's hook). Each failure must be answered with REEL_NOMEM, or absorbed where the
 * allocation was optional (a hash table that stays smaller, a pooled frame); never a crash, a
 * wrong frame, a store left unusable (a second run must succeed) or a leak (ASan's leak check
 * runs on every test process in the sanitizer build). Prints how many allocations and distinct
 * allocation sites each operation went through.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/common.h"
#include "reel.h"
#include "testutil.h"

#define W 64
#define H 48
#define FRAMES 6
#define MAX_SITES 256

typedef struct tally {
    const void *site[MAX_SITES];
    int nsites;
    long allocs, nomem, absorbed;
} tally;

/* One operation under test: returns a reel result code. */
typedef int (*op_fn)(void);

static void note_site(tally *t, const void *site)
{
    int i;
    for (i = 0; i < t->nsites; i++)
        if (t->site[i] == site)
            return;
    if (t->nsites < MAX_SITES)
        t->site[t->nsites++] = site;
}

/* Run op with the nth allocation failing, for n = 1... until it ran with no failure. */
static void every_site(const char *what, op_fn op, void (*after)(int rc), tally *t)
{
    long n;
    memset(t, 0, sizeof *t);
    for (n = 1;; n++) {
        const void *site;
        int rc;
        reel__alloc_fail_at(n);
        rc = op();
        site = reel__alloc_failed_site();
        if (!site)
            t->allocs = reel__alloc_count();
        reel__alloc_fail_at(0);
        if (!site) {
            ck_assert_msg(rc == REEL_OK, "%s with no failure: %s", what, reel_errmsg());
            break;
        }
        note_site(t, site);
        ck_assert_msg(rc == REEL_OK || rc == REEL_NOMEM,
                      "%s, allocation %ld failing: %s (%s)", what, n, reel_errstr(rc),
                      reel_errmsg());
        if (rc == REEL_NOMEM)
            t->nomem++;
        else
            t->absorbed++;
        if (after)
            after(rc);
        ck_assert_msg(n < 100000, "%s: no end to its allocations", what);
    }
    printf("%s: %ld allocations at %d distinct sites; with each failing in turn: %ld answered "
           "REEL_NOMEM, %ld absorbed (optional memory), 0 crashes\n",
           what, t->allocs, t->nsites, t->nomem, t->absorbed);
}

static const char *store_path;

static void make_store(void)
{
    reel_store *s;
    reel_seq *q;
    tu_make_store("s.reel", REEL_PIX_RGB24, W, H, FRAMES, &s, &q);
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    store_path = strdup(tu_path("s.reel"));
}

/* ---- open: the store, a sequence, its info ---- */

static int op_open(void)
{
    reel_store *s = NULL;
    reel_seq *q = NULL;
    reel_seq_info info;
    int rc = reel_open(store_path, 0, NULL, &s);
    if (rc == REEL_OK)
        rc = reel_seq_open(s, "s", &q);
    if (rc == REEL_OK)
        rc = reel_seq_get_info(q, &info);
    if (rc == REEL_OK && info.frame_count != FRAMES)
        rc = REEL_ERROR;
    if (q)
        reel_seq_close(q);
    if (s)
        reel_close(s);
    return rc;
}

START_TEST(test_open)
{
    tally t;
    make_store();
    every_site("open (reel_open, reel_seq_open, reel_seq_get_info)", op_open, NULL, &t);
    ck_assert_int_gt(t.nsites, 3);
}
END_TEST

/* ---- read: frames through a fresh cache, one at a time, in batches, into buffers ---- */

static reel_store *rs;
static reel_seq *rq;

static int check_pixels(const void *px, int64_t i)
{
    static uint8_t want[W * H * 3];
    tu_fill(want, REEL_PIX_RGB24, W, H, (uint32_t)i);
    return memcmp(px, want, sizeof want) == 0 ? REEL_OK : REEL_ERROR;
}

static int op_read(void)
{
    static uint8_t buf[W * H * 3];
    reel_cache *c = NULL;
    reel_frame *f, *batch[FRAMES];
    const void *px;
    int64_t idx[FRAMES] = {5, 1, 3, 1, 0, 4};
    size_t n;
    int rc = reel_cache_new(1 << 20, &c), i, r;
    if (rc == REEL_OK)
        rc = reel_store_set_cache(rs, c);
    for (i = 0; rc == REEL_OK && i < FRAMES; i++) {
        if ((rc = reel_frame_get(rq, i, 0, &f)) != REEL_OK)
            break;
        rc = reel_frame_pixels(f, &px, &n);
        if (rc == REEL_OK)
            rc = check_pixels(px, i);
        reel_frame_release(f);
    }
    if (rc == REEL_OK && (rc = reel_frames_get(rq, idx, FRAMES, 0, batch)) == REEL_OK) {
        for (i = 0; rc == REEL_OK && i < FRAMES; i++)
            if ((rc = reel_frame_pixels(batch[i], &px, &n)) == REEL_OK)
                rc = check_pixels(px, idx[i]);
        reel_frames_release(batch, FRAMES);
    }
    for (i = 0; rc == REEL_OK && i < FRAMES; i++)
        if ((rc = reel_frame_read(rq, i, buf, sizeof buf, NULL)) == REEL_OK)
            rc = check_pixels(buf, i);
    /* back to the default cache: that opens a connection of the share's (allocations that may
     * fail in turn, answered with REEL_NOMEM and the store left on c), so a second try, with
     * no failure left to come, must move it; then c must free (nothing of it left in use) */
    if ((r = reel_store_set_cache(rs, NULL)) != REEL_OK) {
        if (rc == REEL_OK)
            rc = r;
        if (r != REEL_NOMEM || reel_store_set_cache(rs, NULL) != REEL_OK)
            rc = REEL_ERROR;
    }
    if (c && reel_cache_free(c) != REEL_OK)
        rc = REEL_ERROR;
    return rc;
}

START_TEST(test_read)
{
    tally t;
    make_store();
    ck_assert_int_eq(reel_open(store_path, 0, NULL, &rs), REEL_OK);
    ck_assert_int_eq(reel_store_set_readahead(rs, 0, 8), REEL_OK); /* one thread: in order */
    ck_assert_int_eq(reel_seq_open(rs, "s", &rq), REEL_OK);
    every_site("read (a new cache, reel_frame_get, reel_frames_get, reel_frame_read)", op_read,
               NULL, &t);
    ck_assert_int_gt(t.nsites, 2);
    ck_assert_int_eq(reel_seq_close(rq), REEL_OK);
    ck_assert_int_eq(reel_close(rs), REEL_OK);
}
END_TEST

/* ---- import: a small video into a fresh store; a failed one must not block the next ---- */

static char video[4096], istore[4096];

static int import_into(void)
{
    reel_store *s = NULL;
    reel_import_options o;
    reel_import_result r;
    int rc = reel_open(istore, REEL_OPEN_CREATE, NULL, &s);
    memset(&o, 0, sizeof o);
    o.sequence = "v";
    o.workers = 1;
    o.log = REEL_IMPORT_LOG_QUIET;
    if (rc == REEL_OK)
        rc = reel_import(s, video, &o, &r);
    if ((rc == REEL_OK || rc == REEL_DONE) && r.frames != 8)
        rc = REEL_ERROR;
    if (s)
        reel_close(s);
    return rc;
}

static int op_import(void) /* into a new store */
{
    tu_sh("rm -f '%s' '%s-wal' '%s-shm'", istore, istore, istore);
    return import_into();
}

/* After a failed import: the same import, with memory, completes (or finds the work done)
 * and the sequence has every frame. */
static void import_again(int rc)
{
    reel_store *s;
    reel_seq *q;
    int64_t n = 0;
    if (rc == REEL_OK)
        return;
    rc = import_into();
    ck_assert_msg(rc == REEL_OK || rc == REEL_DONE, "import after a failed one: %s",
                  reel_errmsg());
    ck_assert_int_eq(reel_open(istore, REEL_OPEN_READONLY, NULL, &s), REEL_OK);
    ck_assert_int_eq(reel_seq_open(s, "v", &q), REEL_OK);
    ck_assert_int_eq(reel_seq_frame_count(q, &n), REEL_OK);
    ck_assert_int_eq(n, 8);
    reel_seq_close(q);
    reel_close(s);
}

START_TEST(test_import)
{
    tally t;
    snprintf(video, sizeof video, "%s", tu_path("v.mp4"));
    snprintf(istore, sizeof istore, "%s", tu_path("i.reel"));
    ck_assert_int_eq(tu_sh("ffmpeg -nostdin -v error -f lavfi -i "
                           "testsrc2=size=64x48:rate=10 -frames:v 8 -pix_fmt yuv420p '%s'",
                           video),
                     0);
    every_site("import (reel_open with create, reel_import of 8 frames)", op_import, import_again,
               &t);
    ck_assert_int_gt(t.nsites, 5);
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("nomem", 600);
    tcase_add_test(tc, test_open);
    tcase_add_test(tc, test_read);
    tcase_add_test(tc, test_import);
    return tu_run("nomem", tc);
}
