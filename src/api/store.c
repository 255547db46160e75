/* store.c - opening and closing a store (its file, src/store, with the RAM-tier services of
 * src/tier), and the store's settings. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/db.h"
#include "base/error.h"
#include "base/fork.h"
#include "remote/loc.h"
#include "remote/remote.h"
#include "store/counts.h"
#include "store/schema.h"
#include "store/store.h"
#include "tier/default_cache.h"
#include "tier/flusher.h"
#include "tier/share.h"

/* A published store: its manifest, then the snapshot through the remote VFS. */
static int open_remote(reel_store *s, const char *name, int flags, const reel_open_options *opts)
{
    reel__remote *r;
    const char *vfs, *file;
    int rc;
    if (!(flags & REEL_OPEN_READONLY)) {
        char *shown = reel__loc_shown(name); /* without a URL's userinfo */
        rc = shown ? reel__err(REEL_READONLY, "%s: a published store is read-only: open it "
                                              "with REEL_OPEN_READONLY",
                               shown)
                   : reel__err(REEL_NOMEM, "out of memory");
        free(shown);
        return rc;
    }
    if ((rc = reel__remote_open(name, reel__schema_latest(), &r, &vfs, &file)) != REEL_OK)
        return rc;
    if ((rc = reel__sdb_open_vfs(file, vfs, opts, &s->db)) != REEL_OK) {
        reel__remote_close(r);
        return rc;
    }
    s->remote = r;
    /* this node's access counts: without the file, reads still work (counts stay in memory) */
    {
        char path[4200];
        reel__remote_counts_path(r, path, sizeof path);
        if (reel__counts_open(path, &s->counts) == REEL_OK &&
            !(s->counts_path = reel__strdup(path))) {
            sqlite3_close(s->counts);
            s->counts = NULL;
        }
    }
    return REEL_OK;
}

/* Where counts go: the store's file, or a published store's node file of them. */
static int counts_go(const reel_store *s)
{
    return reel__sdb_writable(s->db) || s->counts;
}

/* What s holds only in memory, to its file (the flusher's timer, reel_flush(), reel_close(),
 * and the cache's sink before it drops what that state stands behind): the harvested access
 * counts of its entries and, for a read-write store, its queued frames first; the first error
 * is returned, what failed stays in memory. A published store's counts go to this node's
 * file of them. */
static int store_sink(void *store)
{
    reel_store *s = store;
    int rc, r;
    reel__cache_harvest(s->cache, s->serial);
    if (!reel__sdb_writable(s->db) && s->counts) /* a published store: counts, into this node's file */
        return reel__access_flush(s->access, s->counts, 0);
    if ((rc = reel__writer_lock(s->db)) != REEL_OK)
        return rc;
    rc = reel__wb_flush_locked(s, NULL);
    if ((r = reel__access_flush(s->access, reel__writer_conn(s->db), 1)) != REEL_OK && rc == REEL_OK)
        rc = r;
    reel__writer_unlock(s->db);
    return rc;
}

int reel_flush(reel_store *s)
{
    if (reel__store_check(s, __func__) != REEL_OK)
        return REEL_MISUSE;
    return store_sink(s);
}

static int store_open(const char *path, int flags, const reel_open_options *opts,
                      reel_store **out);

/* Opening and closing use connections outside reel__reader_get: inside the fork gate. */
int reel_open(const char *path, int flags, const reel_open_options *opts, reel_store **out)
{
    int rc;
    reel__db_begin();
    rc = store_open(path, flags, opts, out);
    reel__db_end();
    return rc;
}

static int store_open(const char *path, int flags, const reel_open_options *opts,
                      reel_store **out)
{
    reel_store *s;
    int rc;
    if (!path || !out)
        return reel__err(REEL_MISUSE, "reel_open: path and store must not be NULL");
    if (!(s = reel__zalloc_spaced(sizeof *s)))
        return reel__err(REEL_NOMEM, "out of memory");
    pthread_mutex_init(&s->lock, NULL);
    rc = reel__loc_is_remote(path) ? open_remote(s, path, flags, opts)
                                   : reel__sdb_open(path, flags, opts, &s->db);
    if (rc != REEL_OK) {
        pthread_mutex_destroy(&s->lock);
        free(s);
        return rc;
    }
    s->magic = REEL__MAGIC_STORE;
    s->forks = reel__fork_generation();
    s->cache = reel_cache_default();
    if (s->cache && reel__share_get(s->cache, s->db, &s->share) == REEL_OK) {
        s->serial = reel__share_serial(s->share);
        s->access = reel__share_access(s->share);
    }
    s->prefetch = reel__prefetch_new();
    if (reel__sdb_writable(s->db))
        s->wb = reel__wb_new();
    if (counts_go(s))
        s->flusher = reel__flusher_new(store_sink, s);
    if (!s->cache || !s->share || !s->prefetch || (reel__sdb_writable(s->db) && !s->wb) ||
        (counts_go(s) && !s->flusher)) {
        reel__share_put(s->share);
        reel__prefetch_free(s->prefetch);
        reel__wb_free(s->wb);
        reel__flusher_free(s->flusher);
        reel__sdb_close(s->db);
        sqlite3_close(s->counts);
        free(s->counts_path);
        reel__remote_close(s->remote);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return reel__err(REEL_NOMEM, "out of memory");
    }
    reel__cache_use(s->cache, 1);
    if (counts_go(s))
        reel__cache_add_sink(s->cache, store_sink, s);
    *out = s;
    return REEL_OK;
}

static int store_close(reel_store *s);

int reel_close(reel_store *s)
{
    int rc;
    if (!s)
        return REEL_OK;
    if (reel__store_check(s, __func__) != REEL_OK)
        return REEL_MISUSE;
    pthread_mutex_lock(&s->lock);
    if (s->open_seqs > 0) {
        int n = s->open_seqs;
        pthread_mutex_unlock(&s->lock);
        return reel__err(REEL_MISUSE, "reel_close: %d sequence handle(s) still open", n);
    }
    pthread_mutex_unlock(&s->lock);
    /* the threads end outside the database gate: a fork waiting for this use to end would
     * otherwise hold them back at its door (base/fork.c) */
    reel__prefetch_free(s->prefetch); /* no sequence is open: no queued or running loads */
    reel__flusher_free(s->flusher);
    reel__db_begin();
    rc = store_close(s);
    reel__db_end();
    return rc;
}

/* The rest of reel_close, after the store's threads have ended. */
static int store_close(reel_store *s)
{
    if (counts_go(s)) { /* no frame is queued (sequences flush theirs at close); the counts
                           are written best effort: a failure keeps the error message, the
                           close goes on */
        reel_flush(s);
        reel__cache_remove_sink(s->cache, s);
    }
    s->magic = REEL__MAGIC_DEAD;
    reel__share_put(s->share); /* the last open of the file in the cache purges its frames */
    reel__cache_use(s->cache, -1);
    reel__wb_free(s->wb);
    reel__sdb_close(s->db);
    sqlite3_close(s->counts);
    free(s->counts_path);
    reel__remote_close(s->remote); /* after the last connection that reads through it */
    pthread_mutex_destroy(&s->lock);
    free(s);
    return REEL_OK;
}

static int set_cache(reel_store *s, reel_cache *cache);

int reel_store_set_cache(reel_store *s, reel_cache *cache)
{
    int rc;
    if (reel__store_check(s, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!cache && !(cache = reel_cache_default()))
        return reel__err(REEL_NOMEM, "no default cache");
    /* the flusher's flush reads the cache, serial and counts that move (taken first: its
     * flush enters the fork gate inside its hold too) */
    reel__flusher_hold(s->flusher, 1);
    reel__db_begin(); /* a share's connection opens or closes: inside the fork gate */
    rc = set_cache(s, cache);
    reel__db_end();
    reel__flusher_hold(s->flusher, 0);
    return rc;
}

/* Move the open sequences of s to the counters and policies of share sh (a policy set through
 * s is kept where sh has none of its own). */
static void move_seqs(reel_store *s, reel__share *sh)
{
    reel_seq *q;
    pthread_mutex_lock(&s->lock);
    for (q = s->seqs; q; q = q->next_open) {
        reel__seqstat *st = reel__share_seqstat(sh, q->rec.id);
        reel__seqstat_adopt(st, q->stat);
        q->stat = st;
        q->pol = reel__seqstat_policy(st);
    }
    pthread_mutex_unlock(&s->lock);
}

static int set_cache(reel_store *s, reel_cache *cache)
{
    int64_t pinned = reel__store_pinned(s);
    reel__share *sh, *old = s->share;
    int rc;
    if (pinned)
        return reel__err(REEL_MISUSE, "reel_store_set_cache: %lld frames are pinned",
                         (long long)pinned);
    if (cache == s->cache)
        return REEL_OK;
    if ((rc = reel__share_get(cache, s->db, &sh)) != REEL_OK)
        return rc;
    if (counts_go(s)) {
        if ((rc = reel_flush(s)) != REEL_OK) { /* queued frames are stored before they go */
            reel__share_put(sh);
            return rc;
        }
        reel__cache_remove_sink(s->cache, s);
    }
    reel__prefetch_quiesce(s->prefetch); /* no read-ahead still loading into the old one */
    move_seqs(s, sh);
    s->share = sh;
    s->serial = reel__share_serial(sh);
    s->access = reel__share_access(sh);
    reel__share_put(old);
    reel__cache_use(s->cache, -1);
    reel__cache_use(cache, 1);
    s->cache = cache;
    if (counts_go(s))
        reel__cache_add_sink(cache, store_sink, s);
    return REEL_OK;
}

int reel_store_set_readahead(reel_store *s, int workers, int window)
{
    if (reel__store_check(s, __func__) != REEL_OK)
        return REEL_MISUSE;
    return reel__prefetch_configure(s->prefetch, workers, window);
}

int reel_store_set_flush_interval(reel_store *s, int ms)
{
    if (reel__store_check(s, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (ms < 0)
        return reel__err(REEL_INVALID, "flush interval %d ms: must be >= 0", ms);
    if (s->flusher)
        reel__flusher_set_interval(s->flusher, ms);
    return REEL_OK;
}

int reel_store_sql(reel_store *s, struct sqlite3 **db)
{
    int rc;
    if (reel__store_check(s, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!db)
        return reel__null_arg(__func__);
    *db = NULL;
    if ((rc = reel__sdb_connect_ro(s->db, db)) == REEL_OK && s->counts_path &&
        (rc = reel__counts_views(*db, s->counts_path)) != REEL_OK) {
        sqlite3_close(*db);
        *db = NULL;
    }
    return rc;
}
