/* db.h - SQLite helpers shared by every layer that runs SQL (db.c). */
#ifndef REEL_BASE_DB_H
#define REEL_BASE_DB_H

#include <sqlite3.h>

#include "base/common.h"

/* Map a SQLite result code to a reel code and record "what: sqlite message". */
REEL__HIDDEN int reel__sqlerr(sqlite3 *db, int rc, const char *what);
/* A VFS's account of the read it just failed (code and message, which names the location and
 * the object), reported alone by the next reel__sqlerr of an I/O or corruption error on this
 * thread instead of SQLite's generic one. */
REEL__HIDDEN void reel__io_detail(int code, const char *msg);
/* Run one SQL statement with no result rows on db. */
REEL__HIDDEN int reel__exec(sqlite3 *db, const char *sql);
/* Run a query returning one integer (the first column of its first row). */
REEL__HIDDEN int reel__query_int(sqlite3 *db, const char *sql, int64_t *out);

#endif
