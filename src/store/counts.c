/* counts.c - access counts in the file: the reel_access table, a table of its own so that no
 * pixel row is ever rewritten (SQLite rewrites a whole row, overflow pages included). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/db.h"
#include "base/error.h"
#include "store/counts.h"
#include "store/store.h"

int reel__counts_write(sqlite3 *db, const reel__count *list, int checked)
{
    static const char sql_checked[] =
        "INSERT INTO reel_access(seq_id, idx, count, last_access) "
        "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM reel_frame WHERE seq_id = ?1 AND "
        "idx = ?2) ON CONFLICT(seq_id, idx) DO UPDATE SET count = count + excluded.count, "
        "last_access = max(last_access, excluded.last_access)";
    static const char sql_plain[] =
        "INSERT INTO reel_access(seq_id, idx, count, last_access) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT(seq_id, idx) DO UPDATE SET count = count + excluded.count, "
        "last_access = max(last_access, excluded.last_access)";
    const char *sql = checked ? sql_checked : sql_plain;
    const reel__count *c;
    sqlite3_stmt *st = NULL;
    int rc, s, full;
    if (!list)
        return REEL_OK;
    if ((rc = reel__exec(db, "BEGIN IMMEDIATE")) != REEL_OK)
        return rc;
    s = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    for (c = list; s == SQLITE_OK && c; c = c->next) {
        sqlite3_bind_int64(st, 1, c->seq);
        sqlite3_bind_int64(st, 2, c->idx);
        sqlite3_bind_int64(st, 3, c->count);
        sqlite3_bind_int64(st, 4, c->last_ms);
        s = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    rc = s == SQLITE_OK ? reel__exec(db, "COMMIT") : reel__sqlerr(db, s, "writing access counts");
    full = rc == REEL_IO && ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_FULL ||
                             sqlite3_system_errno(db) == ENOSPC);
    if (rc != REEL_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    if (full) { /* the caller keeps them for its next flush */
        size_t n = 0;
        for (c = list; c; c = c->next)
            n++;
        rc = reel__err(REEL_IO, "%s: the access counts of %zu frame(s) are not saved yet: the "
                                "disk is full (%s)",
                       sqlite3_db_filename(db, "main"), n, strerror(ENOSPC));
    }
    return rc;
}

/* Run a query of the access table on a read connection: bind (seq, arg), call row(ctx, st)
 * for each row. */
static int query(reel__sdb *s, const char *sql, int64_t seq, int64_t arg,
                 void (*row)(void *ctx, sqlite3_stmt *st), void *ctx)
{
    reel__reader *r;
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = reel__reader_get(s, &r)) != REEL_OK)
        return rc;
    rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_int64(st, 2, arg);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            row(ctx, st);
    }
    rc = rc == SQLITE_DONE ? REEL_OK : reel__sqlerr(r->db, rc, "reading access counts");
    sqlite3_finalize(st);
    reel__reader_put(s, r);
    return rc;
}

static void add_count(void *ctx, sqlite3_stmt *st)
{
    int64_t *v = ctx;
    v[0] += sqlite3_column_int64(st, 0);
    v[1] = sqlite3_column_int64(st, 1);
}

int reel__counts_stored(reel__sdb *s, int64_t seq, int64_t idx, int64_t *count,
                        int64_t *last_ms)
{
    int64_t v[2] = {0, 0};
    int rc = query(s, "SELECT count, last_access FROM reel_access WHERE seq_id = ?1 AND idx = ?2",
                   seq, idx, add_count, v);
    *count = v[0];
    if (last_ms)
        *last_ms = v[1];
    return rc;
}

typedef struct top {
    int64_t *idx;
    size_t n;
} top;

static void add_index(void *ctx, sqlite3_stmt *st)
{
    top *t = ctx;
    t->idx[t->n++] = sqlite3_column_int64(st, 0);
}

int reel__counts_top(reel__sdb *s, int64_t seq, size_t limit, int64_t *idx, size_t *n)
{
    top t = {idx, 0};
    int rc = query(s,
                   "SELECT a.idx FROM reel_access a JOIN reel_frame f ON f.seq_id = a.seq_id AND "
                   "f.idx = a.idx AND f.blob_id IS NOT NULL WHERE a.seq_id = ?1 "
                   "ORDER BY a.count DESC, a.last_access DESC LIMIT ?2",
                   seq, (int64_t)limit, add_index, &t);
    *n = t.n;
    return rc;
}

int reel__counts_open(const char *path, sqlite3 **db)
{
    int rc;
    *db = NULL;
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                      SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        rc = reel__sqlerr(*db, sqlite3_errcode(*db), path);
        sqlite3_close(*db);
        *db = NULL;
        return rc;
    }
    sqlite3_busy_timeout(*db, 5000);
    rc = reel__exec(*db, "PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS reel_access("
                         "seq_id INTEGER NOT NULL, idx INTEGER NOT NULL, count INTEGER NOT NULL, "
                         "last_access INTEGER NOT NULL, PRIMARY KEY(seq_id, idx)) WITHOUT ROWID");
    if (rc != REEL_OK) {
        sqlite3_close(*db);
        *db = NULL;
    }
    return rc;
}

int reel__counts_views(sqlite3 *db, const char *path)
{
    sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
    char query[128], *uri;
    sqlite3_stmt *st = NULL;
    int rc;
    /* the connection reads through a published store's VFS: the file goes through the
     * default one */
    snprintf(query, sizeof query, "vfs=%.100s", vfs ? vfs->zName : "unix");
    if (!(uri = reel__sdb_uri(path, query)))
        return reel__err(REEL_NOMEM, "out of memory");
    rc = sqlite3_prepare_v2(db, "ATTACH DATABASE ?1 AS node", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, uri, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    }
    sqlite3_finalize(st);
    free(uri);
    if (rc != SQLITE_OK)
        return reel__sqlerr(db, rc, "attaching this node's access counts");
    if ((rc = reel__exec(db, "CREATE TEMP VIEW reel_access AS SELECT * FROM node.reel_access")) !=
        REEL_OK)
        return rc;
    rc = sqlite3_prepare_v2(db,
                            "SELECT substr(sql, 13) FROM main.sqlite_schema "
                            "WHERE type = 'view' AND sql LIKE 'CREATE VIEW %'",
                            -1, &st, NULL);
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        char *sql = sqlite3_mprintf("CREATE TEMP VIEW %s", sqlite3_column_text(st, 0));
        rc = sql ? sqlite3_exec(db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
        sqlite3_free(sql);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? REEL_OK : reel__sqlerr(db, rc, "this node's access-count views");
}
