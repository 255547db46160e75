/* counts.h - access counts in the file (counts.c): the reel_access table, added to in one
 * transaction and read for a frame or a sequence's most read frames. */
#ifndef REEL_STORE_COUNTS_H
#define REEL_STORE_COUNTS_H

#include "store/store.h"

/* Accesses of one frame: a list node (tier/access.c keeps them in memory). */
typedef struct reel__count {
    int64_t seq, idx, count, last_ms; /* last_ms: Unix milliseconds */
    struct reel__count *next;
} reel__count;

/* Add the counts of list to the file in one transaction on the writer db (writer locked);
 * counts of frames no longer in the file are dropped. */
REEL__HIDDEN int reel__counts_write(sqlite3 *db, const reel__count *list, int checked);
/* A node's access counts of a published store: the file at path (made if missing, WAL, shared
 * by the node's processes) with a reel_access table; *db is NULL when it cannot be. */
REEL__HIDDEN int reel__counts_open(const char *path, sqlite3 **db);
/* Let db (a connection to a published store) see the node's counts in the file at path: the
 * file attached as "node", and the views made again as TEMP views, which SQLite finds first,
 * over a TEMP reel_access that reads it (the published snapshot's own is empty). */
REEL__HIDDEN int reel__counts_views(sqlite3 *db, const char *path);
/* The stored count and last access of one frame (0 when never read). */
REEL__HIDDEN int reel__counts_stored(reel__sdb *d, int64_t seq, int64_t idx, int64_t *count,
                                     int64_t *last_ms);
/* The limit most read frames of seq that have pixels, most read first (idx has room for
 * limit); *n of them. */
REEL__HIDDEN int reel__counts_top(reel__sdb *d, int64_t seq, size_t limit, int64_t *idx,
                                  size_t *n);

#endif
