/* access.h - access counts gathered in memory (access.c) until they are added to the file. */
#ifndef REEL_TIER_ACCESS_H
#define REEL_TIER_ACCESS_H

#include <sqlite3.h>

#include "base/common.h"

typedef struct reel__access reel__access; /* the counts of one open store */

REEL__HIDDEN reel__access *reel__access_new(void);
REEL__HIDDEN void reel__access_free(reel__access *a);
/* One access of a frame now; n accesses, the latest at ms (Unix milliseconds). A count that
 * cannot be recorded for lack of memory is dropped. */
REEL__HIDDEN void reel__access_count(reel__access *a, int64_t seq, int64_t idx);
REEL__HIDDEN void reel__access_add(reel__access *a, int64_t seq, int64_t idx, int64_t n,
                                   int64_t ms);
/* Drop the counts of a removed sequence. */
REEL__HIDDEN void reel__access_forget(reel__access *a, int64_t seq);
/* Add every count to the file with the writer db (writer locked), only for frames it holds
 * when checked (else db is a node's counts of a published store); kept on failure. */
REEL__HIDDEN int reel__access_flush(reel__access *a, sqlite3 *db, int checked);
/* The count gathered for one frame, and (last_ms may be NULL) its latest time. */
REEL__HIDDEN int64_t reel__access_peek(reel__access *a, int64_t seq, int64_t idx,
                                       int64_t *last_ms);

#endif
