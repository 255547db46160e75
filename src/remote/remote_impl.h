/* remote_impl.h - what vfs.c (the VFS and the manifest) and blocks.c (the node's block cache,
 * fetching, index objects, fetching ahead) share about an open published store. Nothing
 * outside src/remote includes it. */
#ifndef REEL_REMOTE_IMPL_H
#define REEL_REMOTE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "remote/remote.h"

/* the longest block cache directory: with a file name of the cache after it, within PATH_MAX */
#define REEL__CACHE_PATH_MAX 4000
/* the longest location name (SQLite's file name for it, a VFS path name: within PATH_MAX) */
#define REEL__NAME_MAX 4000
#define REEL__CHUNK_BLOCKS 16 /* blocks per cache file, and the most fetched in one request */
/* the largest store a manifest may describe (8 PiB): every block number, offset and size
 * computed from it stays far from overflowing */
#define REEL__STORE_MAX ((int64_t)1 << 53)

struct reel__remote {
    reel__loc loc;
    /* the file name SQLite opens through the VFS: the location as given (SQLite's messages
     * name it), " (2)" and so on after it when that location is open more than once */
    char *name;            /* malloc'd; at most REEL__NAME_MAX bytes */
    int64_t bytes;
    char **parts;          /* object keys */
    int64_t *part_first;   /* each part's first block; [nparts]: the number of blocks */
    int64_t nparts;
    int64_t nblocks;
    /* the blocks' hashes (REEL__HASH_BYTES each), per part: from the manifest (versions 1
     * and 2: all in listed, one allocation), or from the part's index object (version 3:
     * index[p] names it, fetched on the part's first miss, guarded by index_lock) */
    uint8_t **hashes;
    uint8_t *listed;
    char **index;
    pthread_mutex_t index_lock;
    /* per part, a bit per block: checked against its hash by this process (made with the
     * part's hashes, under index_lock; read without it) */
    uint64_t **seen;
    char cache[REEL__CACHE_PATH_MAX + 1]; /* the block cache directory (longer is refused) */
    int cache_fd;          /* open on it (-1: not yet); every cache file is opened relative to it */
    int64_t cache_limit;
    atomic_llong hits, fetched, fetched_bytes, since_trim;
    /* fetching ahead: a thread that brings the chunk after the one a forward reader is in */
    pthread_mutex_t ahead_lock;
    pthread_cond_t ahead_cond;
    pthread_t ahead_thread;
    int ahead_started, ahead_stop;
    pid_t ahead_pid;       /* the process that started it (a child after fork() has none) */
    int64_t ahead_want;    /* a block whose chunk to fetch; -1 none */
    reel__remote *next;    /* in the registry */
};

/* Parse and check the manifest text (len bytes, NUL-terminated; changed: what the reader does
 * not use is blanked) into r: REEL_CORRUPT naming the manifest and what is wrong,
 * REEL_UNSUPPORTED for another format or a newer store schema than schema. */
REEL__HIDDEN int reel__manifest_parse(reel__remote *r, char *text, size_t len, int schema);
/* The bytes of block b (the last one may be short). */
REEL__HIDDEN size_t reel__block_len(const reel__remote *r, int64_t b);
/* The block after the last of b's chunk. */
REEL__HIDDEN int64_t reel__chunk_end(const reel__remote *r, int64_t b);
/* What reel__block_get is asked: block b and up to run - 1 after it (in b's chunk), tries (see
 * reel__loc_read), fill (only make sure the blocks are in the block cache: a block found there
 * is not checked against its published hash; the fetcher ahead), into dst (room for
 * REEL__CHUNK_BLOCKS blocks). */
typedef struct reel__getq {
    int64_t b;
    int run, tries, fill;
    uint8_t *dst;
} reel__getq;
/* Blocks from q->b on into q->dst: from the block cache (checked against its published hash
 * the first time this process serves it) or fetched and checked; *n gets how many (at least
 * 1, at most q->run, all in b's chunk). REEL_CORRUPT for a block that does not match its
 * hash (fetched twice, or altered in the cache: the chunk file is removed). */
REEL__HIDDEN int reel__block_get(reel__remote *r, const reel__getq *q, int *n);
/* Find (from the environment: REEL_INVALID for a bad REEL_BLOCK_CACHE_MIB), make, open and
 * check the block cache directory (REEL_DENIED when another user owns it or can write it). */
REEL__HIDDEN int reel__block_cache_open(reel__remote *r);
/* Have the chunk of block b fetched in the background; and stop that (r closing, or the
 * process exiting): the thread joined, never started again for r. */
REEL__HIDDEN void reel__ahead_post(reel__remote *r, int64_t b);
REEL__HIDDEN void reel__ahead_stop(reel__remote *r);
/* An index object's name, "parts/<SHA-256 of its content>.idx": where the hex digits start,
 * or NULL when key is not one. */
REEL__HIDDEN const char *reel__index_hex(const char *key);

#endif
