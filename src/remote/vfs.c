/*
 * vfs.c - reading a published store: its manifest, and a read-only SQLite VFS ("reel-remote")
 * that serves the store file from fixed-size blocks.
 *
 * A block is found in the node's block cache (a directory of files named by the block's hash,
 * shared by every process of the node and by every store: content-addressed), or fetched with
 * one ranged read of the part object that holds it, checked against the manifest's hash (once
 * more on a mismatch, then REEL_CORRUPT naming part and block), and written to the cache under
 * a temporary name then renamed, so a reader never sees half a block. A lock file per hash
 * prefix makes concurrent processes wait for one download instead of making their own. When
 * the cache grows over its limit, the least recently used blocks (by mtime, touched on use) go.
 *
 * SQLite opens the file immutable: no locks, no journal, no writes.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/db.h"
#include "base/error.h"
#include "remote/remote.h"

struct reel__remote {
    reel__loc loc;
    char name[64];         /* the file name SQLite opens through the VFS */
    int64_t bytes, part_size;
    char **parts;          /* object keys */
    int64_t nparts;
    char (*hash)[REEL__HASH_HEX + 1]; /* per block */
    int64_t nblocks;
    char cache[4096];      /* the block cache directory */
    int64_t cache_limit;
    atomic_llong hits, fetched, fetched_bytes, since_trim;
    reel__remote *next;    /* in the registry */
};

void reel__sha256_hex(const void *data, size_t n, char *hex, int digits)
{
    unsigned char md[32];
    unsigned int len = 0;
    int i;
    EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
    for (i = 0; i < digits && i < 64; i++)
        hex[i] = "0123456789abcdef"[(md[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
    hex[i] = 0;
}

/* ---- the registry of open published stores (the VFS finds them by file name) ------------- */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static reel__remote *registry;
static unsigned long reg_serial;

static reel__remote *find(const char *name)
{
    reel__remote *r;
    pthread_mutex_lock(&reg_lock);
    for (r = registry; r && strcmp(r->name, name); r = r->next)
        ;
    pthread_mutex_unlock(&reg_lock);
    return r;
}

/* ---- the block cache ------------------------------------------------------------------------ */

static int mkdirs(const char *path)
{
    char p[4096];
    size_t i;
    snprintf(p, sizeof p, "%.4000s", path);
    for (i = 1; p[i]; i++)
        if (p[i] == '/') {
            p[i] = 0;
            if (mkdir(p, 0700) != 0 && errno != EEXIST)
                return -1;
            p[i] = '/';
        }
    return mkdir(p, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static void cache_dir(reel__remote *r)
{
    const char *env = getenv("REEL_BLOCK_CACHE"), *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME"), *mib = getenv("REEL_BLOCK_CACHE_MIB");
    if (env && *env)
        snprintf(r->cache, sizeof r->cache, "%s", env);
    else if (xdg && *xdg)
        snprintf(r->cache, sizeof r->cache, "%.4000s/reel/blocks", xdg);
    else if (home && *home)
        snprintf(r->cache, sizeof r->cache, "%.4000s/.cache/reel/blocks", home);
    else
        snprintf(r->cache, sizeof r->cache, "/tmp/reel-blocks-%d", (int)getuid());
    r->cache_limit = (mib && atoll(mib) > 0 ? atoll(mib) : 4096) << 20;
}

typedef struct aged {
    char name[REEL__HASH_HEX + 1];
    time_t mtime;
    off_t size;
} aged;

static int by_age(const void *a, const void *b)
{
    time_t x = ((const aged *)a)->mtime, y = ((const aged *)b)->mtime;
    return x < y ? -1 : x > y;
}

/* Over the limit: remove the least recently used blocks down to 80% of it. */
static void cache_trim(reel__remote *r)
{
    DIR *d = opendir(r->cache);
    struct dirent *e;
    aged *v = NULL;
    size_t n = 0, cap = 0, i;
    int64_t total = 0;
    if (!d)
        return;
    while ((e = readdir(d))) {
        char path[4200];
        struct stat st;
        if (strlen(e->d_name) != REEL__HASH_HEX)
            continue;
        snprintf(path, sizeof path, "%.4000s/%.40s", r->cache, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (n == cap) {
            aged *g = realloc(v, (cap = cap ? 2 * cap : 256) * sizeof *v);
            if (!g)
                break;
            v = g;
        }
        memcpy(v[n].name, e->d_name, REEL__HASH_HEX + 1); /* its length was checked */
        v[n].mtime = st.st_mtime;
        v[n].size = st.st_size;
        total += st.st_size;
        n++;
    }
    closedir(d);
    qsort(v, n, sizeof *v, by_age);
    for (i = 0; i < n && total > r->cache_limit / 5 * 4; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%.4000s/%.40s", r->cache, v[i].name);
        if (unlink(path) == 0)
            total -= v[i].size;
    }
    free(v);
}

/* Frame-free helper: the cached block's file, read whole into dst (len bytes); 0 when it was
 * there. */
static int cache_read(reel__remote *r, const char *hash, uint8_t *dst, size_t len)
{
    char path[4200];
    int fd;
    ssize_t got;
    snprintf(path, sizeof path, "%.4000s/%.40s", r->cache, hash);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    got = pread(fd, dst, len, 0);
    if (got == (ssize_t)len)
        futimens(fd, NULL); /* used: the last to go */
    close(fd);
    return got == (ssize_t)len ? 0 : -1;
}

static void cache_write(reel__remote *r, const char *hash, const uint8_t *src, size_t len)
{
    char path[4200], tmp[4300];
    int fd;
    snprintf(path, sizeof path, "%.4000s/%.40s", r->cache, hash);
    snprintf(tmp, sizeof tmp, "%.4100s.%d.tmp", path, (int)getpid());
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        return; /* no cache: reads still work, from the network */
    if (write(fd, src, len) == (ssize_t)len && close(fd) == 0 && rename(tmp, path) == 0) {
        if ((atomic_fetch_add(&r->since_trim, (long long)len) + (long long)len) >
            r->cache_limit / 10) {
            atomic_store(&r->since_trim, 0);
            cache_trim(r);
        }
        return;
    }
    close(fd);
    unlink(tmp);
}

#define MAX_RUN 16 /* blocks fetched in one request: 1 MiB */

static size_t block_len(const reel__remote *r, int64_t b)
{
    int64_t at = b * REEL__BLOCK_SIZE;
    return (size_t)(r->bytes - at < REEL__BLOCK_SIZE ? r->bytes - at : REEL__BLOCK_SIZE);
}

static int lock_id(const char *hash)
{
    static const char hex[] = "0123456789abcdef";
    return (int)((strchr(hex, hash[0]) - hex) * 16 + (strchr(hex, hash[1]) - hex));
}

/* Lock the lock files of blocks [b, b + k) in ascending order (no two processes can wait for
 * each other); fds[256] gets the descriptors, -1 where none was taken. */
static void lock_run(reel__remote *r, int64_t b, int k, int *fds)
{
    int want[256] = {0}, i;
    for (i = 0; i < 256; i++)
        fds[i] = -1;
    for (i = 0; i < k; i++)
        want[lock_id(r->hash[b + i])] = 1;
    for (i = 0; i < 256; i++) {
        char lock[4200];
        if (!want[i])
            continue;
        snprintf(lock, sizeof lock, "%.4000s/lock-%02x", r->cache, i);
        if ((fds[i] = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) >= 0)
            flock(fds[i], LOCK_EX);
    }
}

static void unlock_run(int *fds)
{
    int i;
    for (i = 0; i < 256; i++)
        if (fds[i] >= 0) {
            flock(fds[i], LOCK_UN);
            close(fds[i]);
        }
}

static int cached(const reel__remote *r, int64_t b)
{
    char path[4200];
    snprintf(path, sizeof path, "%.4000s/%.40s", r->cache, r->hash[b]);
    return access(path, F_OK) == 0;
}

/* Fetch blocks [b, b + k) of one part in one ranged read into buf, check each against its hash
 * (the run once more on a mismatch) and cache each. */
static int fetch_run(reel__remote *r, int64_t b, int k, uint8_t *buf)
{
    int64_t at = b * REEL__BLOCK_SIZE, part = at / r->part_size, off = at - part * r->part_size;
    size_t len = 0, o;
    int i, tries, rc = REEL_OK, bad = -1;
    for (i = 0; i < k; i++)
        len += block_len(r, b + i);
    for (tries = 0; tries < 2; tries++) {
        if ((rc = reel__loc_read(&r->loc, r->parts[part], (uint64_t)off, len, buf)) != REEL_OK)
            return rc;
        for (i = 0, o = 0, bad = -1; i < k && bad < 0; o += block_len(r, b + i), i++) {
            char got[REEL__HASH_HEX + 1];
            reel__sha256_hex(buf + o, block_len(r, b + i), got, REEL__HASH_HEX);
            if (strcmp(got, r->hash[b + i]))
                bad = i;
        }
        if (bad < 0)
            break;
    }
    if (bad >= 0) {
        int64_t from = off + (int64_t)bad * REEL__BLOCK_SIZE;
        return reel__err(REEL_CORRUPT,
                         "%s: block %lld (object %s, bytes %lld..%lld) does not match its hash "
                         "in the manifest, fetched twice: the object is damaged",
                         r->loc.display, (long long)(b + bad), r->parts[part], (long long)from,
                         (long long)(from + (int64_t)block_len(r, b + bad) - 1));
    }
    for (i = 0, o = 0; i < k; o += block_len(r, b + i), i++)
        cache_write(r, r->hash[b + i], buf + o, block_len(r, b + i));
    atomic_fetch_add(&r->fetched, k);
    atomic_fetch_add(&r->fetched_bytes, (long long)len);
    return REEL_OK;
}

/* Block b into dst (*len: its bytes), from the cache or the network, checked. A miss fetches
 * up to run blocks from b on (those not cached, within b's part) in one request: a reader
 * going forward through the file then makes few requests. */
static int block_get(reel__remote *r, int64_t b, int run, uint8_t *dst, size_t *len,
                     uint8_t **scratch)
{
    int64_t part = b * REEL__BLOCK_SIZE / r->part_size;
    int fds[256], k, rc = REEL_OK;
    *len = block_len(r, b);
    if (cache_read(r, r->hash[b], dst, *len) == 0) {
        atomic_fetch_add(&r->hits, 1);
        return REEL_OK;
    }
    for (k = 1; k < run && b + k < r->nblocks &&
                (b + k) * REEL__BLOCK_SIZE / r->part_size == part && !cached(r, b + k);
         k++)
        ;
    /* one download per block on the node: whoever holds the locks fetches, the others then
     * find the blocks in the cache */
    lock_run(r, b, k, fds);
    if (cache_read(r, r->hash[b], dst, *len) == 0) {
        atomic_fetch_add(&r->hits, 1);
    } else {
        int n;
        /* the run stops at the first block another process fetched meanwhile (it held that
         * block's lock, which this one holds now: nobody is writing them any more) */
        for (n = 1; n < k && !cached(r, b + n); n++)
            ;
        k = n;
        if (!*scratch && !(*scratch = reel__malloc((size_t)MAX_RUN * REEL__BLOCK_SIZE)))
            rc = reel__err(REEL_NOMEM, "out of memory");
        if (rc == REEL_OK && (rc = fetch_run(r, b, k, *scratch)) == REEL_OK)
            memcpy(dst, *scratch, *len);
    }
    unlock_run(fds);
    return rc;
}

/* ---- the VFS ---------------------------------------------------------------------------- */

typedef struct vfile {
    sqlite3_file base;
    reel__remote *r;
    int64_t block;     /* the block in buf, -1 none */
    size_t len;
    int run;           /* blocks to fetch on the next miss: doubles while reads go forward */
    uint8_t *scratch;  /* room for a run */
    uint8_t buf[REEL__BLOCK_SIZE];
} vfile;

static int v_close(sqlite3_file *f)
{
    free(((vfile *)f)->scratch);
    ((vfile *)f)->scratch = NULL;
    return SQLITE_OK;
}

static int v_read(sqlite3_file *f, void *dst, int n, sqlite3_int64 off)
{
    vfile *v = (vfile *)f;
    reel__remote *r = v->r;
    uint8_t *out = dst;
    int rc;
    if (off < 0 || n < 0)
        return SQLITE_IOERR_READ;
    while (n > 0) {
        int64_t b = off / REEL__BLOCK_SIZE, in = off % REEL__BLOCK_SIZE;
        size_t k;
        if (off >= r->bytes) { /* past the end: zeros, as files read short */
            memset(out, 0, (size_t)n);
            return SQLITE_IOERR_SHORT_READ;
        }
        if (v->block != b) {
            v->run = b == v->block + 1 ? (v->run < MAX_RUN ? 2 * v->run : MAX_RUN) : 1;
            v->block = -1;
            if ((rc = block_get(r, b, v->run, v->buf, &v->len, &v->scratch)) != REEL_OK) {
                reel__io_detail(rc, reel_errmsg());
                return rc == REEL_CORRUPT ? SQLITE_CORRUPT : SQLITE_IOERR_READ;
            }
            v->block = b;
        }
        k = v->len - (size_t)in < (size_t)n ? v->len - (size_t)in : (size_t)n;
        memcpy(out, v->buf + in, k);
        out += k;
        off += (sqlite3_int64)k;
        n -= (int)k;
    }
    return SQLITE_OK;
}

static int v_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    (void)f, (void)p, (void)n, (void)off;
    return SQLITE_READONLY;
}

static int v_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    (void)f, (void)size;
    return SQLITE_READONLY;
}

static int v_sync(sqlite3_file *f, int flags)
{
    (void)f, (void)flags;
    return SQLITE_OK;
}

static int v_size(sqlite3_file *f, sqlite3_int64 *size)
{
    *size = ((vfile *)f)->r->bytes;
    return SQLITE_OK;
}

static int v_lock(sqlite3_file *f, int level)
{
    (void)f, (void)level;
    return SQLITE_OK;
}

static int v_reserved(sqlite3_file *f, int *out)
{
    (void)f;
    *out = 0;
    return SQLITE_OK;
}

static int v_control(sqlite3_file *f, int op, void *arg)
{
    (void)f, (void)op, (void)arg;
    return SQLITE_NOTFOUND;
}

static int v_sector(sqlite3_file *f)
{
    (void)f;
    return REEL__BLOCK_SIZE;
}

static int v_caps(sqlite3_file *f)
{
    (void)f;
    return SQLITE_IOCAP_IMMUTABLE;
}

static const sqlite3_io_methods methods = {
    1,       v_close, v_read,     v_write,   v_truncate, v_sync,   v_size, v_lock, v_lock,
    v_reserved, v_control, v_sector, v_caps, NULL,       NULL,     NULL,   NULL,   NULL, NULL};

static sqlite3_vfs *host; /* the default VFS: time, randomness, sleep */

static int x_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    vfile *v = (vfile *)f;
    reel__remote *r = name ? find(name) : NULL;
    (void)vfs;
    f->pMethods = NULL;
    if (!r || !(flags & SQLITE_OPEN_MAIN_DB) || (flags & SQLITE_OPEN_READWRITE))
        return SQLITE_CANTOPEN;
    v->r = r;
    v->block = -1;
    v->len = 0;
    v->run = 1;
    v->scratch = NULL;
    f->pMethods = &methods;
    if (out)
        *out = SQLITE_OPEN_READONLY;
    return SQLITE_OK;
}

static int x_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
    (void)vfs, (void)name, (void)sync;
    return SQLITE_READONLY;
}

static int x_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs, (void)flags;
    *out = find(name) != NULL; /* no journal, no WAL beside it */
    return SQLITE_OK;
}

static int x_full(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    snprintf(out, (size_t)n, "%s", name);
    return SQLITE_OK;
}

static int x_random(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return host->xRandomness(host, n, out);
}

static int x_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return host->xSleep(host, us);
}

static int x_time(sqlite3_vfs *vfs, double *t)
{
    (void)vfs;
    return host->xCurrentTime(host, t);
}

static int x_error(sqlite3_vfs *vfs, int n, char *msg)
{
    (void)vfs;
    if (n > 0)
        msg[0] = 0;
    return 0;
}

static sqlite3_vfs remote_vfs = {1,      (int)sizeof(vfile), 4096,   NULL,     "reel-remote",
                                 NULL,   x_open,             x_delete, x_access, x_full,
                                 NULL,   NULL,               NULL,   NULL,     x_random,
                                 x_sleep, x_time,            x_error, NULL,    NULL,
                                 NULL,   NULL};

static pthread_once_t vfs_once = PTHREAD_ONCE_INIT;
static int vfs_rc;

static void vfs_register(void)
{
    host = sqlite3_vfs_find(NULL);
    vfs_rc = host ? sqlite3_vfs_register(&remote_vfs, 0) : SQLITE_ERROR;
}

/* ---- the manifest ------------------------------------------------------------------------ */

static int bad_manifest(const reel__remote *r, const char *why)
{
    return reel__err(REEL_CORRUPT, "%s: the manifest is damaged or not reel's: %s",
                     r->loc.display, why);
}

static int parse(reel__remote *r, const char *text)
{
    json_error_t e;
    json_t *m = json_loads(text, 0, &e), *parts, *blocks, *v;
    int64_t sum = 0, i, last;
    int rc = REEL_OK;
    if (!m)
        return bad_manifest(r, e.text);
    v = json_object_get(m, "format");
    if (!json_is_string(v) || strcmp(json_string_value(v), "reel published store") ||
        json_integer_value(json_object_get(m, "version")) != 1) {
        json_decref(m);
        return reel__err(REEL_UNSUPPORTED, "%s: not a manifest of this reel's (format or version)",
                         r->loc.display);
    }
    r->bytes = json_integer_value(json_object_get(m, "bytes"));
    r->part_size = json_integer_value(json_object_get(m, "part_size"));
    parts = json_object_get(m, "parts");
    blocks = json_object_get(m, "blocks");
    if (r->bytes <= 0 || r->part_size <= 0 || r->part_size % REEL__BLOCK_SIZE ||
        json_integer_value(json_object_get(m, "block_size")) != REEL__BLOCK_SIZE ||
        !json_is_array(parts) || !json_is_array(blocks) ||
        (int64_t)json_array_size(parts) != (r->bytes + r->part_size - 1) / r->part_size ||
        (int64_t)json_array_size(blocks) != (r->bytes + REEL__BLOCK_SIZE - 1) / REEL__BLOCK_SIZE) {
        json_decref(m);
        return bad_manifest(r, "sizes, parts and blocks do not agree");
    }
    r->nparts = (int64_t)json_array_size(parts);
    r->nblocks = (int64_t)json_array_size(blocks);
    r->parts = reel__calloc((size_t)r->nparts, sizeof *r->parts);
    r->hash = reel__calloc((size_t)r->nblocks, sizeof *r->hash);
    if (!r->parts || !r->hash)
        rc = reel__err(REEL_NOMEM, "out of memory");
    for (i = 0; rc == REEL_OK && i < r->nparts; i++) {
        const char *key = json_string_value(json_object_get(v = json_array_get(parts, (size_t)i),
                                                            "key"));
        int64_t n = json_integer_value(json_object_get(v, "bytes"));
        last = i == r->nparts - 1;
        if (!key || strncmp(key, "parts/", 6) || n <= 0 || (!last && n != r->part_size))
            rc = bad_manifest(r, "a part without a key or with a wrong size");
        else if (!(r->parts[i] = reel__strdup(key)))
            rc = reel__err(REEL_NOMEM, "out of memory");
        sum += n;
    }
    if (rc == REEL_OK && sum != r->bytes)
        rc = bad_manifest(r, "the parts do not add up to the store's size");
    for (i = 0; rc == REEL_OK && i < r->nblocks; i++) {
        const char *h = json_string_value(json_array_get(blocks, (size_t)i));
        if (!h || strlen(h) != REEL__HASH_HEX || strspn(h, "0123456789abcdef") != REEL__HASH_HEX)
            rc = bad_manifest(r, "a block hash is not 32 hex digits");
        else
            memcpy(r->hash[i], h, REEL__HASH_HEX + 1);
    }
    json_decref(m);
    return rc;
}

int reel__remote_open(const char *name, reel__remote **out, const char **vfs_name,
                      const char **file_name)
{
    reel__remote *r = reel__calloc(1, sizeof *r);
    char *text = NULL;
    size_t len;
    int rc;
    if (!r)
        return reel__err(REEL_NOMEM, "out of memory");
    pthread_once(&vfs_once, vfs_register);
    if (vfs_rc != SQLITE_OK) {
        free(r);
        return reel__err(REEL_ERROR, "cannot register the remote-store VFS with SQLite");
    }
    if ((rc = reel__loc_open(name, &r->loc)) == REEL_OK &&
        (rc = reel__loc_read_all(&r->loc, REEL__MANIFEST, &text, &len)) == REEL_OK)
        rc = parse(r, text);
    free(text);
    if (rc == REEL_NOTFOUND)
        rc = reel__err(REEL_NOTFOUND, "%s: no published store there (no %s)", name,
                       REEL__MANIFEST);
    cache_dir(r);
    if (rc == REEL_OK && mkdirs(r->cache) != 0)
        rc = reel__err(REEL_IO, "the block cache %s: %s (set REEL_BLOCK_CACHE)", r->cache,
                       strerror(errno));
    if (rc != REEL_OK) {
        reel__remote_close(r);
        return rc;
    }
    pthread_mutex_lock(&reg_lock);
    snprintf(r->name, sizeof r->name, "reel-remote-%d-%lu", (int)getpid(), ++reg_serial);
    r->next = registry;
    registry = r;
    pthread_mutex_unlock(&reg_lock);
    *out = r;
    *vfs_name = remote_vfs.zName;
    *file_name = r->name;
    return REEL_OK;
}

void reel__remote_close(reel__remote *r)
{
    reel__remote **p;
    int64_t i;
    if (!r)
        return;
    pthread_mutex_lock(&reg_lock);
    for (p = &registry; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    pthread_mutex_unlock(&reg_lock);
    for (i = 0; r->parts && i < r->nparts; i++)
        free(r->parts[i]);
    free(r->parts);
    free(r->hash);
    reel__loc_close(&r->loc);
    free(r);
}

void reel__remote_stats(const reel__remote *r, int64_t *hits, int64_t *fetched, int64_t *bytes)
{
    *hits = atomic_load(&((reel__remote *)r)->hits);
    *fetched = atomic_load(&((reel__remote *)r)->fetched);
    *bytes = atomic_load(&((reel__remote *)r)->fetched_bytes);
}
