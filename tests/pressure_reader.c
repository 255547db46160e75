/*
 * pressure_reader.c - the load of the memory-pressure test (tests/check_pressure.sh), on the
 * public API only, as any program would use reel:
 *
 *   pressure_reader make STORE FRAMES WIDTH HEIGHT
 *       a store with sequence "s" of FRAMES rgb24 frames of a known pattern (cheap to check)
 *   pressure_reader read STORE [--budget BYTES] [--order random|seq] [--frames N]
 *                   [--no-monitor] [--work-ms MS] [--seed N] [--hold N]
 *       read N frames through the default cache (the default monitor unless --no-monitor),
 *       check every frame's pixels on a sample of rows, and print one line of figures:
 *       frames, seconds, frames/s, peak RSS, the cache's resident and effective budget and its
 *       pressure events. --hold keeps the last N frames pinned (a reader working on a window).
 *   pressure_reader hog STEP_MB STEPS STEP_MS
 *       another process of the cgroup: allocates and touches STEP_MB every STEP_MS, STEPS
 *       times, then holds it until killed.
 *   pressure_reader latency STORE CGROUP_DIR
 *       in a memory cgroup with a limit (its directory given): (1) with the monitor's interval
 *       at 10 s and no growth checks, so that only a kernel event can act, fill the cache to
 *       55% of the limit, then allocate memory 1 MiB at a time until the headroom (limit less
 *       usage less page cache) falls below the moderate share, and time the cut from there;
 *       (2) fill the cache again and time reel_cache_report_pressure(CRITICAL) until no unpinned
 *       byte is left; (3) the process's RSS less the cache's resident bytes right after that
 *       cut and 100 ms later.
 *   pressure_reader idle SECONDS
 *       the default cache's monitor with nothing to do: the process's CPU time over SECONDS
 *       as a share of one core.
 * Exit status: 0 when every frame was right, 1 on a wrong pixel or a failed call, 2 on usage.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "reel.h"

static uint8_t pattern(int64_t idx, int x, int y, int c)
{
    uint32_t v = (uint32_t)(x * 3 + y * 5 + c * 71) + (uint32_t)idx * 7u;
    uint32_t h = (uint32_t)(x * 2654435761u) ^ (uint32_t)(y * 40503u) ^ (uint32_t)idx;
    return (uint8_t)(v + ((h >> 13) & 3));
}

static void fill_row(uint8_t *row, int64_t idx, int y, int w)
{
    int x, c;
    for (x = 0; x < w; x++)
        for (c = 0; c < 3; c++)
            row[x * 3 + c] = pattern(idx, x, y, c);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
    fprintf(stderr, "pressure_reader: %s: %s\n", what, reel_errmsg());
    return 1;
}

static int make(const char *path, long frames, int w, int h)
{
    reel_store *s;
    reel_seq *q;
    reel_seq_params p = {w, h, REEL_PIX_RGB24, {1, 25}, "pressure test pattern", 0, 0};
    size_t fs = (size_t)w * h * 3;
    uint8_t *buf = malloc(fs);
    long i;
    int y;
    if (!buf)
        return 1;
    if (reel_open(path, REEL_OPEN_CREATE, NULL, &s) != REEL_OK)
        return fail(path);
    if (reel_seq_create(s, "s", &p, &q) != REEL_OK)
        return fail("create");
    for (i = 0; i < frames; i++) {
        reel_frame_in in = {buf, fs, i, 1, i == 0 ? REEL_FRAME_KEY : 0, REEL_STATUS_OK};
        for (y = 0; y < h; y++)
            fill_row(buf + (size_t)y * w * 3, i, y, w);
        if (reel_frame_append(q, &in, NULL) != REEL_OK)
            return fail("append");
    }
    free(buf);
    reel_seq_close(q);
    return reel_close(s) == REEL_OK ? 0 : fail("close");
}

/* Compare every 37th row of frame idx with the pattern. */
static int check(const uint8_t *px, int64_t idx, int w, int h, uint8_t *row)
{
    int y;
    for (y = (int)(idx % 37); y < h; y += 37) {
        fill_row(row, idx, y, w);
        if (memcmp(px + (size_t)y * w * 3, row, (size_t)w * 3) != 0) {
            fprintf(stderr, "pressure_reader: frame %lld row %d: wrong pixels\n", (long long)idx,
                    y);
            return 1;
        }
    }
    return 0;
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void spin_ms(double ms)
{
    double end = now_s() + ms / 1000.0;
    while (now_s() < end)
        ;
}

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    *out = strtol(s, &end, 10);
    return errno || end == s || *end || *out < 0;
}

static int read_frames(int argc, char **argv)
{
    const char *path = argv[2];
    long budget = 2L << 30, n = 0, work = 0, seed = 1, hold = 0;
    int random_order = 1, monitor = 1, i, rc = 0;
    reel_store *s;
    reel_seq *q;
    reel_seq_info info;
    reel_cache_stats st;
    reel_frame **held;
    uint8_t *row;
    uint64_t rng;
    double t0, secs;
    for (i = 3; i < argc; i++) {
        int more = i + 1 < argc;
        if (!strcmp(argv[i], "--no-monitor"))
            monitor = 0;
        else if (more && !strcmp(argv[i], "--order"))
            random_order = strcmp(argv[++i], "seq") != 0;
        else if (more && !strcmp(argv[i], "--budget") && !parse_long(argv[i + 1], &budget))
            i++;
        else if (more && !strcmp(argv[i], "--frames") && !parse_long(argv[i + 1], &n))
            i++;
        else if (more && !strcmp(argv[i], "--work-ms") && !parse_long(argv[i + 1], &work))
            i++;
        else if (more && !strcmp(argv[i], "--seed") && !parse_long(argv[i + 1], &seed))
            i++;
        else if (more && !strcmp(argv[i], "--hold") && !parse_long(argv[i + 1], &hold) &&
                 hold < 1024)
            i++;
        else
            return fprintf(stderr, "pressure_reader read: bad argument '%s'\n", argv[i]), 2;
    }
    if (reel_cache_set_budget(reel_cache_default(), (size_t)budget) != REEL_OK)
        return fail("budget");
    if (!monitor && reel_cache_stop_pressure_monitor(reel_cache_default()) != REEL_OK)
        return fail("monitor");
    if (reel_open(path, REEL_OPEN_READONLY, NULL, &s) != REEL_OK)
        return fail(path);
    if (reel_seq_open(s, "s", &q) != REEL_OK || reel_seq_get_info(q, &info) != REEL_OK)
        return fail("sequence");
    if (n == 0)
        n = (long)info.frame_count;
    row = malloc((size_t)info.width * 3);
    held = calloc((size_t)hold + 1, sizeof *held);
    if (!row || !held)
        return 1;
    rng = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 1;
    t0 = now_s();
    for (i = 0; i < n && rc == 0; i++) {
        int64_t idx;
        reel_frame *f;
        const void *px;
        if (random_order) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            idx = (int64_t)(rng % (uint64_t)info.frame_count);
        } else {
            idx = i % info.frame_count;
        }
        if (reel_frame_get(q, idx, 0, &f) != REEL_OK || reel_frame_pixels(f, &px, NULL) != REEL_OK)
            return fail("get");
        rc = check(px, idx, info.width, info.height, row);
        if (work)
            spin_ms((double)work);
        if (hold) {
            reel_frame_release(held[i % hold]);
            held[i % hold] = f;
        } else {
            reel_frame_release(f);
        }
    }
    secs = now_s() - t0;
    for (i = 0; i < hold; i++)
        reel_frame_release(held[i]);
    reel_cache_get_stats(reel_cache_default(), &st);
    printf("frames=%ld seconds=%.3f fps=%.1f peak_rss_mib=%.1f resident_mib=%.1f "
           "budget_mib=%.1f effective_mib=%.1f pressure_events=%llu freed_events=%llu "
           "evictions=%llu\n",
           n, secs, n / secs, peak_rss_kib() / 1024.0, st.resident_bytes / 1048576.0,
           st.budget / 1048576.0, st.effective_budget / 1048576.0,
           (unsigned long long)st.pressure_events, (unsigned long long)st.pressure_freed,
           (unsigned long long)st.evictions);
    fflush(stdout);
    free(row);
    free(held);
    reel_seq_close(q);
    reel_close(s);
    return rc;
}

static int hog(long step_mb, long steps, long step_ms)
{
    long i;
    for (i = 0; i < steps; i++) {
        size_t n = (size_t)step_mb << 20;
        char *p = malloc(n);
        if (!p)
            return 1;
        memset(p, (int)i + 1, n);
        usleep((useconds_t)step_ms * 1000);
    }
    printf("hog: holding %ld MiB\n", steps * step_mb);
    fflush(stdout);
    for (;;)
        pause();
}

/* One number from a cgroup file, or a line "key value" of its memory.stat. */
static double cg_value(const char *dir, const char *file, const char *key)
{
    char path[1100], line[256];
    double v = -1;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (!(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof line, f))
        if (!key) {
            v = strtod(line, NULL);
            break;
        } else if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ' ') {
            v = strtod(line + strlen(key), NULL);
            break;
        }
    fclose(f);
    return v;
}

/* Headroom of the cgroup as a share of its limit: limit - (usage - page cache). */
static double headroom_share(const char *dir)
{
    double limit = cg_value(dir, "memory.limit_in_bytes", NULL);
    double usage = cg_value(dir, "memory.usage_in_bytes", NULL);
    double file = cg_value(dir, "memory.stat", "total_active_file") +
                  cg_value(dir, "memory.stat", "total_inactive_file");
    return (limit - (usage - file)) / limit;
}

static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    if (f)
        fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static reel_cache_stats stats(void)
{
    reel_cache_stats st;
    reel_cache_get_stats(reel_cache_default(), &st);
    return st;
}

/* Read random frames until the cache holds `fill` bytes. */
static int fill_cache(reel_seq *q, int64_t frames, size_t fill)
{
    uint64_t rng = 12345;
    int guard = 0;
    while (stats().resident_bytes < fill && guard++ < 100000) {
        reel_frame *f;
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        if (reel_frame_get(q, (int64_t)(rng % (uint64_t)frames), 0, &f) != REEL_OK)
            return fail("get");
        reel_frame_release(f);
    }
    return 0;
}

static int latency(const char *path, const char *dir)
{
    reel_pressure_options o = {0};
    reel_store *s;
    reel_seq *q;
    reel_seq_info info;
    reel_cache_stats st;
    double limit = cg_value(dir, "memory.limit_in_bytes", NULL), t0, t1, cut_ms = -1;
    char *chunks[1024];
    int n = 0, i;
    uint64_t events;
    long rss0, rss1;
    o.interval_ms = 10000;           /* only a kernel event can act in time */
    o.growth_check_kib = 1 << 30;    /* no checks on the loading path */
    if (limit <= 0 || reel_cache_start_pressure_monitor(reel_cache_default(), &o) != REEL_OK ||
        reel_cache_set_budget(reel_cache_default(), (size_t)(limit * 0.55)) != REEL_OK)
        return fail("set-up");
    if (reel_open(path, REEL_OPEN_READONLY, NULL, &s) != REEL_OK ||
        reel_seq_open(s, "s", &q) != REEL_OK || reel_seq_get_info(q, &info) != REEL_OK)
        return fail(path);
    reel_store_set_readahead(s, 0, 1);
    if (fill_cache(q, info.frame_count, (size_t)(limit * 0.5)))
        return 1;
    usleep(300000); /* let the monitor's first looks and registrations settle */
    events = stats().pressure_events;
    /* (1) allocate until the headroom falls below 15%, then wait for the cut */
    t0 = 0;
    while (n < 1024 && !t0) {
        chunks[n] = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (chunks[n] == MAP_FAILED)
            return fail("mmap");
        memset(chunks[n++], 1, 1 << 20);
        if (headroom_share(dir) < 0.15)
            t0 = now_s();
    }
    for (t1 = now_s(); t1 - t0 < 2.0; t1 = now_s())
        if (stats().pressure_events > events) {
            cut_ms = (t1 - t0) * 1000;
            break;
        }
    for (i = 0; i < n; i++)
        munmap(chunks[i], 1 << 20);
    /* (2) an injected critical level: from the call to no unpinned byte */
    reel_cache_stop_pressure_monitor(reel_cache_default());
    if (fill_cache(q, info.frame_count, (size_t)(limit * 0.5)))
        return 1;
    st = stats();
    t0 = now_s();
    reel_cache_report_pressure(reel_cache_default(), REEL_PRESSURE_CRITICAL);
    t1 = now_s();
    rss0 = rss_kib();
    usleep(100000);
    rss1 = rss_kib();
    printf("filled_mib=%.1f threshold_to_cut_ms=%.2f critical_to_empty_ms=%.2f "
           "unpinned_left=%zu rss_minus_resident_mib=%.1f after_100ms_mib=%.1f\n",
           st.resident_bytes / 1048576.0, cut_ms, (t1 - t0) * 1000,
           stats().resident_bytes - stats().pinned_bytes,
           (rss0 * 1024.0 - (double)stats().resident_bytes) / 1048576.0,
           (rss1 * 1024.0 - (double)stats().resident_bytes) / 1048576.0);
    fflush(stdout);
    reel_seq_close(q);
    reel_close(s);
    return cut_ms < 0; /* no cut within 2 s: the kernel's event did not arrive */
}

static int idle(long seconds)
{
    struct rusage a, b;
    double t0, secs, cpu;
    if (!reel_cache_default())
        return fail("default cache");
    usleep(200000); /* the monitor's start-up */
    getrusage(RUSAGE_SELF, &a);
    t0 = now_s();
    sleep((unsigned)seconds);
    getrusage(RUSAGE_SELF, &b);
    secs = now_s() - t0;
    cpu = (double)(b.ru_utime.tv_sec - a.ru_utime.tv_sec + b.ru_stime.tv_sec - a.ru_stime.tv_sec) +
          (double)(b.ru_utime.tv_usec - a.ru_utime.tv_usec + b.ru_stime.tv_usec - a.ru_stime.tv_usec) /
              1e6;
    printf("idle_seconds=%.1f monitor_cpu_ms=%.1f share_of_core_percent=%.3f\n", secs,
           cpu * 1000, 100 * cpu / secs);
    return 0;
}

int main(int argc, char **argv)
{
    long a, b, c;
    if (argc == 6 && !strcmp(argv[1], "make") && !parse_long(argv[3], &a) &&
        !parse_long(argv[4], &b) && !parse_long(argv[5], &c) && b > 0 && c > 0)
        return make(argv[2], a, (int)b, (int)c);
    if (argc >= 3 && !strcmp(argv[1], "read"))
        return read_frames(argc, argv);
    if (argc == 5 && !strcmp(argv[1], "hog") && !parse_long(argv[2], &a) &&
        !parse_long(argv[3], &b) && !parse_long(argv[4], &c))
        return hog(a, b, c);
    if (argc == 4 && !strcmp(argv[1], "latency"))
        return latency(argv[2], argv[3]);
    if (argc == 3 && !strcmp(argv[1], "idle") && !parse_long(argv[2], &a))
        return idle(a);
    fprintf(stderr, "usage: pressure_reader make STORE FRAMES WIDTH HEIGHT\n"
                    "       pressure_reader read STORE [--budget BYTES] [--order random|seq] "
                    "[--frames N] [--no-monitor] [--work-ms MS] [--seed N] [--hold N]\n"
                    "       pressure_reader hog STEP_MB STEPS STEP_MS\n"
                    "       pressure_reader latency STORE CGROUP_DIR\n"
                    "       pressure_reader idle SECONDS\n");
    return 2;
}
