/*
 * store.c - opening and closing a store: the writer connection, the pool of read connections,
 * pragmas, and the schema check/migration at open.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define APPLICATION_ID 0x7265656c /* "reel", shown by `file` and PRAGMA application_id */

int reel__store_check(const reel_store *s)
{
    if (!s || reel__magic(s) != REEL__MAGIC_STORE)
        return reel__err(REEL_MISUSE, "not an open reel_store handle");
    return REEL_OK;
}

static int db_connect(const reel_store *s, int readonly, sqlite3 **out)
{
    int oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    sqlite3 *db = NULL;
    int rc;
    if (readonly)
        oflags |= SQLITE_OPEN_READONLY;
    else
        oflags |= SQLITE_OPEN_READWRITE | ((s->flags & REEL_OPEN_CREATE) ? SQLITE_OPEN_CREATE : 0);
    rc = sqlite3_open_v2(s->path, &db, oflags, NULL);
    if (rc != SQLITE_OK) {
        rc = reel__sqlerr(db, rc, s->path);
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, s->busy_ms);
    *out = db;
    return REEL_OK;
}

/* Check what the file is and bring its schema up to date (writer) or check it (read-only). */
static int prepare_schema(reel_store *s, sqlite3 *db, int page_size)
{
    int64_t objects = 0, appid = 0;
    int version = 0, latest = reel__schema_latest(), rc;
    char sql[64];

    rc = reel__query_int(db, "SELECT count(*) FROM sqlite_schema", &objects);
    if (rc == REEL_CORRUPT || rc == REEL_ERROR)
        return reel__err(REEL_CORRUPT, "%s: not a reel store (not an SQLite database)", s->path);
    if (rc != REEL_OK)
        return rc;
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
        if (objects == 0)
            return reel__err(REEL_CORRUPT, "%s: an empty file, not a reel store", s->path);
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
    return version < latest ? reel__schema_migrate(db, latest) : REEL_OK;
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
    return REEL_OK;
}

int reel_open(const char *path, int flags, const reel_open_options *opts, reel_store **out)
{
    reel_store *s;
    int rc, page_size;
    reel__reader *r;

    if (!path || !out)
        return reel__err(REEL_MISUSE, "reel_open: path and store must not be NULL");
    if ((rc = check_options(flags, opts)) != REEL_OK)
        return rc;
    if (!(flags & REEL_OPEN_CREATE) && access(path, F_OK) != 0)
        return reel__err(REEL_NOTFOUND, "%s: no such store (pass REEL_OPEN_CREATE to create it)",
                         path);
    if (!(s = reel__zalloc_spaced(sizeof *s)) || !(s->path = strdup(path))) {
        free(s);
        return reel__err(REEL_NOMEM, "out of memory");
    }
    s->magic = REEL__MAGIC_STORE;
    s->serial = reel__cache_serial();
    s->cache = reel_cache_default();
    s->access = reel__access_new();
    s->prefetch = reel__prefetch_new();
    if (!s->cache || !s->access || !s->prefetch) {
        reel__access_free(s->access);
    pthread_mutex_destroy(&s->flush_lock);
    pthread_cond_destroy(&s->flush_cond);
        reel__prefetch_free(s->prefetch);
        free(s->path);
        free(s);
        return reel__err(REEL_NOMEM, "out of memory");
    }
    reel__cache_use(s->cache, 1);
    pthread_mutex_init(&s->flush_lock, NULL);
    pthread_cond_init(&s->flush_cond, NULL);
    s->flush_ms = 5000;
    s->flags = flags;
    s->level = opts && opts->compression_level ? opts->compression_level : 1;
    s->busy_ms = opts && opts->busy_timeout_ms ? opts->busy_timeout_ms : 5000;
    page_size = opts && opts->page_size ? opts->page_size : 16384;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->wlock, NULL);

    if (flags & REEL_OPEN_READONLY) {
        /* Check the file with a first read connection, kept in the pool. */
        rc = reel__reader_get(s, &r);
        if (rc == REEL_OK)
            reel__reader_put(s, r);
    } else {
        rc = db_connect(s, 0, &s->wdb);
        if (rc == REEL_OK)
            rc = prepare_schema(s, s->wdb, page_size);
        if (rc == REEL_OK && (!(s->wcodec = reel__codec_new()) || reel__wb_new(s) != REEL_OK))
            rc = reel__err(REEL_NOMEM, "out of memory");
        if (rc == REEL_OK)
            reel__cache_add_sink(s->cache, reel__store_sink, s);
    }
    if (rc != REEL_OK) {
        s->open_seqs = 0;
        reel_close(s);
        return rc;
    }
    *out = s;
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
    sqlite3_close(r->db);
    reel__codec_free(r->codec);
    free(r);
}

int64_t reel__store_pinned(reel_store *s)
{
    int64_t n = 0;
    reel_seq *q;
    pthread_mutex_lock(&s->lock);
    for (q = s->seqs; q; q = q->next_open)
        n += reel__pins_total(&q->pins);
    pthread_mutex_unlock(&s->lock);
    return n;
}

int reel_close(reel_store *s)
{
    reel__reader *r;
    if (!s)
        return REEL_OK;
    if (reel__store_check(s) != REEL_OK)
        return REEL_MISUSE;
    pthread_mutex_lock(&s->lock);
    if (s->open_seqs > 0) {
        int n = s->open_seqs;
        pthread_mutex_unlock(&s->lock);
        return reel__err(REEL_MISUSE, "reel_close: %d sequence handle(s) still open", n);
    }
    pthread_mutex_unlock(&s->lock);
    reel__prefetch_free(s->prefetch); /* no sequence is open: no queued or running loads */
    reel__flusher_stop(s);
    if (s->wdb) { /* no frame is queued (sequences flush theirs at close); the counts are
                     written best effort: a failure keeps the error message, the close goes on */
        reel_flush(s);
        reel__cache_remove_sink(s->cache, s);
    }
    s->magic = REEL__MAGIC_DEAD;
    reel__cache_purge(s->cache, s->serial, -1);
    reel__cache_use(s->cache, -1);
    reel__access_free(s->access);
    reel__seqstat_free_all(s);
    reel__wb_free(s);
    while ((r = s->pool)) {
        s->pool = r->next;
        reader_free(r);
    }
    if (s->wdb)
        sqlite3_close(s->wdb);
    reel__codec_free(s->wcodec);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->wlock);
    free(s->path);
    free(s);
    return REEL_OK;
}

static const char SQL_FRAME[] =
    "SELECT f.pts, f.duration, f.flags, f.status, f.filter, f.checksum, f.raw_bytes, "
    "f.stored_bytes, b.data FROM reel_frame AS f LEFT JOIN reel_blob AS b ON b.id = f.blob_id "
    "WHERE f.seq_id = ?1 AND f.idx = ?2";
static const char SQL_INFO[] =
    "SELECT pts, duration, flags, status, stored_bytes FROM reel_frame "
    "WHERE seq_id = ?1 AND idx = ?2";
static const char SQL_FIND[] =
    "SELECT f.idx, f.pts, f.duration, s.frames FROM reel_frame AS f JOIN reel_sequence AS s "
    "ON s.id = f.seq_id WHERE f.seq_id = ?1 AND f.pts <= ?2 ORDER BY f.pts DESC LIMIT 1";
static const char SQL_RANGE[] =
    "SELECT f.idx, f.status, f.filter, f.checksum, f.raw_bytes, f.stored_bytes, b.data "
    "FROM reel_frame AS f LEFT JOIN reel_blob AS b ON b.id = f.blob_id "
    "WHERE f.seq_id = ?1 AND f.idx >= ?2 AND f.idx < ?3 ORDER BY f.idx";

static int reader_open(reel_store *s, reel__reader **out)
{
    reel__reader *r = calloc(1, sizeof *r);
    int rc;
    if (!r)
        return reel__err(REEL_NOMEM, "out of memory");
    rc = db_connect(s, (s->flags & REEL_OPEN_READONLY) != 0, &r->db);
    if (rc == REEL_OK && (s->flags & REEL_OPEN_READONLY))
        rc = prepare_schema(s, r->db, 0);
    if (rc == REEL_OK) {
        const char *sql[] = {SQL_FRAME, SQL_INFO, SQL_FIND, SQL_RANGE};
        sqlite3_stmt **st[] = {&r->frame, &r->info, &r->find, &r->range};
        size_t i;
        for (i = 0; i < 4 && rc == REEL_OK; i++) {
            int src = sqlite3_prepare_v3(r->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, st[i], NULL);
            if (src != SQLITE_OK)
                rc = reel__sqlerr(r->db, src, "preparing a read statement");
        }
    }
    if (rc == REEL_OK && !(r->codec = reel__codec_new()))
        rc = reel__err(REEL_NOMEM, "out of memory");
    if (rc != REEL_OK) {
        reader_free(r);
        return rc;
    }
    *out = r;
    return REEL_OK;
}

int reel__reader_get(reel_store *s, reel__reader **out)
{
    reel__reader *r;
    pthread_mutex_lock(&s->lock);
    r = s->pool;
    if (r)
        s->pool = r->next;
    pthread_mutex_unlock(&s->lock);
    if (r) {
        *out = r;
        return REEL_OK;
    }
    return reader_open(s, out);
}

void reel__reader_put(reel_store *s, reel__reader *r)
{
    pthread_mutex_lock(&s->lock);
    r->next = s->pool;
    s->pool = r;
    pthread_mutex_unlock(&s->lock);
}

int reel__writer_lock(reel_store *s)
{
    if (!s->wdb)
        return reel__err(REEL_READONLY, "%s: store was opened read-only", s->path);
    pthread_mutex_lock(&s->wlock);
    return REEL_OK;
}

void reel__writer_unlock(reel_store *s) { pthread_mutex_unlock(&s->wlock); }
