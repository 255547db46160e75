/* internal.h - declarations shared by libreel's source files; not installed. */
#ifndef REEL_INTERNAL_H
#define REEL_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "reel.h"
#include "base/clock.h"
#include "base/common.h"
#include "base/db.h"
#include "base/error.h"
#include "base/hash.h"
#include "base/pixfmt.h"
#include "codec/blob.h"
#include "codec/codec.h"

/* ---- schema (schema.c, schema_sql.c generated from schema/NNN_*.sql) ---- */

typedef struct reel__migration {
    int version;
    const char *name;
    const char *sql;
} reel__migration;
REEL__HIDDEN extern const reel__migration reel__migrations[];
REEL__HIDDEN extern const int reel__migration_count;

/* The schema version this library writes. */
REEL__HIDDEN int reel__schema_latest(void);
/* Bring db (opened read-write) to schema version target, each step in a transaction. */
REEL__HIDDEN int reel__schema_migrate(sqlite3 *db, int target);
/* Read the store's schema version: 0 for an empty database. */
REEL__HIDDEN int reel__schema_version(sqlite3 *db, int *version);

/* ---- store (store.c) ---- */


/* A read connection with its prepared statements and codec; owned by the store's pool. */
typedef struct reel__reader {
    sqlite3 *db;
    sqlite3_stmt *frame;   /* metadata + blob of (seq_id, idx) */
    sqlite3_stmt *info;    /* metadata of (seq_id, idx) */
    sqlite3_stmt *find;    /* last frame with pts <= ? */
    sqlite3_stmt *range;   /* metadata + blobs of [first, end) */
    reel__codec *codec;
    struct reel__reader *next;
} reel__reader;

/* ---- the RAM tier (cache.c, access.c) ---- */

#define REEL_DEFAULT_CACHE_BUDGET ((size_t)1 << 30)

typedef struct reel__access reel__access; /* in-memory access counts of a store */
typedef struct reel__wb reel__wb;         /* a store's frames waiting for write-back */

/* Decode one frame into pixels and fill *info; REEL_OK or an error code (message set). */
typedef int (*reel__loader)(void *ctx, uint8_t *pixels, reel_frame_info *info);

/* The loader of frames into a cache: ctx is a reel__frame_ref. */
typedef struct reel__frame_ref {
    reel_seq *seq;
    int64_t idx;
} reel__frame_ref;
REEL__HIDDEN int reel__load_frame(void *ctx, uint8_t *pixels, reel_frame_info *info);

/* Counters of one sequence of one open store (stats.c), shared by its handles; the cache
 * updates them through the entries' pointers. Functions accept NULL. */
typedef struct reel__seqstat reel__seqstat;
enum {
    REEL__STAT_LOADS, REEL__STAT_EVICTIONS, REEL__STAT_BYTES, REEL__STAT_LOAD_NS,
    REEL__STAT_LOAD_NS_MAX, REEL__STAT_PREFETCH, REEL__STAT_WRITTEN_BACK,
    REEL__STAT_RESIDENT_FRAMES, REEL__STAT_RESIDENT_BYTES, REEL__STAT_DIRTY,
    REEL__STAT_PREFETCH_HITS, REEL__STAT_PREFETCH_WASTED, REEL__STAT_MISSES,
    REEL__STAT_HITS_GONE, /* hits of frames no longer resident (resident ones count their own) */
    REEL__STAT_POLICY_EVICTIONS, REEL__STAT_POLICY_BYTES, /* dropped by policy or unload */
    REEL__STAT_N
};
REEL__HIDDEN void reel__seqstat_add(reel__seqstat *st, int which, int64_t n);
REEL__HIDDEN void reel__seqstat_resident(reel__seqstat *st, int64_t bytes);
REEL__HIDDEN void reel__seqstat_load(reel__seqstat *st, size_t bytes, uint64_t ns, int prefetch);
/* Frames and bytes of the sequence resident now (pinned ones included). */
REEL__HIDDEN void reel__seqstat_resident_now(reel__seqstat *st, uint64_t *frames,
                                            uint64_t *bytes);

/* The RAM-tier policy of one sequence of an open store (policy.c), kept with its counters. */
typedef struct reel__seqpol {
    pthread_mutex_t lock;   /* guards p and trimmed_ms; held while the policy is enforced */
    reel_seq_policy p;
    int64_t trimmed_ms;     /* when last trimmed (monotonic) */
    atomic_int active;      /* any limit, window or trim set: gets look at the policy */
    atomic_int priority;    /* p.priority, read by every load */
    atomic_llong pos;       /* the latest index read */
    atomic_llong enforced_pos; /* pos when the policy was last enforced */
    atomic_ullong gets;
} reel__seqpol;
/* The policy of the sequence whose counters st are (NULL with st). */
REEL__HIDDEN reel__seqpol *reel__seqstat_policy(reel__seqstat *st);
/* After a get of frame idx of q: keep the sequence's policy (cheap without one). */
REEL__HIDDEN void reel__policy_after_get(reel_seq *q, int64_t idx);

REEL__HIDDEN uint64_t reel__cache_serial(void);
REEL__HIDDEN void reel__cache_use(reel_cache *c, int delta);

/* What a pin is for. */
typedef enum reel__pin_kind {
    REEL__PIN_COUNTED,   /* a reader's get: one access counted, a hit or a miss */
    REEL__PIN_UNCOUNTED, /* a reader's pin whose access was counted already (lazy pixels) */
    REEL__PIN_PREFETCH   /* read-ahead or warm-up: not counted, neither hit nor miss, and
                            loaded only when it fits the budget (REEL_FULL otherwise) */
} reel__pin_kind;

/* The frame a pin asks for, and how to load it on a miss. */
typedef struct reel__pin_req {
    uint64_t store;        /* the store's serial */
    int64_t seq, idx;      /* sequence id and frame index */
    size_t size;           /* bytes of the frame */
    reel__loader load;     /* decodes it into the cache's buffer; ctx is passed through */
    void *ctx;
    reel__access *access;  /* where its access counts go when it leaves */
    reel__seqstat *stat;   /* its sequence's counters (may be NULL) */
    int prio;              /* eviction class: 0 low, 1 normal, 2 high */
} reel__pin_req;

/* A pinned frame: the entry to unpin, its pixels (valid until then) and its metadata. */
typedef struct reel__pinned {
    void *entry;
    const void *pixels;
    reel_frame_info info;
} reel__pinned;

/* Pin the frame of r, loading it on a miss (once, however many threads ask). Room is made
 * before the load, so a frame being loaded is inside the budget already. */
REEL__HIDDEN int reel__cache_pin(reel_cache *c, const reel__pin_req *r, reel__pin_kind kind,
                                 reel__pinned *out);
/* Enter a frame put by the application as dirty (resident, off the LRU list, never evicted)
 * with a copy of its pixels (r->load unused); *entry stays valid until the sequence is
 * removed or its store closed. reel__cache_clean marks it written (it becomes evictable). */
REEL__HIDDEN int reel__cache_put_dirty(reel_cache *c, const reel__pin_req *r, const void *pixels,
                                       const reel_frame_info *info, void **entry);
REEL__HIDDEN const void *reel__cache_entry_pixels(const void *entry);
REEL__HIDDEN void reel__cache_clean(reel_cache *c, void *entry, size_t stored_bytes);
/* After a frame of added bytes was put (with no lock held: the growth hook may run), evict
 * down to the budget, writing dirty frames back first when they stand in the way. */
REEL__HIDDEN void reel__cache_fit(reel_cache *c, size_t added);
/* Drop one frame when it is resident, unpinned and stored: REEL_OK (*freed: the bytes, 0 when
 * it was not resident) or REEL_BUSY (pinned, loading or waiting for write-back). */
REEL__HIDDEN int reel__cache_unload(reel_cache *c, uint64_t store, int64_t seq, int64_t idx,
                                    size_t *freed);
/* The frames of one sequence that could be dropped now (unpinned, stored): index, LRU tick
 * and cost of each, in *out (malloc'd, the caller frees). */
typedef struct reel__cframe {
    int64_t idx;
    uint64_t tick;
    size_t cost;
} reel__cframe;
REEL__HIDDEN int reel__cache_list_seq(reel_cache *c, uint64_t store, int64_t seq,
                                      reel__cframe **out, size_t *n);

/* Memory pressure, as the monitor reports it to the cache. cut: write back, drop unpinned
 * frames down to target bytes, lower the effective budget to target and give the freed memory
 * back to the system; one pressure event; returns the bytes freed (*rc: the write-back's
 * result, may be NULL). hold: headroom is short, do not grow (effective budget down to what
 * is resident); not an event. */
REEL__HIDDEN size_t reel__cache_cut(reel_cache *c, size_t target, int *rc);
REEL__HIDDEN void reel__cache_hold(reel_cache *c);
REEL__HIDDEN size_t reel__cache_resident(reel_cache *c);
REEL__HIDDEN size_t reel__cache_effective(reel_cache *c);
/* How long pressure must be gone before the effective budget rises again. */
REEL__HIDDEN void reel__cache_set_calm(reel_cache *c, int ms);
/* The growth hook: fn(ctx) runs on a loading thread whenever step bytes have been loaded
 * since the last call (fn NULL: none). Setting it waits for a call in progress. */
REEL__HIDDEN void reel__cache_set_grow_hook(reel_cache *c, void (*fn)(void *ctx), void *ctx,
                                            size_t step);
/* The memory-pressure monitor of a cache (pressure.c): start one (replacing *slot's), stop it,
 * and the level it saw last (-1 without a monitor). The caller serialises calls per slot. */
typedef struct reel__monitor reel__monitor;
REEL__HIDDEN int reel__monitor_start(reel_cache *c, reel__monitor **slot,
                                     const reel_pressure_options *opts);
REEL__HIDDEN void reel__monitor_stop(reel__monitor **slot);
REEL__HIDDEN int reel__monitor_level(reel__monitor *m);

/* Pinned bytes and hits of the resident frames of one sequence of a store (a scan of the
 * whole cache). */
REEL__HIDDEN void reel__cache_seq_scan(reel_cache *c, uint64_t store, int64_t seq,
                                       size_t *pinned, uint64_t *hits);
/* Move the entry's pending access counts to its store's table now. */
REEL__HIDDEN void reel__cache_hand_over(reel_cache *c, void *entry);
/* Stores with dirty state register fn(ctx), which writes it back; the cache calls it (with no
 * lock of its own held but the sink lock) before dropping what would otherwise be lost. */
REEL__HIDDEN void reel__cache_add_sink(reel_cache *c, int (*fn)(void *ctx), void *ctx);
REEL__HIDDEN void reel__cache_remove_sink(reel_cache *c, void *ctx);
/* Hand the pending access counts of a store's entries to their access tables. */
REEL__HIDDEN void reel__cache_harvest(reel_cache *c, uint64_t store);
/* Unpin; once puts the entry at the cold end (a one-pass read). */
REEL__HIDDEN void reel__cache_unpin(reel_cache *c, void *entry, int once);
REEL__HIDDEN void reel__cache_purge(reel_cache *c, uint64_t store, int64_t seq);

REEL__HIDDEN reel__access *reel__access_new(void);
REEL__HIDDEN void reel__access_free(reel__access *a);
REEL__HIDDEN void reel__access_count(reel__access *a, int64_t seq, int64_t idx);
REEL__HIDDEN void reel__access_add(reel__access *a, int64_t seq, int64_t idx, int64_t n,
                                   int64_t ms);
/* Write the counts with the writer db (caller holds the writer lock); kept on failure. */
REEL__HIDDEN int reel__access_flush(reel__access *a, sqlite3 *db);
REEL__HIDDEN void reel__access_forget(reel__access *a, int64_t seq);
/* The count gathered in memory for one frame, and (last_ms may be NULL) its latest time. */
REEL__HIDDEN int64_t reel__access_peek(reel__access *a, int64_t seq, int64_t idx,
                                       int64_t *last_ms);
/* From the file: the stored count of one frame; the limit most accessed frames with pixels
 * of a sequence, most accessed first (idx has room for limit). */
REEL__HIDDEN int reel__access_stored(reel_store *s, int64_t seq, int64_t idx, int64_t *count,
                                     int64_t *last_ms);
REEL__HIDDEN int reel__access_top(reel_store *s, int64_t seq, size_t limit, int64_t *idx,
                                  size_t *n);


/* A count of pinned frame handles spread over cache-line pairs, so that threads do not contend
 * on one counter: each thread has its slot (reel__pins_slot), remembered by the handle so that
 * a release on another thread undoes the same slot. */
#define REEL__PIN_SLOTS 16
typedef struct reel__pins {
    struct {
        _Alignas(REEL__SPACING) atomic_llong n;
    } slot[REEL__PIN_SLOTS];
} reel__pins;

REEL__HIDDEN int reel__pins_slot(void);


static inline void reel__pins_add(reel__pins *p, int slot, int delta)
{
    atomic_fetch_add_explicit(&p->slot[slot].n, delta, memory_order_relaxed);
}

static inline int64_t reel__pins_total(reel__pins *p)
{
    int64_t n = 0;
    int i;
    for (i = 0; i < REEL__PIN_SLOTS; i++)
        n += atomic_load(&p->slot[i].n);
    return n;
}

/* ---- read-ahead (prefetch.c) ---- */

typedef struct reel__prefetch reel__prefetch;
REEL__HIDDEN reel__prefetch *reel__prefetch_new(void);
REEL__HIDDEN void reel__prefetch_free(reel__prefetch *p);
/* Called by every successful get: detects sequential reading on this thread, queues ahead. */
REEL__HIDDEN void reel__prefetch_saw(reel_seq *seq, int64_t idx);
/* Before a sequence handle goes: drop its queued loads, wait for those in flight. */
REEL__HIDDEN void reel__prefetch_forget(reel_seq *seq);
/* Drop every queued load and wait for those in flight (before the store changes cache). */
REEL__HIDDEN void reel__prefetch_quiesce(reel__prefetch *p);

struct reel_store {
    uint32_t magic;
    uint64_t serial;        /* this open's key in shared caches */
    reel__prefetch *prefetch;
    reel_cache *cache;
    reel__access *access;
    /* the access-count flusher thread (handle.c), started by the first counted access */
    pthread_mutex_t flush_lock;
    pthread_cond_t flush_cond;
    pthread_t flusher;
    atomic_int flusher_started;
    int flush_ms, flush_stop;
    int flags;
    int level;
    int busy_ms;
    char *path;
    pthread_mutex_t lock;   /* guards pool, open_seqs */
    reel__reader *pool;     /* idle read connections */
    int open_seqs;
    reel_seq *seqs;         /* the open sequence handles, under lock */
    pthread_mutex_t wlock;  /* serialises every use of wdb and wcodec */
    sqlite3 *wdb;           /* the writer; NULL when read-only */
    reel__codec *wcodec;
    reel__seqstat *stats;   /* per sequence, under lock; freed at close */
    reel__wb *wb;           /* frames put through the cache, not yet written */
};

REEL__HIDDEN int reel__store_check(const reel_store *s);
/* Frame handles not yet released, over all open sequence handles of the store. */
REEL__HIDDEN int64_t reel__store_pinned(reel_store *s);
/* Start the access-count flusher of a read-write store if it is not running (cheap when it
 * is), and stop it (at close). */
REEL__HIDDEN void reel__flusher_start(reel_store *s);
REEL__HIDDEN void reel__flusher_stop(reel_store *s);
/* The cache's write-back callback of a read-write store: reel_flush without the checks. */
REEL__HIDDEN int reel__store_sink(void *store);
/* Take an idle read connection (opening one if none), and give it back. */
REEL__HIDDEN int reel__reader_get(reel_store *s, reel__reader **r);
REEL__HIDDEN void reel__reader_put(reel_store *s, reel__reader *r);
/* Lock the writer; REEL_READONLY on a read-only store. */
REEL__HIDDEN int reel__writer_lock(reel_store *s);
REEL__HIDDEN void reel__writer_unlock(reel_store *s);

/* ---- sequences (sequence.c) ---- */

struct reel_seq {
    uint32_t magic;
    reel_store *store;
    int64_t id;
    char *name;
    char *source;
    int width, height, pix_fmt;
    size_t frame_size;
    reel_rational time_base;
    reel__pins pins; /* frame handles of this sequence not yet released */
    reel_seq *next_open; /* in the store's list of open handles (under the store's lock) */
    int ra_inflight; /* read-ahead loads running on it (under the prefetch lock) */
    reel__seqstat *stat; /* the store's counters of this sequence; NULL if out of memory */
    /* frames put through the cache (writeback.c, under the store's wb lock) */
    int64_t wb_next;     /* index of the next put; valid while wb_pending > 0 */
    int64_t wb_last_pts;
    int wb_have_last;
    atomic_size_t wb_pending; /* written under the wb lock; read without it to skip the lock */
};

REEL__HIDDEN int reel__seq_check(const reel_seq *q);
/* The cache's request for frame idx of q, loaded with reel__load_frame(ref) (ref may be NULL
 * for a put); its eviction class from the sequence's policy. */
REEL__HIDDEN void reel__seq_pin_req(reel_seq *q, int64_t idx, reel__frame_ref *ref,
                                    reel__pin_req *r);
/* The store's counters of sequence id (made on first use; NULL when out of memory), and
 * freeing them all at close (stats.c). */
REEL__HIDDEN reel__seqstat *reel__seqstat_for(reel_store *s, int64_t seq);
REEL__HIDDEN void reel__seqstat_free_all(reel_store *s);

/* ---- write-back (writeback.c) ---- */
REEL__HIDDEN int reel__wb_new(reel_store *s);
REEL__HIDDEN void reel__wb_free(reel_store *s);
/* Write the pending frames of the store (only != NULL: of that sequence handle only); the
 * caller holds the writer lock. The first error is returned; what failed stays queued. */
REEL__HIDDEN int reel__wb_flush_locked(reel_store *s, reel_seq *only);
/* Forget the pending frames of a removed sequence (writer lock held). */
REEL__HIDDEN void reel__wb_forget_locked(reel_store *s, int64_t seq);
/* Non-zero when q has frames waiting for write-back (idx < 0: any; else that one). */
REEL__HIDDEN int reel__wb_pending(reel_seq *q, int64_t idx);
/* On the writer, inside a transaction: insert a sequence row (*id may be NULL), look one up by
 * name (REEL_NOTFOUND), delete one with everything that belongs to it. */
REEL__HIDDEN int reel__seq_insert(sqlite3 *db, const char *name, const reel_seq_params *p,
                                  int64_t *id);
REEL__HIDDEN int reel__seq_id(sqlite3 *db, const char *name, int64_t *id);
REEL__HIDDEN int reel__seq_delete(sqlite3 *db, int64_t id);
/* After a sequence was deleted: drop its cached frames and unflushed access counts. */
REEL__HIDDEN void reel__seq_forget(reel_store *s, int64_t id);

/* ---- frames (frame.c) ---- */

/* A frame compressed and ready to insert; blob NULL for a frame without pixels. */
typedef struct reel__encoded {
    const void *blob;
    size_t len;
    uint64_t checksum;
    int filter, level;
    int64_t pts, duration;
    unsigned flags;
    int status;
} reel__encoded;

/* Compress f (already checked) for q with c; e->blob points into c until its next use. */
REEL__HIDDEN int reel__encode_frame(reel__codec *c, int level, const reel_seq *q,
                                    const reel_frame_in *f, reel__encoded *e);
/* Append n encoded frames at the end of q in one transaction. */
/* Check one frame to append (i names it in the message). */
REEL__HIDDEN int reel__check_frame(const reel_seq *q, const reel_frame_in *f, size_t i);
/* Append n frames in one transaction, the writer locked; the first must get index expect.
 * stored[i] receives the compressed size of frame i. */
REEL__HIDDEN int reel__append_frames_locked(reel_seq *q, const reel_frame_in *frames, size_t n,
                                            int64_t expect, size_t *stored);
REEL__HIDDEN int reel__append_encoded(reel_seq *q, const reel__encoded *frames, size_t n,
                                      int64_t *first);

/* ---- import sources (source.c) ---- */

typedef struct reel__source {
    const char *path;
    int64_t size;
    char hash[17];
    char options[256];
    const char *codec;
    int stream;
    int rotation, rotated;
    int64_t frames_expected; /* -1 when unknown */
} reel__source;

/* Size and content hash (hex XXH64 over the XXH64s of 1 MiB chunks) of a file. */
REEL__HIDDEN int reel__file_hash(const char *path, int64_t *size, char hex[17]);
/*
 * Find or make the sequence an import of src goes into: REEL_OK with *seq open and *resume
 * the frames already committed (0 for a new sequence); REEL_DONE (with *seq open) when a
 * finished import of the same file and options is there; REEL_EXISTS on a conflict unless
 * replace.
 */
REEL__HIDDEN int reel__source_begin(reel_store *s, const char *name, const reel_seq_params *p,
                                    const reel__source *src, int replace, reel_seq **seq,
                                    int64_t *resume);
/* Mark the import of q complete. */
REEL__HIDDEN int reel__source_finish(reel_seq *q, int truncated);

#endif /* REEL_INTERNAL_H */
