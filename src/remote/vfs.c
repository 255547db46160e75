/*
 * vfs.c - reading a published store: its manifest, and a read-only SQLite VFS ("reel-remote")
 * that serves the store file from fixed-size blocks, taken from the node's block cache or
 * fetched and checked (blocks.c). The manifest (manifest.c) gives the parts, where each
 * begins, and the blocks' hashes: listed in it (versions 1 and 2) or in an index object per
 * part (version 3).
 * While reads go forward, the next chunk of blocks is fetched ahead.
 *
 * SQLite opens the file immutable: no locks, no journal, no writes.
 */
#include "config.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/db.h"
#include "base/error.h"
#include "remote/remote_impl.h"

/* ---- the registry of open published stores (the VFS finds them by file name) ------------- */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static reel__remote *registry;

static reel__remote *find_locked(const char *name)
{
    reel__remote *r;
    for (r = registry; r && strcmp(r->name, name); r = r->next)
        ;
    return r;
}

static reel__remote *find(const char *name)
{
    reel__remote *r;
    pthread_mutex_lock(&reg_lock);
    r = find_locked(name);
    pthread_mutex_unlock(&reg_lock);
    return r;
}

/* ---- exiting with published stores open ---------------------------------------------------
 *
 * exit() runs OpenSSL's cleanup, which frees the tables a thread hashing a block (a fetcher
 * ahead, the store's read-ahead, any reader), or libcurl in one of its transfers, still
 * reads. So before it: every transfer ends at once, those in progress and every use of
 * libcrypto are waited for, SHA-256 is computed without libcrypto from then on (digest.c),
 * and every fetcher ahead is joined (they never start again). OpenSSL's handler is
 * registered first (reel__digest_init), so it runs after this one. In a child after fork()
 * the parent's stores have no fetcher here, and the registry's lock may have been held by a
 * thread that is not there: the child only tries it. */

static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static pid_t exit_pid;

static void at_exit(void)
{
    reel__remote *r;
    reel__loc_abort_all(); /* transfers end at once ... */
    reel__digest_exit();   /* ... and those in progress are waited for */
    if (getpid() == exit_pid ? pthread_mutex_lock(&reg_lock) != 0
                             : pthread_mutex_trylock(&reg_lock) != 0)
        return;
    for (r = registry; r; r = r->next)
        reel__ahead_stop(r);
    pthread_mutex_unlock(&reg_lock);
}

static void exit_register(void)
{
    reel__digest_init();
    exit_pid = getpid();
    atexit(at_exit);
}

/* r's file name (under reg_lock): its location as given, which SQLite's messages then name
 * ("./" before a name starting with ':', which SQLite could take for ":memory:"); " (2)",
 * " (3)", ... after it while that name is taken by another open of it. REEL_NOMEM. */
static int name_it(reel__remote *r)
{
    const char *dot = r->loc.display[0] == ':' ? "./" : "";
    size_t cap = strlen(r->loc.display) + 32;
    unsigned long k;
    if (!(r->name = reel__malloc(cap)))
        return reel__err(REEL_NOMEM, "out of memory");
    snprintf(r->name, cap, "%s%s", dot, r->loc.display);
    for (k = 2; find_locked(r->name); k++)
        snprintf(r->name, cap, "%s%s (%lu)", dot, r->loc.display, k);
    return REEL_OK;
}

/* ---- the VFS ---------------------------------------------------------------------------- */

typedef struct vfile {
    sqlite3_file base;
    reel__remote *r;
    int64_t first;     /* blocks [first, first + n) are in buf */
    int n;
    int run;           /* blocks to take on a miss */
    int64_t prev;      /* the block after those the last miss brought (-1: none yet) */
    int64_t posted;    /* the last block asked of the fetcher ahead */
    uint8_t *buf;      /* room for a chunk */
} vfile;

static int v_close(sqlite3_file *f)
{
    free(((vfile *)f)->buf);
    ((vfile *)f)->buf = NULL;
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
        size_t k, len;
        if (off >= r->bytes) { /* past the end: zeros, as files read short */
            memset(out, 0, (size_t)n);
            return SQLITE_IOERR_SHORT_READ;
        }
        if (b < v->first || b >= v->first + v->n) {
            /* a miss takes the rest of b's chunk (what its file lacks) in one request: a
             * random read then costs one request where it cost one per block run (SQLite
             * reads a blob's leaf page, then its overflow pages one by one; a temporal
             * frame's chain is the rows before it), and the gateway's cost is per request
             * more than per byte. At most a chunk (1 MiB) a miss. */
            v->run = REEL__CHUNK_BLOCKS;
            v->n = 0;
            if (!v->buf && !(v->buf = reel__malloc((size_t)REEL__CHUNK_BLOCKS * REEL__BLOCK_SIZE)))
                return SQLITE_IOERR_NOMEM;
            reel__getq q = {b, v->run, 0, 0, v->buf};
            if ((rc = reel__block_get(r, &q, &v->n)) != REEL_OK) {
                reel__io_detail(rc, reel_errmsg());
                return rc == REEL_CORRUPT ? SQLITE_CORRUPT : SQLITE_IOERR_READ;
            }
            v->first = b;
            /* going forward (this miss right after the last blocks): the next chunk comes
             * meanwhile */
            if (b >= v->prev && b <= v->prev + REEL__CHUNK_BLOCKS) {
                int64_t end = reel__chunk_end(r, b);
                if (end < r->nblocks && end != v->posted)
                    reel__ahead_post(r, v->posted = end);
            }
            v->prev = b + v->n;
        }
        len = reel__block_len(r, b);
        k = len - (size_t)in < (size_t)n ? len - (size_t)in : (size_t)n;
        memcpy(out, v->buf + (b - v->first) * REEL__BLOCK_SIZE + in, k);
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
    v->first = -1;
    v->n = 0;
    v->run = REEL__CHUNK_BLOCKS;
    v->prev = -1;
    v->posted = -1;
    v->buf = NULL;
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
    if (n < 1 || strlen(name) >= (size_t)n) /* never cut: reel__remote_open refuses longer */
        return SQLITE_CANTOPEN;
    memcpy(out, name, strlen(name) + 1);
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

static sqlite3_vfs remote_vfs = {1,      (int)sizeof(vfile), REEL__NAME_MAX + 32, NULL,     "reel-remote",
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

int reel__remote_open(const char *name, int schema, reel__remote **out, const char **vfs_name,
                      const char **file_name)
{
    reel__remote *r = reel__calloc(1, sizeof *r);
    char *text = NULL;
    size_t len;
    int rc;
    if (!r)
        return reel__err(REEL_NOMEM, "out of memory");
    pthread_once(&vfs_once, vfs_register);
    pthread_once(&exit_once, exit_register);
    if (vfs_rc != SQLITE_OK) {
        free(r);
        return reel__err(REEL_ERROR, "cannot register the remote-store VFS with SQLite");
    }
    pthread_mutex_init(&r->ahead_lock, NULL);
    pthread_mutex_init(&r->index_lock, NULL);
    pthread_cond_init(&r->ahead_cond, NULL);
    r->ahead_want = -1;
    r->cache_fd = -1;
    if ((rc = reel__loc_open(name, &r->loc)) == REEL_OK && strlen(r->loc.display) > REEL__NAME_MAX)
        rc = reel__err(REEL_INVALID, "a location name longer than %d bytes: %s",
                       REEL__NAME_MAX, r->loc.display);
    if (rc == REEL_OK &&
        (rc = reel__loc_read_all(&r->loc, REEL__MANIFEST, REEL__MANIFEST_MAX, &text, &len)) ==
            REEL_OK)
        rc = reel__manifest_parse(r, text, len, schema);
    free(text);
    if (rc == REEL_NOTFOUND) {
        char *shown = reel__loc_shown(name); /* without a URL's userinfo */
        rc = shown ? reel__err(REEL_NOTFOUND, "%s: no published store there (no %s)", shown,
                               REEL__MANIFEST)
                   : reel__err(REEL_NOMEM, "out of memory");
        free(shown);
    }
    if (rc == REEL_OK)
        rc = reel__block_cache_open(r);
    if (rc != REEL_OK) {
        reel__remote_close(r);
        return rc;
    }
    pthread_mutex_lock(&reg_lock);
    if ((rc = name_it(r)) == REEL_OK) {
        r->next = registry;
        registry = r;
    }
    pthread_mutex_unlock(&reg_lock);
    if (rc != REEL_OK) {
        reel__remote_close(r);
        return rc;
    }
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
    reel__ahead_stop(r);
    pthread_cond_destroy(&r->ahead_cond);
    pthread_mutex_destroy(&r->ahead_lock);
    for (i = 0; r->parts && i < r->nparts; i++) {
        free(r->parts[i]);
        if (r->seen)
            free(r->seen[i]);
        if (r->index) /* version 3: each part's index name, and its hashes once fetched */
            free(r->index[i]);
        if (r->index && r->hashes)
            free(r->hashes[i]);
    }
    free(r->parts);
    free(r->part_first);
    free(r->hashes);
    free(r->listed);
    free(r->index);
    free(r->seen);
    if (r->cache_fd >= 0)
        close(r->cache_fd);
    pthread_mutex_destroy(&r->index_lock);
    reel__loc_close(&r->loc);
    free(r->name);
    free(r);
}

void reel__remote_stats(const reel__remote *r, int64_t *hits, int64_t *fetched, int64_t *bytes)
{
    *hits = atomic_load(&((reel__remote *)r)->hits);
    *fetched = atomic_load(&((reel__remote *)r)->fetched);
    *bytes = atomic_load(&((reel__remote *)r)->fetched_bytes);
}

void reel__remote_counts_path(const reel__remote *r, char *path, size_t cap)
{
    char hex[65], *real = r->loc.local ? realpath(r->loc.base, NULL) : NULL;
    const char *where = real ? real : r->loc.display; /* a directory by its one name */
    int n;
    reel__sha256_hex(where, strlen(where), hex, REEL__HASH_HEX);
    n = snprintf(path, cap, "%s/counts-%s.db", r->cache, hex);
    if (n < 0 || (size_t)n >= cap) /* never with cap as remote.h asks: an empty name, no file */
        path[0] = 0;
    free(real);
}
