/*
 * handles.h - the bodies of the public handles reel_store and reel_seq (handles.c): a store's
 * SQLite side (src/store) with the RAM-tier services of this layer, and a sequence's record
 * with its per-handle state of each service (reel__wbseq, reel__raseq). Each service keeps its
 * own state in its own struct behind its own header; these structs only hold them together,
 * and this header includes only what they hold by value.
 */
#ifndef REEL_TIER_HANDLES_H
#define REEL_TIER_HANDLES_H

#include <pthread.h>

#include "base/pins.h"
#include "cache/cache.h"
#include "store/sequence.h"
#include "tier/prefetch.h"
#include "tier/stats.h"
#include "tier/writeback.h"

/* What the handles hold by pointer only: each behind its own header, which the files that use
 * it include themselves. */
typedef struct reel__sdb reel__sdb;           /* store/store.h */
typedef struct reel__append reel__append;     /* store/frame.h */
typedef struct reel__flusher reel__flusher;   /* tier/flusher.h */
typedef struct reel__share reel__share;       /* tier/share.h */

struct reel_store {
    uint32_t magic;
    unsigned forks;           /* the fork generation it was opened in (base/fork.h) */
    uint64_t serial;          /* its file's key in its cache (share's) */
    reel__sdb *db;            /* the file */
    reel_cache *cache;
    reel__share *share;       /* what it shares with other opens of its file in its cache */
    reel__access *access;     /* counts not yet in the file (share's) */
    reel__prefetch *prefetch;
    reel__flusher *flusher;   /* NULL when read-only */
    reel__wb *wb;             /* NULL when read-only */
    pthread_mutex_t lock;     /* guards seqs, open_seqs */
    int open_seqs;
    reel_seq *seqs;           /* the open sequence handles */
    void *remote;             /* a published store: its reel__remote (src/remote), which the
                                 api layer opens and closes; NULL for a file */
    sqlite3 *counts;          /* a published store: this node's file of its access counts
                                 (NULL when it could not be opened, or for a file) */
    char *counts_path;        /* that file */
};

struct reel_seq {
    uint32_t magic;
    reel_store *store;
    reel__seqrec rec;         /* id, name, geometry */
    reel__pins pins;          /* frame handles of this sequence not yet released */
    reel_seq *next_open;      /* in the store's list (under its lock) */
    reel__seqstat *stat;      /* the counters and policy of this sequence (store's share);
                                 NULL if out of memory */
    reel__seqpol *pol;        /* its policy (in stat), NULL with it */
    reel__wbseq wb;           /* frames it put through the cache (writeback.c) */
    reel__raseq ra;           /* its read-ahead (prefetch.c) */
    uint8_t *last_px;         /* temporal sequences: the raw pixels of the last frame this
                                 handle appended, the reference of its next (writer lock) */
    int64_t last_idx;         /* its index; -1 when none is kept */
    _Atomic int64_t scan_last; /* temporal sequences: the frame a one-pass read released last
                                  (REEL__UNPIN_SCAN, the next one's reference); -1 none */
};

/* Around a raw append through q (writer locked): offer the frame q appended last as the
 * reference of the first, then keep the new last one. */
REEL__HIDDEN void reel__seq_ref_offer(reel_seq *q, reel__append *a);
REEL__HIDDEN void reel__seq_ref_keep(reel_seq *q, const reel__append *a);

/* REEL_OK for an open handle of this process, else REEL_MISUSE with a message that names the
 * calling entry point fn. */
REEL__HIDDEN int reel__store_check(const reel_store *s, const char *fn);
REEL__HIDDEN int reel__seq_check(const reel_seq *q, const char *fn);
/* Frame handles not yet released, over all open sequence handles of the store. */
REEL__HIDDEN int64_t reel__store_pinned(reel_store *s);

/* The loader of a frame into the cache: ctx is a reel__frame_ref. */
typedef struct reel__frame_ref {
    reel_seq *seq;
    int64_t idx;
} reel__frame_ref;
REEL__HIDDEN int reel__load_frame(void *ctx, uint8_t *pixels, reel_frame_info *info);
/* Decode frame idx of q into pixels, a temporal frame's references taken from the cache when
 * they are resident there. */
REEL__HIDDEN int reel__seq_read(reel_seq *q, int64_t idx, uint8_t *pixels, reel_frame_info *info);
REEL__HIDDEN int reel__probe_frame(void *ctx);
/* The cache's request for frame idx of q, loaded with reel__load_frame(ref) (ref may be NULL
 * for a put); its owner is the sequence's counters, its class from the sequence's policy.
 * Inline: every get builds one. */
static inline void reel__seq_pin_req(reel_seq *q, int64_t idx, reel__frame_ref *ref,
                                     reel__pin_req *r)
{
    if (ref) {
        ref->seq = q;
        ref->idx = idx;
    }
    r->store = q->store->serial;
    r->seq = q->rec.id;
    r->idx = idx;
    r->size = q->rec.frame_size;
    r->load = reel__load_frame;
    r->check = ref ? reel__probe_frame : NULL;
    r->ctx = ref;
    r->ops = &reel__seqstat_ops;
    r->owner = q->stat;
    r->prio = (q->pol ? atomic_load_explicit(&q->pol->priority, memory_order_relaxed) : 0) -
              REEL_PRIORITY_LOW;
}

#endif
