/*
 * store.c - a store's SQLite side: opening the file (checks, pragmas, schema migration), the
 * writer connection and the pool of read connections.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/db.h"
#include "base/error.h"
#include "base/fork.h"
#include "store/frame.h"
#include "store/schema.h"
#include "store/sequence.h"
#include "store/store.h"

#define APPLICATION_ID 0x7265656c /* "reel", shown by `file` and PRAGMA application_id */

/* Whether the directory holding path can be written (where SQLite puts -wal and -shm). */
static int dir_writable(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        return access(".", W_OK) == 0;
    snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return access(dir, W_OK) == 0;
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

/* A connection to the store: the writer (readonly 0), or a reader; a reader of a read-only
 * open uses mode=ro, or immutable=1 on read-only media (s->immutable). */
static int db_connect(const reel__sdb *s, int readonly, sqlite3 **out)
{
    int oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_URI;
    sqlite3 *db = NULL;
    char *uri;
    int rc;
    if (readonly)
        oflags |= SQLITE_OPEN_READONLY;
    else
        oflags |= SQLITE_OPEN_READWRITE | ((s->flags & REEL_OPEN_CREATE) ? SQLITE_OPEN_CREATE : 0);
    if (!(uri = reel__sdb_uri(s->path, !readonly ? "" : s->immutable ? "immutable=1" : "mode=ro")))
        return reel__err(REEL_NOMEM, "out of memory");
    rc = sqlite3_open_v2(uri, &db, oflags, s->vfs);
    free(uri);
    if (rc != SQLITE_OK) {
        rc = reel__sqlerr(db, rc, s->path);
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
        if (version < latest)
            return reel__err(REEL_UNSUPPORTED,
                             "%s: store schema version %d is older than %d; open it read-write "
                             "once to migrate it",
                             s->path, version, latest);
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
    if (!s->wdb)
        return reel__err(REEL_READONLY, "%s: store was opened read-only", s->path);
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

int reel__sdb_open(const char *path, int flags, const reel_open_options *opts, reel__sdb **out)
{
    reel__sdb *d;
    reel__reader *r;
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
        /* Check the file with a first read connection, kept in the pool. Where SQLite cannot
         * make the WAL's shared memory beside the file (read-only media), open it immutable. */
        rc = reel__reader_get(d, &r);
        if (rc != REEL_OK && rc != REEL_CORRUPT && rc != REEL_UNSUPPORTED &&
            access(path, R_OK) == 0 && !dir_writable(path)) {
            d->immutable = 1;
            rc = reel__reader_get(d, &r);
        }
        if (rc == REEL_OK)
            reel__reader_put(d, r);
    } else {
        rc = db_connect(d, 0, &d->wdb);
        if (rc == REEL_OK)
            rc = prepare_schema(d, d->wdb, opts && opts->page_size ? opts->page_size : 16384);
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
