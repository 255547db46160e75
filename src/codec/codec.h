/* codec.h - the frame codec: prediction filter + zstd (codec.c). */
#ifndef REEL_CODEC_CODEC_H
#define REEL_CODEC_CODEC_H

#include "base/common.h"

/*
 * Filter ids, recorded per frame in reel_frame.filter. Never renumber.
 * The low 4 bits name the family; for STRIP16 and RANS, bit 4 + i set means plane i was
 * predicted with AVG instead of MED (see filter.c).
 */
#define REEL__FILTER_NONE 0    /* zstd of the raw frame */
#define REEL__FILTER_STRIP16 1 /* RGB colour transform, 16 interleaved strips, MED/AVG, zstd */
#define REEL__FILTER_DELTA 2   /* zstd of the frame less its reference, the frame before it
                                  (sample by sample, mod 2^8 or 2^16): a temporal frame */
#define REEL__FILTER_BLOCKS 3  /* a temporal frame too, predicted from the frame before it
                                  block by block: skipped, its difference, or predicted
                                  spatially (see blocks.c), then zstd */
#define REEL__FILTER_RANS 4    /* STRIP16's residuals (bits 4.. its mask, as there), coded by
                                  htscodecs' rANS (rANS_static4x16) instead of zstd */
#define REEL__FILTER_AUTO (-1) /* encoder only: STRIP16 with each plane's predictor chosen */
#define REEL__FILTER_BEST (-2) /* encoder only: the smallest of AUTO, NONE and (given a
                                  reference) BLOCKS */
#define REEL__FILTER_DEFAULT REEL__FILTER_AUTO

/* Whether a recorded filter id needs the frame before it to decode. */
static inline int reel__filter_is_delta(int id)
{
    return id == REEL__FILTER_DELTA || id == REEL__FILTER_BLOCKS;
}

/* Whether a recorded filter id is one of the spatial prediction's (STRIP16 or RANS). */
static inline int reel__filter_is_strip(int id)
{
    return id >= 0 && ((id & 0xf) == REEL__FILTER_STRIP16 || (id & 0xf) == REEL__FILTER_RANS);
}

/* The most a zstd frame expands: an RLE block of 3 + 1 bytes holds at most 128 KiB. A blob of
 * n bytes never holds more than n times this; more is a hostile or damaged blob. */
#define REEL__ZSTD_MAX_RATIO 32768

/* Reusable encoder/decoder state (zstd contexts, scratch). One thread at a time. */
typedef struct reel__codec reel__codec;
REEL__HIDDEN reel__codec *reel__codec_new(void);
REEL__HIDDEN void reel__codec_free(reel__codec *c);
/* Use the portable scalar filter code only on c (tests compare it with the SIMD code). */
REEL__HIDDEN void reel__codec_set_scalar(reel__codec *c, int on);

/* A frame's geometry as the codec sees it. */
typedef struct reel__geom {
    int fmt, width, height;
} reel__geom;

/* A compressed frame: its bytes, the filter id it was made with and the XXH64 of its raw
 * pixels (reel__checksum), as stored together in the frame's row. */
typedef struct reel__blob {
    const void *data;
    size_t len;
    int filter;
    uint64_t checksum;
} reel__blob;

/*
 * Compress one frame with filter (an id, or REEL__FILTER_AUTO). On success out->data points
 * into c (valid until the next call on c) and out->filter is the id to record.
 */
REEL__HIDDEN int reel__encode(reel__codec *c, int filter, int level, const reel__geom *g,
                              const void *pixels, reel__blob *out);
/* The same with the reference frame for DELTA, BLOCKS and BEST (ref: the raw frame before this one,
 * or NULL when there is none to predict from). *intra_len (may be NULL) gets the size of the
 * best frame that needs no reference, when BEST tried one (0 otherwise). */
REEL__HIDDEN int reel__encode_ref(reel__codec *c, int filter, int level, const reel__geom *g,
                                  const void *pixels, const void *ref, reel__blob *out,
                                  size_t *intra_len);

/*
 * Validate and decompress one untrusted blob into dst (the raw frame's bytes). Returns REEL_OK
 * or REEL_CORRUPT / REEL_UNSUPPORTED / REEL_NOMEM with *why set to a static reason. The
 * stored-frame checks around it (sizes recorded in the row) are in blob.c.
 */
REEL__HIDDEN int reel__decode(reel__codec *c, const reel__geom *g, const reel__blob *b,
                              void *dst, const char **why);
/* The same for a blob that may be a temporal frame (DELTA or BLOCKS): ref is the decoded
 * frame before it (NULL when the caller has none: a temporal blob then gives REEL_CORRUPT;
 * never dst). */
REEL__HIDDEN int reel__decode_ref(reel__codec *c, const reel__geom *g, const reel__blob *b,
                                  const void *ref, void *dst, const char **why);

#endif
