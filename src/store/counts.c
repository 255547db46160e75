/* counts.c - access counts in the file: the reel_access table, a table of its own so that no
 * pixel row is ever rewritten (SQLite rewrites a whole row, overflow pages included). */
#include "config.h"

#include "base/db.h"
#include "base/error.h"
#include "store/counts.h"

int reel__counts_write(sqlite3 *db, const reel__count *list)
{
    static const char sql[] =
        "INSERT INTO reel_access(seq_id, idx, count, last_access) "
        "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM reel_frame WHERE seq_id = ?1 AND "
        "idx = ?2) ON CONFLICT(seq_id, idx) DO UPDATE SET count = count + excluded.count, "
        "last_access = max(last_access, excluded.last_access)";
    const reel__count *c;
    sqlite3_stmt *st = NULL;
    int rc, s;
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
    if (rc != REEL_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
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
