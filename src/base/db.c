/* db.c - SQLite helpers: result codes mapped to reel's, one-shot statements. */
#include "config.h"

#include <stdio.h>

#include "base/db.h"
#include "base/error.h"

/* What a VFS below SQLite knew of its last failed read on this thread (the network, a damaged
 * block), which SQLite itself can only report as an I/O error. */
static _Thread_local int io_code;
static _Thread_local char io_msg[512];

void reel__io_detail(int code, const char *msg)
{
    io_code = code;
    snprintf(io_msg, sizeof io_msg, "%s", msg);
}

int reel__sqlerr(sqlite3 *db, int rc, const char *what)
{
    int code;
    if (io_code && ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CORRUPT)) {
        code = io_code;
        io_code = 0;
        return reel__err(code, "%s", io_msg); /* it names the location and the object */
    }
    switch (rc & 0xff) {
    case SQLITE_NOMEM: code = REEL_NOMEM; break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: code = REEL_BUSY; break;
    case SQLITE_READONLY: code = REEL_READONLY; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: code = REEL_CORRUPT; break;
    case SQLITE_CANTOPEN: code = REEL_NOTFOUND; break;
    case SQLITE_IOERR:
    case SQLITE_FULL: code = REEL_IO; break;
    case SQLITE_CONSTRAINT: code = REEL_INVALID; break;
    default: code = REEL_ERROR; break;
    }
    return reel__err(code, "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

int reel__exec(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? REEL_OK : reel__sqlerr(db, rc, sql);
}

int reel__query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? REEL_OK : reel__sqlerr(db, rc, sql);
}
