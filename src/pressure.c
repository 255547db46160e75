/*
 * pressure.c - watching the system's memory and shrinking a cache when it runs short.
 *
 * A monitor thread per cache looks, every interval, at three sources and takes the worst:
 *   - /proc/meminfo: MemAvailable as a share of MemTotal;
 *   - the process's memory cgroup (v2 memory.max / memory.current, or v1 limit_in_bytes /
 *     usage_in_bytes), less its inactive file cache: the headroom left under the limit;
 *   - /proc/pressure/memory (PSI): the share of time some task stalled on memory (avg10).
 * A level above none is handed to reel_cache_pressure(), which writes unsaved state back and
 * shrinks the cache; it repeats every interval while the pressure lasts. A missing source
 * (no PSI, no cgroup limit) is simply not used. All paths hang off a root directory that
 * tests point at files of their own.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define UNLIMITED ((double)(1ull << 60)) /* cgroup "no limit" values are at least this */

typedef struct reel__monitor {
    reel_cache *cache;
    reel_pressure_options o;
    char root[512];
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    int level; /* the last level seen */
} monitor;

/* Read a whole small file under the root into buf; 0 or -1. */
static int slurp(const monitor *m, const char *path, char *buf, size_t size)
{
    char full[1024];
    size_t n;
    FILE *f;
    snprintf(full, sizeof full, "%s%s", m->root, path);
    if (!(f = fopen(full, "r")))
        return -1;
    n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = 0;
    return 0;
}

/* The number after "key" (e.g. "MemAvailable:" or "avg10=") in text, or -1. */
static double field(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    return p ? strtod(p + strlen(key), NULL) : -1;
}

/* MemAvailable as a percentage of MemTotal, or -1. */
static double meminfo_free(const monitor *m)
{
    char buf[8192];
    double total, avail;
    if (slurp(m, "/proc/meminfo", buf, sizeof buf) != 0)
        return -1;
    total = field(buf, "MemTotal:");
    avail = field(buf, "MemAvailable:");
    return total > 0 && avail >= 0 ? 100.0 * avail / total : -1;
}

/* Read one number from a cgroup file; -1 for "max", a missing file or no number. */
static double cg_number(const monitor *m, const char *dir, const char *file)
{
    char path[1024], buf[64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (slurp(m, path, buf, sizeof buf) != 0 || !strncmp(buf, "max", 3))
        return -1;
    return strtod(buf, NULL);
}

/* Headroom under the cgroup's limit as a percentage of it, or -1 without a limit. v2 first
 * ("0::/path" in /proc/self/cgroup), then v1 (the "memory" controller's line). */
static double cgroup_free(const monitor *m)
{
    static const char *const layouts[2][5] = {
        /* line prefix, mount, limit, usage, inactive file cache key in memory.stat */
        {"0::", "/sys/fs/cgroup", "memory.max", "memory.current", "inactive_file "},
        {":memory:", "/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes",
         "total_inactive_file "}};
    char buf[4096], dir[1024], stat[8192];
    int k;
    if (slurp(m, "/proc/self/cgroup", buf, sizeof buf) != 0)
        return -1;
    for (k = 0; k < 2; k++) {
        const char *const *l = layouts[k];
        const char *at = strstr(buf, l[0]);
        double limit, usage, inactive;
        int tries;
        while (k == 0 && at && at != buf && at[-1] != '\n') /* "0::" must start its line */
            at = strstr(at + 1, l[0]);
        if (!at)
            continue;
        at += strlen(l[0]);
        /* inside a container the controller is often mounted at its own cgroup: try the
         * named path, then the mount itself */
        for (tries = 0; tries < 2; tries++) {
            if (tries == 0)
                snprintf(dir, sizeof dir, "%s%.*s", l[1], (int)strcspn(at, "\n"), at);
            else
                snprintf(dir, sizeof dir, "%s", l[1]);
            if ((limit = cg_number(m, dir, l[2])) > 0 && limit < UNLIMITED &&
                (usage = cg_number(m, dir, l[3])) >= 0) {
                char statpath[1100];
                snprintf(statpath, sizeof statpath, "%s/memory.stat", dir);
                inactive = slurp(m, statpath, stat, sizeof stat) == 0 ? field(stat, l[4]) : -1;
                if (inactive > 0 && inactive < usage)
                    usage -= inactive;
                return usage >= limit ? 0 : 100.0 * (limit - usage) / limit;
            }
        }
    }
    return -1;
}

/* PSI: the share of the last 10 s in which some task waited for memory, or -1. */
static double psi_some(const monitor *m)
{
    char buf[512];
    return slurp(m, "/proc/pressure/memory", buf, sizeof buf) == 0 ? field(buf, "avg10=") : -1;
}

static int level_now(const monitor *m)
{
    double mem = meminfo_free(m), cg = cgroup_free(m), psi = psi_some(m);
    double free_pct = cg >= 0 && (mem < 0 || cg < mem) ? cg : mem;
    if ((free_pct >= 0 && free_pct < m->o.critical_percent) || psi >= m->o.psi_critical)
        return REEL_PRESSURE_CRITICAL;
    if ((free_pct >= 0 && free_pct < m->o.moderate_percent) || psi >= m->o.psi_moderate)
        return REEL_PRESSURE_MODERATE;
    return REEL_PRESSURE_NONE;
}

static void *watch(void *arg)
{
    monitor *m = arg;
    pthread_mutex_lock(&m->lock);
    while (!m->stop) {
        struct timespec until;
        int level;
        pthread_mutex_unlock(&m->lock);
        level = level_now(m);
        if (level != REEL_PRESSURE_NONE)
            reel_cache_pressure(m->cache, level);
        pthread_mutex_lock(&m->lock);
        m->level = level;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += m->o.interval_ms / 1000;
        until.tv_nsec += (long)(m->o.interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (!m->stop)
            pthread_cond_timedwait(&m->wake, &m->lock, &until);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

static int check_options(const reel_pressure_options *o)
{
    int i;
    if (o->interval_ms < 0 || o->moderate_percent < 0 || o->moderate_percent > 100 ||
        o->critical_percent < 0 || o->critical_percent > 100 || o->psi_moderate < 0 ||
        o->psi_critical < 0)
        return reel__err(REEL_INVALID, "reel_cache_monitor_pressure: negative or > 100%% option");
    for (i = 0; i < 8; i++)
        if (o->reserved[i])
            return reel__err(REEL_INVALID, "reel_cache_monitor_pressure: reserved must be zero");
    return REEL_OK;
}

int reel__monitor_start(reel_cache *c, reel__monitor **slot, const reel_pressure_options *opts)
{
    monitor *m;
    int rc;
    if (opts && (rc = check_options(opts)) != REEL_OK)
        return rc;
    if (!(m = calloc(1, sizeof *m)))
        return reel__err(REEL_NOMEM, "out of memory");
    if (opts)
        m->o = *opts;
    m->o.interval_ms = m->o.interval_ms ? m->o.interval_ms : 1000;
    m->o.moderate_percent = m->o.moderate_percent ? m->o.moderate_percent : 10;
    m->o.critical_percent = m->o.critical_percent ? m->o.critical_percent : 5;
    m->o.psi_moderate = m->o.psi_moderate > 0 ? m->o.psi_moderate : 10;
    m->o.psi_critical = m->o.psi_critical > 0 ? m->o.psi_critical : 40;
    snprintf(m->root, sizeof m->root, "%s", opts && opts->root ? opts->root : "");
    m->o.root = NULL; /* the copy in m->root is what counts */
    m->cache = c;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->wake, NULL);
    reel__monitor_stop(slot); /* a new monitor replaces the old one */
    if (pthread_create(&m->thread, NULL, watch, m) != 0) {
        pthread_mutex_destroy(&m->lock);
        pthread_cond_destroy(&m->wake);
        free(m);
        return reel__err(REEL_NOMEM, "cannot start the memory-pressure monitor thread");
    }
    *slot = m;
    return REEL_OK;
}

void reel__monitor_stop(reel__monitor **slot)
{
    monitor *m = *slot;
    if (!m)
        return;
    *slot = NULL;
    pthread_mutex_lock(&m->lock);
    m->stop = 1;
    pthread_cond_broadcast(&m->wake);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->thread, NULL);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->wake);
    free(m);
}

int reel__monitor_level(reel__monitor *m)
{
    int level;
    if (!m)
        return -1;
    pthread_mutex_lock(&m->lock);
    level = m->level;
    pthread_mutex_unlock(&m->lock);
    return level;
}
