/* db.h - SQLite helpers shared by every layer that runs SQL (db.c). */
#ifndef REEL_BASE_DB_H
#define REEL_BASE_DB_H

#include <sqlite3.h>

#include "base/common.h"

/* Map a SQLite result code to a reel code and record "what: sqlite message". */
REEL__HIDDEN int reel__sqlerr(sqlite3 *db, int rc, const char *what);
/* Run one SQL statement with no result rows on db. */
REEL__HIDDEN int reel__exec(sqlite3 *db, const char *sql);
/* Run a query returning one integer (the first column of its first row). */
REEL__HIDDEN int reel__query_int(sqlite3 *db, const char *sql, int64_t *out);

#endif
