/* store.h - a store's SQLite side (store.c): the file, one writer connection, a pool of read
 * connections, and the checks and schema migration of opening. */
#ifndef REEL_STORE_STORE_H
#define REEL_STORE_STORE_H

#include <pthread.h>
#include <sqlite3.h>
#include <sys/types.h>

#include "codec/codec.h"

/* A read connection with its prepared statements (frame.c prepares them) and a codec; owned by
 * the pool, used by one thread at a time. */
typedef struct reel__reader {
    sqlite3 *db;
    sqlite3_stmt *frame;   /* one frame with its blob */
    sqlite3_stmt *info;    /* one frame's metadata */
    sqlite3_stmt *find;    /* the last frame at or before a pts */
    sqlite3_stmt *range;   /* frames of an index range with their blobs */
    sqlite3_stmt *probe;   /* what one frame's row claims: status, sizes and filter */
    sqlite3_stmt *chain;   /* a frame with its blob, for the references of a temporal frame */
    sqlite3_stmt *kind;    /* one frame's filter id */
    reel__codec *codec;
    struct reel__reader *next;
} reel__reader;

typedef struct reel__sdb {
    char *path;
    int flags;              /* REEL_OPEN_* */
    int level;              /* zstd level of frames appended through this open */
    int busy_ms;
    size_t max_frame;       /* the largest frame a sequence may have in this open, in bytes */
    int immutable;          /* read-only media: opened with SQLite's immutable=1 */
    int ro_shm;             /* the -shm cannot be written (a full disk): readonly_shm=1 */
    char *vfs;              /* the SQLite VFS of a published store (NULL: the default) */
    int have_id;            /* dev and ino: the file the first connection opened (store.c) */
    dev_t dev;
    ino_t ino;
    pthread_mutex_t lock;   /* guards pool */
    reel__reader *pool;     /* idle read connections */
    pthread_mutex_t wlock;  /* serialises every use of wdb and wcodec */
    sqlite3 *wdb;           /* the writer; NULL when read-only */
    reel__codec *wcodec;
} reel__sdb;

/* Open the store at path (flags and options as reel_open; checked here) and check or migrate
 * its schema. *out is freed with reel__sdb_close. */
REEL__HIDDEN int reel__sdb_open(const char *path, int flags, const reel_open_options *opts,
                                reel__sdb **out);
REEL__HIDDEN void reel__sdb_close(reel__sdb *d);
/* A new read-only connection to the store's file (through its VFS), for queries of the
 * caller's; closed with sqlite3_close. */
REEL__HIDDEN int reel__sdb_connect_ro(reel__sdb *d, sqlite3 **db);
/* Open, read-only and immutable, the store SQLite finds as name through the VFS vfs (a
 * published store: src/remote). */
REEL__HIDDEN int reel__sdb_open_vfs(const char *name, const char *vfs,
                                    const reel_open_options *opts, reel__sdb **out);
/* Write a snapshot of the store to out_path, a new file: a consistent copy (VACUUM INTO) in
 * rollback-journal mode with 64 KiB pages, holding only the n sequences named (all when
 * names is NULL), without access counts or import claims. For publishing. */
REEL__HIDDEN int reel__sdb_snapshot(reel__sdb *d, const char *out_path, const char *const *names,
                                    size_t n);
/* Where each frame's stored bytes lie in the snapshot file at path: fn(ctx, sequence, index,
 * first byte, last byte) for every frame with pixels, by sequence name then index (the pages
 * of its blob: its overflow pages, or the leaf page holding all of it). fn's result other than
 * REEL_OK stops the walk and is returned. */
typedef int (*reel__span_fn)(void *ctx, const char *seq, int64_t index, int64_t first,
                             int64_t last);
REEL__HIDDEN int reel__snapshot_spans(const char *path, reel__span_fn fn, void *ctx);
/* "file:PATH?QUERY" with PATH escaped for an SQLite URI (malloc'd; NULL when out of memory). */
REEL__HIDDEN char *reel__sdb_uri(const char *path, const char *query);
/* Take an idle read connection (opening one if none), and give it back. */
REEL__HIDDEN int reel__reader_get(reel__sdb *d, reel__reader **r);
REEL__HIDDEN void reel__reader_put(reel__sdb *d, reel__reader *r);
/* Lock the writer; REEL_READONLY on a read-only store, REEL_IO when the store's path no
 * longer names the file opened (replaced or removed: writes would be lost). */
REEL__HIDDEN int reel__writer_lock(reel__sdb *d);
REEL__HIDDEN void reel__writer_unlock(reel__sdb *d);
/* BEGIN IMMEDIATE on the writer (locked by the caller). When another connection holds the
 * write lock past the open's busy timeout: REEL_BUSY naming the store, what holds it (an
 * import's claim: its process, host and start) and how long it waited. */
REEL__HIDDEN int reel__writer_begin(reel__sdb *d);
/* One transaction on the writer: lock it, BEGIN IMMEDIATE (as reel__writer_begin), fn(ctx, the
 * writer's connection), COMMIT, unlock. When fn or COMMIT fails: ROLLBACK, and fn's rc, through
 * reel__writer_full when seq (the sequence written) is not NULL. The one place outside
 * store/ that needs the writer's transaction calls this. */
typedef int (*reel__txn_fn)(void *ctx, sqlite3 *db);
REEL__HIDDEN int reel__writer_txn(reel__sdb *d, const char *seq, reel__txn_fn fn, void *ctx);
/* fn(ctx, the writer's connection) with the writer locked, outside any transaction (one
 * statement, autocommitted); fn's rc. */
REEL__HIDDEN int reel__writer_run(reel__sdb *d, reel__txn_fn fn, void *ctx);
/* Whether the store was opened read-write (it has a writer). */
static inline int reel__sdb_writable(const reel__sdb *d)
{
    return d->wdb != NULL;
}
/* The writer's connection, for a caller holding reel__writer_lock that hands it to a lower
 * module's SQL (the access counts of tier/, flushed with the queued frames). */
static inline sqlite3 *reel__writer_conn(const reel__sdb *d)
{
    return d->wdb;
}
/* rc of a failed write of frames of sequence seq on the writer, before its ROLLBACK: a full
 * disk (SQLITE_FULL, ENOSPC) said so, naming store and sequence; any other rc as it is. */
REEL__HIDDEN int reel__writer_full(reel__sdb *d, int rc, const char *seq);
/* Whether the process pid of host may still run: not when it is of this host and gone (an
 * import claim's owner, schema/005_claims.sql). */
REEL__HIDDEN int reel__claim_alive(int64_t pid, const char *host);

#endif
