/* remote_impl.h - what vfs.c (the VFS and the manifest) and blocks.c (the node's block cache,
 * fetching, index objects, fetching ahead) share about an open published store. Nothing
 * outside src/remote includes it. */
#ifndef REEL_REMOTE_IMPL_H
#define REEL_REMOTE_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "remote/remote.h"

#define REEL__CHUNK_BLOCKS 16 /* blocks per cache file, and the most fetched in one request */

struct reel__remote {
    reel__loc loc;
    char name[64];         /* the file name SQLite opens through the VFS */
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
    char cache[4096];      /* the block cache directory */
    int64_t cache_limit;
    atomic_llong hits, fetched, fetched_bytes, since_trim;
    /* fetching ahead: a thread that brings the chunk after the one a forward reader is in */
    pthread_mutex_t ahead_lock;
    pthread_cond_t ahead_cond;
    pthread_t ahead_thread;
    int ahead_started, ahead_stop;
    int64_t ahead_want;    /* a block whose chunk to fetch; -1 none */
    reel__remote *next;    /* in the registry */
};

/* The bytes of block b (the last one may be short). */
REEL__HIDDEN size_t reel__block_len(const reel__remote *r, int64_t b);
/* The block after the last of b's chunk. */
REEL__HIDDEN int64_t reel__chunk_end(const reel__remote *r, int64_t b);
/* Blocks from b on into dst (room for REEL__CHUNK_BLOCKS): from the block cache or fetched,
 * checked; *n gets how many (at least 1, at most run, all in b's chunk). tries: see
 * reel__loc_read. */
REEL__HIDDEN int reel__block_get(reel__remote *r, int64_t b, int run, uint8_t *dst, int *n,
                                 int tries);
/* Find (from the environment) and make the block cache directory. */
REEL__HIDDEN int reel__block_cache_open(reel__remote *r);
/* Have the chunk of block b fetched in the background; and stop that (r closing). */
REEL__HIDDEN void reel__ahead_post(reel__remote *r, int64_t b);
REEL__HIDDEN void reel__ahead_stop(reel__remote *r);
/* An index object's name, "parts/<SHA-256 of its content>.idx": where the hex digits start,
 * or NULL when key is not one. */
REEL__HIDDEN const char *reel__index_hex(const char *key);
/* n bytes from 2n lowercase hex digits (and nothing after them); -1 when h is not that. */
REEL__HIDDEN int reel__unhex(const char *h, uint8_t *out, size_t n);

#endif
