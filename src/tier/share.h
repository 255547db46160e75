/* share.h - what every open of one store file in this process shares in one cache (share.c):
 * the key of the file's frames in the cache, so that two opens read one set of cached frames;
 * the counters and policy of each sequence (the owners of its entries, stats.c); and the
 * accesses counted in them (access.c), added to the file by whichever open writes first. */
#ifndef REEL_TIER_SHARE_H
#define REEL_TIER_SHARE_H

#include "cache/cache.h"
#include "store/store.h"
#include "tier/access.h"
#include "tier/stats.h"

typedef struct reel__share reel__share;

/* The share of the file d opened, in cache c, with one more open using it (*out; REEL_OK or
 * REEL_NOMEM). An existing share when an open of this process (made since the last fork())
 * uses the same file in c: the same device and inode, which no other file can take while the
 * share holds a connection of its own to it (a file renamed over the path, or removed and
 * made again, is another file and gets its own share). A published store, or a file whose
 * path names another file by now: a new share of this open alone. Thread-safe. */
REEL__HIDDEN int reel__share_get(reel_cache *c, reel__sdb *d, reel__share **out);
/* One open less; the last one purges the file's entries from the cache (their accesses
 * handed over, then dropped with the share's table) and frees the share. NULL: nothing. */
REEL__HIDDEN void reel__share_put(reel__share *sh);
REEL__HIDDEN uint64_t reel__share_serial(const reel__share *sh);
REEL__HIDDEN reel__access *reel__share_access(reel__share *sh);
/* The counters and policy of sequence seq (made on first use; NULL when out of memory). */
REEL__HIDDEN reel__seqstat *reel__share_seqstat(reel__share *sh, int64_t seq);

#endif
