/*
 * snapshot.c - snapshots of a store for publishing: a consistent copy holding the chosen
 * sequences (VACUUM INTO, then rollback journal and 64 KiB pages), and where each frame's bytes
 * lie in it (read from SQLite's dbstat table), so the manifest can say which part holds which
 * frames.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/db.h"
#include "base/error.h"
#include "store/sequence.h"
#include "store/store.h"

/* In the snapshot at db: drop every sequence not named (inside a transaction). */
static int keep_only(sqlite3 *db, const char *const *names, size_t n)
{
    sqlite3_stmt *st = NULL;
    int64_t *ids = NULL, *grown;
    size_t k = 0, cap = 0, i;
    int rc = sqlite3_prepare_v2(db, "SELECT id, name FROM reel_sequence", -1, &st, NULL);
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        for (i = 0; i < n && strcmp(names[i], name ? name : ""); i++)
            ;
        if (i < n)
            continue;
        if (k == cap) {
            if (!(grown = reel__realloc(ids, (cap = cap ? 2 * cap : 64) * sizeof *ids))) {
                rc = SQLITE_NOMEM;
                break;
            }
            ids = grown;
        }
        ids[k++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        free(ids);
        return reel__sqlerr(db, rc, "reading the snapshot's sequences");
    }
    for (i = 0, rc = REEL_OK; rc == REEL_OK && i < k; i++)
        rc = reel__seq_delete(db, ids[i]);
    free(ids);
    return rc;
}

int reel__sdb_snapshot(reel__sdb *d, const char *out_path, const char *const *names, size_t n)
{
    reel__reader *r;
    sqlite3_stmt *st = NULL;
    sqlite3 *db = NULL;
    int rc;
    if ((rc = reel__reader_get(d, &r)) != REEL_OK)
        return rc;
    rc = sqlite3_prepare_v2(r->db, "VACUUM INTO ?1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, out_path, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    rc = rc == SQLITE_DONE ? REEL_OK : reel__sqlerr(r->db, rc, "copying the store");
    reel__reader_put(d, r);
    if (rc != REEL_OK)
        return rc;
    if (sqlite3_open_v2(out_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        rc = reel__sqlerr(db, sqlite3_errcode(db), out_path);
    if (rc == REEL_OK)
        rc = reel__exec(db, "PRAGMA journal_mode = DELETE; BEGIN IMMEDIATE");
    if (rc == REEL_OK && names)
        rc = keep_only(db, names, n);
    /* the annotations of the chosen sequences only: removing the others removed theirs, or
     * orphaned them (annotations.on_remove), and orphans belong to no published sequence */
    if (rc == REEL_OK)
        rc = reel__exec(db, "DELETE FROM reel_annotation WHERE seq_id IS NULL");
    if (rc == REEL_OK)
        rc = reel__exec(db, "DELETE FROM reel_access; DELETE FROM reel_claim; COMMIT; "
                            "PRAGMA page_size = 65536; VACUUM");
    sqlite3_close(db);
    return rc;
}

/* Each cell of reel_blob's B-tree, in key order: the pages of its blob. */
typedef struct cellspan {
    int64_t lo, hi;
    int overflow; /* lo..hi are overflow pages (else the leaf page holding all of it) */
} cellspan;

/* The pages of every row of reel_blob, in rowid order, from dbstat (its rows in path order: a
 * leaf page, then the overflow pages of each of its cells, "LEAF/CCC+NNNNNN"). */
static int blob_cells(sqlite3 *db, cellspan **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    cellspan *v = NULL;
    size_t cap = 0, base = 0;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT path, pageno, pagetype, ncell FROM dbstat "
                                "WHERE name = 'reel_blob' ORDER BY path",
                                -1, &st, NULL);
    *n = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(st, 0);
        const char *type = (const char *)sqlite3_column_text(st, 2);
        int64_t page = sqlite3_column_int64(st, 1), cells = sqlite3_column_int64(st, 3), c;
        rc = SQLITE_OK;
        if (type && !strcmp(type, "leaf")) {
            if (cells < 0 || *n + (size_t)cells > cap) {
                cellspan *g = cells < 0 ? NULL
                                        : reel__realloc(v, (cap = 2 * (*n + (size_t)cells) + 64) *
                                                               sizeof *v);
                if (!g) {
                    rc = SQLITE_NOMEM;
                    break;
                }
                v = g;
            }
            base = *n;
            for (c = 0; c < cells; c++)
                v[(*n)++] = (cellspan){page, page, 0};
        } else if (type && !strcmp(type, "overflow") && path) {
            const char *plus = strrchr(path, '+'), *slash = strrchr(path, '/');
            char *end;
            long cell = slash && plus > slash ? strtol(slash + 1, &end, 16) : -1;
            cellspan *x;
            if (cell < 0 || end != plus || base + (size_t)cell >= *n) {
                rc = SQLITE_CORRUPT;
                break;
            }
            x = &v[base + (size_t)cell];
            if (!x->overflow)
                *x = (cellspan){page, page, 1};
            x->lo = page < x->lo ? page : x->lo;
            x->hi = page > x->hi ? page : x->hi;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return rc == SQLITE_NOMEM ? reel__err(REEL_NOMEM, "out of memory")
                                  : reel__sqlerr(db, rc, "reading the snapshot's pages");
    }
    *out = v;
    return REEL_OK;
}

int reel__snapshot_spans(const char *path, reel__span_fn fn, void *ctx)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    cellspan *cells = NULL;
    int64_t *ids = NULL, page_size = 0;
    size_t n = 0, k = 0;
    int rc = REEL_OK, s;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        rc = reel__sqlerr(db, sqlite3_errcode(db), path);
    if (rc == REEL_OK && (rc = reel__query_int(db, "PRAGMA page_size", &page_size)) == REEL_OK)
        rc = blob_cells(db, &cells, &n);
    if (rc == REEL_OK && !(ids = reel__malloc((n ? n : 1) * sizeof *ids)))
        rc = reel__err(REEL_NOMEM, "out of memory");
    /* the k-th cell in key order holds the k-th rowid */
    s = rc == REEL_OK ? sqlite3_prepare_v2(db, "SELECT id FROM reel_blob ORDER BY id", -1, &st,
                                           NULL)
                      : SQLITE_ERROR;
    while (rc == REEL_OK && s == SQLITE_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        s = SQLITE_OK;
        if (k == n)
            break;
        ids[k++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == REEL_OK && (s != SQLITE_DONE || k != n))
        rc = reel__err(REEL_CORRUPT, "%s: the snapshot's blobs and their pages do not agree",
                       path);
    s = rc == REEL_OK
            ? sqlite3_prepare_v2(db,
                                 "SELECT s.name, f.idx, f.blob_id FROM reel_frame AS f "
                                 "JOIN reel_sequence AS s ON s.id = f.seq_id "
                                 "WHERE f.blob_id IS NOT NULL ORDER BY s.name, f.idx",
                                 -1, &st, NULL)
            : SQLITE_ERROR;
    while (rc == REEL_OK && s == SQLITE_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 2);
        size_t lo = 0, hi = n;
        s = SQLITE_OK;
        while (lo < hi) { /* the blob's cell: ids ascend */
            size_t mid = lo + (hi - lo) / 2;
            if (ids[mid] < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == n || ids[lo] != id)
            rc = reel__err(REEL_CORRUPT, "%s: a frame's blob %lld is missing", path,
                           (long long)id);
        else
            rc = fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
                    (cells[lo].lo - 1) * page_size, cells[lo].hi * page_size - 1);
    }
    if (rc == REEL_OK && s != SQLITE_DONE)
        rc = reel__sqlerr(db, s, "reading the snapshot's frames");
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(cells);
    free(ids);
    return rc;
}
