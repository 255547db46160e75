/* ingest.h - internal interfaces of the video import (ingest.c, decode.c, convert.c). */
#ifndef REEL_INGEST_H
#define REEL_INGEST_H


#include "av.h"

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

/* One import in progress. */
typedef struct reel__import {
    reel_store *store;
    const char *path;
    reel_import_options opts;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    int stream;
    reel_seq *seq;
    reel__convert conv;
    size_t frame_size;        /* stored frame bytes */
    int64_t resume;           /* frames committed by an earlier run */
    int64_t expected;         /* frames the container declares, -1 unknown */
    int workers;
    void *push_ctx;           /* the pipeline, while it runs */
    int64_t committed, bytes_out; /* frames in the sequence, compressed bytes of this run */
    int64_t yielded;              /* frames the file gave, committed earlier or not */
    int64_t skipped, repeated, black;
    int truncated, interrupted;
    double t0;
} reel__import;

/* ingest.c: run the decode loop with the worker and writer threads around it. */
REEL__HIDDEN int reel__pipeline_run(reel__import *im);
/* ingest.c: queue the next frame (takes src, which may be NULL). */
REEL__HIDDEN int reel__push_frame(reel__import *im, AVFrame *src, int64_t pts, int64_t duration,
                                  unsigned flags, int status);
/* ingest.c: frames committed so far (and im->bytes_out updated). */
REEL__HIDDEN int64_t reel__committed(reel__import *im);
REEL__HIDDEN double reel__now(void);
/*
 * decode.c: decode and convert every frame of path as reel_import() would, on the same
 * threads, without compressing or storing anything (the baseline import is measured against).
 */
REEL__HIDDEN int reel__decode_only(const char *path, const reel_import_options *opts,
                                   int64_t *frames, double *seconds);
/* decode.c: demux and decode everything, pushing each frame; honours progress/interrupt. */
REEL__HIDDEN int reel__decode_loop(reel__import *im);

#endif
