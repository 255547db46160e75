/*
 * reel.h - the public API of libreel, a store of decoded video frames.
 *
 * A store is one SQLite file. It holds sequences (one per video); a sequence holds frames of
 * one size and pixel format, each compressed losslessly (prediction filter + zstd) and
 * addressed by index (0, 1, 2, ... in presentation order) or by timestamp.
 *
 * Conventions
 *   - Every function returns an int result code: REEL_OK (0) or one of the REEL_* codes below.
 *     Results are passed back through OUT parameters, which are written only on success.
 *   - reel_errstr(code) gives static text for a code; reel_errmsg() gives the calling thread's
 *     detailed message for its most recent failure (thread-local, like errno).
 *   - Handles are opaque. Destructors accept NULL. A NULL or foreign handle gives REEL_MISUSE.
 *   - Sizes are size_t; indexes, timestamps and durations are int64_t.
 *   - Names are reel_<object>_<verb>[_<what>]: reel_seq_open, reel_cache_set_budget and
 *     reel_cache_get_budget, reel_seq_get_info, reel_cache_start_pressure_monitor. A call on
 *     many frames says frames (reel_frames_get); one that gives back a single value of a
 *     handle is named by it (reel_seq_frame_count, reel_frame_pixels). Names of 0.1.0 that
 *     did not follow this still work until 0.2 (see "deprecated names" at the end).
 *
 * Sections, by object as in sqlite3.h: version, result codes, pixel formats, the objects,
 * store, sequences, frames (writing, reading, handles), cache, memory pressure, remote stores,
 * annotations, images, video import, sampling, deprecated names.
 *
 * Basic outline: reading
 *       reel_store *s;
 *       reel_seq *q;
 *       reel_frame *f;
 *       const void *px;
 *       if (reel_open("clips.reel", REEL_OPEN_READONLY, NULL, &s) != REEL_OK)
 *           fprintf(stderr, "%s\n", reel_errmsg());          // says what failed, and where
 *       reel_seq_open(s, "walk01", &q);
 *       reel_frame_get(q, 42, 0, &f);      // through the RAM tier (or reel_frame_read into
 *       reel_frame_pixels(f, &px, NULL);   //   a buffer of your own); px stays valid ...
 *       ...                                // (reel_frame_describe: its planes)
 *       reel_frame_release(f);             //   ... until the release
 *       reel_seq_close(q);
 *       reel_close(s);
 *
 * Basic outline: importing
 *       reel_import_options o = {0};
 *       reel_import_result r;
 *       reel_open("clips.reel", REEL_OPEN_CREATE, NULL, &s);
 *       o.sequence = "walk01";               // default: the file's name
 *       o.pix_fmt = REEL_PIX_RGB24;          // or REEL_PIX_NATIVE: the decoder's own
 *       reel_import(s, "walk01.mp4", &o, &r); // again: nothing to do (REEL_DONE); after a
 *       reel_close(s);                        //   crash it resumes where it stopped
 *
 * Threads
 *   A reel_store and the reel_seq handles opened from it may be used from any number of threads
 *   at once. Reads run concurrently, each on its own SQLite read connection taken from a pool
 *   owned by the store; writes (sequence create/remove, frame append) are serialised on one
 *   writer connection. A reader sees every frame committed before its call started.
 *   Closing a handle while another thread still uses it is a caller error.
 */
#ifndef REEL_H
#define REEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define REEL_API __attribute__((visibility("default")))
#else
#define REEL_API
#endif

/* ---- version ---------------------------------------------------------------------------- */

#define REEL_VERSION_MAJOR 0
#define REEL_VERSION_MINOR 1
#define REEL_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH, as ZSTD_VERSION_NUMBER. */
#define REEL_VERSION_NUMBER \
    (REEL_VERSION_MAJOR * 10000 + REEL_VERSION_MINOR * 100 + REEL_VERSION_PATCH)
#define REEL_VERSION_STRING "0.1.0"

/* The version of the library actually linked, as REEL_VERSION_NUMBER. Thread-safe. */
REEL_API int reel_version_number(void);
/* The same as a static string, e.g. "0.1.0". Thread-safe. */
REEL_API const char *reel_version_string(void);

/* ---- result codes (stable: values never change meaning) ---------------------------------- */

#define REEL_OK 0           /* success */
#define REEL_ERROR 1        /* an error with no better code */
#define REEL_NOTFOUND 2     /* no such sequence, frame or timestamp */
#define REEL_CORRUPT 3      /* stored data fails validation (size, checksum, zstd) */
#define REEL_NOMEM 4        /* out of memory */
#define REEL_IO 5           /* the file system or SQLite reported an I/O error */
#define REEL_MISUSE 6       /* NULL or closed handle, NULL required pointer */
#define REEL_INVALID 7      /* an argument out of range or inconsistent */
#define REEL_UNSUPPORTED 8  /* pixel format, schema version or feature not supported */
#define REEL_READONLY 9     /* a write on a store opened read-only */
#define REEL_EXISTS 10      /* a sequence of that name exists already */
#define REEL_BUSY 11        /* the database stayed locked past the busy timeout */
#define REEL_FULL 12        /* a capacity limit was reached (buffer too small, cache full) */
#define REEL_NODATA 13      /* the frame is recorded but has no pixels (see its status) */
#define REEL_INTERRUPTED 14 /* stopped on request (progress callback); committed work is kept */
#define REEL_DONE 15        /* nothing to do: the import finished before (not an error) */
#define REEL_DENIED 16      /* a server refused the request (authentication, permissions) */

/* Static English text for a result code ("corrupt data", ...). Never NULL. Thread-safe. */
REEL_API const char *reel_errstr(int code);

/*
 * The calling thread's detailed message for its most recent failed call, naming what failed
 * and where (e.g. "sequence 'walk' frame 42: checksum mismatch"). "" if none yet.
 * The pointer is owned by the library and valid until this thread's next reel_* call.
 */
REEL_API const char *reel_errmsg(void);

/*
 * Sets (on != 0) or clears (on == 0) the process's interrupt flag. While it is set, every long
 * remote operation in any thread (an HTTP/S3 request, its retries and the waits between them,
 * opening or reading a published store, publishing) stops within about 100 ms and fails with
 * REEL_INTERRUPTED; local reads are not affected. The flag stays set until cleared: a program
 * that goes on after an interrupt clears it first.
 * Async-signal-safe and thread-safe: meant to be called from a SIGINT or SIGTERM handler.
 */
REEL_API void reel_interrupt(int on);

/* ---- pixel formats ------------------------------------------------------------------------ */

/* Stored pixel formats. Values are stable. Names are FFmpeg's (see reel_pix_fmt_name). */
typedef enum reel_pix_fmt {
    REEL_PIX_NONE = 0,
    REEL_PIX_GRAY8 = 1,       /* 1 plane, 8 bits */
    REEL_PIX_RGB24 = 2,       /* packed R,G,B, 8 bits each */
    REEL_PIX_BGR24 = 3,       /* packed B,G,R, 8 bits each */
    REEL_PIX_YUV420P = 4,     /* Y plane, then U and V at ceil(w/2) x ceil(h/2) */
    REEL_PIX_YUV444P = 5,     /* Y, U, V planes, all w x h */
    REEL_PIX_GRAY16LE = 6,    /* 1 plane, 16-bit little-endian samples */
    REEL_PIX_YUV420P10LE = 7  /* as yuv420p, 16-bit little-endian samples holding 10 bits */
} reel_pix_fmt;

/* FFmpeg's name of a format ("rgb24", "yuv420p", ...), or NULL if fmt is not a format. */
REEL_API const char *reel_pix_fmt_name(int fmt);

/* Parse an FFmpeg format name. Returns REEL_OK and sets *fmt, or REEL_UNSUPPORTED. */
REEL_API int reel_pix_fmt_from_name(const char *name, int *fmt);

/*
 * Bytes of one width x height frame in format fmt, planes stored one after another with no
 * padding (rows of a plane are contiguous; chroma planes round up odd sizes).
 * Returns REEL_INVALID for a bad format or a size outside 1..65535.
 */
REEL_API int reel_frame_size(int fmt, int width, int height, size_t *size);

/* Where one plane of a frame lies in its bytes. Packed RGB/BGR is a single plane of 3-byte
 * pixels; planar formats have 1 or 3 planes one after another, rows without padding. */
typedef struct reel_plane_layout {
    size_t offset;       /* from the start of the frame */
    int width, height;   /* in pixels of this plane */
    size_t stride;       /* bytes from one row to the next */
    int bytes_per_pixel; /* 1, 2 (16-bit samples, little-endian) or 3 (packed RGB) */
} reel_plane_layout;

/* The planes of a width x height frame in fmt: *nplanes (1 or 3) entries of planes[3]. */
REEL_API int reel_pix_fmt_layout(int fmt, int width, int height, reel_plane_layout planes[3],
                                 int *nplanes);

/* ---- the objects ------------------------------------------------------------------------- */

/*
 * Four handles, each with its section below:
 *   reel_store  an open store file (or a published store): "store"
 *   reel_seq    an open sequence of a store: "sequence"
 *   reel_frame  a pinned frame of the RAM tier, got from a sequence: "frame: handles"
 *   reel_cache  a RAM budget of decoded frames that stores share: "cache", "memory pressure"
 */
typedef struct reel_store reel_store;
typedef struct reel_seq reel_seq;
typedef struct reel_frame reel_frame;
typedef struct reel_cache reel_cache;

/* ---- store -------------------------------------------------------------------------------- */

/*
 * A reel_store is one open store file, or a published store (see "publishing"). Its handle
 * owns the SQLite connections, the read-ahead workers and the flush timer, and picks the
 * cache its frames go through (reel_store_set_cache). Settings here apply to this open only.
 */
#define REEL_OPEN_READONLY 0x1 /* never write; refuse appends, creates and removes */
#define REEL_OPEN_CREATE 0x2   /* create the file if it does not exist */

/* What a stored frame may claim by default (reel_open_options.max_frame_mib): 512 MiB, room for
 * 16-bit 8K frames in every stored format. */
#define REEL_DEFAULT_MAX_FRAME_MIB 512

/* Options for reel_open(). Zero-initialise (or pass NULL) for the defaults. */
typedef struct reel_open_options {
    int compression_level; /* zstd level for frames appended through this handle; 0 = 1 */
    int busy_timeout_ms;   /* how long a write waits for the lock another process holds;
                              0 = 5000. Past it REEL_BUSY names the holder (an import's
                              process and host) when the file tells */
    int page_size;         /* SQLite page size used when the file is created; 0 = 16384 */
    int max_frame_mib;     /* the largest frame (width x height x format) a sequence may have
                              in this open, in MiB: a sequence claiming more is refused with
                              REEL_CORRUPT before anything is allocated for it, however its
                              row says so; 0 = REEL_DEFAULT_MAX_FRAME_MIB */
    int reserved[7];       /* must be zero */
} reel_open_options;

/*
 * Open (and with REEL_OPEN_CREATE, create) the store at path. An older store is migrated to
 * the current schema in one transaction (never on a read-only open, which then fails with
 * REEL_UNSUPPORTED); a store written by a newer libreel is refused with REEL_UNSUPPORTED.
 * A file that is not a reel store (an empty file included, unless REEL_OPEN_CREATE) gives
 * REEL_CORRUPT, naming a damaged or truncated one as such; a missing file without
 * REEL_OPEN_CREATE gives REEL_NOTFOUND, a directory REEL_INVALID. A read-write open puts back
 * the documented views (reel_sequences, reel_frames, ...) if someone dropped them.
 *
 * A read-only open (REEL_OPEN_READONLY) never writes to the file and never creates a file
 * beside it: on a read-only directory or mount, where SQLite cannot make the WAL's shared-
 * memory file, the store is opened immutable (no locks: it must not change while it is open,
 * as a dataset on read-only media does not). On a full disk, where the shared-memory file
 * cannot be made or grown, it is read through that file opened read-only, or immutable when
 * there is none and the WAL is empty; a read-write open there fails with REEL_IO ("the disk
 * is full"). Access counts of a read-only open stay in memory.
 *
 * The store's path is checked whenever a new SQLite connection opens it: once another file
 * was renamed over it (or it was removed), new reads and writes of this handle fail with
 * REEL_IO ("STORE was replaced on disk since it was opened: open it again").
 *
 * Opens of one store file in this process that use the same cache share its cached frames
 * (one copy, decoded once: a frame read through one is a hit through another), the counters
 * of reel_seq_get_cache_stats and the policies of its sequences; the accesses counted through any
 * of them are written to the file by a read-write one. Closing one leaves the others' frames.
 * A file renamed over the path, or removed and made again, is another file and shares nothing
 * with opens of the one it replaced. Published stores share nothing.
 *
 * A process that forks must open stores again in the child: handles made before the fork
 * answer REEL_MISUSE there (the parent's unsaved state, counts and queued frames, belongs to
 * the parent and is written by it alone). fork() waits (at most 3 s) for the library's SQLite
 * work running in other threads to end, so that a store opened in the child never finds a
 * lock held by a thread that did not follow.
 * opts may be NULL. On success *store is a new handle, freed with reel_close().
 */
REEL_API int reel_open(const char *path, int flags, const reel_open_options *opts,
                       reel_store **store);

/*
 * Close the store and every resource it owns. Sequence handles opened from it must be closed
 * first (REEL_MISUSE otherwise, and the store stays open): a sequence handle never outlives
 * its store, so reel_seq_close() always comes before reel_close(). Calls still running in
 * other threads on the store or its handles must have returned: closing under them is
 * undefined (a binding counts its calls in flight and closes after the last). NULL is
 * accepted (REEL_OK).
 */
REEL_API int reel_close(reel_store *store);

/* A new read-only SQLite connection to the store, for SQL of your own (the documented views
 * reel_sequences, reel_frames, ...); for a published store it reads through the same checked
 * blocks. Close it with sqlite3_close() before reel_close(). */
struct sqlite3;
REEL_API int reel_store_sql(reel_store *store, struct sqlite3 **db);

/* Give store its own cache (NULL: back to the default). Only while none of its frames is
 * pinned (REEL_MISUSE otherwise); its frames in the previous cache are dropped (unless another
 * open of the file still uses it), its sequences' policies kept. Meant for set-up: not
 * while other threads read through the store. */
REEL_API int reel_store_set_cache(reel_store *store, reel_cache *cache);

/*
 * Read-ahead: workers per store (default 1, 0 turns read-ahead off) and how many frames ahead
 * of a sequential reader they load (default 8). A thread that reads one index after another,
 * forward or backward, gets the next frames loaded into the cache while it works; loading
 * follows the reader and stops when it stops. Read-ahead never pins and stays in the budget.
 */
REEL_API int reel_store_set_readahead(reel_store *store, int workers, int window);

/*
 * How often a background thread writes the access counts of a read-write store (default
 * 5000 ms; 0: only reel_flush and reel_close do). The thread starts with the first counted
 * access.
 */
REEL_API int reel_store_set_flush_interval(reel_store *store, int milliseconds);

/* Write what the store holds only in memory: frames put with reel_frame_put (one transaction
 * per sequence), then the access counts (reel_access, one transaction). Once it returns
 * REEL_OK, all of it survives a crash. REEL_READONLY on a read-only store, whose counts stay
 * in memory and are lost at close. */
REEL_API int reel_flush(reel_store *store);

/* How many frames reel_frame_put queues before writing them in one transaction (1..4096,
 * default 32). */
REEL_API int reel_store_set_writeback(reel_store *store, size_t batch);

/* ---- sequences ---------------------------------------------------------------------------- */

/*
 * A reel_seq is an open sequence: a named run of frames of one size, pixel format and time
 * base. Its handle reads and writes frames (next sections) and carries the sequence's
 * RAM-tier settings: read-ahead, iteration in batches, policies of what stays resident.
 */
typedef struct reel_rational {
    int32_t num;
    int32_t den;
} reel_rational;

/*
 * How a sequence's frames are coded (reel_seq_params.codec, reel_import_options.codec).
 *   INTRA     every frame alone: the spatial prediction filter and zstd. Any frame decodes by
 *             itself; the fastest to write.
 *   TEMPORAL  per frame, the smallest of: the spatial filter, plain zstd (flat or synthetic
 *             content, where prediction only adds noise), or the difference from the frame
 *             before it (still scenes, static cameras). A frame that needs no reference comes
 *             at least every keyint frames, so a read decodes at most keyint frames (fewer when
 *             the frame before it is in the RAM tier: one, in a scan). Smaller files; encoding
 *             costs about three times the CPU of INTRA.
 *   AUTO      TEMPORAL for the first 2 x keyint frames, then INTRA for the rest unless the
 *             temporal frames saved at least 4% there: the codec that pays, per sequence.
 * 0 is the default: AUTO for imports, INTRA for sequences made with reel_seq_create.
 */
#define REEL_CODEC_DEFAULT 0
#define REEL_CODEC_INTRA 1
#define REEL_CODEC_TEMPORAL 2
#define REEL_CODEC_AUTO 3
/* keyint of temporal sequences when none is given, and the most allowed. */
#define REEL_DEFAULT_KEYINT 4
#define REEL_MAX_KEYINT 64

/* What a new sequence looks like. */
typedef struct reel_seq_params {
    int width;               /* 1 .. 65535 */
    int height;              /* 1 .. 65535 */
    int pix_fmt;             /* a reel_pix_fmt */
    reel_rational time_base; /* seconds per pts unit, e.g. {1, 25} or {1, 90000}; both > 0 */
    const char *source;      /* free text describing where the frames came from; may be NULL */
    int codec;               /* REEL_CODEC_*; 0 = INTRA (AUTO is for imports only) */
    int keyint;              /* TEMPORAL: at most this many frames per chain of references
                                (1..REEL_MAX_KEYINT); 0 = REEL_DEFAULT_KEYINT */
} reel_seq_params;

/* A snapshot of a sequence's metadata (reel_seq_info). */
typedef struct reel_seq_info {
    const char *name;        /* owned by the reel_seq handle, valid until reel_seq_close */
    const char *source;      /* likewise; NULL when none was given */
    int width, height, pix_fmt;
    size_t frame_size;       /* bytes of one decoded frame (reel_frame_size) */
    reel_rational time_base;
    int64_t frame_count;     /* frames committed so far */
    int64_t duration;        /* end of the last frame (pts + duration) minus the first pts,
                                in time_base units; 0 when empty */
    int64_t raw_bytes;       /* frame_count * frame_size, of frames that have pixels */
    int64_t stored_bytes;    /* compressed bytes on disk (blob payload) */
    int codec;               /* REEL_CODEC_INTRA or REEL_CODEC_TEMPORAL */
    int keyint;              /* frames per chain of references (1 for INTRA) */
} reel_seq_info;

/*
 * Create an empty sequence called name (1..255 bytes of UTF-8) and open it.
 * REEL_EXISTS if the name is taken; REEL_INVALID / REEL_UNSUPPORTED for bad params;
 * REEL_READONLY on a read-only store. *seq is freed with reel_seq_close().
 */
REEL_API int reel_seq_create(reel_store *store, const char *name, const reel_seq_params *params,
                             reel_seq **seq);

/* Open the sequence called name. REEL_NOTFOUND if there is none. Free with reel_seq_close(). */
REEL_API int reel_seq_open(reel_store *store, const char *name, reel_seq **seq);

/* Close a sequence handle. NULL is accepted. */
REEL_API int reel_seq_close(reel_seq *seq);

/*
 * Delete the sequence called name with all its frames and access counts, in one transaction.
 * Handles still open on it fail with REEL_NOTFOUND afterwards. REEL_NOTFOUND if none.
 */
REEL_API int reel_seq_remove(reel_store *store, const char *name);

/*
 * Call cb(ctx, name) for every sequence, in name order. name is valid during the call only.
 * A non-zero return from cb stops the listing and is returned.
 */
REEL_API int reel_seq_list(reel_store *store, int (*cb)(void *ctx, const char *name), void *ctx);

/* Fill *info with the sequence's metadata; frame_count and duration are read live. */
REEL_API int reel_seq_get_info(reel_seq *seq, reel_seq_info *info);

/* The number of frames committed so far (a live count). */
REEL_API int reel_seq_frame_count(reel_seq *seq, int64_t *count);

/*
 * The index of the frame shown at timestamp pts (time_base units): the last frame whose pts
 * is <= pts (a frame stays shown until the next one starts, whatever its duration).
 * REEL_NOTFOUND if pts is before the first frame or at or after the end of the last one
 * (its pts + duration; a last frame of duration 0 covers its own pts only).
 */
REEL_API int reel_seq_find_pts(reel_seq *seq, int64_t pts, int64_t *index);

/*
 * Open a sequence as reel_seq_open() and warm its RAM tier: its most accessed frames (by the
 * counts stored in the file) are loaded, up to share (0..1) of the cache's budget, most
 * accessed last so that they are the last to be evicted. *loaded (may be NULL) gets the
 * number of frames loaded. Warm-up loads are not counted as accesses.
 */
REEL_API int reel_seq_open_warm(reel_store *store, const char *name, double share,
                                reel_seq **seq, size_t *loaded);

/*
 * Which frames of seq are resident in its store's cache now: out[k] = 1 when frame first + k
 * is loaded there (or put and not yet written back), else 0, for k in [0, count); indexes past
 * the end of the sequence give 0. *resident (may be NULL) gets the number of ones. first and
 * count must be >= 0 (REEL_INVALID); out has room for count bytes (may be NULL when count is
 * 0). Counts no access and changes no LRU order or statistic: a snapshot, which other
 * threads' reads may change right after. Thread-safe. Cost: one lookup per index for short
 * ranges, one pass over the cache's table for long ones (over 4096).
 */
REEL_API int reel_seq_resident(reel_seq *seq, int64_t first, int64_t count, unsigned char *out,
                               int64_t *resident);

/* Ask the read-ahead workers to load frames [first, first + count) into the cache (at most
 * 1024 at a time: REEL_INVALID beyond, or for first < 0); returns at once. Frames past the
 * end are ignored, and so is the part of a range past INT64_MAX. */
REEL_API int reel_seq_prefetch(reel_seq *seq, int64_t first, size_t count);

/* Wait until the read-ahead loads queued for seq (by reel_seq_prefetch or a sequential
 * reader) are done: REEL_OK, or REEL_BUSY after timeout_ms (< 0: no limit). */
REEL_API int reel_seq_prefetch_wait(reel_seq *seq, int timeout_ms);

/* Called by reel_seq_foreach with a batch of pinned frames in index order. A non-zero return
 * stops the iteration and is returned by reel_seq_foreach. */
typedef int (*reel_foreach_fn)(void *ctx, reel_frame **frames, size_t n);

#define REEL_FOREACH_RELEASE 0x1 /* release each batch after its callback */

/*
 * Hand frames [first, first + count) (count < 0: to the end) to cb in batches of batch_size
 * (1..512), loading the next batch while cb works on the current one. With
 * REEL_FOREACH_RELEASE the batch is released after cb, so memory stays at about two batches;
 * otherwise cb owns the handles and releases them.
 */
REEL_API int reel_seq_foreach(reel_seq *seq, int64_t first, int64_t count, size_t batch_size,
                              reel_foreach_fn cb, void *ctx, unsigned flags);

/* Eviction priorities of a sequence's frames (reel_seq_policy.priority). */
#define REEL_PRIORITY_LOW (-1)  /* evicted before every normal and high frame */
#define REEL_PRIORITY_NORMAL 0  /* the default */
#define REEL_PRIORITY_HIGH 1    /* evicted after every low and normal frame */

/* How much of the RAM tier one sequence may hold. Zero-initialise for no limits, normal
 * priority and no trims. */
typedef struct reel_seq_policy {
    uint64_t max_frames;   /* at most this many frames resident; 0 = no limit */
    uint64_t max_bytes;    /* at most this many bytes (as the budget counts them); 0 = none */
    int64_t window;        /* > 0: keep only frames within window of the latest index read
                              (read-ahead loads beyond it are dropped: make it wider than the
                              read-ahead window); 0 = no window */
    int priority;          /* REEL_PRIORITY_*: which frames the cache evicts first */
    uint32_t trim_every;   /* trim the sequence after every this many gets; 0 = never */
    uint32_t trim_ms;      /* trim it on the first get this many ms after the last trim;
                              0 = never */
    int reserved[7];       /* must be zero */
} reel_seq_policy;

/*
 * Set the RAM-tier policy of a sequence in this open store (every handle of it shares it, as
 * do the other opens of its file sharing the cache; it lasts until the last is closed).
 * Limits are kept as frames are loaded: when the sequence goes over max_frames or max_bytes,
 * its least recently used unpinned frames are dropped down to 7/8 of the limit (the work is
 * amortised over several loads); a window drops the frames outside it. A trim drops every
 * unpinned frame the limits and the window do not keep (all of them without limits or
 * window; a trim that a get sets off keeps the frame being got). Pinned frames and frames
 * waiting for write-back are never dropped. What the policy dropped shows in
 * reel_seq_get_cache_stats().policy_evictions.
 * REEL_INVALID for a bad priority or non-zero reserved fields. Thread-safe.
 */
REEL_API int reel_seq_set_policy(reel_seq *seq, const reel_seq_policy *policy);
REEL_API int reel_seq_get_policy(reel_seq *seq, reel_seq_policy *policy);

/* Apply the sequence's policy now (a trim as above); *freed (may be NULL) gets the bytes. */
REEL_API int reel_seq_trim(reel_seq *seq, size_t *freed);

/* ---- frames: writing ---------------------------------------------------------------------- */

/*
 * Frames are appended at the end of a sequence: committed at once (reel_frame_append,
 * reel_frames_append) or queued in the RAM tier and written back in batches (reel_frame_put).
 */
#define REEL_FRAME_KEY 0x1 /* the frame was a keyframe in the source */

/* Per-frame status, shown in reel_frames.status. Values are stable. */
#define REEL_STATUS_OK 0       /* decoded normally */
#define REEL_STATUS_SKIPPED 1  /* could not be decoded; no pixels stored */
#define REEL_STATUS_REPEATED 2 /* could not be decoded; pixels repeat the previous frame */
#define REEL_STATUS_BLACK 3    /* could not be decoded; pixels are black */

/* One frame to append. */
typedef struct reel_frame_in {
    const void *pixels; /* frame_size bytes in the sequence's format; NULL only when status
                           is REEL_STATUS_SKIPPED. Borrowed: read during the call only. */
    size_t size;        /* must equal the sequence's frame_size (0 when pixels is NULL) */
    int64_t pts;        /* presentation timestamp in time_base units */
    int64_t duration;   /* display duration in time_base units, >= 0 */
    unsigned flags;     /* REEL_FRAME_* */
    int status;         /* REEL_STATUS_* */
} reel_frame_in;

/*
 * Append one frame at the end of the sequence, committed before return. *index (may be NULL)
 * receives its index. pts must be greater than the previous frame's pts (REEL_INVALID).
 */
REEL_API int reel_frame_append(reel_seq *seq, const reel_frame_in *frame, int64_t *index);

/*
 * Append n frames in one transaction: all are committed or none. *first_index (may be NULL)
 * receives the index of frames[0]. n == 0 does nothing and leaves *first_index alone.
 */
REEL_API int reel_frames_append(reel_seq *seq, const reel_frame_in *frames, size_t n,
                                int64_t *first_index);

/*
 * Append one frame through the RAM tier (write-back): the pixels are copied into the store's
 * cache and the frame gets its index at once (*index, may be NULL); reel_frame_get finds it
 * there. It is written to the store with the other queued frames when the queue reaches the
 * batch size (reel_store_set_writeback), on reel_flush() (also run by the flush timer),
 * reel_cache_trim() and reel_cache_report_pressure(), at reel_seq_close(), and whenever the cache
 * needs the room: a queued frame is never dropped before it is stored. Until then it counts
 * against the budget and is not seen by reel_frame_read(), reel_frame_get_info(), the frame
 * count or other connections. The frame is checked as reel_frame_append() checks it (pts
 * increasing) and must have pixels. Put through one handle per sequence: a put through a
 * second handle while the first has frames waiting is refused (REEL_MISUSE), and so is the
 * write-back of frames whose indexes another handle's appends took meanwhile (they stay in
 * RAM; removing the sequence drops them). Thread-safe.
 */
REEL_API int reel_frame_put(reel_seq *seq, const reel_frame_in *frame, int64_t *index);

/* ---- frames: reading ---------------------------------------------------------------------- */

/*
 * Reads into a buffer of the caller's: every call decodes from the store (see "frames:
 * handles" for reads through the RAM tier).
 */
/* Metadata of one stored frame. */
typedef struct reel_frame_info {
    int64_t index;
    int64_t pts;
    int64_t duration;
    unsigned flags;      /* REEL_FRAME_* */
    int status;          /* REEL_STATUS_* */
    size_t stored_bytes; /* compressed size; 0 when the frame has no pixels */
} reel_frame_info;

/* Metadata of frame index. REEL_NOTFOUND if index is not in [0, frame_count). */
REEL_API int reel_frame_get_info(reel_seq *seq, int64_t index, reel_frame_info *info);

/*
 * Decode frame index into dst (dst_capacity >= frame_size, else REEL_FULL). The pixels are
 * validated against the stored size and checksum: REEL_CORRUPT names sequence and index on
 * any mismatch. A frame with status SKIPPED gives REEL_NODATA. info may be NULL.
 */
REEL_API int reel_frame_read(reel_seq *seq, int64_t index, void *dst, size_t dst_capacity,
                             reel_frame_info *info);

/*
 * Decode the n frames [first, first + n) into dst, one after another (frame k at
 * dst + k * frame_size; dst_capacity >= n * frame_size). Reads one consistent snapshot.
 * first < 0 or first + n past INT64_MAX is REEL_INVALID. All must exist (REEL_NOTFOUND) and
 * have pixels (REEL_NODATA); on error dst is unspecified.
 */
REEL_API int reel_frame_read_range(reel_seq *seq, int64_t first, size_t n, void *dst,
                                   size_t dst_capacity);
/* ---- frames: handles (through the RAM tier) ----------------------------------------------- */

/*
 * A frame handle pins one decoded frame in its store's cache (see "cache"): its pixels stay
 * valid until reel_frame_release(), whatever else happens. Every function here is
 * thread-safe.
 */
#define REEL_GET_LAZY 0x1 /* the handle holds metadata only; pixels load on reel_frame_pixels */
#define REEL_GET_ONCE 0x2 /* a one-pass read: on release the frame goes to the cold end of the
                             LRU, so a scan over a long sequence does not flush the hot set.
                             On a temporal sequence the frame a handle of the sequence released
                             last this way stays warm (the next frame's reference) and goes to
                             the cold end when the next one-pass frame is released: a scan
                             keeps one frame of its own warm, whatever its length */

/*
 * Get frame index of seq through the store's cache: a hit pins the resident frame, a miss
 * decodes it (once, however many threads ask at the same time) and pins it. Each successful
 * get counts one access of the frame (kept in memory, written to the store by reel_flush()
 * and reel_close()). *frame is released with reel_frame_release(). Errors as
 * reel_frame_read(); with REEL_GET_LAZY only the metadata is read here.
 */
REEL_API int reel_frame_get(reel_seq *seq, int64_t index, unsigned flags, reel_frame **frame);

/* The frame's pixels (reel_frame_size bytes, planes packed), loading them if the handle is
 * lazy. The pointer is owned by the cache and valid until reel_frame_release(frame). */
REEL_API int reel_frame_pixels(reel_frame *frame, const void **pixels, size_t *size);

/* Metadata of the frame: index, pts, duration, flags, status, stored bytes. */
REEL_API int reel_frame_meta(const reel_frame *frame, reel_frame_info *info);

/* What the pixels of a handle look like. */
typedef struct reel_frame_desc {
    int64_t index, pts;
    double time_s;        /* pts in seconds */
    int width, height, pix_fmt;
    size_t size;          /* bytes of the frame */
    int nplanes;
    reel_plane_layout planes[3];
} reel_frame_desc;
REEL_API int reel_frame_describe(const reel_frame *frame, reel_frame_desc *desc);

/* How many times the frame was accessed, this get included: the count stored in the file
 * plus those not yet flushed. */
REEL_API int reel_frame_access_count(const reel_frame *frame, int64_t *count);

/* Unpin and free the handle. NULL is accepted. */
REEL_API int reel_frame_release(reel_frame *frame);

/*
 * Get n frames at once: frames[k] is the handle of indexes[k]. Indexes may come in any order
 * and repeat (each frame is loaded once); n larger than an array can hold (SIZE_MAX / 8) is
 * REEL_INVALID. All or nothing: on an error no handle is left
 * pinned and frames[] is unspecified.
 */
REEL_API int reel_frames_get(reel_seq *seq, const int64_t *indexes, size_t n, unsigned flags,
                             reel_frame **frames);

/*
 * The window of frames [center - radius, center + radius], clipped to the sequence: *count
 * handles are written to frames (room for 2 * radius + 1), *first is the index of frames[0].
 * radius is 0..2^30 (REEL_INVALID otherwise); a center outside the sequence is REEL_NOTFOUND.
 */
REEL_API int reel_frames_get_window(reel_seq *seq, int64_t center, int64_t radius,
                                    unsigned flags, reel_frame **frames, size_t *count,
                                    int64_t *first);

/* Release n handles (NULL entries are skipped). */
REEL_API int reel_frames_release(reel_frame **frames, size_t n);

/* Drop frame index of seq from the RAM tier if it is resident: REEL_OK (also when it was not
 * resident), REEL_BUSY when it is pinned, being loaded or waiting for write-back (it stays).
 * Its access counts are kept. */
REEL_API int reel_frame_unload(reel_seq *seq, int64_t index);

/* When the frame was last accessed, in Unix milliseconds, this get included: the time stored
 * in the file or a later one not yet flushed (0 when never). */
REEL_API int reel_frame_last_access(const reel_frame *frame, int64_t *unix_ms);

/* ---- cache: the RAM tier ----------------------------------------------------------------- */

/*
 * A cache holds decoded frames in RAM within a byte budget (pixel bytes plus
 * REEL_CACHE_ENTRY_OVERHEAD per frame), dropping the least recently used unpinned frames first
 * (sequences may set an eviction priority, reel_seq_set_policy). Frames handed out by
 * reel_frame_get() are pinned: their pixels stay valid until reel_frame_release(), whatever
 * else happens; resident bytes exceed the budget only by the bytes of pinned frames.
 * All stores of a process share the default cache unless given their own
 * (reel_store_set_cache). Every function here is thread-safe.
 */

/* What one resident frame costs in a budget beyond its pixel bytes (the cache's bookkeeping
 * and the allocator's). Frames of 64 KiB and more are mapped from the system page by page, so
 * their pixels may take up to 4 KiB more than their size. */
#define REEL_CACHE_ENTRY_OVERHEAD 256

/* The process-wide default cache (budget 1 GiB until changed), created on first use. The one
 * global of the library; never freed. NULL only if it could not be allocated. */
REEL_API reel_cache *reel_cache_default(void);

/* A new private cache with the given budget in bytes. Free with reel_cache_free(). */
REEL_API int reel_cache_new(size_t budget, reel_cache **cache);

/* Free a private cache. REEL_MISUSE while a store uses it or a frame from it is pinned, and
 * for the default cache. NULL is accepted. */
REEL_API int reel_cache_free(reel_cache *cache);

/* Change the budget; a smaller one evicts unpinned frames at once. */
REEL_API int reel_cache_set_budget(reel_cache *cache, size_t budget);
REEL_API int reel_cache_get_budget(reel_cache *cache, size_t *budget);

/* Strict mode (off by default): a get that would need room the pinned frames leave no more
 * of fails with REEL_FULL instead of going over the budget; read-ahead loads only what
 * fits. */
REEL_API int reel_cache_set_strict(reel_cache *cache, int on);

/* Evict unpinned frames until the resident bytes are at most target (the budget stays).
 * Everything unsaved of the stores using the cache (frames put with reel_frame_put, access
 * counts) is written to them first; a failure to write is returned after the trim, and what
 * could not be written stays in memory. */
REEL_API int reel_cache_trim(reel_cache *cache, size_t target);

/*
 * Scoped settings: push a temporary budget on the cache, and pop it to restore the previous
 * one exactly. Pushes nest up to 16 deep (REEL_FULL beyond); a pop with nothing pushed gives
 * REEL_MISUSE. Meant to bracket a phase of work: push, work, pop.
 */
REEL_API int reel_cache_push_budget(reel_cache *cache, size_t budget);
REEL_API int reel_cache_pop_budget(reel_cache *cache);

/* Counters of a cache (or of one sequence, reel_seq_get_cache_stats), all since it was made. */
typedef struct reel_cache_stats {
    size_t budget, resident_bytes, pinned_bytes;
    size_t dirty_bytes;                      /* put and not yet written to the store */
    uint64_t resident_frames;
    uint64_t hits, misses, loads, evictions; /* hits and misses of readers' gets */
    uint64_t prefetch_loads;                 /* loads done by read-ahead (part of loads) */
    uint64_t prefetch_hits;                  /* read-ahead loads a reader then got */
    uint64_t prefetch_wasted;                /* read-ahead loads dropped before any read */
    uint64_t bytes_decompressed;
    uint64_t written_back;                   /* frames written back from the cache */
    uint64_t pressure_events;                /* cuts: reel_cache_report_pressure calls and the
                                                monitor's cuts (cache only) */
    int pressure_level;                      /* the level the monitor saw last; -1 without
                                                a monitor (cache only) */
    double load_seconds_total, load_seconds_max;
    size_t effective_budget;                 /* what the cache may fill now: the budget, or
                                                less after memory pressure */
    uint64_t pressure_freed;                 /* pressure events that freed memory ... */
    uint64_t pressure_idle;                  /* ... and those that found nothing to free */
    uint64_t pressure_bytes_freed;           /* bytes the pressure events freed */
    uint64_t policy_evictions;               /* frames dropped by sequence policies and
                                                reel_frame_unload */
    uint64_t policy_bytes_freed;             /* their bytes */
    uint64_t growth_checks;                  /* headroom checks made on the loading path
                                                (cache only) */
} reel_cache_stats;
REEL_API int reel_cache_get_stats(reel_cache *cache, reel_cache_stats *stats);

/* The same counters for the frames of one sequence in its store's cache, summed over every
 * handle of the sequence in this open store and in the other opens of its file that share the
 * cache (see reel_open; budget is the cache's). */
REEL_API int reel_seq_get_cache_stats(reel_seq *seq, reel_cache_stats *stats);

/* ---- memory pressure: giving memory back -------------------------------------------------- */

/*
 * A cache gives memory back when the process runs short: on a level reported to it
 * (reel_cache_report_pressure) or one its monitor thread sees
 * (reel_cache_start_pressure_monitor, running from the start for the default cache).
 * README, "Memory", has the figures.
 */

/* Memory pressure levels, as a monitor (or the application) reports them. */
#define REEL_PRESSURE_NONE 0     /* nothing to do */
#define REEL_PRESSURE_MODERATE 1 /* shrink to half the effective budget */
#define REEL_PRESSURE_CRITICAL 2 /* keep only pinned frames */

/*
 * Report memory pressure to the cache: one pressure event. Unsaved state of its stores is
 * written back, then unpinned frames are dropped down to the level's target: half the
 * effective budget (MODERATE) or nothing (CRITICAL), and the freed memory is given back to the
 * system. The effective budget (reel_cache_stats.effective_budget) drops to that target, so
 * the cache does not refill at once: it rises again by 1/16 of the budget for every 250 ms of
 * calm once no pressure has been seen for 2 s (calm time passed without reads is credited at
 * the next load). The configured budget stays. Errors as reel_cache_trim().
 */
REEL_API int reel_cache_report_pressure(reel_cache *cache, int level);

/* Options of the memory-pressure monitor. Zero-initialise (or pass NULL) for the defaults.
 * Headroom is what the process may still use: the limit of its memory cgroup (the nearest
 * one with a limit, v2 or v1) minus what is charged to it less its page cache (which the
 * kernel can take back), or the system's MemAvailable against MemTotal, whichever share is
 * smaller. Percentages are of that limit (or of MemTotal). */
typedef struct reel_pressure_options {
    int interval_ms;       /* how often to look when no kernel event comes; 0 = 100 */
    int moderate_percent;  /* headroom below this: cut (MODERATE); 0 = 15 */
    int critical_percent;  /* headroom below this: drop every unpinned frame (CRITICAL); 0 = 5 */
    double psi_moderate;   /* PSI "some avg10" (% of time stalled on memory) at which pressure
                              is moderate, 0..100 (NaN, inf: REEL_INVALID); 0 = 10 */
    double psi_critical;   /* ... and critical, 0..100; 0 = 40 */
    const char *root;      /* directory holding proc/ and sys/ to read; NULL = "/" (tests
                              point it at files of their own); copied */
    int target_percent;    /* a MODERATE cut frees enough to bring the headroom back to this
                              share, and below it the cache stops growing; 0 = 25 */
    int calm_ms;           /* how long pressure must be gone before the effective budget
                              rises again; 0 = 2000 */
    int growth_check_kib;  /* the cache checks the headroom on the loading thread whenever it
                              has loaded this much since the last check; 0 = a 32nd of the
                              limit, at most 16 MiB */
    int reserved[5];       /* must be zero */
} reel_pressure_options;

/*
 * Watch the process's memory on a thread of the cache's own and give memory back before the
 * kernel has to take it. The thread wakes on kernel events where the kernel offers them
 * (cgroup v1: memory.pressure_level "medium" and "critical" and usage thresholds, through
 * cgroup.event_control and an eventfd; cgroup v2 and the system: PSI triggers and
 * memory.events, where writable) and otherwise every interval; and the cache asks it to look
 * whenever it has loaded growth_check_kib since the last look, so that a fast reader cannot
 * outrun it. At each look:
 *   - headroom below critical_percent (or PSI at psi_critical): CRITICAL, every unpinned
 *     frame is dropped;
 *   - below moderate_percent (or PSI at psi_moderate): MODERATE, enough frames are dropped to
 *     bring the headroom back to target_percent (half of them when only PSI is high);
 *   - below target_percent: the cache stops growing (effective budget held at what is
 *     resident) and evicts its own frames to load new ones;
 * whatever the configured budget. Each cut writes unsaved state back first, lowers the
 * effective budget (see reel_cache_report_pressure) and gives the freed pages back to the
 * system.
 * Sources a system lacks are skipped. The default cache runs a monitor with the default
 * options from its creation; a private cache runs one after this call. Calling it again
 * replaces the monitor; reel_cache_free() stops it.
 */
REEL_API int reel_cache_start_pressure_monitor(reel_cache *cache,
                                               const reel_pressure_options *opts);
/* Stop the cache's monitor (a no-op without one). */
REEL_API int reel_cache_stop_pressure_monitor(reel_cache *cache);

/* ---- remote stores: publishing, and reading from many machines -------------------------- */

/*
 * A store can be published to a location many machines read from: a directory (a shared file
 * system), a plain HTTP(S) server with Range support (and PUT, to publish to it), or an S3
 * bucket: "s3://BUCKET/PREFIX", with the endpoint, region and keys taken from the environment
 * variables AWS_ENDPOINT_URL, AWS_REGION (default us-east-1), AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY (path-style requests signed with SigV4; keys are never printed).
 *
 * Publishing writes a consistent snapshot of the chosen sequences (a reel store file with 64 KiB
 * pages and a rollback journal, without access counts) as parts of part_bytes (the first ones end
 * where the file's B-tree root pages do), each an object named by the SHA-256 of its content (so a
 * part already there is not sent again: a grown store sends its new parts and two more), with an
 * index object per part holding the SHA-256 (first 128 bits) of each of its 64 KiB blocks, and
 * last a manifest, the one object that changes, listing the parts, their index objects and the
 * sequences (with which parts hold which frames). Readers see the old store or the new one. S3
 * gets parts over 16 MiB as multipart uploads in pieces of 8 MiB. An object already at dest is
 * kept only when its size is right (HEAD, or stat) and, for a directory or with
 * verify_existing, its blocks' hashes are (read back); otherwise it is sent again. The snapshot
 * is written beside the store as "<store>.publish-<pid>.tmp" (in $TMPDIR when that folder is
 * not writable) and removed; a publish first removes what killed ones left: such snapshots of
 * processes that are gone, a directory's "KEY.<pid>.tmp" files, and on S3 every unfinished
 * multipart upload under the prefix (run one publish to a prefix at a time). A URL's userinfo
 * ("http://user:password@host/...") is sent as the server's credentials and never appears in
 * a message.
 *
 * reel_open(location, REEL_OPEN_READONLY, ...) opens a published store: every read of this API
 * works unchanged. Blocks are fetched with ranged reads, checked against their hashes (a block
 * that does not match is fetched once more, then the read fails with REEL_CORRUPT naming the
 * object and the block: nothing unverified is ever served) and kept in the node's block cache,
 * shared by its processes (one download per block): $REEL_BLOCK_CACHE, by default
 * $XDG_CACHE_HOME/reel/blocks or ~/.cache/reel/blocks, at most $REEL_BLOCK_CACHE_MIB MiB (default
 * 4096; a bad value: REEL_INVALID), least recently used chunks of 16 blocks removed first. The
 * cache must be a directory of the user's own that nobody else can write (else REEL_DENIED); a
 * block read from it is checked against its published hash the first time each process serves
 * it (a cache file altered on the node: REEL_CORRUPT, and the file removed). A manifest whose
 * keys are not reel's object names, or out of range, is REEL_CORRUPT. Network failures (and
 * transfers slower than 1 KiB/s for 10 s) are retried with backoff (5 tries, all within
 * $REEL_REMOTE_TIMEOUT seconds, default 30; junk there fails the open with REEL_INVALID), then
 * reads fail with REEL_IO naming the object; a missing object gives
 * REEL_NOTFOUND; refused keys REEL_DENIED. Access counts of a published store are the node's own
 * (the store is immutable): kept in a file beside the block cache (counts-<hash of the
 * location>.db), summed over the node's processes, and seen through reel_store_sql() (the views
 * and reel_access) and `reel stats`, whose --json output merges across nodes.
 */
typedef struct reel_publish_options {
    const char *const *sequences; /* the names to publish; NULL: every sequence */
    size_t nsequences;
    int64_t part_bytes;           /* bytes per part object; 0 = 64 MiB (rounded up to 64 KiB;
                                     at most 1 GiB) */
    int verify_existing;          /* 1: read back every part already at an HTTP or S3
                                     destination and check its blocks' hashes (a directory's
                                     always are); 0: only its size is checked */
    int reserved[7];              /* must be zero */
} reel_publish_options;

/* What reel_publish() did. */
typedef struct reel_publish_result {
    int64_t bytes;          /* the snapshot's size */
    int64_t parts;          /* the part objects it is made of */
    int64_t uploaded_parts; /* of them, sent this time (the others were there already) */
    int64_t uploaded_bytes;
} reel_publish_result;

/* Publish sequences of store to dest (see above). opts and result may be NULL. Errors name the
 * object and the location: REEL_DENIED, REEL_IO, REEL_NOTFOUND (a sequence asked for),
 * REEL_INVALID (a location reel cannot use). Thread-safe with other readers of the store. */
REEL_API int reel_publish(reel_store *store, const char *dest, const reel_publish_options *opts,
                          reel_publish_result *result);

/* The block traffic of a published store opened for reading. */
typedef struct reel_remote_stats {
    int64_t block_hits;     /* 64 KiB blocks found in the node's block cache */
    int64_t blocks_fetched; /* blocks fetched from the location (checked, then cached) */
    int64_t bytes_fetched;
} reel_remote_stats;
/* REEL_INVALID when store is not a published store. */
REEL_API int reel_store_get_remote_stats(reel_store *store, reel_remote_stats *stats);

/* ---- annotations: per-frame data kept beside the frames --------------------------------- */

/*
 * An annotation is a value kept in the store under a key for one frame of a sequence: JSON
 * text, or an array of numbers (its bytes, little-endian, of a dtype in a shape), such as
 * keypoints of shape (17, 3) in float32. A key has at most one value per frame; setting it
 * again replaces the value. The frame need not exist yet. Annotations live in the table
 * reel_annotation (README, "Annotations"), keyed by the sequence's id, and go with their
 * sequence: reel_seq_remove() and an import's replace remove them (or orphan them, as
 * reel_meta('annotations.on_remove') says), and a publish copies those of the sequences it
 * publishes. Writes wait for another writer (an import) up to the open's busy timeout, then
 * answer REEL_BUSY; a write on a read-only store is REEL_READONLY; one on a handle whose
 * sequence was removed meanwhile is REEL_NOTFOUND. All calls are thread-safe.
 */
#define REEL_ANNOT_JSON 1              /* the value is JSON text (UTF-8) */
#define REEL_ANNOT_BLOB 2              /* the value is an array of dtype in shape */
#define REEL_ANNOT_MAX_KEY 255         /* bytes of a key (valid UTF-8, at least 1) */
#define REEL_ANNOT_MAX_DIMS 8          /* dimensions of an array */
#define REEL_ANNOT_MAX_BYTES (64 << 20) /* bytes of one value */

typedef struct reel_annot {
    int64_t index;        /* the frame, >= 0 */
    int kind;             /* REEL_ANNOT_JSON or REEL_ANNOT_BLOB */
    const void *value;    /* JSON text (no NUL needed, none inside) or the array's bytes */
    size_t size;          /* bytes at value, <= REEL_ANNOT_MAX_BYTES */
    const char *dtype;    /* BLOB: numpy's name: "bool", "int8", "uint8", "int16", "uint16",
                             "int32", "uint32", "int64", "uint64", "float16", "float32",
                             "float64"; NULL for JSON */
    int ndim;             /* BLOB: 0 (a scalar) .. REEL_ANNOT_MAX_DIMS; 0 for JSON */
    int64_t shape[REEL_ANNOT_MAX_DIMS]; /* BLOB: size == product of shape[0..ndim) * itemsize */
    const char *producer; /* who made it (a model, a tool); NULL: not said */
} reel_annot;

/* Set key for frame a->index of seq to a's value (replacing one there). REEL_INVALID, naming
 * what, for a bad key or value (a dtype, shape or size that do not agree, JSON that is not). */
REEL_API int reel_annot_set(reel_seq *seq, const char *key, const reel_annot *a);

/* Set key for n frames, all in one transaction: all are written or none (the first bad one is
 * named, by its position in a). */
REEL_API int reel_annots_set(reel_seq *seq, const char *key, const reel_annot *a, size_t n);

/* The value of key for frame index, in *out: one allocation holding the struct and what its
 * pointers point to (JSON text gets a NUL after it), freed with reel_free(). REEL_NOTFOUND
 * when the frame has no such key; REEL_CORRUPT, naming the row, for a stored row that does not
 * agree with itself (a dtype, shape and size that do not match). */
REEL_API int reel_annot_get(reel_seq *seq, const char *key, int64_t index, reel_annot **out);

/* Call cb(ctx, key, a) for every annotation of seq under key (NULL: under every key), in
 * frame order, then key order. key and a are valid during the call only. A non-zero return
 * from cb stops and is returned. Rows are checked as by reel_annot_get(). */
REEL_API int reel_annot_foreach(reel_seq *seq, const char *key,
                                int (*cb)(void *ctx, const char *key, const reel_annot *a),
                                void *ctx);

/* Remove key from frame index; REEL_NOTFOUND when it had none. */
REEL_API int reel_annot_delete(reel_seq *seq, const char *key, int64_t index);

/* How many annotations seq has under key (NULL: under every key). */
REEL_API int reel_annot_count(reel_seq *seq, const char *key, int64_t *count);

/* ---- images ------------------------------------------------------------------------------ */

/* Frames as images: PNG encoding and conversion between pixel formats, both with FFmpeg
 * (loaded on first use), and the free function of the buffers they return. */
/*
 * Encode one frame (size bytes of pixels in fmt, width x height) as a PNG image with FFmpeg's
 * encoder: grey formats stay grey (16-bit for gray16le), the others become 8-bit RGB.
 * On success *png is a new buffer of *png_size bytes, freed with reel_free(). Thread-safe.
 */
REEL_API int reel_png_encode(int fmt, int width, int height, const void *pixels, size_t size,
                             void **png, size_t *png_size);

/* One frame's pixels and what they are. */
typedef struct reel_image {
    int pix_fmt;        /* a reel_pix_fmt */
    int width, height;
    const void *pixels; /* reel_frame_size bytes, planes packed */
    size_t size;
} reel_image;

/*
 * Convert one frame into another stored format of the same size, with FFmpeg's libswscale
 * (loaded on first use; accurate rounding, full chroma): exact when to is the frame's own
 * format, lossy across RGB and YUV and to fewer bits. On success *out is a new buffer of
 * *out_size bytes (reel_frame_size of to), freed with reel_free(). REEL_INVALID when src's size
 * does not match its format, REEL_UNSUPPORTED when FFmpeg cannot be loaded. Thread-safe.
 */
REEL_API int reel_frame_convert(const reel_image *src, int to, void **out, size_t *out_size);

/* Free a buffer the library returned (reel_png_encode, reel_frame_convert). NULL is
 * accepted. */
REEL_API void reel_free(void *p);

/* ---- video import ------------------------------------------------------------------------ */

/* reel_import() decodes a video (or a sequence of images) with FFmpeg into a new sequence,
 * resumably; the options say what is stored and which frames are kept. */
/* Stored format for reel_import(): any reel_pix_fmt, or the decoder's own (see below). */
#define REEL_PIX_NATIVE (-1)

/* What reel_import() does with a packet that fails to decode (every such index is recorded). */
#define REEL_ON_ERROR_SKIP 0   /* a frame with status SKIPPED and no pixels (the default) */
#define REEL_ON_ERROR_REPEAT 1 /* a copy of the previous frame, status REPEATED */
#define REEL_ON_ERROR_BLACK 2  /* a black frame, status BLACK */
#define REEL_ON_ERROR_FAIL 3   /* stop, remove the sequence, return REEL_CORRUPT */

/* Progress of one import, passed to the progress callback. */
typedef struct reel_import_progress {
    const char *path;        /* the video being imported */
    const char *sequence;    /* the sequence it goes into */
    int64_t frames_done;     /* frames committed so far in this run, plus those resumed */
    int64_t frames_expected; /* from the container; -1 when unknown */
    int64_t bytes_in;        /* bytes of the video read so far */
    int64_t bytes_out;       /* compressed bytes committed so far */
    double seconds;          /* since this import started */
} reel_import_progress;

/* Called about every 100 ms and once at the end. Return non-zero to stop the import after
 * committing what is done (reel_import then returns REEL_INTERRUPTED; rerun to resume). */
typedef int (*reel_progress_fn)(void *ctx, const reel_import_progress *progress);

/* What reel_import() lets FFmpeg print (reel_import_options.log). FFmpeg's log level is one
 * setting of the whole process: the last import to set it wins. */
#define REEL_IMPORT_LOG_DEFAULT 0 /* leave it as it is (FFmpeg's default: warnings and errors
                                     on stderr) */
#define REEL_IMPORT_LOG_QUIET 1   /* nothing: reel's own error messages say what failed */

/* Options of reel_import(). Zero-initialise (or pass NULL) for the defaults. */
typedef struct reel_import_options {
    const char *sequence; /* sequence name; NULL: the file name without directory/extension */
    int pix_fmt;          /* REEL_PIX_* or REEL_PIX_NATIVE; 0 = rgb24. NATIVE keeps the
                             decoder's format when reel supports it, else the nearest lossless
                             one (deeper than 8 bits becomes gray16le or yuv420p10le) */
    int width, height;    /* scale to this size; 0, 0 = the source size; one of them -1: that
                             side from the other and the source's aspect ratio (rounded to
                             the stored format's chroma subsampling, e.g. even for yuv420p) */
    int stream;           /* video stream index; 0 = the best video stream (pass index + 1) */
    int on_error;         /* REEL_ON_ERROR_* */
    int autorotate;       /* non-zero: apply the stream's rotation metadata to the pixels */
    int replace;          /* non-zero: replace a sequence of that name made from another file
                             or with other options (otherwise REEL_EXISTS) */
    int workers;          /* compression threads; 0 = one per core */
    reel_progress_fn progress;
    void *progress_ctx;
    int log;              /* REEL_IMPORT_LOG_* */
    int codec;            /* REEL_CODEC_*; 0 = AUTO */
    int keyint;           /* for TEMPORAL and AUTO: 1..REEL_MAX_KEYINT; 0 = REEL_DEFAULT_KEYINT */
    /* Which frames are kept (each recorded in the source's options, so a re-import with other
     * values is another import: REEL_EXISTS unless replace). Kept frames are numbered from 0 and
     * keep their source timestamps. */
    int every;            /* keep every Nth frame (the first kept is the first in the window);
                             0 or 1 = all */
    int start_ms;         /* skip the frames before this time, in ms after the first frame */
    int duration_ms;      /* keep the frames of this long after start_ms; 0 = to the end */
    /* Image sequences (path a directory, a glob or a printf pattern, see reel_import): frame i
     * has pts i (the file's position in the sorted list) in a time base of fps_den/fps_num s. */
    int fps_num, fps_den; /* 0, 0 = 25/1 */
} reel_import_options;

/* What an import did. */
typedef struct reel_import_result {
    int64_t frames;         /* frames in the sequence at the end */
    int64_t resumed_from;   /* frames already committed by an earlier, interrupted run */
    int64_t skipped, repeated, black; /* frames recorded with those statuses */
    int64_t stored_bytes;   /* compressed bytes of the whole sequence */
    int64_t raw_bytes;      /* decoded bytes of the whole sequence */
    int truncated;          /* the file ended before its declared end; its prefix was kept */
    int rotation;           /* the stream's display rotation, degrees clockwise: 0/90/180/270 */
    int pix_fmt;            /* the stored format */
    int width, height;      /* the stored size */
    double seconds;         /* wall time of this run */
} reel_import_result;

/*
 * Decode the video at path once and store every frame in a sequence of store. Frame i is the
 * i-th frame the decoder outputs in presentation order, with its pts, duration and keyframe
 * flag in the stream's time base. Decoding runs on FFmpeg's frame threads while compression
 * runs on opts->workers threads and one writer commits batches, so memory stays bounded
 * whatever the video's length.
 *
 * The source's size, content hash and the options are recorded. Importing the same file with
 * the same options into a finished sequence returns REEL_DONE and changes nothing; into a
 * sequence left by an interrupted or killed import, it resumes after the last committed frame
 * and ends with exactly the frames of an uninterrupted run. A sequence of that name made from
 * another file, or with other options, gives REEL_EXISTS unless opts->replace.
 *
 * Image sequences: when path is not a file but a directory (its regular files whose names do
 * not begin with '.'), a glob (a name with *, ? or [...], e.g. "dir/img_?.png") or a printf
 * pattern with one %d or %0Nd ("dir/img_%04d.png": the first number that exists from 0 to 4,
 * then each next one until one is missing, as FFmpeg's image2), each file is one frame, in
 * natural order
 * (img2 before img10), decoded by FFmpeg exactly as `ffmpeg -i FILE` decodes it. Every image
 * must have the first one's size unless opts->width/height scale them all (REEL_INVALID,
 * naming the file); a file that is not an image FFmpeg reads is REEL_UNSUPPORTED naming it;
 * one that fails to decode (a truncated PNG) follows opts->on_error. The source's hash covers
 * the names (relative to the pattern's directory), sizes and contents of all the files.
 *
 * Errors (reel_errmsg() names the file and the reason): REEL_NOTFOUND (no such file),
 * REEL_UNSUPPORTED (not a video FFmpeg can open, no video stream, no decoder), REEL_CORRUPT
 * (no frame decodes, or a failed packet under REEL_ON_ERROR_FAIL), REEL_INTERRUPTED. A new
 * sequence is removed again on any error but REEL_INTERRUPTED. A file that ends early keeps
 * the frames of its prefix and sets result->truncated.
 * opts and result may be NULL. Thread-safe as other writes: imports into one store serialise
 * their commits.
 */
REEL_API int reel_import(reel_store *store, const char *path, const reel_import_options *opts,
                         reel_import_result *result);

/* ---- sampling: each training worker's share of the items ---------------------------------- */

/*
 * A sampler for training on many workers (ranks): it shares out `items` items (frames, clips;
 * numbered 0..items-1 in an order where consecutive items lie together in the store, as
 * frames of a sequence do) among `world` workers, and gives each its share in a shuffled
 * order that depends on seed and epoch only. The order is chunk-local: an epoch visits chunks
 * of `chunk` consecutive items in a shuffled order, each chunk's items shuffled, and cuts that
 * order into `world` equal runs, one per rank. So a worker reads about share/chunk + 2 chunks,
 * mostly blocks no other worker needs (for a published store: its own part of the block
 * cache's traffic), and every item is in one share per epoch; when world does not divide
 * items, the order wraps round so that every share has reel_sample_count() items (at most
 * world - 1 items are then in two shares, as with PyTorch's DistributedSampler). A smaller
 * chunk mixes more, a larger one reads fewer blocks. Positions are independent: resume an
 * epoch at any position, in any process, with the same options.
 */
typedef struct reel_sample_options {
    int64_t items;       /* how many items, >= 0 */
    int64_t chunk;       /* consecutive items kept together; 0 = 256 */
    int rank, world;     /* this worker, of world: 0 <= rank < world */
    uint64_t seed, epoch;
    int reserved[4];     /* must be zero */
} reel_sample_options;

/* The number of items in each worker's share: items / world rounded up (0 for bad options). */
REEL_API int64_t reel_sample_count(const reel_sample_options *opts);

/* The items at positions position .. position + count - 1 of this rank's share, into items.
 * REEL_INVALID for options out of range or positions past the share. Thread-safe (no state). */
REEL_API int reel_sample(const reel_sample_options *opts, int64_t position, int64_t count,
                         int64_t *items);

/* ---- deprecated names -------------------------------------------------------------------- */

/*
 * The names of 0.1.0 that did not follow the naming rule (top of this file), kept as aliases
 * of the new ones until 0.2, which removes them. They are static inline functions, not symbols
 * of libreel: a program built against the 0.1.0 header must be rebuilt (its source compiles
 * unchanged). Define REEL_NO_DEPRECATED before including reel.h to hide them, and so find
 * the uses left.
 *   reel_seq_info_get            -> reel_seq_get_info
 *   reel_frame_info_get          -> reel_frame_get_info
 *   reel_cache_stats_get         -> reel_cache_get_stats
 *   reel_seq_cache_stats         -> reel_seq_get_cache_stats
 *   reel_store_remote_stats      -> reel_store_get_remote_stats
 *   reel_cache_pop               -> reel_cache_pop_budget (the pair of reel_cache_push_budget)
 *   reel_cache_monitor_pressure  -> reel_cache_start_pressure_monitor (the pair of
 *                                   reel_cache_stop_pressure_monitor)
 *   reel_cache_pressure          -> reel_cache_report_pressure
 */
#ifndef REEL_NO_DEPRECATED
static inline int reel_seq_info_get(reel_seq *seq, reel_seq_info *info)
{
    return reel_seq_get_info(seq, info);
}
static inline int reel_frame_info_get(reel_seq *seq, int64_t index, reel_frame_info *info)
{
    return reel_frame_get_info(seq, index, info);
}
static inline int reel_cache_stats_get(reel_cache *cache, reel_cache_stats *stats)
{
    return reel_cache_get_stats(cache, stats);
}
static inline int reel_seq_cache_stats(reel_seq *seq, reel_cache_stats *stats)
{
    return reel_seq_get_cache_stats(seq, stats);
}
static inline int reel_store_remote_stats(reel_store *store, reel_remote_stats *stats)
{
    return reel_store_get_remote_stats(store, stats);
}
static inline int reel_cache_pop(reel_cache *cache)
{
    return reel_cache_pop_budget(cache);
}
static inline int reel_cache_monitor_pressure(reel_cache *cache, const reel_pressure_options *opts)
{
    return reel_cache_start_pressure_monitor(cache, opts);
}
static inline int reel_cache_pressure(reel_cache *cache, int level)
{
    return reel_cache_report_pressure(cache, level);
}
#endif /* REEL_NO_DEPRECATED */

#ifdef __cplusplus
}
#endif
#endif /* REEL_H */
