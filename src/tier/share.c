/*
 * share.c - one share per store file and cache, for every open of that file in the process.
 *
 * Without it each reel_open had a cache key of its own: two opens of one file cached every
 * frame twice and decoded it twice. A share is found by the file's identity (device and
 * inode, as the store's first connection recorded them, store/store.c) and the cache. An
 * inode number is reused by a new file only once the old one is gone, so the share keeps a
 * read connection of its own to the file while it lives: no other file can then have the
 * same identity, and a store renamed over the path, or removed and made again, never finds
 * the frames of the file it replaced. (An fd of our own would do the same, but closing it
 * would drop SQLite's POSIX locks on the file; SQLite's own connections are safe.) A file
 * written over in place (same inode) while it is open is not told apart: SQLite does not
 * support that under open connections either (it is how SQLite files get corrupted). The list
 * of shares is process state behind one lock, held across fork() (base/fork.h); a child
 * skips its parent's shares by their fork generation.
 */
#include "config.h"

#include <stdlib.h>

#include "base/error.h"
#include "base/fork.h"
#include "tier/share.h"

struct reel__share {
    reel_cache *cache;
    uint64_t serial;       /* the key of the file's entries in the cache */
    int users;             /* opens using it (under the list's lock) */
    int listed;            /* in the list: other opens of the file may find it */
    unsigned forks;        /* the fork generation it was made in */
    dev_t dev;
    ino_t ino;
    sqlite3 *pin;          /* its connection to the file: the inode stays that file's */
    reel__access *access;
    pthread_mutex_t lock;  /* guards stats */
    reel__seqstat *stats;
    reel__share *next;
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static reel__share *shares;
static pthread_once_t hold_once = PTHREAD_ONCE_INIT;

static void hold(void) { reel__fork_hold(&list_lock); }

static reel__share *find(reel_cache *c, const reel__sdb *d)
{
    reel__share *sh;
    for (sh = shares; sh; sh = sh->next)
        if (sh->cache == c && sh->forks == reel__fork_generation() && sh->dev == d->dev &&
            sh->ino == d->ino)
            return sh;
    return NULL;
}

static reel__share *make(reel_cache *c)
{
    reel__share *sh = reel__calloc(1, sizeof *sh);
    if (!sh)
        return NULL;
    if (!(sh->access = reel__access_new())) {
        free(sh);
        return NULL;
    }
    pthread_mutex_init(&sh->lock, NULL);
    sh->cache = c;
    sh->serial = reel__cache_serial();
    sh->forks = reel__fork_generation();
    sh->users = 1;
    return sh;
}

/* List sh for d's file when a connection of its own still opens that file. */
static void list(reel__share *sh, reel__sdb *d)
{
    if (d->vfs || !d->have_id || reel__sdb_connect_ro(d, &sh->pin) != REEL_OK)
        return; /* not shared: the open goes on with a share of its own */
    sh->dev = d->dev;
    sh->ino = d->ino;
    sh->listed = 1;
    sh->next = shares;
    shares = sh;
}

int reel__share_get(reel_cache *c, reel__sdb *d, reel__share **out)
{
    reel__share *sh;
    pthread_once(&hold_once, hold);
    pthread_mutex_lock(&list_lock);
    if (d && d->have_id && !d->vfs && (sh = find(c, d)))
        sh->users++;
    else if ((sh = make(c)) && d)
        list(sh, d);
    pthread_mutex_unlock(&list_lock);
    *out = sh;
    return sh ? REEL_OK : reel__err(REEL_NOMEM, "out of memory");
}

void reel__share_put(reel__share *sh)
{
    reel__share **p;
    if (!sh)
        return;
    pthread_mutex_lock(&list_lock);
    if (--sh->users > 0) {
        pthread_mutex_unlock(&list_lock);
        return;
    }
    if (sh->listed) {
        for (p = &shares; *p != sh; p = &(*p)->next)
            ;
        *p = sh->next;
    }
    pthread_mutex_unlock(&list_lock);
    reel__cache_purge(sh->cache, sh->serial, -1);
    reel__access_free(sh->access);
    reel__seqstat_free_list(&sh->stats);
    sqlite3_close(sh->pin);
    pthread_mutex_destroy(&sh->lock);
    free(sh);
}

uint64_t reel__share_serial(const reel__share *sh) { return sh->serial; }

reel__access *reel__share_access(reel__share *sh) { return sh->access; }

reel__seqstat *reel__share_seqstat(reel__share *sh, int64_t seq)
{
    reel__seqstat *st;
    pthread_mutex_lock(&sh->lock);
    st = reel__seqstat_find(&sh->stats, seq, sh->access);
    pthread_mutex_unlock(&sh->lock);
    return st;
}
