/*
 * pressure.c - watching the process's memory and cutting a cache before the kernel has to.
 *
 * A monitor thread per cache looks at the headroom, what the process may still use:
 *   - its memory cgroup: the nearest cgroup (v2, else v1) with a limit, whose usage less its
 *     page cache (active and inactive file pages, which the kernel takes back first) is
 *     compared with the limit;
 *   - the system: MemAvailable against MemTotal;
 *   - PSI (/proc/pressure/memory): the share of time some task stalled on memory over the
 *     last second or so, from the "total" counter.
 * It looks when the kernel says something happened and otherwise every interval:
 *   - cgroup v1: memory.pressure_level "medium" and "critical" and three usage thresholds on
 *     memory.usage_in_bytes (at the target, moderate and critical headroom), registered
 *     through cgroup.event_control, all signalling one eventfd;
 *   - cgroup v2: a PSI trigger on memory.pressure and memory.events (POLLPRI); the system's
 *     /proc/pressure/memory trigger. Each where the kernel accepts it; none is required.
 * The cache also asks for a look on the thread that loads, each time it has loaded a set
 * amount since the last one (the growth hook), so that a reader decoding faster than the
 * interval cannot outrun the monitor.
 *
 * A look compares the headroom with three shares of the limit (critical < moderate < target):
 * below critical, every unpinned frame goes; below moderate, enough go to bring the headroom
 * back to the target; below the target, the cache is held where it is (it evicts to load).
 * The interval is short (100 ms) because a look is cheap: four small files read with pread
 * on descriptors kept open (~20 us of CPU), 0.02% of a core while idle (measured: see
 * README, "Memory").
 * All paths hang off a root directory that tests point at files of their own.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "cache/cache.h"

#define UNLIMITED ((double)(1ull << 60)) /* cgroup "no limit" values are at least this */
#define REDISCOVER_MS 1000               /* how often to look for a changed cgroup */
#define PSI_WINDOW_MS 1000               /* stall share measured over about this long */

/* Descriptors kept open on the limiting cgroup's files. */
typedef struct cgroup {
    int version;          /* 2 or 1; 0 when no cgroup limit applies */
    char dir[1024];       /* its directory, root included */
    int usage_fd, limit_fd, stat_fd;
    double limit;         /* the limit the event registrations were made for */
    double file;          /* page cache when they were made (usage thresholds count it) */
    double file_now;      /* page cache at the last look */
    int64_t registered_ms;
} cgroup;

typedef struct monitor {
    reel_cache *cache;
    reel_pressure_options o;
    char root[512];
    pthread_t thread;
    int wake_fd;   /* eventfd: stop */
    int event_fd;  /* eventfd the kernel signals for cgroup v1 registrations, or -1 */
    int cg_psi_fd; /* cgroup v2 memory.pressure trigger (POLLPRI), or -1 */
    int cg_events_fd; /* cgroup v2 memory.events (POLLPRI), or -1 */
    int sys_psi_fd;   /* /proc/pressure/memory trigger (POLLPRI), or -1 */
    int meminfo_fd, psi_fd; /* for reading */
    pthread_mutex_t look_lock; /* one look at a time: the thread's and the loaders' */
    cgroup cg;
    char cg_line[1024];     /* /proc/self/cgroup as last seen */
    int64_t discovered_ms;
    int64_t psi_at_ms;      /* the last PSI sample: time and total stall (us) */
    double psi_total, psi_share;
    atomic_int stop;
    atomic_int level; /* the level the last look found */
    atomic_ullong kernel_events; /* wake-ups by the kernel, for tests and statistics */
} monitor;

static int open_under(const monitor *m, const char *path, int flags)
{
    char full[2048];
    snprintf(full, sizeof full, "%s%s", m->root, path);
    return open(full, flags | O_CLOEXEC);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Read a small file from the start into buf (NUL-terminated); 0 or -1. */
static int read_fd(int fd, char *buf, size_t size)
{
    ssize_t n;
    if (fd < 0 || (n = pread(fd, buf, size - 1, 0)) < 0)
        return -1;
    buf[n] = 0;
    return 0;
}

static int slurp(const monitor *m, const char *path, char *buf, size_t size)
{
    int fd = open_under(m, path, O_RDONLY), rc = read_fd(fd, buf, size);
    close_fd(&fd);
    return rc;
}

/* The number after "key" at the start of a line of text (e.g. "MemAvailable:" or
 * "inactive_file "), or -1. */
static double line_value(const char *text, const char *key)
{
    size_t n = strlen(key);
    const char *p = text;
    while (p && *p) {
        if (!strncmp(p, key, n))
            return strtod(p + n, NULL);
        if ((p = strchr(p, '\n')))
            p++;
    }
    return -1;
}

/* One number from a cgroup file; -1 for "max", no number or a read error. */
static double fd_number(int fd)
{
    char buf[64], *end;
    double v;
    if (read_fd(fd, buf, sizeof buf) != 0 || !strncmp(buf, "max", 3))
        return -1;
    v = strtod(buf, &end);
    return end == buf ? -1 : v;
}

/* ---- finding the cgroup whose limit applies --------------------------------------------- */

static void cgroup_close(cgroup *g)
{
    close_fd(&g->usage_fd);
    close_fd(&g->limit_fd);
    close_fd(&g->stat_fd);
    g->version = 0;
    g->dir[0] = 0;
    g->limit = g->file = g->file_now = 0;
}

/* Open the files of dir (relative to the root) as a version-v cgroup; 0 when it has a limit. */
static int cgroup_try(const monitor *m, cgroup *g, int v, const char *dir)
{
    static const char *const files[3][3] = {
        {"", "", ""},
        {"memory.usage_in_bytes", "memory.limit_in_bytes", "memory.stat"},
        {"memory.current", "memory.max", "memory.stat"}};
    char path[1200];
    double limit;
    g->version = v;
    snprintf(g->dir, sizeof g->dir, "%s", dir);
    snprintf(path, sizeof path, "%s/%s", dir, files[v][0]);
    g->usage_fd = open_under(m, path, O_RDONLY);
    snprintf(path, sizeof path, "%s/%s", dir, files[v][1]);
    g->limit_fd = open_under(m, path, O_RDONLY);
    snprintf(path, sizeof path, "%s/%s", dir, files[v][2]);
    g->stat_fd = open_under(m, path, O_RDONLY);
    limit = fd_number(g->limit_fd);
    if (g->usage_fd >= 0 && limit > 0 && limit < UNLIMITED)
        return 0;
    cgroup_close(g);
    return -1;
}

/*
 * From the process's cgroup (the line of /proc/self/cgroup starting with prefix) up to the
 * controller's mount, the first directory with a limit; inside a container the controller is
 * often mounted at the process's own cgroup, so the mount itself is tried last.
 */
static int cgroup_find(const monitor *m, cgroup *g, const char *lines, int v)
{
    const char *prefix = v == 2 ? "0::" : ":memory:";
    const char *mount = v == 2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
    const char *at = lines;
    char dir[1024];
    char *slash;
    while ((at = strstr(at, prefix)) && v == 2 && at != lines && at[-1] != '\n')
        at++; /* "0::" must start its line */
    if (!at)
        return -1;
    at += strlen(prefix);
    snprintf(dir, sizeof dir, "%s%.*s", mount, (int)strcspn(at, "\n"), at);
    while (strlen(dir) > strlen(mount)) {
        if (cgroup_try(m, g, v, dir) == 0)
            return 0;
        if ((slash = strrchr(dir, '/')))
            *slash = 0;
    }
    return cgroup_try(m, g, v, mount);
}

/* ---- kernel events ---------------------------------------------------------------------- */

static void events_close(monitor *m)
{
    close_fd(&m->event_fd); /* closing the eventfd unregisters its cgroup v1 events */
    close_fd(&m->cg_psi_fd);
    close_fd(&m->cg_events_fd);
}

/*
 * cgroup v1: pressure levels and usage thresholds, all signalling m->event_fd. The kernel
 * compares thresholds with the usage page cache included, so each is placed where the usage
 * less the page cache seen at this look would cross its share; when the page cache moves,
 * they are placed again (reregister).
 */
static void events_v1(monitor *m)
{
    const double shares[3] = {m->o.target_percent, m->o.moderate_percent, m->o.critical_percent};
    char path[1200], line[128];
    int ctl, level_fd, i, n;
    snprintf(path, sizeof path, "%s/cgroup.event_control", m->cg.dir);
    if ((ctl = open_under(m, path, O_WRONLY)) < 0)
        return;
    snprintf(path, sizeof path, "%s/memory.pressure_level", m->cg.dir);
    level_fd = open_under(m, path, O_RDONLY);
    if ((m->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) >= 0) {
        for (i = 0; i < 2 && level_fd >= 0; i++) {
            n = snprintf(line, sizeof line, "%d %d %s", m->event_fd, level_fd,
                         i == 0 ? "medium" : "critical");
            if (write(ctl, line, (size_t)n) < 0)
                break;
        }
        for (i = 0; i < 3; i++) {
            double at = m->cg.limit * (1 - shares[i] / 100) + m->cg.file_now;
            n = snprintf(line, sizeof line, "%d %d %.0f", m->event_fd, m->cg.usage_fd, at);
            if (at < m->cg.limit && write(ctl, line, (size_t)n) < 0)
                break;
        }
    }
    m->cg.file = m->cg.file_now;
    m->cg.registered_ms = reel__mono_ms();
    close_fd(&level_fd);
    close_fd(&ctl);
}

/* Place the usage thresholds again when the page cache moved by more than 1/256 of the limit
 * or 1 MiB (at most twice a second). */
static void reregister(monitor *m)
{
    double moved = fabs(m->cg.file_now - m->cg.file);
    if (m->cg.version != 1 || moved <= m->cg.limit / 256 || moved <= 1 << 20 ||
        reel__mono_ms() - m->cg.registered_ms < 500)
        return;
    close_fd(&m->event_fd);
    events_v1(m);
}

/* A PSI trigger: some stall of 100 ms within 1 s. */
static int psi_trigger(const monitor *m, const char *path)
{
    static const char trigger[] = "some 100000 1000000";
    int fd = open_under(m, path, O_RDWR | O_NONBLOCK);
    if (fd >= 0 && write(fd, trigger, sizeof trigger) < 0)
        close_fd(&fd);
    return fd;
}

static void events_v2(monitor *m)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/memory.pressure", m->cg.dir);
    m->cg_psi_fd = psi_trigger(m, path);
    snprintf(path, sizeof path, "%s/memory.events", m->cg.dir);
    m->cg_events_fd = open_under(m, path, O_RDONLY);
}

/* Look for the process's cgroup again (it may have moved, or its limit changed) and register
 * the kernel events of a new one. */
static void discover(monitor *m)
{
    char lines[sizeof m->cg_line];
    double limit;
    m->discovered_ms = reel__mono_ms();
    if (slurp(m, "/proc/self/cgroup", lines, sizeof lines) != 0)
        lines[0] = 0;
    limit = m->cg.version ? fd_number(m->cg.limit_fd) : 0;
    if (!strcmp(lines, m->cg_line) && limit == m->cg.limit)
        return;
    memcpy(m->cg_line, lines, sizeof lines);
    events_close(m);
    cgroup_close(&m->cg);
    if (cgroup_find(m, &m->cg, lines, 2) != 0 && cgroup_find(m, &m->cg, lines, 1) != 0)
        return;
    m->cg.limit = fd_number(m->cg.limit_fd);
    if (m->cg.version == 1)
        events_v1(m);
    else
        events_v2(m);
}

/* ---- a look ----------------------------------------------------------------------------- */

/* What the sources say: the worst headroom share and what it takes, in bytes, to bring it
 * back to the target; and the PSI stall share. */
typedef struct sample {
    double share;  /* headroom as % of its limit; 101 when no source says anything */
    double need;   /* bytes to free to reach the target share (0 when above it) */
    double psi;    /* % of time stalled on memory lately; -1 unknown */
} sample;

static void consider(const monitor *m, sample *s, double limit, double headroom)
{
    double share, need;
    if (limit <= 0)
        return;
    share = headroom <= 0 ? 0 : 100.0 * headroom / limit;
    need = m->o.target_percent / 100.0 * limit - headroom;
    if (share < s->share)
        s->share = share;
    if (need > s->need)
        s->need = need;
}

static void sample_cgroup(monitor *m, sample *s)
{
    char stat[8192];
    const char *active = m->cg.version == 1 ? "total_active_file " : "active_file ";
    const char *inactive = m->cg.version == 1 ? "total_inactive_file " : "inactive_file ";
    double limit, usage, a, i;
    if (!m->cg.version || (limit = fd_number(m->cg.limit_fd)) <= 0 || limit >= UNLIMITED ||
        (usage = fd_number(m->cg.usage_fd)) < 0)
        return;
    if (read_fd(m->cg.stat_fd, stat, sizeof stat) == 0) {
        a = line_value(stat, active);
        i = line_value(stat, inactive);
        m->cg.file_now = (a > 0 ? a : 0) + (i > 0 ? i : 0);
        usage -= m->cg.file_now;
    }
    consider(m, s, limit, limit - (usage > 0 ? usage : 0));
}

static void sample_system(const monitor *m, sample *s)
{
    char buf[8192];
    if (read_fd(m->meminfo_fd, buf, sizeof buf) == 0)
        consider(m, s, line_value(buf, "MemTotal:") * 1024,
                 line_value(buf, "MemAvailable:") * 1024);
}

/* The stall share from PSI's total (microseconds stalled), over at least PSI_WINDOW_MS. */
static void sample_psi(monitor *m, sample *s)
{
    char buf[512];
    const char *t;
    int64_t now = reel__mono_ms();
    double total;
    if (read_fd(m->psi_fd, buf, sizeof buf) != 0 || !(t = strstr(buf, "total=")))
        return;
    total = strtod(t + 6, NULL);
    if (m->psi_at_ms == 0 || total < m->psi_total) {
        m->psi_at_ms = now;
        m->psi_total = total;
    } else if (now - m->psi_at_ms >= PSI_WINDOW_MS) {
        m->psi_share = (total - m->psi_total) / 10.0 / (double)(now - m->psi_at_ms);
        m->psi_at_ms = now;
        m->psi_total = total;
    }
    s->psi = m->psi_share;
}

/* Look at the headroom and act on it (look_lock held). Only the monitor's thread looks for a
 * changed cgroup (its descriptors are what that thread polls). */
static void look_locked(monitor *m, int on_thread)
{
    sample s = {101, 0, -1};
    size_t resident;
    int level = REEL_PRESSURE_NONE;
    if (on_thread && reel__mono_ms() - m->discovered_ms >= REDISCOVER_MS)
        discover(m);
    sample_cgroup(m, &s);
    if (on_thread)
        reregister(m);
    sample_system(m, &s);
    sample_psi(m, &s);
    resident = reel__cache_resident(m->cache);
    if (s.share < m->o.critical_percent || s.psi >= m->o.psi_critical) {
        level = REEL_PRESSURE_CRITICAL;
        reel__cache_cut(m->cache, 0, NULL);
    } else if (s.share < m->o.moderate_percent || s.psi >= m->o.psi_moderate) {
        /* free what brings the headroom back to the target; PSI alone: half the frames */
        size_t need = s.need > 0 ? (s.need < (double)resident ? (size_t)s.need : resident)
                                 : resident / 2;
        level = REEL_PRESSURE_MODERATE;
        reel__cache_cut(m->cache, resident - need, NULL);
    } else if (s.share < m->o.target_percent) {
        reel__cache_hold(m->cache);
    }
    atomic_store(&m->level, level);
    reel__cache_set_level(m->cache, level);
}

/* The growth hook: a loading thread asks for a look; it skips it when one is under way. */
static void grew(void *arg)
{
    monitor *m = arg;
    if (pthread_mutex_trylock(&m->look_lock) != 0)
        return;
    look_locked(m, 0);
    pthread_mutex_unlock(&m->look_lock);
}

/* Clear what a kernel event left on *fd so that poll() waits for the next one; an eventfd is
 * read, memory.events re-arms by being read, a PSI trigger needs nothing. A descriptor that
 * fails is closed (the interval still runs). */
static void drain(int *fd, short revents)
{
    char buf[256];
    uint64_t n;
    if (!revents || *fd < 0)
        return;
    if (revents & POLLNVAL)
        *fd = -1;
    else if (revents & POLLIN ? read(*fd, &n, sizeof n) < 0 && errno != EAGAIN
                              : read_fd(*fd, buf, sizeof buf) != 0)
        close_fd(fd);
}

/*
 * The thread: a look, then wait for a kernel event or the interval. A kernel event means the
 * usage is near a line (the kernel counts it a little differently, in per-CPU batches), so
 * for HURRY_MS after one the thread looks every HURRY_STEP_MS instead.
 */
#define HURRY_MS 500
#define HURRY_STEP_MS 5

static void *watch(void *arg)
{
    monitor *m = arg;
    int64_t hurry_until = 0;
    while (!atomic_load(&m->stop)) {
        int *fds[4] = {&m->event_fd, &m->cg_psi_fd, &m->cg_events_fd, &m->sys_psi_fd};
        struct pollfd p[5] = {{m->wake_fd, POLLIN, 0}};
        int i, timeout = m->o.interval_ms;
        pthread_mutex_lock(&m->look_lock);
        look_locked(m, 1);
        pthread_mutex_unlock(&m->look_lock);
        if (reel__mono_ms() < hurry_until && timeout > HURRY_STEP_MS)
            timeout = HURRY_STEP_MS;
        for (i = 0; i < 4; i++)
            p[i + 1] = (struct pollfd){*fds[i], i == 0 ? POLLIN : POLLPRI, 0};
        if (poll(p, 5, timeout) > 0)
            for (i = 0; i < 4; i++)
                if (p[i + 1].revents) {
                    drain(fds[i], p[i + 1].revents);
                    hurry_until = reel__mono_ms() + HURRY_MS;
                    atomic_fetch_add(&m->kernel_events, 1);
                }
    }
    return NULL;
}

/* ---- start and stop ------------------------------------------------------------------------ */

static int check_options(const reel_pressure_options *o)
{
    int i;
    if (o->interval_ms < 0 || o->moderate_percent < 0 || o->moderate_percent > 100 ||
        o->critical_percent < 0 || o->critical_percent > 100 || o->target_percent < 0 ||
        o->target_percent > 100 || o->calm_ms < 0 || o->growth_check_kib < 0)
        return reel__err(REEL_INVALID,
                         "reel_cache_start_pressure_monitor: negative or > 100%% option");
    /* written so that NaN fails too */
    if (!(o->psi_moderate >= 0 && o->psi_moderate <= 100) ||
        !(o->psi_critical >= 0 && o->psi_critical <= 100))
        return reel__err(REEL_INVALID,
                         "reel_cache_start_pressure_monitor: psi_moderate %g and psi_critical "
                         "%g must be from 0 to 100 (%% of time stalled)",
                         o->psi_moderate, o->psi_critical);
    for (i = 0; i < (int)(sizeof o->reserved / sizeof o->reserved[0]); i++)
        if (o->reserved[i])
            return reel__err(REEL_INVALID,
                             "reel_cache_start_pressure_monitor: reserved must be zero");
    return REEL_OK;
}

static void set_defaults(reel_pressure_options *o)
{
    o->interval_ms = o->interval_ms ? o->interval_ms : 100;
    o->critical_percent = o->critical_percent ? o->critical_percent : 5;
    o->moderate_percent = o->moderate_percent ? o->moderate_percent : 15;
    o->target_percent = o->target_percent ? o->target_percent : 25;
    o->psi_moderate = o->psi_moderate > 0 ? o->psi_moderate : 10;
    o->psi_critical = o->psi_critical > 0 ? o->psi_critical : 40;
    o->calm_ms = o->calm_ms ? o->calm_ms : 2000;
}

/* How much the cache may load between two looks: growth_check_kib, or a 32nd of the
 * smallest limit in sight (at most 16 MiB), so that the distance between the target and the
 * moderate headroom is never crossed between two looks. */
static size_t grow_step(const monitor *m)
{
    char buf[8192];
    double limit = UNLIMITED, total;
    if (m->o.growth_check_kib)
        return (size_t)m->o.growth_check_kib << 10;
    if (m->cg.version)
        limit = m->cg.limit;
    if (read_fd(m->meminfo_fd, buf, sizeof buf) == 0 &&
        (total = line_value(buf, "MemTotal:") * 1024) > 0 && total < limit)
        limit = total;
    return limit / 32 < (double)(16 << 20) ? (size_t)(limit / 32) : (size_t)16 << 20;
}

static void monitor_free(monitor *m)
{
    events_close(m);
    cgroup_close(&m->cg);
    close_fd(&m->sys_psi_fd);
    close_fd(&m->meminfo_fd);
    close_fd(&m->psi_fd);
    close_fd(&m->wake_fd);
    pthread_mutex_destroy(&m->look_lock);
    free(m);
}

static monitor *monitor_new(reel_cache *c, const reel_pressure_options *opts)
{
    monitor *m = reel__calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->event_fd = m->cg_psi_fd = m->cg_events_fd = m->sys_psi_fd = -1;
    m->cg.usage_fd = m->cg.limit_fd = m->cg.stat_fd = -1;
    if (opts)
        m->o = *opts;
    set_defaults(&m->o);
    snprintf(m->root, sizeof m->root, "%s", opts && opts->root ? opts->root : "");
    m->o.root = NULL; /* the copy in m->root is what counts */
    m->cache = c;
    pthread_mutex_init(&m->look_lock, NULL);
    m->wake_fd = eventfd(0, EFD_CLOEXEC);
    m->meminfo_fd = open_under(m, "/proc/meminfo", O_RDONLY);
    m->psi_fd = open_under(m, "/proc/pressure/memory", O_RDONLY);
    m->sys_psi_fd = psi_trigger(m, "/proc/pressure/memory");
    m->cg_line[0] = 1; /* differs from any file: the first discovery registers */
    discover(m);
    if (m->wake_fd < 0) {
        monitor_free(m);
        return NULL;
    }
    return m;
}

/* Stop and free a monitor (the cache's detach callback; the cache's attach lock is held). */
static void monitor_stop(void *obj)
{
    monitor *m = obj;
    uint64_t one = 1;
    reel__cache_set_grow_hook(m->cache, NULL, NULL, 0); /* waits for a look under way */
    atomic_store(&m->stop, 1);
    if (write(m->wake_fd, &one, sizeof one) < 0)
        abort(); /* an eventfd write of 1 cannot fail */
    pthread_join(m->thread, NULL);
    monitor_free(m);
}

/* Start a monitor on c, replacing the one it has (the cache's attach lock held). */
static int monitor_start(reel_cache *c, const reel_pressure_options *opts)
{
    monitor *m;
    int rc;
    if (opts && (rc = check_options(opts)) != REEL_OK)
        return rc;
    if (!(m = monitor_new(c, opts)))
        return reel__err(REEL_NOMEM, "cannot set up the memory-pressure monitor");
    reel__cache_attach(c, NULL, NULL); /* a new monitor replaces the old one */
    reel__cache_set_calm(c, m->o.calm_ms);
    if (pthread_create(&m->thread, NULL, watch, m) != 0) {
        monitor_free(m);
        return reel__err(REEL_NOMEM, "cannot start the memory-pressure monitor thread");
    }
    reel__cache_set_grow_hook(c, grew, m, grow_step(m));
    reel__cache_attach(c, m, monitor_stop);
    return REEL_OK;
}

int reel_cache_start_pressure_monitor(reel_cache *c, const reel_pressure_options *opts)
{
    int rc;
    if (reel__cache_check(c, __func__) != REEL_OK)
        return REEL_MISUSE;
    reel__cache_attach_lock(c, 1);
    rc = monitor_start(c, opts);
    reel__cache_attach_lock(c, 0);
    return rc;
}

int reel_cache_stop_pressure_monitor(reel_cache *c)
{
    if (reel__cache_check(c, __func__) != REEL_OK)
        return REEL_MISUSE;
    reel__cache_attach_lock(c, 1);
    reel__cache_attach(c, NULL, NULL);
    reel__cache_attach_lock(c, 0);
    return REEL_OK;
}
