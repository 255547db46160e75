/*
 * store.c - a store's SQLite side: opening the file (checks, pragmas, schema migration), the
 * writer connection and the pool of read connections.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/db.h"
#include "base/error.h"
#include "base/fork.h"
#include "store/frame.h"
#include "store/schema.h"
#include "store/sequence.h"
#include "store/store.h"

#define APPLICATION_ID 0x7265656c /* "reel", shown by `file` and PRAGMA application_id */

/* The directory holding path, where SQLite puts -wal and -shm, into dir (cap bytes). */
static const char *dir_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, cap, ".");
    else
        snprintf(dir, cap, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return dir;
}

/* Whether the directory holding path can be written. */
static int dir_writable(const char *path)
{
    char dir[4096];
    return access(dir_of(path, dir, sizeof dir), W_OK) == 0;
}

/* path as an SQLite URI "file:..." with the query given (RFC 3986: %, ?, # escaped). */
char *reel__sdb_uri(const char *path, const char *query)
{
    size_t n = strlen(path), i;
    char *u = reel__malloc(3 * n + strlen(query) + 8), *p = u;
    if (!u)
        return NULL;
    p += sprintf(p, "file:");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c == '%' || c == '?' || c == '#')
            p += sprintf(p, "%%%02X", c);
        else
            *p++ = (char)c;
    }
    sprintf(p, "?%s", query);
    return u;
}

/* REEL_IO when the store's path no longer names the file this open found there (another file
 * renamed over it, or it was removed): SQLite opens connections by name, so a new one would
 * read another store. The first connection records the file (s->have_id). A published store
 * (s->vfs) is immutable and never checked. */
static int same_file(reel__sdb *s)
{
    struct stat st;
    int found = stat(s->path, &st) == 0;
    if (s->vfs)
        return REEL_OK;
    if (!s->have_id) {
        s->have_id = found;
        s->dev = found ? st.st_dev : 0;
        s->ino = found ? st.st_ino : 0;
        return REEL_OK;
    }
    if (!found)
        return reel__err(REEL_IO, "%s was removed from disk since it was opened (%s): open it "
                                  "again",
                         s->path, strerror(errno));
    if (st.st_dev != s->dev || st.st_ino != s->ino)
        return reel__err(REEL_IO, "%s was replaced on disk since it was opened: open it again",
                         s->path);
    return REEL_OK;
}

/* A connection to the store: the writer (readonly 0), or a reader; a reader of a read-only
 * open uses mode=ro, readonly_shm=1 where the -shm cannot be written (s->ro_shm), or
 * immutable=1 on read-only media (s->immutable). Refused, before and
 * after SQLite opens the file and before anything is read from it, when the path no longer
 * names the file the store's first connection opened (same_file). */
static int db_connect(reel__sdb *s, int readonly, sqlite3 **out)
{
    int oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_URI;
    sqlite3 *db = NULL;
    char *uri;
    int rc;
    if (readonly)
        oflags |= SQLITE_OPEN_READONLY;
    else
        oflags |= SQLITE_OPEN_READWRITE | ((s->flags & REEL_OPEN_CREATE) ? SQLITE_OPEN_CREATE : 0);
    if (s->have_id && (rc = same_file(s)) != REEL_OK)
        return rc;
    if (!(uri = reel__sdb_uri(s->path, !readonly       ? ""
                                       : s->immutable ? "immutable=1"
                                       : s->ro_shm    ? "mode=ro&readonly_shm=1"
                                                      : "mode=ro")))
        return reel__err(REEL_NOMEM, "out of memory");
    rc = sqlite3_open_v2(uri, &db, oflags, s->vfs);
    free(uri);
    if (rc != SQLITE_OK) {
        rc = reel__sqlerr(db, rc, s->path);
        sqlite3_close(db);
        return rc;
    }
    if ((rc = same_file(s)) != REEL_OK) {
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, s->busy_ms);
    *out = db;
    return REEL_OK;
}

/* What the first bytes of the file say when SQLite calls it corrupt. */
static int not_a_store(const reel__sdb *s)
{
    char head[16] = {0}, why[256];
    FILE *f = s->vfs ? NULL : fopen(s->path, "rb");
    size_t n = f ? fread(head, 1, sizeof head, f) : 0;
    const char *colon = strrchr(reel_errmsg(), ':');
    if (f)
        fclose(f);
    snprintf(why, sizeof why, "%s", colon ? colon + 2 : reel_errmsg());
    if (n == 16 && !memcmp(head, "SQLite format 3", 16))
        return reel__err(REEL_CORRUPT, "%s: a damaged or truncated SQLite database (%s)", s->path,
                         why);
    return reel__err(REEL_CORRUPT, "%s: not a reel store (not an SQLite database)", s->path);
}

/* The documented views (schema/002_views.sql, 004_stats_views.sql), put back if dropped. */
static int repair_views(sqlite3 *db)
{
    int64_t n = 0;
    int rc, i;
    rc = reel__query_int(db,
                         "SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND name IN "
                         "('reel_sequences', 'reel_frames', 'reel_hot_frames', "
                         "'reel_sequence_stats')",
                         &n);
    if (rc != REEL_OK || n == 4)
        return rc;
    rc = reel__exec(db, "BEGIN IMMEDIATE; DROP VIEW IF EXISTS reel_sequences; "
                        "DROP VIEW IF EXISTS reel_frames; DROP VIEW IF EXISTS reel_hot_frames; "
                        "DROP VIEW IF EXISTS reel_sequence_stats");
    for (i = 0; rc == REEL_OK && i < reel__migration_count; i++)
        if (strstr(reel__migrations[i].name, "views"))
            rc = reel__exec(db, reel__migrations[i].sql);
    if (rc == REEL_OK)
        rc = reel__exec(db, "COMMIT");
    if (rc != REEL_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Check what the file is and bring its schema up to date (writer) or check it (read-only). */
static int prepare_schema(reel__sdb *s, sqlite3 *db, int page_size)
{
    int64_t objects = 0, appid = 0;
    int version = 0, latest = reel__schema_latest(), rc;
    char sql[64];

    rc = reel__query_int(db, "SELECT count(*) FROM sqlite_schema", &objects);
    if (rc == REEL_CORRUPT || rc == REEL_ERROR)
        return not_a_store(s);
    if (rc != REEL_OK)
        return rc;
    if (objects == 0 && !(s->flags & REEL_OPEN_CREATE))
        return reel__err(REEL_CORRUPT, "%s: an empty file, not a reel store%s", s->path,
                         s->flags & REEL_OPEN_READONLY ? "" : " (REEL_OPEN_CREATE makes one)");
    if ((rc = reel__query_int(db, "PRAGMA application_id", &appid)) != REEL_OK)
        return rc;
    if (objects > 0 && appid != APPLICATION_ID)
        return reel__err(REEL_CORRUPT, "%s: an SQLite database, but not a reel store", s->path);
    if ((rc = reel__schema_version(db, &version)) != REEL_OK)
        return rc;
    if (version > latest)
        return reel__err(REEL_UNSUPPORTED,
                         "%s: store schema version %d is newer than this libreel (%s) supports "
                         "(%d); upgrade reel",
                         s->path, version, REEL_VERSION_STRING, latest);
    if (s->flags & REEL_OPEN_READONLY) {
        if (version < REEL__SCHEMA_READ_OLDEST)
            return reel__err(REEL_UNSUPPORTED,
                             "%s: store schema version %d is older than %d; open it read-write "
                             "once to migrate it",
                             s->path, version, REEL__SCHEMA_READ_OLDEST);
        return REEL_OK;
    }
    if (objects == 0) {
        /* A new file: the page size must be set before the first table exists. */
        snprintf(sql, sizeof sql, "PRAGMA page_size = %d", page_size);
        if ((rc = reel__exec(db, sql)) != REEL_OK)
            return rc;
        snprintf(sql, sizeof sql, "PRAGMA application_id = %d", APPLICATION_ID);
        if ((rc = reel__exec(db, sql)) != REEL_OK)
            return rc;
    }
    if ((rc = reel__exec(db, "PRAGMA journal_mode = WAL")) != REEL_OK)
        return rc;
    if ((rc = reel__exec(db, "PRAGMA synchronous = NORMAL")) != REEL_OK)
        return rc;
    if (version < latest && (rc = reel__schema_migrate(db, latest)) != REEL_OK)
        return rc;
    return repair_views(db);
}

/* ---- the write lock ---------------------------------------------------------------------- */

int reel__claim_alive(int64_t pid, const char *host)
{
    char here[256] = "";
    gethostname(here, sizeof here - 1);
    if (strcmp(host, here) != 0)
        return 1; /* another host's: cannot tell, so it counts */
    return pid > 0 && pid <= INT32_MAX && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Who holds the write lock, as far as the file tells: the running imports that claim a
 * sequence (reel_claim, read without the lock), this process's own left out. */
static void lock_holder(sqlite3 *db, char *buf, size_t cap)
{
    sqlite3_stmt *st = NULL;
    char here[256] = "";
    int n = 0;
    gethostname(here, sizeof here - 1);
    snprintf(buf, cap, "held by another process (no running import claims a sequence of it)");
    if (sqlite3_prepare_v2(db, "SELECT pid, host, claimed_at FROM reel_claim ORDER BY claimed_at",
                           -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t pid = sqlite3_column_int64(st, 0);
        const char *host = (const char *)sqlite3_column_text(st, 1);
        const char *since = (const char *)sqlite3_column_text(st, 2);
        host = host ? host : "";
        if ((pid == (int64_t)getpid() && !strcmp(host, here)) || !reel__claim_alive(pid, host))
            continue;
        if (n++ == 0)
            snprintf(buf, cap, "held by an import in process %lld on %s since %s",
                     (long long)pid, host, since ? since : "?");
    }
    sqlite3_finalize(st);
    if (n > 1) {
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len, " (or one of %d other imports)", n - 1);
    }
}

int reel__writer_full(reel__sdb *d, int rc, const char *seq)
{
    if (rc != REEL_IO || ((sqlite3_extended_errcode(d->wdb) & 0xff) != SQLITE_FULL &&
                          sqlite3_system_errno(d->wdb) != ENOSPC))
        return rc;
    return reel__err(REEL_IO, "%s: sequence '%s': not written: the disk is full (%s)",
                     d->path, seq, strerror(ENOSPC));
}

int reel__writer_begin(reel__sdb *d)
{
    char who[512];
    int rc = sqlite3_exec(d->wdb, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return REEL_OK;
    if ((rc & 0xff) != SQLITE_BUSY)
        return reel__sqlerr(d->wdb, rc, "BEGIN IMMEDIATE");
    lock_holder(d->wdb, who, sizeof who);
    return reel__err(REEL_BUSY,
                     "%s: locked by another writer, %s; gave up after waiting %g s (wait "
                     "longer with reel_open_options.busy_timeout_ms, `reel import --wait "
                     "SECONDS`)",
                     d->path, who, d->busy_ms / 1000.0);
}

int reel__writer_txn(reel__sdb *d, const char *seq, reel__txn_fn fn, void *ctx)
{
    int rc;
    if ((rc = reel__writer_lock(d)) != REEL_OK)
        return rc;
    if ((rc = reel__writer_begin(d)) == REEL_OK) {
        if ((rc = fn(ctx, d->wdb)) == REEL_OK)
            rc = reel__exec(d->wdb, "COMMIT");
        if (rc != REEL_OK) {
            if (seq)
                rc = reel__writer_full(d, rc, seq);
            sqlite3_exec(d->wdb, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    reel__writer_unlock(d);
    return rc;
}

int reel__writer_run(reel__sdb *d, reel__txn_fn fn, void *ctx)
{
    int rc;
    if ((rc = reel__writer_lock(d)) != REEL_OK)
        return rc;
    rc = fn(ctx, d->wdb);
    reel__writer_unlock(d);
    return rc;
}

static int check_options(int flags, const reel_open_options *o)
{
    size_t i;
    if (flags & ~(REEL_OPEN_READONLY | REEL_OPEN_CREATE))
        return reel__err(REEL_INVALID, "unknown open flags 0x%x", (unsigned)flags);
    if ((flags & REEL_OPEN_READONLY) && (flags & REEL_OPEN_CREATE))
        return reel__err(REEL_INVALID, "REEL_OPEN_READONLY and REEL_OPEN_CREATE exclude each other");
    if (!o)
        return REEL_OK;
    for (i = 0; i < sizeof o->reserved / sizeof o->reserved[0]; i++)
        if (o->reserved[i])
            return reel__err(REEL_INVALID, "reel_open_options.reserved must be zero");
    if (o->compression_level < 0 || o->compression_level > 22)
        return reel__err(REEL_INVALID, "compression_level %d is outside 0..22",
                         o->compression_level);
    if (o->busy_timeout_ms < 0)
        return reel__err(REEL_INVALID, "busy_timeout_ms must be >= 0");
    if (o->page_size && (o->page_size < 512 || o->page_size > 65536 ||
                         (o->page_size & (o->page_size - 1))))
        return reel__err(REEL_INVALID, "page_size %d is not a power of two in 512..65536",
                         o->page_size);
    if (o->max_frame_mib < 0 || o->max_frame_mib > (1 << 20))
        return reel__err(REEL_INVALID, "max_frame_mib %d is outside 0..1048576", o->max_frame_mib);
    return REEL_OK;
}

static void reader_free(reel__reader *r)
{
    if (!r)
        return;
    sqlite3_finalize(r->frame);
    sqlite3_finalize(r->info);
    sqlite3_finalize(r->find);
    sqlite3_finalize(r->range);
    sqlite3_finalize(r->probe);
    sqlite3_finalize(r->chain);
    sqlite3_finalize(r->kind);
    sqlite3_close(r->db);
    reel__codec_free(r->codec);
    free(r);
}

static int reader_open(reel__sdb *s, reel__reader **out)
{
    reel__reader *r = reel__calloc(1, sizeof *r);
    int rc;
    if (!r)
        return reel__err(REEL_NOMEM, "out of memory");
    rc = db_connect(s, (s->flags & REEL_OPEN_READONLY) != 0, &r->db);
    if (rc == REEL_OK && (s->flags & REEL_OPEN_READONLY))
        rc = prepare_schema(s, r->db, 0);
    if (rc == REEL_OK)
        rc = reel__frame_prepare(r);
    if (rc == REEL_OK && !(r->codec = reel__codec_new()))
        rc = reel__err(REEL_NOMEM, "out of memory");
    if (rc != REEL_OK) {
        reader_free(r);
        return rc;
    }
    *out = r;
    return REEL_OK;
}

int reel__reader_get(reel__sdb *s, reel__reader **out)
{
    reel__reader *r;
    int rc;
    reel__db_begin(); /* until reel__reader_put: a fork waits (base/fork.c) */
    pthread_mutex_lock(&s->lock);
    r = s->pool;
    if (r)
        s->pool = r->next;
    pthread_mutex_unlock(&s->lock);
    if (r) {
        *out = r;
        return REEL_OK;
    }
    if ((rc = reader_open(s, out)) != REEL_OK)
        reel__db_end();
    return rc;
}

void reel__reader_put(reel__sdb *s, reel__reader *r)
{
    pthread_mutex_lock(&s->lock);
    r->next = s->pool;
    s->pool = r;
    pthread_mutex_unlock(&s->lock);
    reel__db_end();
}

int reel__writer_lock(reel__sdb *s)
{
    int rc;
    if (!s->wdb)
        return reel__err(REEL_READONLY, "%s: store was opened read-only", s->path);
    if ((rc = same_file(s)) != REEL_OK) /* writes would go to a file no longer there */
        return rc;
    reel__db_begin(); /* before the lock: a thread waiting for a fork holds none */
    pthread_mutex_lock(&s->wlock);
    return REEL_OK;
}

void reel__writer_unlock(reel__sdb *s)
{
    pthread_mutex_unlock(&s->wlock);
    reel__db_end();
}

static void sdb_free(reel__sdb *d)
{
    reel__reader *r;
    while ((r = d->pool)) {
        d->pool = r->next;
        reader_free(r);
    }
    if (d->wdb)
        sqlite3_close(d->wdb);
    reel__codec_free(d->wcodec);
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->wlock);
    free(d->path);
    free(d->vfs);
    free(d);
}

/* Whether the file system holding path has no block or no inode left for a new file. */
static int disk_full(const char *path)
{
    char dir[4096];
    struct statvfs v;
    return statvfs(dir_of(path, dir, sizeof dir), &v) == 0 &&
           (v.f_bavail == 0 || (v.f_files > 0 && v.f_favail == 0));
}

/* Whether the store's WAL file is absent or empty: nothing committed lies outside the file. */
static int wal_empty(const char *path)
{
    char wal[4096];
    struct stat st;
    if ((size_t)snprintf(wal, sizeof wal, "%s-wal", path) >= sizeof wal)
        return 0;
    return stat(wal, &st) != 0 ? errno == ENOENT : st.st_size == 0;
}

/* Check the file of a read-only open with a first read connection, kept in the pool. Where
 * SQLite cannot make or grow the WAL's shared memory beside the file, the connections read
 * it without writing it: through a -shm opened read-only (a full disk: SQLite keeps its index
 * of the WAL in memory), or, where there is no -shm to open and the WAL holds nothing,
 * immutable (read-only media, or a disk too full for an empty file). */
static int open_reader_first(reel__sdb *d)
{
    reel__reader *r;
    char first[512];
    int rc = reel__reader_get(d, &r), writable = dir_writable(d->path);
    if (rc == REEL_OK || rc == REEL_CORRUPT || rc == REEL_UNSUPPORTED || rc == REEL_NOMEM ||
        access(d->path, R_OK) != 0) {
        if (rc == REEL_OK)
            reel__reader_put(d, r);
        return rc;
    }
    snprintf(first, sizeof first, "%s", reel_errmsg());
    if (writable) {
        d->ro_shm = 1;
        rc = reel__reader_get(d, &r);
    }
    if (rc != REEL_OK && (!writable || wal_empty(d->path))) {
        d->ro_shm = 0;
        d->immutable = 1;
        rc = reel__reader_get(d, &r);
    }
    if (rc != REEL_OK) {
        d->immutable = d->ro_shm = 0;
        return reel__err(rc, "%s", first); /* the first failure says what is wrong */
    }
    reel__reader_put(d, r);
    return REEL_OK;
}

int reel__sdb_open(const char *path, int flags, const reel_open_options *opts, reel__sdb **out)
{
    reel__sdb *d;
    struct stat st;
    int rc;
    if ((rc = check_options(flags, opts)) != REEL_OK)
        return rc;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return reel__err(REEL_INVALID, "%s: a directory, not a store", path);
    if (!(flags & REEL_OPEN_CREATE) && access(path, F_OK) != 0)
        return reel__err(REEL_NOTFOUND, "%s: no such store (pass REEL_OPEN_CREATE to create it)",
                         path);
    if (!(d = reel__calloc(1, sizeof *d)) || !(d->path = reel__strdup(path))) {
        free(d);
        return reel__err(REEL_NOMEM, "out of memory");
    }
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->wlock, NULL);
    d->flags = flags;
    d->level = opts && opts->compression_level ? opts->compression_level : 1;
    d->busy_ms = opts && opts->busy_timeout_ms ? opts->busy_timeout_ms : 5000;
    d->max_frame = (size_t)(opts && opts->max_frame_mib ? opts->max_frame_mib
                                                         : REEL_DEFAULT_MAX_FRAME_MIB) << 20;
    if (flags & REEL_OPEN_READONLY) {
        rc = open_reader_first(d);
    } else {
        rc = db_connect(d, 0, &d->wdb);
        if (rc == REEL_OK)
            rc = prepare_schema(d, d->wdb, opts && opts->page_size ? opts->page_size : 16384);
        if (rc != REEL_OK && rc != REEL_CORRUPT && rc != REEL_UNSUPPORTED && d->wdb &&
            (sqlite3_system_errno(d->wdb) == ENOSPC || disk_full(path)))
            rc = reel__err(REEL_IO, "%s: cannot be opened for writing: the disk is full (%s)",
                           path, strerror(ENOSPC));
        if (rc == REEL_OK && !(d->wcodec = reel__codec_new()))
            rc = reel__err(REEL_NOMEM, "out of memory");
    }
    if (rc != REEL_OK) {
        sdb_free(d);
        return rc;
    }
    *out = d;
    return REEL_OK;
}

int reel__sdb_connect_ro(reel__sdb *d, sqlite3 **db)
{
    return db_connect(d, 1, db);
}

int reel__sdb_open_vfs(const char *name, const char *vfs, const reel_open_options *opts,
                       reel__sdb **out)
{
    reel__sdb *d;
    reel__reader *r;
    int rc;
    if ((rc = check_options(REEL_OPEN_READONLY, opts)) != REEL_OK)
        return rc;
    if (!(d = reel__calloc(1, sizeof *d)) || !(d->path = reel__strdup(name)) ||
        !(d->vfs = reel__strdup(vfs))) {
        if (d)
            free(d->path);
        free(d);
        return reel__err(REEL_NOMEM, "out of memory");
    }
    pthread_mutex_init(&d->lock, NULL);
    pthread_mutex_init(&d->wlock, NULL);
    d->flags = REEL_OPEN_READONLY;
    d->immutable = 1;
    d->level = 1;
    d->busy_ms = 5000;
    d->max_frame = (size_t)(opts && opts->max_frame_mib ? opts->max_frame_mib
                                                         : REEL_DEFAULT_MAX_FRAME_MIB) << 20;
    if ((rc = reel__reader_get(d, &r)) != REEL_OK) { /* reads the schema: checks the file */
        sdb_free(d);
        return rc;
    }
    reel__reader_put(d, r);
    *out = d;
    return REEL_OK;
}

void reel__sdb_close(reel__sdb *d)
{
    if (d)
        sdb_free(d);
}
