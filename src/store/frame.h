/* frame.h - frames in the file (frame.c): appended in transactions, read back by index, range
 * or timestamp. The frame SELECT's columns and their positions are defined here, once. */
#ifndef REEL_STORE_FRAME_H
#define REEL_STORE_FRAME_H

#include "codec/blob.h"
#include "store/sequence.h"
#include "store/store.h"

/* The columns every frame read selects, in this order (f: reel_frame, b: reel_blob), and
 * their positions counted from the first of them. */
#define REEL__FRAME_COLUMNS                                                                   \
    "f.pts, f.duration, f.flags, f.status, f.filter, f.checksum, f.raw_bytes, f.stored_bytes, " \
    "b.data, f.checksum_v"
#define REEL__FRAME_FROM " FROM reel_frame AS f LEFT JOIN reel_blob AS b ON b.id = f.blob_id "
enum {
    REEL__COL_PTS, REEL__COL_DURATION, REEL__COL_FLAGS, REEL__COL_STATUS, REEL__COL_FILTER,
    REEL__COL_CHECKSUM, REEL__COL_RAW, REEL__COL_STORED, REEL__COL_DATA, REEL__COL_SUMV,
    REEL__COL_N
};

/* What a frame's checksum covers (reel_frame.checksum_v, schema/008_checksum_geometry.sql):
 * 1, the raw pixels' XXH64 alone; 2 (every frame written now), that XOR this mask of the
 * geometry. The mask is splitmix64's finaliser of (format, width, height) packed into 64 bits:
 * a bijection, so two geometries never share a mask and a frame read under any geometry but
 * its own fails the codec's checksum comparison. */
#define REEL__CHECKSUM_V 2
static inline uint64_t reel__geom_mask(const reel__geom *g)
{
    uint64_t x = ((uint64_t)(uint32_t)g->fmt << 32) | ((uint64_t)(g->width & 0xffff) << 16) |
                 (uint64_t)(g->height & 0xffff);
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* The stored frame of the row st is on, its columns from col0 (s->seq_name, index, geom and
 * frame_size are the caller's, set before: a checksum of version 2 is turned back into the
 * pixels' XXH64 with s->geom's mask). A header function, so that the sqlite3 extension
 * compiles it against the host's API routines. */
static inline void reel__frame_row(sqlite3_stmt *st, int col0, reel__stored *s)
{
    s->status = sqlite3_column_int(st, col0 + REEL__COL_STATUS);
    s->filter = sqlite3_column_int(st, col0 + REEL__COL_FILTER);
    s->checksum = (uint64_t)sqlite3_column_int64(st, col0 + REEL__COL_CHECKSUM);
    s->raw_bytes = sqlite3_column_int64(st, col0 + REEL__COL_RAW);
    s->stored_bytes = sqlite3_column_int64(st, col0 + REEL__COL_STORED);
    s->present = sqlite3_column_type(st, col0 + REEL__COL_DATA) != SQLITE_NULL;
    s->data = s->present ? sqlite3_column_blob(st, col0 + REEL__COL_DATA) : NULL;
    s->len = s->present ? (size_t)sqlite3_column_bytes(st, col0 + REEL__COL_DATA) : 0;
    if (sqlite3_column_int64(st, col0 + REEL__COL_SUMV) != 1) /* 2, or damage: bound */
        s->checksum ^= reel__geom_mask(&s->geom);
}

/* A frame compressed and ready to insert; blob NULL for a frame without pixels. checksum is
 * of version REEL__CHECKSUM_V (bound to the sequence's geometry). */
typedef struct reel__encoded {
    const void *blob;
    size_t len;
    uint64_t checksum;
    int filter, level;
    int64_t pts, duration;
    unsigned flags;
    int status;
} reel__encoded;

/* Check one frame to append to q (i names it in the message). */
REEL__HIDDEN int reel__frame_check(const reel__seqrec *q, const reel_frame_in *f, size_t i);
/* Compress f (already checked) for q with c, frame index idx of the sequence; e->blob points
 * into c until its next use. For a temporal sequence ref is the raw frame before it (NULL when
 * there is none at hand: f is then coded to need none, as it is every keyint frames).
 * *intra_len (may be NULL): what the frame would take without its reference. */
REEL__HIDDEN int reel__frame_encode(reel__codec *c, int level, const reel__seqrec *q,
                                    int64_t idx, const reel_frame_in *f, const void *ref,
                                    reel__encoded *e, size_t *intra_len);

/* One append transaction of n frames at the end of q: raw frames (compressed here with the
 * writer's codec) or frames encoded already. */
typedef struct reel__append {
    const reel__seqrec *q;
    const reel_frame_in *raw;      /* n frames, or NULL and ... */
    const reel__encoded *encoded;  /* ... n frames encoded already */
    size_t n;
    const void *ref;      /* raw frames of a temporal sequence: the pixels of the frame before
                             the first, when the caller has them ... */
    int64_t ref_index;    /* ... and its index (they serve only if it is the last stored) */
    int64_t expect;  /* >= 0: the index the first frame must get (REEL_MISUSE otherwise) */
    int64_t first;   /* out: the index of the first frame */
    size_t *stored;  /* out, may be NULL: the compressed size of each frame */
} reel__append;
/* Run a (the writer locked by the caller): all frames are committed or none. */
REEL__HIDDEN int reel__frames_append_locked(reel__sdb *d, reel__append *a);

/* Decoded frames the caller holds (the RAM tier's), offered as references of temporal frames:
 * have(ctx, idx, &token) gives frame idx's pixels kept until release(ctx, token), or NULL. */
typedef struct reel__held {
    const void *(*have)(void *ctx, int64_t idx, void **token);
    void (*release)(void *ctx, void *token);
    void *ctx;
} reel__held;

/* Reads, each on a connection of the pool (errors name the sequence and the frame). A temporal
 * frame's references come from held (may be NULL) or are decoded on the way. */
REEL__HIDDEN int reel__frame_read(reel__sdb *d, const reel__seqrec *q, int64_t index, void *dst,
                                  reel_frame_info *info, const reel__held *held);
REEL__HIDDEN int reel__frame_read_range(reel__sdb *d, const reel__seqrec *q, int64_t first,
                                        size_t n, void *dst);
REEL__HIDDEN int reel__frame_info(reel__sdb *d, const reel__seqrec *q, int64_t index,
                                  reel_frame_info *info);
REEL__HIDDEN int reel__frame_find_pts(reel__sdb *d, const reel__seqrec *q, int64_t pts,
                                      int64_t *index);
/* Check what frame index's row claims (exists, has pixels, sizes that fit the sequence and a
 * blob that can hold them) without reading its blob: before memory is set aside for it. */
REEL__HIDDEN int reel__frame_probe(reel__sdb *d, const reel__seqrec *q, int64_t index);
/* The last frame stored of q, decoded into dst (frame_size bytes): REEL_OK, REEL_NOTFOUND when
 * q has no frame, REEL_NODATA when it has no pixels; *index gets its index. For appends to a
 * temporal sequence whose last frame the appender does not hold. */
REEL__HIDDEN int reel__frame_read_last(reel__sdb *d, const reel__seqrec *q, void *dst,
                                       int64_t *index);
/* Prepare a read connection's statements (store.c calls it for every new connection). */
REEL__HIDDEN int reel__frame_prepare(reel__reader *r);

#endif
