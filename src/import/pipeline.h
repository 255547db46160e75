/* pipeline.h - the import's threads (pipeline.c): workers converting and compressing
 * decoded frames, one writer committing them in order, a batch per transaction. */
#ifndef REEL_IMPORT_PIPELINE_H
#define REEL_IMPORT_PIPELINE_H

#include "import/convert.h"

typedef struct reel__pipeline reel__pipeline;

/* What a pipeline does. */
typedef struct reel__pipeline_cfg {
    reel_seq *seq;         /* where the frames go; NULL: decode and convert only */
    reel__convert conv;    /* into the stored format */
    size_t frame_size;     /* bytes of a stored frame */
    int level;             /* zstd level */
    int workers;           /* converting and compressing threads */
    int64_t first;         /* the index of the first frame pushed (frames already committed) */
    int codec;             /* REEL_CODEC_INTRA, _TEMPORAL or _AUTO */
    int keyint;            /* TEMPORAL and AUTO: frames per chain of references */
} reel__pipeline_cfg;

/* Start the threads. */
REEL__HIDDEN int reel__pipeline_start(const reel__pipeline_cfg *cfg, reel__pipeline **out);
/* Queue the next frame: src is a new reference taken over (NULL for a frame without a picture:
 * skipped, or black). Blocks while the ring is full; returns the pipeline's failure, if any. */
REEL__HIDDEN int reel__pipeline_push(reel__pipeline *pl, AVFrame *src, int64_t pts,
                                     int64_t duration, unsigned flags, int status);
/* Frames committed so far (index of the next to commit), and the compressed bytes. */
REEL__HIDDEN int64_t reel__pipeline_committed(reel__pipeline *pl, int64_t *bytes_out);
/* No more frames: wait for the threads, free the pipeline; its first failure, or REEL_OK.
 * *committed and *bytes_out as reel__pipeline_committed; *codec (may be NULL): the codec the
 * frames were coded with in the end (AUTO resolved to INTRA or TEMPORAL). */
REEL__HIDDEN int reel__pipeline_finish(reel__pipeline *pl, int64_t *committed,
                                       int64_t *bytes_out, int *codec);

#endif
