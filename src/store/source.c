/*
 * source.c - the import records: a sequence's reel_source row (the file's content hash and
 * the import options) and its reel_claim row, and the decision an import makes from them:
 * create the sequence, resume it, report it done, or replace it. SQL on the writer only.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/db.h"
#include "base/error.h"
#include "store/sequence.h"
#include "store/source.h"
#include "store/store.h"

/* The source row of sequence id: 1 found (fields filled), 0 none. */
static int source_row(sqlite3 *db, int64_t id, int64_t *size, char hash[17], char *options,
                      size_t options_cap, int *complete)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT size, hash, options, complete FROM reel_source "
                                "WHERE seq_id = ?1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(st, 1);
        const char *o = (const char *)sqlite3_column_text(st, 2);
        *size = sqlite3_column_int64(st, 0);
        snprintf(hash, 17, "%s", h ? h : "");
        snprintf(options, options_cap, "%s", o ? o : "");
        *complete = sqlite3_column_int(st, 3);
        rc = 1;
    } else if (rc == SQLITE_DONE) {
        rc = 0;
    } else {
        rc = -reel__sqlerr(db, rc, "reading an import record");
    }
    sqlite3_finalize(st);
    return rc;
}

static int insert_source(sqlite3 *db, int64_t id, const reel__source *src)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO reel_source(seq_id, path, size, hash, options, codec, "
                                "stream, rotation, rotated, frames_expected) "
                                "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, src->path, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, src->size);
        sqlite3_bind_text(st, 4, src->hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, src->options, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, src->codec, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 7, src->stream);
        sqlite3_bind_int(st, 8, src->rotation);
        sqlite3_bind_int(st, 9, src->rotated);
        if (src->frames_expected >= 0)
            sqlite3_bind_int64(st, 10, src->frames_expected);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? REEL_OK : reel__sqlerr(db, rc, "recording the import source");
}

/* REEL_BUSY when another import, still running, claims sequence id. */
static int claimed(sqlite3 *db, int64_t id, const char *name)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT pid, host, claimed_at FROM reel_claim WHERE seq_id = ?1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW) {
        int64_t pid = sqlite3_column_int64(st, 0);
        const char *host = (const char *)sqlite3_column_text(st, 1);
        rc = reel__claim_alive(pid, host ? host : "")
                 ? reel__err(REEL_BUSY,
                             "sequence '%s' is being imported by process %lld on %s (since %s); "
                             "wait for it to finish, or run this import again later to resume",
                             name, (long long)pid, host ? host : "?",
                             (const char *)sqlite3_column_text(st, 2))
                 : REEL_OK; /* its process is gone (killed): this import takes over */
    } else {
        rc = rc == SQLITE_DONE ? REEL_OK : reel__sqlerr(db, rc, "reading an import claim");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Claim sequence id for this import (token: its mark). */
static int claim(sqlite3 *db, int64_t id, int64_t token)
{
    sqlite3_stmt *st = NULL;
    char host[256] = "";
    int rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO reel_claim(seq_id, pid, host, token) "
                                    "VALUES(?1, ?2, ?3, ?4)",
                                -1, &st, NULL);
    gethostname(host, sizeof host - 1);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (int64_t)getpid());
        sqlite3_bind_text(st, 3, host, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, token);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? REEL_OK : reel__sqlerr(db, rc, "claiming a sequence to import");
}

/* Inside the writer's transaction: decide, and create when needed (*id: the sequence). */
static int decide(sqlite3 *db, const char *name, const reel_seq_params *p,
                  const reel__source *src, int replace, int64_t *replaced, int64_t *idp)
{
    int64_t id = 0, size = 0;
    char hash[17], options[256];
    int complete = 0, found, rc = reel__seq_id(db, name, &id);
    *idp = id;
    if (rc == REEL_OK) {
        found = source_row(db, id, &size, hash, options, sizeof options, &complete);
        if (found < 0)
            return -found;
        if (found && size == src->size && !strcmp(hash, src->hash) &&
            !strcmp(options, src->options) && complete)
            return reel__err(REEL_DONE, "sequence '%s' already holds %s", name, src->path);
        if ((rc = claimed(db, id, name)) != REEL_OK)
            return rc; /* never touch what another import is writing */
        if (found && size == src->size && !strcmp(hash, src->hash) &&
            !strcmp(options, src->options))
            return REEL_OK; /* resume */
        if (!replace)
            return reel__err(REEL_EXISTS,
                             "sequence '%s' exists already, made from %s; use another name, or "
                             "replace it",
                             name,
                             !found ? "frames appended through the API"
                             : (size != src->size || strcmp(hash, src->hash))
                                 ? "a different file"
                                 : "the same file with other options");
        if ((rc = reel__seq_delete(db, id)) != REEL_OK)
            return rc;
        *replaced = id;
    } else if (rc != REEL_NOTFOUND) {
        return rc;
    }
    if ((rc = reel__seq_insert(db, name, p, &id)) != REEL_OK)
        return rc;
    *idp = id;
    return insert_source(db, id, src);
}

typedef struct {
    const char *name;
    const reel_seq_params *p;
    const reel__source *src;
    int replace;
    int64_t replaced, id;
} begin_args;

static int begin_in(void *ctx, sqlite3 *db)
{
    begin_args *b = ctx;
    int rc = decide(db, b->name, b->p, b->src, b->replace, &b->replaced, &b->id);
    return rc == REEL_OK ? claim(db, b->id, b->src->token) : rc;
}

int reel__source_claim(reel__sdb *d, const char *name, const reel_seq_params *p,
                       const reel__source *src, int replace, int64_t *replaced, int64_t *id)
{
    begin_args b = {name, p, src, replace, -1, 0};
    int rc = reel__writer_txn(d, name, begin_in, &b);
    *replaced = b.replaced;
    *id = b.id;
    return rc;
}

void reel__source_unclaim(reel__sdb *d, int64_t seq_id, int64_t token)
{
    sqlite3_stmt *st = NULL;
    if (reel__writer_lock(d) != REEL_OK)
        return;
    if (sqlite3_prepare_v2(d->wdb, "DELETE FROM reel_claim WHERE seq_id = ?1 AND token = ?2",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, seq_id);
        sqlite3_bind_int64(st, 2, token);
        sqlite3_step(st); /* a failure leaves a claim of a process that ends: taken over later */
    }
    sqlite3_finalize(st);
    reel__writer_unlock(d);
}

int reel__source_complete(reel__sdb *d, int64_t seq_id, int truncated, const char *codec)
{
    sqlite3_stmt *st = NULL, *sc = NULL;
    int rc;
    if ((rc = reel__writer_lock(d)) != REEL_OK)
        return rc;
    rc = sqlite3_prepare_v2(d->wdb,
                            "UPDATE reel_source SET complete = 1, truncated = ?2, finished_at = "
                            "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE seq_id = ?1",
                            -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(d->wdb, "UPDATE reel_sequence SET codec = ?2 WHERE id = ?1",
                                -1, &sc, NULL);
    if (rc != SQLITE_OK) {
        rc = reel__sqlerr(d->wdb, rc, "finishing an import");
    } else if ((rc = reel__writer_begin(d)) == REEL_OK) {
        sqlite3_bind_int64(st, 1, seq_id);
        sqlite3_bind_int(st, 2, truncated);
        sqlite3_bind_int64(sc, 1, seq_id);
        sqlite3_bind_text(sc, 2, codec, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) == SQLITE_DONE && (rc = sqlite3_step(sc)) == SQLITE_DONE)
            rc = sqlite3_exec(d->wdb, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            rc = reel__sqlerr(d->wdb, rc, "finishing an import");
            sqlite3_exec(d->wdb, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(sc);
    reel__writer_unlock(d);
    return rc;
}
