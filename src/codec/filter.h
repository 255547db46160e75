/* filter.h - the reversible prediction filter of the frame codec (filter.c). */
#ifndef REEL_CODEC_FILTER_H
#define REEL_CODEC_FILTER_H

#include "base/pixfmt.h"

#define REEL__LANES 16 /* strips per plane, filtered side by side */

/* What a frame is filtered as, and the scratch the filter uses. */
typedef struct reel__filter_io {
    int fmt;                /* the frame's reel_pix_fmt */
    const reel__plane *p;   /* its planes (reel__planes) */
    int np;
    uint8_t *planes;        /* raw-frame-sized scratch (packed RGB only) */
    uint8_t *rows;          /* filter: 17 rows of the widest plane in 2-byte samples;
                               unfilter: 2 x 16 strips of it in 16-bit samples */
    int scalar;             /* the portable code only (tests compare it with the SIMD one) */
} reel__filter_io;

/* The LOCO-I median predictor MED(a, b, c) of left a, up b, up-left c, without branches or
 * overflow: clamp(a + b - c) to [min(a, b), max(a, b)]. Shared by both filters. */
static inline unsigned reel__med(unsigned a, unsigned b, unsigned c)
{
    unsigned lo = a < b ? a : b, hi = a < b ? b : a;
    unsigned t = hi > c ? hi - c : 0, d = hi - lo;
    return lo + (t < d ? t : d);
}

/* Bytes of a plane once filtered (its strips, virtual rows included). */
REEL__HIDDEN size_t reel__filtered_bytes(const reel__plane *p);
/* Filter pixels into out. choose: pick each plane's predictor and return the choice in *mask;
 * else use *mask. */
REEL__HIDDEN void reel__filter(const reel__filter_io *io, const uint8_t *pixels, int choose,
                               unsigned *mask, uint8_t *out);
/* Undo reel__filter: f (overwritten) into dst. */
REEL__HIDDEN void reel__unfilter(const reel__filter_io *io, uint8_t *f, unsigned mask,
                                 uint8_t *dst);

#endif
