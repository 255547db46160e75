/* convert.h - decoded frames into the stored format (convert.c): copy, scale, rotate; and
 * stored frames into packed FFmpeg formats for PNG and video output. */
#ifndef REEL_IMPORT_CONVERT_H
#define REEL_IMPORT_CONVERT_H

#include "import/av.h"

/* How decoded frames become stored frames. */
typedef struct reel__convert {
    int fmt;                   /* stored reel_pix_fmt */
    enum AVPixelFormat av_fmt; /* its FFmpeg twin */
    int width, height;         /* stored size, after rotation */
    int scaled_w, scaled_h;    /* size before rotation */
    int rotate;                /* degrees clockwise applied to the pixels: 0, 90, 180, 270 */
} reel__convert;

/* One thread's conversion state. Zero-initialise; free with reel__converter_free. */
typedef struct reel__converter {
    struct SwsContext *sws;
    int cs, range;             /* colour details the swscale context was set up for */
    uint8_t *tmp;              /* the frame before rotation */
    size_t tmp_cap;
    uint8_t *pad;              /* the frame in lines of 64-byte multiples (convert.c) */
    size_t pad_cap;
} reel__converter;

/* The stored format for a decoder's format: want (a reel format, REEL_PIX_NATIVE or 0). */
REEL__HIDDEN int reel__stored_format(enum AVPixelFormat decoded, int want);
/* The FFmpeg format of a reel format. */
REEL__HIDDEN enum AVPixelFormat reel__av_format(int fmt);
/* Convert (copy, scale, rotate) src into dst of the stored frame size. */
REEL__HIDDEN int reel__convert_frame(reel__converter *c, const reel__convert *cv,
                                     const AVFrame *src, uint8_t *dst);
/* One stored frame (fmt, w x h) converted to the packed FFmpeg format to, with no padding:
 * a new buffer freed with free(), *size (may be NULL) its bytes; NULL when FFmpeg cannot be
 * loaded or memory runs out. For export, PNG and y4m output. */
REEL__HIDDEN uint8_t *reel__convert_packed(const uint8_t *src, int fmt, int w, int h,
                                          enum AVPixelFormat to, int *size);
/* A black frame in the stored format. */
REEL__HIDDEN void reel__black_frame(const reel__convert *cv, uint8_t *dst);
REEL__HIDDEN void reel__converter_free(reel__converter *c);

#endif
