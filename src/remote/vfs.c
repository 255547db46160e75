/*
 * vfs.c - reading a published store: its manifest, and a read-only SQLite VFS ("reel-remote")
 * that serves the store file from fixed-size blocks.
 *
 * A block is found in the node's block cache (a directory of chunk files, each up to 16 blocks of
 * one part, shared by every process of the node and by every store: parts are named by their
 * content), or fetched with one ranged read of the part object that holds it, checked against its
 * hash (once more on a mismatch, then REEL_CORRUPT naming part and block), and written to its
 * chunk's file. The hashes come from the manifest (versions 1 and 2) or from the part's index
 * object (version 3), fetched on the part's first miss, checked against the SHA-256 its name gives
 * and kept in the block cache. A chunk file's lock makes concurrent processes wait for one
 * download instead of making their own. When the cache grows over its limit, the least recently
 * used chunks (by mtime, touched on use) go.
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
#include "base/hash.h"
#include "remote/remote.h"

struct reel__remote {
    reel__loc loc;
    char name[64];         /* the file name SQLite opens through the VFS */
    int64_t bytes;
    char **parts;          /* object keys */
    int64_t *part_first;   /* each part's first block; [nparts]: the number of blocks */
    int64_t nparts;
    int64_t nblocks;
    /* the blocks' hashes (REEL__HASH_BYTES each), per part: from the manifest (versions 1
     * and 2: all in listed, one allocation), or from the part's index object (version 3:
     * index[p] names it, fetched on the part's first miss, guarded by index_lock) */
    uint8_t **hashes;
    uint8_t *listed;
    char **index;
    pthread_mutex_t index_lock;
    char cache[4096];      /* the block cache directory */
    int64_t cache_limit;
    atomic_llong hits, fetched, fetched_bytes, since_trim;
    /* fetching ahead: a thread that brings the chunk after the one a forward reader is in */
    pthread_mutex_t ahead_lock;
    pthread_cond_t ahead_cond;
    pthread_t ahead_thread;
    int ahead_started, ahead_stop;
    int64_t ahead_want;    /* a block whose chunk to fetch; -1 none */
    reel__remote *next;    /* in the registry */
};

void reel__sha256(const void *data, size_t n, uint8_t md[32])
{
    unsigned int len = 0;
    EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
}

void reel__sha256_hex(const void *data, size_t n, char *hex, int digits)
{
    uint8_t md[32];
    int i;
    reel__sha256(data, n, md);
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

/* ---- the block cache ------------------------------------------------------------------------
 *
 * One file per chunk: CHUNK_BLOCKS consecutive blocks of one part object, named by the part's
 * key and the chunk's number (part keys are content hashes, so a name always means the same
 * bytes). A header of CHUNK_HEAD bytes records, per block, its length (0: not there) and its
 * XXH64; block j's bytes lie at CHUNK_HEAD + j * REEL__BLOCK_SIZE (the file is sparse until it
 * is full). A writer holds the file's flock, writes the blocks, then the header; a reader takes
 * a block whose length and XXH64 match, so a block cut short by a crash or a disk filling up is
 * fetched again, never served. Files rather than one per block: creating an inode costs more
 * than the block's bytes (ext4 searches past recently deleted inodes, and a full cache deletes
 * one for every one it makes). */

#define CHUNK_BLOCKS 16 /* blocks per cache file, and the most fetched in one request: 1 MiB */
#define CHUNK_HEAD 4096
#define CHUNK_SUFFIX ".chunk"

typedef struct chead {
    char magic[8];
    uint64_t reserved;
    struct {
        uint64_t len, sum;
    } e[CHUNK_BLOCKS];
} chead;

static const char CHUNK_MAGIC[8] = "reelchk1";

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
    char name[REEL__HASH_HEX + sizeof CHUNK_SUFFIX];
    time_t mtime;
    int64_t size;
} aged;

static int by_age(const void *a, const void *b)
{
    time_t x = ((const aged *)a)->mtime, y = ((const aged *)b)->mtime;
    return x < y ? -1 : x > y;
}

static int is_chunk_name(const char *name)
{
    return strlen(name) == REEL__HASH_HEX + strlen(CHUNK_SUFFIX) &&
           strspn(name, "0123456789abcdef") == REEL__HASH_HEX &&
           !strcmp(name + REEL__HASH_HEX, CHUNK_SUFFIX);
}

/* Over the limit: remove the least recently used chunks down to 80% of it (sizes as the disk
 * counts them: the files are sparse). */
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
        if (!is_chunk_name(e->d_name))
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
        memcpy(v[n].name, e->d_name, sizeof v[n].name); /* its length was checked */
        v[n].mtime = st.st_mtime;
        v[n].size = (int64_t)st.st_blocks * 512;
        total += v[n].size;
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

static size_t block_len(const reel__remote *r, int64_t b)
{
    int64_t at = b * REEL__BLOCK_SIZE;
    return (size_t)(r->bytes - at < REEL__BLOCK_SIZE ? r->bytes - at : REEL__BLOCK_SIZE);
}

/* The part holding block b (binary search of the parts' first blocks). */
static int64_t part_of(const reel__remote *r, int64_t b)
{
    return (int64_t)reel__last_at_most(r->part_first, (size_t)r->nparts, b);
}

/* Where block b lives: its part, the chunk's first block and end (exclusive), the cache
 * file's path. */
typedef struct chunk {
    int64_t part, first, end;
    char path[4200];
} chunk;

static void chunk_of(const reel__remote *r, int64_t b, chunk *c)
{
    char id[4200], hex[65];
    int64_t p = part_of(r, b), n = (b - r->part_first[p]) / CHUNK_BLOCKS;
    c->part = p;
    c->first = r->part_first[p] + n * CHUNK_BLOCKS;
    c->end = c->first + CHUNK_BLOCKS < r->part_first[p + 1] ? c->first + CHUNK_BLOCKS
                                                            : r->part_first[p + 1];
    snprintf(id, sizeof id, "%.4000s#%lld", r->parts[p], (long long)n);
    reel__sha256_hex(id, strlen(id), hex, REEL__HASH_HEX);
    snprintf(c->path, sizeof c->path, "%.4000s/%s%s", r->cache, hex, CHUNK_SUFFIX);
}

static void head_read(int fd, chead *h)
{
    if (pread(fd, h, sizeof *h, 0) != (ssize_t)sizeof *h || memcmp(h->magic, CHUNK_MAGIC, 8))
        memset(h, 0, sizeof *h);
}

/* Blocks [b, b + k) of chunk c from its file fd into dst, each checked against the header:
 * how many were there, from b on, at most k. */
static int chunk_take(const reel__remote *r, int fd, const chunk *c, const chead *h, int64_t b,
                      int k, uint8_t *dst)
{
    int j = (int)(b - c->first), n, i;
    size_t len = 0, o;
    for (n = 0; n < k && b + n < c->end && h->e[j + n].len == block_len(r, b + n) &&
                h->e[j + n].len;
         n++)
        len += block_len(r, b + n);
    if (!n || pread(fd, dst, len, CHUNK_HEAD + (off_t)j * REEL__BLOCK_SIZE) != (ssize_t)len)
        return 0;
    for (i = 0, o = 0; i < n; o += block_len(r, b + i), i++)
        if (reel__checksum(dst + o, block_len(r, b + i)) != h->e[j + i].sum)
            break;
    return i;
}

/* Used: touched, so the least recently used go first (at most every 10 s per file). */
static void touch(int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_mtime + 10 < time(NULL))
        futimens(fd, NULL);
}

static int hex_digit(int ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* n bytes from 2n lowercase hex digits; -1 when h is not that. */
static int unhex(const char *h, uint8_t *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        int a = hex_digit(h[2 * i]), b = a < 0 ? -1 : hex_digit(h[2 * i + 1]);
        if (b < 0)
            return -1;
        out[i] = (uint8_t)(a * 16 + b);
    }
    return h[2 * n] ? -1 : 0;
}

/* An index object's name, "parts/<SHA-256 of its content>.idx": where the hex digits start,
 * or NULL when key is not one. */
static const char *index_hex(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n != 6 + 64 + 4 || strncmp(key, "parts/", 6) || strcmp(key + 70, ".idx") ||
        strspn(key + 6, "0123456789abcdef") < 64)
        return NULL;
    return key + 6;
}

/* An index object checked against its name: its SHA-256, and want bytes. */
static int index_ok(const char *key, const char *data, size_t len, size_t want)
{
    char hex[65];
    if (len != want)
        return 0;
    reel__sha256_hex(data, len, hex, 64);
    return !strncmp(hex, index_hex(key), 64);
}

/* The hashes of part p's blocks into *out: listed in the manifest, or from the part's index
 * object, found in the block cache or fetched, and checked against the SHA-256 its name
 * gives. */
static int part_hashes(reel__remote *r, int64_t p, const uint8_t **out)
{
    size_t want = (size_t)(r->part_first[p + 1] - r->part_first[p]) * REEL__HASH_BYTES, len = 0;
    char path[4200], tmp[4300], *data = NULL;
    int rc = REEL_OK, fd;
    pthread_mutex_lock(&r->index_lock);
    if (r->hashes[p])
        goto out;
    snprintf(path, sizeof path, "%.4000s/%.80s", r->cache, index_hex(r->index[p]));
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
        ssize_t got = (data = reel__malloc(want + 1)) ? read(fd, data, want + 1) : -1;
        len = got > 0 ? (size_t)got : 0; /* want + 1: a longer file is a damaged one */
        close(fd);
        if (data && index_ok(r->index[p], data, len, want)) {
            r->hashes[p] = (uint8_t *)data;
            goto out;
        }
        free(data); /* damaged on this disk: fetched again */
        data = NULL;
    }
    /* exactly the bytes it must hold: a longer object is not read whole (its first want
     * bytes must still match its name) */
    if (!(data = reel__malloc(want + 1))) {
        rc = reel__err(REEL_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = reel__loc_read(&r->loc, r->index[p], 0, want, data, 0)) != REEL_OK) {
        free(data);
        goto out;
    }
    len = want;
    if (!index_ok(r->index[p], data, len, want)) {
        free(data);
        rc = reel__err(REEL_CORRUPT,
                       "%s: the index object %s (the hashes of %s) does not match its name or "
                       "size: the object is damaged",
                       r->loc.display, r->index[p], r->parts[p]);
        goto out;
    }
    r->hashes[p] = (uint8_t *)data;
    snprintf(tmp, sizeof tmp, "%.4100s.%d.tmp", path, (int)getpid());
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0) {
        int done = write(fd, data, len) == (ssize_t)len;
        if (close(fd) != 0 || !done || rename(tmp, path) != 0)
            unlink(tmp); /* no copy on this node: fetched again next time */
    }
out:
    *out = r->hashes[p];
    pthread_mutex_unlock(&r->index_lock);
    return rc;
}

/* Fetch blocks [b, b + k) of one part in one ranged read (tries: see reel__loc_read) into buf,
 * check each against its hash (the run once more on a mismatch). */
static int fetch_run(reel__remote *r, const chunk *c, int64_t b, int k, uint8_t *buf, int tries)
{
    int64_t off = (b - r->part_first[c->part]) * REEL__BLOCK_SIZE;
    const uint8_t *hashes;
    size_t len = 0, o;
    int i, fetches, rc, bad = -1;
    if ((rc = part_hashes(r, c->part, &hashes)) != REEL_OK)
        return rc;
    hashes += (b - r->part_first[c->part]) * REEL__HASH_BYTES;
    for (i = 0; i < k; i++)
        len += block_len(r, b + i);
    for (fetches = 0; fetches < 2; fetches++) {
        if ((rc = reel__loc_read(&r->loc, r->parts[c->part], (uint64_t)off, len, buf, tries)) !=
            REEL_OK)
            return rc;
        for (i = 0, o = 0, bad = -1; i < k && bad < 0; o += block_len(r, b + i), i++) {
            uint8_t got[32];
            reel__sha256(buf + o, block_len(r, b + i), got);
            if (memcmp(got, hashes + (size_t)i * REEL__HASH_BYTES, REEL__HASH_BYTES))
                bad = i;
        }
        if (bad < 0)
            break;
    }
    if (bad >= 0) {
        int64_t from = off + (int64_t)bad * REEL__BLOCK_SIZE;
        return reel__err(REEL_CORRUPT,
                         "%s: block %lld (object %s, bytes %lld..%lld) does not match its hash "
                         "as published, fetched twice: the object is damaged",
                         r->loc.display, (long long)(b + bad), r->parts[c->part],
                         (long long)from,
                         (long long)(from + (int64_t)block_len(r, b + bad) - 1));
    }
    atomic_fetch_add(&r->fetched, k);
    atomic_fetch_add(&r->fetched_bytes, (long long)len);
    return REEL_OK;
}

/* Blocks [b, b + k) (checked) into the chunk's file, then their header entries. */
static void chunk_put(const reel__remote *r, int fd, const chunk *c, chead *h, int64_t b, int k,
                      const uint8_t *src)
{
    int j = (int)(b - c->first), i;
    size_t len = 0;
    for (i = 0; i < k; i++)
        len += block_len(r, b + i);
    if (pwrite(fd, src, len, CHUNK_HEAD + (off_t)j * REEL__BLOCK_SIZE) != (ssize_t)len)
        return; /* a full disk: the blocks stay uncached, reads still work */
    for (i = 0; i < k; i++, src += REEL__BLOCK_SIZE) {
        h->e[j + i].len = block_len(r, b + i);
        h->e[j + i].sum = reel__checksum(src, block_len(r, b + i));
    }
    memcpy(h->magic, CHUNK_MAGIC, 8);
    if (pwrite(fd, h, sizeof *h, 0) != (ssize_t)sizeof *h)
        return;
}

/* Blocks from b on into dst (room for CHUNK_BLOCKS): from the cache or the network, checked;
 * *n gets how many (at least 1, at most run, all in b's chunk). A miss fetches, in one
 * request, the blocks from b on that the chunk's file lacks: a reader going forward through
 * the file makes one request per chunk. tries: see reel__loc_read. */
static int block_get(reel__remote *r, int64_t b, int run, uint8_t *dst, int *n, int tries)
{
    chunk c;
    chead h;
    int fd, k, rc = REEL_OK, j;
    chunk_of(r, b, &c);
    j = (int)(b - c.first);
    if ((fd = open(c.path, O_RDONLY | O_CLOEXEC)) >= 0) {
        head_read(fd, &h);
        *n = chunk_take(r, fd, &c, &h, b, 1, dst); /* a local read gains nothing by more */
        if (*n)
            touch(fd);
        close(fd);
        if (*n) {
            atomic_fetch_add(&r->hits, *n);
            return REEL_OK;
        }
    }
    /* one download per block on the node: whoever holds the chunk's lock fetches, the others
     * then find the blocks in its file */
    fd = open(c.path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        flock(fd, LOCK_EX);
    memset(&h, 0, sizeof h);
    if (fd >= 0)
        head_read(fd, &h);
    if (fd >= 0 && (*n = chunk_take(r, fd, &c, &h, b, 1, dst)) > 0) {
        atomic_fetch_add(&r->hits, *n);
    } else {
        /* the run: b and the blocks after it the file lacks, up to run */
        for (k = 1; k < run && b + k < c.end && !h.e[j + k].len; k++)
            ;
        if ((rc = fetch_run(r, &c, b, k, dst, tries)) == REEL_OK) {
            *n = k;
            if (fd >= 0) {
                chunk_put(r, fd, &c, &h, b, k, dst);
                if ((atomic_fetch_add(&r->since_trim, (long long)k * REEL__BLOCK_SIZE) +
                     (long long)k * REEL__BLOCK_SIZE) > r->cache_limit / 10) {
                    atomic_store(&r->since_trim, 0);
                    cache_trim(r);
                }
            }
        }
    }
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
    return rc;
}

/* ---- fetching ahead --------------------------------------------------------------------- */

static void *ahead_main(void *arg)
{
    reel__remote *r = arg;
    uint8_t *buf = reel__malloc((size_t)CHUNK_BLOCKS * REEL__BLOCK_SIZE);
    pthread_mutex_lock(&r->ahead_lock);
    while (!r->ahead_stop) {
        int64_t b = r->ahead_want;
        int n;
        if (b < 0 || !buf) {
            pthread_cond_wait(&r->ahead_cond, &r->ahead_lock);
            continue;
        }
        r->ahead_want = -1;
        pthread_mutex_unlock(&r->ahead_lock);
        /* into the block cache; one try (a close waits for it), a failure is the reader's to
         * meet and report */
        block_get(r, b, CHUNK_BLOCKS, buf, &n, 1);
        pthread_mutex_lock(&r->ahead_lock);
    }
    pthread_mutex_unlock(&r->ahead_lock);
    free(buf);
    return NULL;
}

/* Have the chunk holding block b fetched in the background (replacing a wish not yet taken). */
static void ahead_post(reel__remote *r, int64_t b)
{
    pthread_mutex_lock(&r->ahead_lock);
    if (!r->ahead_started && !r->ahead_stop)
        r->ahead_started = pthread_create(&r->ahead_thread, NULL, ahead_main, r) == 0;
    r->ahead_want = b;
    pthread_cond_signal(&r->ahead_cond);
    pthread_mutex_unlock(&r->ahead_lock);
}

/* ---- the VFS ---------------------------------------------------------------------------- */

typedef struct vfile {
    sqlite3_file base;
    reel__remote *r;
    int64_t first;     /* blocks [first, first + n) are in buf */
    int n;
    int run;           /* blocks to take on the next miss: doubles while reads go forward */
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
            /* near the last blocks (SQLite reads a blob's leaf page, then its overflow pages
             * from a little before it on): reads go forward through the file */
            v->run = b >= v->first - CHUNK_BLOCKS && b <= v->first + v->n + CHUNK_BLOCKS
                         ? (v->run < CHUNK_BLOCKS ? 2 * v->run : CHUNK_BLOCKS)
                         : 1;
            v->n = 0;
            if (!v->buf && !(v->buf = reel__malloc((size_t)CHUNK_BLOCKS * REEL__BLOCK_SIZE)))
                return SQLITE_IOERR_NOMEM;
            if ((rc = block_get(r, b, v->run, v->buf, &v->n, 0)) != REEL_OK) {
                reel__io_detail(rc, reel_errmsg());
                return rc == REEL_CORRUPT ? SQLITE_CORRUPT : SQLITE_IOERR_READ;
            }
            v->first = b;
            if (v->run == CHUNK_BLOCKS) { /* going forward: the next chunk comes meanwhile */
                chunk c;
                chunk_of(r, b, &c);
                if (c.end < r->nblocks && c.end != v->posted)
                    ahead_post(r, v->posted = c.end);
            }
        }
        len = block_len(r, b);
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
    v->run = 1;
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

/* Version 1: parts of one size; 2: the first parts end where the head does; both list every
 * block's hash. 3: as 2, the hashes in an index object per part. Each part but the last holds
 * whole blocks and the parts add up to the file. */
static int parse(reel__remote *r, const char *text, int schema)
{
    json_error_t e;
    json_t *m = json_loads(text, 0, &e), *parts, *blocks, *v;
    int64_t sum = 0, i, version;
    int rc = REEL_OK;
    if (!m)
        return bad_manifest(r, e.text);
    v = json_object_get(m, "format");
    version = json_integer_value(json_object_get(m, "version"));
    if (!json_is_string(v) || strcmp(json_string_value(v), "reel published store") ||
        version < 1 || version > 3) {
        json_decref(m);
        return reel__err(REEL_UNSUPPORTED, "%s: not a manifest of this reel's (format or version)",
                         r->loc.display);
    }
    if (json_integer_value(json_object_get(m, "schema_version")) > schema) {
        rc = reel__err(REEL_UNSUPPORTED,
                       "%s: published by a newer reel (store schema version %lld; this libreel, "
                       "%s, reads up to %d): upgrade reel",
                       r->loc.display,
                       (long long)json_integer_value(json_object_get(m, "schema_version")),
                       REEL_VERSION_STRING, schema);
        json_decref(m);
        return rc;
    }
    r->bytes = json_integer_value(json_object_get(m, "bytes"));
    r->nblocks = (r->bytes + REEL__BLOCK_SIZE - 1) / REEL__BLOCK_SIZE;
    parts = json_object_get(m, "parts");
    blocks = json_object_get(m, "blocks");
    if (r->bytes <= 0 || json_integer_value(json_object_get(m, "block_size")) != REEL__BLOCK_SIZE ||
        !json_is_array(parts) || !json_array_size(parts) ||
        (version < 3 && (!json_is_array(blocks) ||
                         (int64_t)json_array_size(blocks) != r->nblocks))) {
        json_decref(m);
        return bad_manifest(r, "sizes, parts and blocks do not agree");
    }
    r->nparts = (int64_t)json_array_size(parts);
    r->parts = reel__calloc((size_t)r->nparts, sizeof *r->parts);
    r->part_first = reel__calloc((size_t)r->nparts + 1, sizeof *r->part_first);
    r->hashes = reel__calloc((size_t)r->nparts, sizeof *r->hashes);
    if (version < 3)
        r->listed = reel__malloc((size_t)r->nblocks * REEL__HASH_BYTES);
    else
        r->index = reel__calloc((size_t)r->nparts, sizeof *r->index);
    if (!r->parts || !r->part_first || !r->hashes || (version < 3 ? !r->listed : !r->index))
        rc = reel__err(REEL_NOMEM, "out of memory");
    for (i = 0; rc == REEL_OK && i < r->nparts; i++) {
        const char *key = json_string_value(json_object_get(v = json_array_get(parts, (size_t)i),
                                                            "key"));
        const char *index = json_string_value(json_object_get(v, "index"));
        int64_t n = json_integer_value(json_object_get(v, "bytes"));
        if (!key || strncmp(key, "parts/", 6) || n <= 0 || n > r->bytes - sum ||
            (i < r->nparts - 1 && n % REEL__BLOCK_SIZE))
            rc = bad_manifest(r, "a part without a key or with a wrong size");
        else if (version >= 3 && !index_hex(index))
            rc = bad_manifest(r, "a part without an index object");
        else if (!(r->parts[i] = reel__strdup(key)) ||
                 (version >= 3 && !(r->index[i] = reel__strdup(index))))
            rc = reel__err(REEL_NOMEM, "out of memory");
        r->part_first[i] = sum / REEL__BLOCK_SIZE;
        if (version < 3)
            r->hashes[i] = r->listed + r->part_first[i] * REEL__HASH_BYTES;
        sum += n;
    }
    if (rc == REEL_OK && sum != r->bytes)
        rc = bad_manifest(r, "the parts do not add up to the store's size");
    if (rc == REEL_OK)
        r->part_first[r->nparts] = r->nblocks;
    for (i = 0; rc == REEL_OK && version < 3 && i < r->nblocks; i++) {
        const char *h = json_string_value(json_array_get(blocks, (size_t)i));
        if (!h || strlen(h) != REEL__HASH_BYTES * 2 ||
            unhex(h, r->listed + i * REEL__HASH_BYTES, REEL__HASH_BYTES) != 0)
            rc = bad_manifest(r, "a block hash is not 32 hex digits");
    }
    json_decref(m);
    return rc;
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
    if (vfs_rc != SQLITE_OK) {
        free(r);
        return reel__err(REEL_ERROR, "cannot register the remote-store VFS with SQLite");
    }
    pthread_mutex_init(&r->ahead_lock, NULL);
    pthread_mutex_init(&r->index_lock, NULL);
    pthread_cond_init(&r->ahead_cond, NULL);
    r->ahead_want = -1;
    if ((rc = reel__loc_open(name, &r->loc)) == REEL_OK &&
        (rc = reel__loc_read_all(&r->loc, REEL__MANIFEST, REEL__MANIFEST_MAX, &text, &len)) ==
            REEL_OK)
        rc = parse(r, text, schema);
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
    /* the fetcher ahead ends after its request (never used in a child after fork(): the store
     * refuses handles the parent made) */
    pthread_mutex_lock(&r->ahead_lock);
    r->ahead_stop = 1;
    pthread_cond_signal(&r->ahead_cond);
    pthread_mutex_unlock(&r->ahead_lock);
    if (r->ahead_started)
        pthread_join(r->ahead_thread, NULL);
    pthread_cond_destroy(&r->ahead_cond);
    pthread_mutex_destroy(&r->ahead_lock);
    for (i = 0; r->parts && i < r->nparts; i++) {
        free(r->parts[i]);
        if (r->index && r->hashes) { /* version 3: each part's hashes are allocations */
            free(r->index[i]);
            free(r->hashes[i]);
        }
    }
    free(r->parts);
    free(r->part_first);
    free(r->hashes);
    free(r->listed);
    free(r->index);
    pthread_mutex_destroy(&r->index_lock);
    reel__loc_close(&r->loc);
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
    char hex[65], *real = r->loc.kind == REEL__LOC_DIR ? realpath(r->loc.base, NULL) : NULL;
    const char *where = real ? real : r->loc.display; /* a directory by its one name */
    reel__sha256_hex(where, strlen(where), hex, REEL__HASH_HEX);
    snprintf(path, cap, "%.4000s/counts-%s.db", r->cache, hex);
    free(real);
}
