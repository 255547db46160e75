/* check_pressure.c - memory pressure in the RAM tier: the monitor on /proc and /sys files of
 * the test's own (cgroup v2 and v1 limits, MemAvailable, PSI; cut, hold, kernel-free
 * intervals), the effective budget and its recovery, the growth-path check, read-ahead inside
 * the budget, and frame memory given back to the system. The same under a real memory cgroup
 * is `make check-pressure` (tests/check_pressure.sh). */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reel.h"
#include "testutil.h"

#ifdef __SANITIZE_ADDRESS__
/* AddressSanitizer keeps freed heap blocks in a quarantine (256 MiB): SQLite's and zstd's
 * buffers freed during the reads would stay in the RSS that test_memory_returned measures. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=0"; }
#endif

enum { W = 40, H = 30, N = 64 };
#define FS ((size_t)W * H) /* gray8 */
#define COST (FS + REEL_CACHE_ENTRY_OVERHEAD)

/* A store with N frames of sequence "s", read-ahead off, a private cache of budget bytes. */
static reel_cache *setup(const char *name, size_t budget, reel_store **s, reel_seq **q)
{
    reel_cache *c;
    tu_make_store(name, REEL_PIX_GRAY8, W, H, N, s, q);
    ck_assert_int_eq(reel_store_set_readahead(*s, 0, 1), REEL_OK);
    ck_assert_int_eq(reel_store_set_flush_interval(*s, 0), REEL_OK);
    ck_assert_int_eq(reel_cache_new(budget, &c), REEL_OK);
    ck_assert_int_eq(reel_store_set_cache(*s, c), REEL_OK);
    return c;
}

static void teardown(reel_store *s, reel_cache *c, reel_seq *q)
{
    ck_assert_int_eq(reel_seq_close(q), REEL_OK);
    ck_assert_int_eq(reel_close(s), REEL_OK);
    ck_assert_int_eq(reel_cache_free(c), REEL_OK);
}

static reel_cache_stats stats(reel_cache *c)
{
    reel_cache_stats st;
    ck_assert_int_eq(reel_cache_get_stats(c, &st), REEL_OK);
    return st;
}

static void load_frames(reel_seq *q, int from, int n)
{
    int64_t total;
    int i;
    ck_assert_int_eq(reel_seq_frame_count(q, &total), REEL_OK);
    for (i = from; i < from + n; i++) {
        reel_frame *f;
        ck_assert_int_eq(reel_frame_get(q, i % total, 0, &f), REEL_OK);
        reel_frame_release(f);
    }
}

/* ---- fake /proc and /sys ---- */

static void write_file(const char *rel, const char *text)
{
    char path[512], dir[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/root/%s", tu_dir(), rel);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = 0;
    ck_assert_int_eq(tu_sh("mkdir -p '%s'", dir), 0);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fputs(text, f);
    fclose(f);
}

static void set_meminfo(long total_kib, long avail_kib)
{
    char buf[200];
    snprintf(buf, sizeof buf, "MemTotal: %ld kB\nMemFree: 1 kB\nMemAvailable: %ld kB\n",
             total_kib, avail_kib);
    write_file("proc/meminfo", buf);
}

static void set_psi(long total_us)
{
    char buf[200];
    snprintf(buf, sizeof buf,
             "some avg10=0.00 avg60=0.00 avg300=0.00 total=%ld\n"
             "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
             total_us);
    write_file("proc/pressure/memory", buf);
}

/* Wait up to 5 s for the monitor to report level after at least `more` further events. */
static int wait_level(reel_cache *c, int level, unsigned more)
{
    uint64_t from = stats(c).pressure_events;
    int i;
    for (i = 0; i < 500; i++) {
        reel_cache_stats st = stats(c);
        if (st.pressure_level == level && st.pressure_events >= from + more)
            return 1;
        usleep(10000);
    }
    return 0;
}

static reel_pressure_options fake_root(void)
{
    static char root[300];
    reel_pressure_options o;
    memset(&o, 0, sizeof o);
    snprintf(root, sizeof root, "%s/root", tu_dir());
    o.root = root;
    o.interval_ms = 10;
    return o;
}

/* Headroom from MemAvailable and from cgroup v2 and v1 limits; cut to the target share, hold
 * between target and moderate, drop all below critical. */
START_TEST(test_monitor_levels)
{
    reel_store *s;
    reel_seq *q;
    reel_cache *c = setup("m.reel", 64 * COST, &s, &q);
    reel_pressure_options o = fake_root();
    reel_cache_stats st;
    int i;
    o.calm_ms = 50;
    ck_assert_int_eq(stats(c).pressure_level, -1); /* no monitor on a private cache */

    /* plenty of memory, no PSI, no cgroup limit: nothing happens */
    set_meminfo(1000000, 900000);
    write_file("proc/self/cgroup", "0::/\n");
    load_frames(q, 0, 40);
    ck_assert_int_eq(reel_cache_start_pressure_monitor(c, &o), REEL_OK);
    ck_assert(wait_level(c, REEL_PRESSURE_NONE, 0));
    usleep(50000);
    st = stats(c);
    ck_assert_uint_eq(st.pressure_events, 0);
    ck_assert_uint_eq(st.resident_frames, 40);
    ck_assert_uint_eq(st.effective_budget, st.budget);

    /* 8% of the system's memory available: moderate; the cut frees what brings the headroom
     * to 25% (here more than the cache holds), whatever the budget */
    set_meminfo(1000000, 80000);
    ck_assert(wait_level(c, REEL_PRESSURE_MODERATE, 1));
    st = stats(c);
    ck_assert_uint_eq(st.resident_bytes, 0);
    ck_assert_uint_ge(st.pressure_freed, 1);
    ck_assert_uint_lt(st.effective_budget, st.budget);

    /* a cgroup v2 limit: 1 MB, 600 kB charged of which 100 kB page cache: headroom 50%,
     * fine; after the calm period the effective budget rises as frames load */
    set_meminfo(1000000, 900000);
    write_file("sys/fs/cgroup/app/memory.max", "1000000\n");
    write_file("sys/fs/cgroup/app/memory.current", "600000\n");
    write_file("sys/fs/cgroup/app/memory.stat",
               "anon 500000\nactive_file 60000\ninactive_file 40000\n");
    write_file("proc/self/cgroup", "0::/app\n");
    ck_assert(wait_level(c, REEL_PRESSURE_NONE, 0));
    for (i = 0; i < 20; i++) { /* 1.5 s: the monitor finds the cgroup; a few raises */
        load_frames(q, i, 4);
        usleep(75000);
    }
    st = stats(c);
    ck_assert_uint_ge(st.effective_budget, 16 * COST);
    ck_assert_uint_ge(st.resident_bytes, 16 * COST);

    /* 80% used less page cache: between moderate and target, the cache holds (no event) */
    write_file("sys/fs/cgroup/app/memory.current", "900000\n");
    usleep(100000);
    load_frames(q, 0, 40);
    usleep(100000);
    st = stats(c);
    ck_assert_int_eq(st.pressure_level, REEL_PRESSURE_NONE);
    ck_assert_uint_le(st.effective_budget, st.resident_bytes + COST);
    ck_assert_uint_lt(st.effective_budget, 40 * COST);

    /* nearly used up: critical, only pinned frames stay */
    {
        reel_frame *f;
        ck_assert_int_eq(reel_frame_get(q, 3, 0, &f), REEL_OK);
        write_file("sys/fs/cgroup/app/memory.current", "1100000\n");
        ck_assert(wait_level(c, REEL_PRESSURE_CRITICAL, 1));
        st = stats(c);
        ck_assert_uint_eq(st.resident_frames, 1);
        ck_assert_uint_eq(st.resident_bytes, st.pinned_bytes);
        reel_frame_release(f);
    }

    /* cgroup v1, limit on the parent of the process's cgroup, page cache counted out */
    write_file("sys/fs/cgroup/memory/box/memory.limit_in_bytes", "1000000\n");
    write_file("sys/fs/cgroup/memory/box/memory.usage_in_bytes", "990000\n");
    write_file("sys/fs/cgroup/memory/box/memory.stat",
               "cache 600000\ntotal_active_file 100000\ntotal_inactive_file 500000\n");
    write_file("sys/fs/cgroup/memory/box/job/memory.limit_in_bytes", "9223372036854771712\n");
    write_file("sys/fs/cgroup/memory/box/job/memory.usage_in_bytes", "990000\n");
    write_file("proc/self/cgroup", "4:memory:/box/job\n0::/\n");
    ck_assert(wait_level(c, REEL_PRESSURE_NONE, 0));
    write_file("sys/fs/cgroup/memory/box/memory.stat",
               "total_active_file 5000\ntotal_inactive_file 5000\n");
    ck_assert(wait_level(c, REEL_PRESSURE_CRITICAL, 1));

    /* bad options; stop; a monitor still running is stopped by reel_cache_free */
    o.moderate_percent = 101;
    ck_assert_int_eq(reel_cache_start_pressure_monitor(c, &o), REEL_INVALID);
    o.moderate_percent = 0;
    o.reserved[0] = 1;
    ck_assert_int_eq(reel_cache_start_pressure_monitor(c, &o), REEL_INVALID);
    o.reserved[0] = 0;
    ck_assert_int_eq(reel_cache_stop_pressure_monitor(c), REEL_OK);
    ck_assert_int_eq(stats(c).pressure_level, -1);
    ck_assert_int_eq(reel_cache_start_pressure_monitor(NULL, NULL), REEL_MISUSE);
    ck_assert_int_eq(reel_cache_start_pressure_monitor(c, &o), REEL_OK);
    teardown(s, c, q);
}
END_TEST

/* PSI: the share of time stalled, from the total counter's growth (not the 10 s average,
 * which would keep cutting long after the stall ended). */
START_TEST(test_monitor_psi)
{
    reel_store *s;
    reel_seq *q;
    reel_cache *c = setup("p.reel", 64 * COST, &s, &q);
    reel_pressure_options o = fake_root();
    long total = 1000;
    int i;
    set_meminfo(1000000, 900000);
    write_file("proc/self/cgroup", "0::/\n");
    set_psi(total);
    load_frames(q, 0, 40);
    ck_assert_int_eq(reel_cache_start_pressure_monitor(c, &o), REEL_OK);
    usleep(1300 * 1000); /* a full PSI window with no stall */
    ck_assert_uint_eq(stats(c).pressure_events, 0);
    /* stalled 30% of the time: moderate, half the frames go */
    for (i = 0; i < 30 && stats(c).pressure_events == 0; i++) {
        total += 30000;
        set_psi(total);
        usleep(100000);
    }
    ck_assert_uint_ge(stats(c).pressure_events, 1);
    ck_assert_uint_le(stats(c).resident_bytes, 20 * COST);
    ck_assert_int_eq(reel_cache_stop_pressure_monitor(c), REEL_OK);
    teardown(s, c, q);
}
END_TEST

/* The growth hook: with the interval at 10 s, loads alone bring the look that cuts. */
START_TEST(test_growth_check)
{
    reel_store *s;
    reel_seq *q;
    reel_cache *c = setup("g.reel", 64 * COST, &s, &q);
    reel_pressure_options o = fake_root();
    reel_cache_stats st;
    o.interval_ms = 10000;
    o.growth_check_kib = 4; /* a look every ~3 frames */
    set_meminfo(1000000, 900000);
    write_file("proc/self/cgroup", "0::/\n");
    ck_assert_int_eq(reel_cache_start_pressure_monitor(c, &o), REEL_OK);
    usleep(50000); /* the thread's first look */
    set_meminfo(1000000, 20000); /* 2% left */
    load_frames(q, 0, 12);
    st = stats(c);
    ck_assert_uint_ge(st.growth_checks, 3);
    ck_assert_uint_ge(st.pressure_events, 1);
    ck_assert_uint_le(st.resident_bytes, 4 * COST);
    ck_assert_int_eq(reel_cache_stop_pressure_monitor(c), REEL_OK);
    teardown(s, c, q);
}
END_TEST

/* The effective budget: cut by pressure, held while pressure lasts, raised again step by step
 * once it has been gone for the calm period. */
START_TEST(test_effective_budget)
{
    reel_store *s;
    reel_seq *q;
    reel_cache *c = setup("e.reel", 40 * COST, &s, &q);
    reel_cache_stats st;
    size_t low;
    load_frames(q, 0, 40);
    ck_assert_uint_eq(stats(c).effective_budget, 40 * COST);
    ck_assert_int_eq(reel_cache_report_pressure(c, REEL_PRESSURE_MODERATE), REEL_OK);
    st = stats(c);
    ck_assert_uint_eq(st.effective_budget, 20 * COST);
    ck_assert_uint_le(st.resident_bytes, 20 * COST);
    ck_assert_uint_eq(st.pressure_freed, 1);
    ck_assert_uint_eq(st.pressure_idle, 0);
    ck_assert_uint_gt(st.pressure_bytes_freed, 19 * COST);
    /* within the calm period reads do not grow the cache */
    load_frames(q, 20, 40);
    ck_assert_uint_le(stats(c).resident_bytes, 20 * COST);
    /* a second MODERATE halves the effective budget again; CRITICAL keeps nothing */
    ck_assert_int_eq(reel_cache_report_pressure(c, REEL_PRESSURE_MODERATE), REEL_OK);
    ck_assert_uint_eq(stats(c).effective_budget, 10 * COST);
    ck_assert_int_eq(reel_cache_report_pressure(c, REEL_PRESSURE_CRITICAL), REEL_OK);
    ck_assert_int_eq(reel_cache_report_pressure(c, REEL_PRESSURE_CRITICAL), REEL_OK);
    st = stats(c);
    ck_assert_uint_eq(st.effective_budget, 0);
    ck_assert_uint_eq(st.resident_bytes, 0);
    ck_assert_uint_eq(st.pressure_events, 4);
    ck_assert_uint_eq(st.pressure_idle, 1); /* the last one found nothing */
    /* reads still work with nothing to spare: the frame is pinned while held */
    load_frames(q, 0, 3);
    /* after the calm period (2 s) the effective budget rises by 1/16 of the budget per
     * 250 ms as frames load */
    low = stats(c).effective_budget;
    sleep(2);
    load_frames(q, 0, 1);
    usleep(300000);
    load_frames(q, 1, 1);
    st = stats(c);
    ck_assert_uint_gt(st.effective_budget, low);
    ck_assert_uint_le(st.effective_budget, 40 * COST);
    /* and back to the full budget */
    {
        int i;
        for (i = 0; i < 60 && stats(c).effective_budget < 40 * COST; i++) {
            usleep(100000);
            load_frames(q, i, 1);
        }
    }
    ck_assert_uint_eq(stats(c).effective_budget, 40 * COST);
    teardown(s, c, q);
}
END_TEST

/* Read-ahead loads are inside the budget while in flight (they make room first). */
typedef struct watch {
    reel_cache *c;
    atomic_int stop;
    size_t max;
} watch;

static void *watcher(void *arg)
{
    watch *w = arg;
    while (!atomic_load(&w->stop)) {
        reel_cache_stats st;
        reel_cache_get_stats(w->c, &st);
        if (st.resident_bytes > w->max)
            w->max = st.resident_bytes;
    }
    return NULL;
}

START_TEST(test_readahead_in_budget)
{
    reel_store *s;
    reel_seq *q;
    reel_cache *c = setup("r.reel", 4 * COST, &s, &q);
    watch w = {c, 0, 0};
    pthread_t t;
    int round;
    ck_assert_int_eq(reel_store_set_readahead(s, 3, 16), REEL_OK);
    pthread_create(&t, NULL, watcher, &w);
    for (round = 0; round < 8; round++) {
        ck_assert_int_eq(reel_seq_prefetch(q, 0, N), REEL_OK);
        ck_assert_int_eq(reel_seq_prefetch_wait(q, -1), REEL_OK);
    }
    atomic_store(&w.stop, 1);
    pthread_join(t, NULL);
    ck_assert_uint_le(w.max, 4 * COST);
    ck_assert_uint_gt(stats(c).prefetch_loads, N);
    teardown(s, c, q);
}
END_TEST

/* Frame memory goes back to the system at a cut: big frames are mapped, not kept by the heap. */
static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%ld %ld", &pages, &resident), 2);
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

START_TEST(test_memory_returned)
{
    reel_store *s;
    reel_seq *q;
    reel_cache *c;
    long before, full, after;
    int i;
    tu_make_store("big.reel", REEL_PIX_RGB24, 640, 480, 48, &s, &q); /* 900 KiB frames */
    ck_assert_int_eq(reel_store_set_readahead(s, 0, 1), REEL_OK);
    ck_assert_int_eq(reel_cache_new((size_t)40 << 20, &c), REEL_OK);
    ck_assert_int_eq(reel_store_set_cache(s, c), REEL_OK);
    before = rss_kib();
    for (i = 0; i < 3; i++) /* evictions and reloads: the heap would keep what it was given */
        load_frames(q, i * 10, 48);
    full = rss_kib();
    ck_assert_int_eq(reel_cache_report_pressure(c, REEL_PRESSURE_CRITICAL), REEL_OK);
    after = rss_kib();
    ck_assert_uint_eq(stats(c).resident_bytes, 0);
    ck_assert_int_gt(full - before, 30 * 1024);
#ifdef __SANITIZE_THREAD__ /* ThreadSanitizer's own allocator keeps what SQLite freed */
    after = before;
#endif
    ck_assert_msg(after - before < 8 * 1024, "RSS %ld KiB before, %ld full, %ld after the cut",
                  before, full, after);
    teardown(s, c, q);
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("pressure", 120);
    tcase_add_test(tc, test_monitor_levels);
    tcase_add_test(tc, test_monitor_psi);
    tcase_add_test(tc, test_growth_check);
    tcase_add_test(tc, test_effective_budget);
    tcase_add_test(tc, test_readahead_in_budget);
    tcase_add_test(tc, test_memory_returned);
    return tu_run("pressure", tc);
}
