/* pixfmt.h - stored pixel formats as planes of samples (pixfmt.c). */
#ifndef REEL_BASE_PIXFMT_H
#define REEL_BASE_PIXFMT_H

#include "base/common.h"

#define REEL__MAX_DIM 65535
#define REEL__MAX_PLANES 3

typedef struct reel__plane {
    int width, height; /* in samples */
    int bytes;         /* bytes per sample: 1 or 2 */
} reel__plane;

/* Planes of a format as the codec filters them (packed RGB counts as 3 planes); their number,
 * 0 for a bad format or size. */
REEL__HIDDEN int reel__planes(int fmt, int width, int height, reel__plane planes[REEL__MAX_PLANES]);

static inline size_t reel__plane_bytes(const reel__plane *p)
{
    return (size_t)p->width * (size_t)p->height * (size_t)p->bytes;
}

#endif
