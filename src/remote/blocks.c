/*
 * blocks.c - the blocks of a published store: the node's block cache, fetching and checking
 * blocks, the parts' index objects, and fetching ahead.
 *
 * A block is found in the node's block cache (a directory of chunk files, each up to 16 blocks
 * of one part, shared by every process of the node and by every store: parts are named by
 * their content), or fetched with one ranged read of the part object that holds it, checked
 * against its hash (once more on a mismatch, then REEL_CORRUPT naming part and block), and
 * written to its chunk's file. The hashes come from the manifest (versions 1 and 2) or from
 * the part's index object (version 3), fetched on the part's first miss, checked against the
 * SHA-256 its name gives and kept in the block cache. A chunk file's lock makes concurrent
 * processes wait for one download instead of making their own. When the cache grows over its
 * limit, the least recently used chunks (by mtime, touched on use) go.
 *
 * Trust: the cache directory must be the user's own and writable by nobody else (else the
 * open is refused, as ssh refuses a key file others can write); every file in it is opened
 * relative to the directory's descriptor, never following a symbolic link, and temporaries
 * get unpredictable names made with O_EXCL. A block read from the cache is checked against its
 * published hash the first time this process serves it (the XXH64 of the header only catches
 * damage: anyone who can write the file can recompute it); a block that fails is REEL_CORRUPT,
 * and its chunk file is removed, so the next read fetches it again.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "base/hash.h"
#include "remote/remote_impl.h"

/* ---- the block cache ------------------------------------------------------------------------
 *
 * One file per chunk: REEL__CHUNK_BLOCKS consecutive blocks of one part object, named by the part's
 * key and the chunk's number (part keys are content hashes, so a name always means the same
 * bytes). A header of CHUNK_HEAD bytes records, per block, its length (0: not there) and its
 * XXH64; block j's bytes lie at CHUNK_HEAD + j * REEL__BLOCK_SIZE (the file is sparse until it
 * is full). A writer holds the file's flock, writes the blocks, then the header; a reader takes
 * a block whose length and XXH64 match, so a block cut short by a crash or a disk filling up is
 * fetched again, never served. Files rather than one per block: creating an inode costs more
 * than the block's bytes (ext4 searches past recently deleted inodes, and a full cache deletes
 * one for every one it makes). */

#define CHUNK_HEAD 4096
#define CHUNK_SUFFIX ".chunk"

typedef struct chead {
    char magic[8];
    uint64_t reserved;
    struct {
        uint64_t len, sum;
    } e[REEL__CHUNK_BLOCKS];
} chead;

static const char CHUNK_MAGIC[8] = "reelchk1";

/* path and the directories above it made; -1 with errno set. */
static int mkdirs(const char *path)
{
    char *p = reel__strdup(path);
    size_t i;
    int rc = 0;
    if (!p)
        return errno = ENOMEM, -1;
    for (i = 1; p[i] && rc == 0; i++)
        if (p[i] == '/') {
            p[i] = 0;
            if (mkdir(p, 0700) != 0 && errno != EEXIST)
                rc = -1;
            p[i] = '/';
        }
    if (rc == 0 && mkdir(p, 0700) != 0 && errno != EEXIST)
        rc = -1;
    free(p);
    return rc;
}

#define CACHE_MIB_MAX (INT64_MAX >> 20)

/* The directory (from the environment) into r->cache, and the size limit. */
static int cache_dir(reel__remote *r)
{
    const char *env = getenv("REEL_BLOCK_CACHE"), *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME"), *mib = getenv("REEL_BLOCK_CACHE_MIB");
    const char *base = env && *env ? env : xdg && *xdg ? xdg : home && *home ? home : NULL;
    const char *tail = env && *env ? "" : xdg && *xdg ? "/reel/blocks" : "/.cache/reel/blocks";
    long long limit = 4096;
    int n = base ? snprintf(r->cache, sizeof r->cache, "%s%s", base, tail)
                 : snprintf(r->cache, sizeof r->cache, "/tmp/reel-blocks-%d", (int)geteuid());
    if (n < 0 || (size_t)n >= sizeof r->cache)
        return reel__err(REEL_INVALID,
                         "the block cache: a path longer than %d bytes (set REEL_BLOCK_CACHE "
                         "to a shorter one): %s%s",
                         REEL__CACHE_PATH_MAX, base, tail);
    if (mib && *mib) {
        char *end;
        errno = 0;
        limit = strtoll(mib, &end, 10);
        if (errno || *end || limit < 1 || limit > CACHE_MIB_MAX)
            return reel__err(REEL_INVALID,
                             "REEL_BLOCK_CACHE_MIB=%.40s: not a size in MiB from 1 to %lld", mib,
                             (long long)CACHE_MIB_MAX);
    }
    r->cache_limit = (int64_t)limit << 20;
    return REEL_OK;
}

/* The cache directory opened (not following a symbolic link someone else made) and checked:
 * a directory of this user's, writable by nobody else. */
static int cache_dir_check(reel__remote *r)
{
    struct stat st;
    int fd = open(r->cache, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int link = fd < 0 && (errno == ELOOP || errno == ENOTDIR) && lstat(r->cache, &st) == 0 &&
               S_ISLNK(st.st_mode);
    if (link && st.st_uid != geteuid())
        return reel__err(REEL_DENIED,
                         "the block cache %s is a symbolic link made by another user (uid %d): "
                         "remove it, or set REEL_BLOCK_CACHE to a directory of your own",
                         r->cache, (int)st.st_uid);
    if (link) /* the user's own link: followed */
        fd = open(r->cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return reel__err(REEL_IO, "the block cache %s: %s (set REEL_BLOCK_CACHE)", r->cache,
                         strerror(errno));
    if (fstat(fd, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
        int uid = (int)st.st_uid, mode = (int)(st.st_mode & 0777);
        close(fd);
        if (uid != (int)geteuid())
            return reel__err(REEL_DENIED,
                             "the block cache %s belongs to another user (uid %d, not %d): "
                             "another user could make reel serve or overwrite what they like; "
                             "remove it, or set REEL_BLOCK_CACHE to a directory of your own",
                             r->cache, uid, (int)geteuid());
        return reel__err(REEL_DENIED,
                         "the block cache %s is writable by %s (mode %03o): another user could "
                         "make reel serve or overwrite what they like; chmod go-w it, or set "
                         "REEL_BLOCK_CACHE to a directory only you can write",
                         r->cache,
                         (mode & 022) == 022 ? "its group and others"
                         : mode & 020        ? "its group"
                                             : "others",
                         mode);
    }
    r->cache_fd = fd;
    return REEL_OK;
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
    int dfd = dup(r->cache_fd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    struct dirent *e;
    aged *v = NULL;
    size_t n = 0, cap = 0, i;
    int64_t total = 0;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    while ((e = readdir(d))) {
        struct stat st;
        if (!is_chunk_name(e->d_name) ||
            fstatat(r->cache_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
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
    if (v)
        qsort(v, n, sizeof *v, by_age);
    for (i = 0; i < n && total > r->cache_limit / 5 * 4; i++)
        if (unlinkat(r->cache_fd, v[i].name, 0) == 0)
            total -= v[i].size;
    free(v);
}

size_t reel__block_len(const reel__remote *r, int64_t b)
{
    int64_t at = b * REEL__BLOCK_SIZE;
    return (size_t)(r->bytes - at < REEL__BLOCK_SIZE ? r->bytes - at : REEL__BLOCK_SIZE);
}

int reel__block_cache_open(reel__remote *r)
{
    int rc = cache_dir(r);
    if (rc != REEL_OK)
        return rc;
    if (mkdirs(r->cache) != 0)
        return reel__err(REEL_IO, "the block cache %s: %s (set REEL_BLOCK_CACHE)", r->cache,
                         strerror(errno));
    return cache_dir_check(r);
}

/* The part holding block b (binary search of the parts' first blocks). */
static int64_t part_of(const reel__remote *r, int64_t b)
{
    return (int64_t)reel__last_at_most(r->part_first, (size_t)r->nparts, b);
}

/* Where block b lives: its part, the chunk's first block and end (exclusive), the cache
 * file's name in the cache directory. */
typedef struct chunk {
    int64_t part, first, end;
    char name[REEL__HASH_HEX + sizeof CHUNK_SUFFIX];
} chunk;

static void chunk_of(const reel__remote *r, int64_t b, chunk *c)
{
    char id[REEL__KEY_BYTES + 24], hex[REEL__HASH_HEX + 1]; /* a key of reel's (manifest.c) */
    int64_t p = part_of(r, b), n = (b - r->part_first[p]) / REEL__CHUNK_BLOCKS;
    c->part = p;
    c->first = r->part_first[p] + n * REEL__CHUNK_BLOCKS;
    c->end = c->first + REEL__CHUNK_BLOCKS < r->part_first[p + 1] ? c->first + REEL__CHUNK_BLOCKS
                                                            : r->part_first[p + 1];
    snprintf(id, sizeof id, "%s#%lld", r->parts[p], (long long)n);
    reel__sha256_hex(id, strlen(id), hex, REEL__HASH_HEX);
    snprintf(c->name, sizeof c->name, "%s%s", hex, CHUNK_SUFFIX);
}

int64_t reel__chunk_end(const reel__remote *r, int64_t b)
{
    chunk c;
    chunk_of(r, b, &c);
    return c.end;
}

/* A file of the cache directory: never through a symbolic link, and only a regular file (-1
 * otherwise, errno set). */
static int cache_open(const reel__remote *r, const char *name, int flags)
{
    struct stat st;
    int fd = openat(r->cache_fd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    return fd;
}

static void head_read(int fd, chead *h)
{
    if (pread(fd, h, sizeof *h, 0) != (ssize_t)sizeof *h || memcmp(h->magic, CHUNK_MAGIC, 8))
        memset(h, 0, sizeof *h);
}

/* Block b of chunk c from its file fd into dst, checked against the header: 1 when it was
 * there whole (a local read gains nothing by taking more at once), else 0. */
static int chunk_take(const reel__remote *r, int fd, const chunk *c, const chead *h, int64_t b,
                      uint8_t *dst)
{
    int j = (int)(b - c->first);
    size_t len = reel__block_len(r, b);
    return h->e[j].len == len &&
           pread(fd, dst, len, CHUNK_HEAD + (off_t)j * REEL__BLOCK_SIZE) == (ssize_t)len &&
           reel__checksum(dst, len) == h->e[j].sum;
}

/* Used: touched, so the least recently used go first (at most every 10 s per file). */
static void touch(int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_mtime + 10 < time(NULL))
        futimens(fd, NULL);
}

/* An index object checked against its name: its SHA-256, and want bytes. */
static int index_ok(const char *key, const char *data, size_t len, size_t want)
{
    char hex[65];
    if (len != want)
        return 0;
    reel__sha256_hex(data, len, hex, 64);
    return !strncmp(hex, reel__index_hex(key), 64);
}

/* Write len bytes as the cache file name: under an unpredictable temporary name made with
 * O_EXCL, then renamed over it. Failing leaves no copy on this node: fetched again next time. */
static void cache_save(const reel__remote *r, const char *name, const void *data, size_t len)
{
    char tmp[64], hex[REEL__HASH_HEX + 1];
    uint8_t rnd[32] = {0};
    int fd = -1, tries;
    for (tries = 0; tries < 8; tries++) {
        if (getrandom(rnd, 16, 0) != 16)
            return;
        reel__hex(rnd, hex, REEL__HASH_HEX);
        snprintf(tmp, sizeof tmp, ".tmp-%s", hex);
        fd = openat(r->cache_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0)
        return;
    {
        int done = write(fd, data, len) == (ssize_t)len;
        if (close(fd) != 0 || !done || renameat(r->cache_fd, tmp, r->cache_fd, name) != 0)
            unlinkat(r->cache_fd, tmp, 0);
    }
}

/* Part p's index object from the block cache (checked against its name) or fetched (and then
 * kept in the cache): its want bytes into r->hashes[p]. Under index_lock. */
static int hashes_load(reel__remote *r, int64_t p, size_t want)
{
    const char *name = reel__index_hex(r->index[p]); /* "<hex>.idx" */
    char *data = reel__malloc(want + 1);
    size_t len = 0;
    int rc, fd;
    if (!data)
        return reel__err(REEL_NOMEM, "out of memory");
    if ((fd = cache_open(r, name, O_RDONLY)) >= 0) {
        ssize_t got = read(fd, data, want + 1);
        len = got > 0 ? (size_t)got : 0; /* want + 1: a longer file is a damaged one */
        close(fd);
        if (index_ok(r->index[p], data, len, want)) {
            r->hashes[p] = (uint8_t *)data;
            return REEL_OK;
        } /* damaged on this disk: fetched again */
    }
    /* exactly the bytes it must hold: a longer object is not read whole (its first want
     * bytes must still match its name) */
    if ((rc = reel__loc_read(&r->loc, r->index[p], 0, want, data, 0)) != REEL_OK) {
        free(data);
        return rc;
    }
    if (!index_ok(r->index[p], data, want, want)) {
        free(data);
        return reel__err(REEL_CORRUPT,
                         "%s: the index object %s (the hashes of %s) does not match its name or "
                         "size: the object is damaged",
                         r->loc.display, r->index[p], r->parts[p]);
    }
    r->hashes[p] = (uint8_t *)data;
    cache_save(r, name, data, want);
    return REEL_OK;
}

/* The hashes of part p's blocks into *out: listed in the manifest, or from the part's index
 * object; and the part's bitmap of blocks checked by this process (r->seen[p]) made. */
static int part_hashes(reel__remote *r, int64_t p, const uint8_t **out)
{
    int64_t blocks = r->part_first[p + 1] - r->part_first[p];
    int rc = REEL_OK;
    pthread_mutex_lock(&r->index_lock);
    if (!r->hashes[p])
        rc = hashes_load(r, p, (size_t)blocks * REEL__HASH_BYTES);
    if (rc == REEL_OK && !r->seen[p]) {
        uint64_t *w = reel__calloc((size_t)(blocks + 63) / 64, sizeof *w);
        if (!w)
            rc = reel__err(REEL_NOMEM, "out of memory");
        __atomic_store_n(&r->seen[p], w, __ATOMIC_RELEASE);
    }
    *out = r->hashes[p];
    pthread_mutex_unlock(&r->index_lock);
    return rc;
}

/* Whether block b (of part p) was checked against its published hash by this process; and
 * recording that it was. */
static int seen(const reel__remote *r, int64_t p, int64_t b)
{
    uint64_t *w = __atomic_load_n(&r->seen[p], __ATOMIC_ACQUIRE);
    int64_t j = b - r->part_first[p];
    return w && (__atomic_load_n(&w[j / 64], __ATOMIC_RELAXED) >> (j % 64) & 1);
}

static void seen_set(const reel__remote *r, int64_t p, int64_t b)
{
    uint64_t *w = __atomic_load_n(&r->seen[p], __ATOMIC_ACQUIRE);
    int64_t j = b - r->part_first[p];
    if (w)
        __atomic_fetch_or(&w[j / 64], (uint64_t)1 << (j % 64), __ATOMIC_RELAXED);
}

/* Whether len bytes at data are the block whose published hash is at want. */
static int block_ok(const uint8_t *data, size_t len, const uint8_t *want)
{
    uint8_t got[32];
    reel__sha256(data, len, got);
    return !memcmp(got, want, REEL__HASH_BYTES);
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
        len += reel__block_len(r, b + i);
    for (fetches = 0; fetches < 2; fetches++) {
        if ((rc = reel__loc_read(&r->loc, r->parts[c->part], (uint64_t)off, len, buf, tries)) !=
            REEL_OK)
            return rc;
        for (i = 0, o = 0, bad = -1; i < k && bad < 0; o += reel__block_len(r, b + i), i++)
            if (!block_ok(buf + o, reel__block_len(r, b + i), hashes + (size_t)i * REEL__HASH_BYTES))
                bad = i;
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
                         (long long)(from + (int64_t)reel__block_len(r, b + bad) - 1));
    }
    for (i = 0; i < k; i++)
        seen_set(r, c->part, b + i);
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
        len += reel__block_len(r, b + i);
    if (pwrite(fd, src, len, CHUNK_HEAD + (off_t)j * REEL__BLOCK_SIZE) != (ssize_t)len)
        return; /* a full disk: the blocks stay uncached, reads still work */
    for (i = 0; i < k; i++, src += REEL__BLOCK_SIZE) {
        h->e[j + i].len = reel__block_len(r, b + i);
        h->e[j + i].sum = reel__checksum(src, reel__block_len(r, b + i));
    }
    memcpy(h->magic, CHUNK_MAGIC, 8);
    if (pwrite(fd, h, sizeof *h, 0) != (ssize_t)sizeof *h)
        return; /* the blocks stay unlisted: fetched again */
}

/* A block the cache holds with a right checksum but not the bytes published: someone altered
 * the file (whoever can write it can recompute the checksum). Its chunk file goes. */
static int forged(const reel__remote *r, const chunk *c, int64_t b)
{
    unlinkat(r->cache_fd, c->name, 0);
    return reel__err(REEL_CORRUPT,
                     "%s: block %lld (object %s) in the block cache file %s/%s does not match "
                     "its hash as published, though its checksum does: the file was altered on "
                     "this node (removed now: the next read fetches the block again)",
                     r->loc.display, (long long)b, r->parts[c->part], r->cache, c->name);
}

/* Block b from its chunk's file fd into dst: *got 1 when it was there whole and (the first
 * time this process serves it, unless fill) matches its published hash. */
static int cache_hit(reel__remote *r, int fd, const chunk *c, const chead *h, int64_t b,
                     uint8_t *dst, int fill, int *got)
{
    const uint8_t *hashes;
    int rc;
    if (!(*got = chunk_take(r, fd, c, h, b, dst)) || fill || seen(r, c->part, b))
        return REEL_OK;
    if ((rc = part_hashes(r, c->part, &hashes)) != REEL_OK) {
        *got = 0;
        return rc;
    }
    if (!block_ok(dst, reel__block_len(r, b),
                  hashes + (size_t)(b - r->part_first[c->part]) * REEL__HASH_BYTES)) {
        *got = 0;
        return forged(r, c, b);
    }
    seen_set(r, c->part, b);
    return REEL_OK;
}

/* Blocks of chunk c from b on that the file fd (locked; -1: none) lacks, up to run, fetched
 * into dst and written to the file; *n gets how many. */
static int chunk_fill(reel__remote *r, int fd, const chunk *c, chead *h, int64_t b, int run,
                      uint8_t *dst, int *n, int tries)
{
    int j = (int)(b - c->first), k, rc;
    for (k = 1; k < run && b + k < c->end && !h->e[j + k].len; k++)
        ;
    if ((rc = fetch_run(r, c, b, k, dst, tries)) != REEL_OK)
        return rc;
    *n = k;
    if (fd >= 0) {
        chunk_put(r, fd, c, h, b, k, dst);
        if ((atomic_fetch_add(&r->since_trim, (long long)k * REEL__BLOCK_SIZE) +
             (long long)k * REEL__BLOCK_SIZE) > r->cache_limit / 10) {
            atomic_store(&r->since_trim, 0);
            cache_trim(r);
        }
    }
    return REEL_OK;
}

/* Blocks from q->b on into q->dst (room for REEL__CHUNK_BLOCKS): from the cache or the
 * network, checked; *n gets how many (at least 1, at most q->run, all in b's chunk). A miss
 * fetches, in one request, the blocks from b on that the chunk's file lacks: a reader going
 * forward through the file makes one request per chunk. */
int reel__block_get(reel__remote *r, const reel__getq *q, int *n)
{
    chunk c;
    chead h;
    int fd, rc = REEL_OK, got = 0;
    chunk_of(r, q->b, &c);
    if ((fd = cache_open(r, c.name, O_RDONLY)) >= 0) {
        head_read(fd, &h);
        rc = cache_hit(r, fd, &c, &h, q->b, q->dst, q->fill, &got);
        if (got)
            touch(fd);
        close(fd);
        if (got || rc != REEL_OK) {
            *n = 1;
            atomic_fetch_add(&r->hits, got);
            return rc;
        }
    }
    /* one download per block on the node: whoever holds the chunk's lock fetches, the others
     * then find the blocks in its file */
    if ((fd = cache_open(r, c.name, O_RDWR | O_CREAT)) >= 0)
        flock(fd, LOCK_EX);
    memset(&h, 0, sizeof h);
    if (fd >= 0) {
        head_read(fd, &h);
        rc = cache_hit(r, fd, &c, &h, q->b, q->dst, q->fill, &got);
    }
    if (got) {
        *n = 1;
        atomic_fetch_add(&r->hits, 1);
    } else if (rc == REEL_OK) {
        rc = chunk_fill(r, fd, &c, &h, q->b, q->run, q->dst, n, q->tries);
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
    uint8_t *buf = reel__malloc((size_t)REEL__CHUNK_BLOCKS * REEL__BLOCK_SIZE);
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
         * meet and report (so is a cached block that does not match its hash: not checked) */
        {
            reel__getq q = {b, REEL__CHUNK_BLOCKS, 1, 1, buf};
            reel__block_get(r, &q, &n);
        }
        pthread_mutex_lock(&r->ahead_lock);
    }
    pthread_mutex_unlock(&r->ahead_lock);
    free(buf);
    return NULL;
}

/* Have the chunk holding block b fetched in the background (replacing a wish not yet taken). */
void reel__ahead_post(reel__remote *r, int64_t b)
{
    pthread_mutex_lock(&r->ahead_lock);
    if (!r->ahead_started && !r->ahead_stop) {
        r->ahead_started = pthread_create(&r->ahead_thread, NULL, ahead_main, r) == 0;
        r->ahead_pid = getpid();
    }
    r->ahead_want = b;
    pthread_cond_signal(&r->ahead_cond);
    pthread_mutex_unlock(&r->ahead_lock);
}

void reel__ahead_stop(reel__remote *r)
{
    /* it ends after its request (at exit, vfs.c has made every transfer end at once); a child
     * after fork() has no such thread, though it has the parent's handle */
    int join;
    pthread_mutex_lock(&r->ahead_lock);
    r->ahead_stop = 1;
    join = r->ahead_started && r->ahead_pid == getpid();
    r->ahead_started = 0; /* joined once: a second stop (exit, then close) joins nothing */
    pthread_cond_signal(&r->ahead_cond);
    pthread_mutex_unlock(&r->ahead_lock);
    if (join)
        pthread_join(r->ahead_thread, NULL);
}
