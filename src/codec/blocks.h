/* blocks.h - the block-wise temporal filter of the frame codec (blocks.c). */
#ifndef REEL_CODEC_BLOCKS_H
#define REEL_CODEC_BLOCKS_H

#include "base/pixfmt.h"

/* A plane as the block filter sees it. */
typedef struct reel__bplane {
    size_t off;   /* byte offset of the plane in the raw frame */
    int w, h;     /* samples per row (packed RGB: 3 per pixel), rows */
    int bytes;    /* bytes per sample: 1 or 2 */
    int step;     /* samples from one to the next of the same channel: 3 packed, else 1 */
    int bw, bh;   /* block size in samples */
    int nbx, nby; /* blocks across and down */
} reel__bplane;

/* The planes of a frame of fmt (w x h) into bp; their count, 0 for a bad geometry. *nblocks
 * gets the blocks of all planes, *raw the raw frame's bytes. */
REEL__HIDDEN int reel__bplanes(int fmt, int w, int h, reel__bplane bp[REEL__MAX_PLANES],
                               size_t *nblocks, size_t *raw);

/* Filter cur against ref (both raw frames) into out, which holds nblocks + raw bytes: the
 * mode of every block, then the residuals of the blocks coded against ref, then those of the
 * blocks predicted spatially. Returns the bytes written. */
REEL__HIDDEN size_t reel__blocks_filter(const reel__bplane *bp, int np, const uint8_t *cur,
                                        const uint8_t *ref, uint8_t *out);

/* How many blocks of cur equal ref's, sample for sample (those reel__blocks_filter skips). */
REEL__HIDDEN size_t reel__blocks_skipped(const reel__bplane *bp, int np, const uint8_t *cur,
                                         const uint8_t *ref);

/* Undo reel__blocks_filter: f (len bytes, untrusted) and ref into dst. rows: scratch for one
 * pointer per block of the widest block row. Returns NULL, or why f is not a valid filtered
 * frame of this geometry. */
REEL__HIDDEN const char *reel__blocks_unfilter(const reel__bplane *bp, int np, const uint8_t *f,
                                               size_t len, const uint8_t *ref, uint8_t *dst,
                                               const uint8_t **rows);

/* Pointers rows must hold for these planes (the most blocks across). */
REEL__HIDDEN size_t reel__blocks_row_pointers(const reel__bplane *bp, int np);

#endif
