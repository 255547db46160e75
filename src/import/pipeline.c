/*
 * pipeline.c - the threads of an import.
 *
 * The importing thread demuxes and decodes (import.c; FFmpeg's own frame threads do the heavy
 * part) and pushes each decoded frame, as a reference, into a ring of slots. Worker threads take slots in
 * order, convert them to the stored format (libswscale, or a plain copy when the format is
 * already right), rotate them if asked, and compress them with the frame codec. One writer
 * thread commits the compressed slots in index order, BATCH at a time, each batch one
 * transaction. The ring's depth bounds memory whatever the video's length.
 *
 * Temporal coding: a frame may be coded against the one before it, and a frame at every
 * multiple of keyint needs none. A worker therefore takes a whole chain, the frames from one
 * multiple of keyint to the next, and codes them in order with the previous frame's pixels at
 * hand: chains are independent, so workers still run side by side. AUTO codes chains
 * temporally while that saves AUTO_MIN_SAVING of what their frames would take alone (a moving
 * average over the last chains), else codes frames alone, trying one chain in AUTO_PROBE
 * temporally to notice when the content changes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "base/error.h"
#include "import/pipeline.h"
#include "store/frame.h"

#define BATCH 8
#define AUTO_MIN_SAVING 0.04
#define AUTO_PROBE 4

enum { SLOT_FREE, SLOT_DECODED, SLOT_ENCODED };

typedef struct slot {
    int64_t pts, duration;
    unsigned flags;
    int status;
    AVFrame *src; /* frame to convert; NULL for a skipped or black frame */
    int state;
    uint8_t *blob;
    size_t blob_len, blob_cap;
    uint64_t sum;
    int filter;
} slot;

typedef struct reel__pipeline {
    reel_seq *q;
    reel__convert conv;
    int level;
    slot *ring;
    int64_t depth;
    int64_t next_decode, next_encode, next_write; /* sequence indexes */
    int eof, failed, fail_rc;
    char fail_msg[512];
    int64_t bytes_out;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct worker *w;
    int nw, started;
    pthread_t writer;
    int codec, keyint;           /* INTRA, TEMPORAL or AUTO */
    int auto_temporal;           /* AUTO (under lock): chains are coded temporally now, */
    double auto_saving;          /* the moving average of what that saves, */
    int auto_chains;             /* chains claimed since the last temporal one */
    int64_t deltas;              /* frames coded against the one before them (under lock) */
} pipeline;

typedef struct worker {
    pipeline *pl;
    pthread_t thread;
    reel__codec *codec;
    reel__converter cv;
    uint8_t *pixels;
    uint8_t *prev;   /* temporal: the pixels of the frame before (NULL-free: swapped) */
    int have_prev;   /* prev holds the frame before the one being coded */
} worker;

/* Record the first failure; everyone stops. Call with the lock held. */
static void fail_locked(pipeline *pl, int rc)
{
    if (!pl->failed) {
        pl->failed = 1;
        pl->fail_rc = rc;
        snprintf(pl->fail_msg, sizeof pl->fail_msg, "%s", reel_errmsg());
    }
    pthread_cond_broadcast(&pl->cond);
}

/* ---- workers: convert and compress ------------------------------------------------------ */

/* Convert and compress slot sl, frame idx, with codec (INTRA or TEMPORAL). */
static int encode_slot(worker *w, slot *sl, int64_t idx, int codec, size_t *alone)
{
    pipeline *pl = w->pl;
    reel_frame_in in = {NULL, 0, sl->pts, sl->duration, sl->flags, sl->status};
    reel__encoded e;
    reel__seqrec rec;
    uint8_t *t;
    int rc = REEL_OK;
    if (sl->src) {
        rc = reel__convert_frame(&w->cv, &pl->conv, sl->src, w->pixels);
        av_frame_free(&sl->src);
        in.pixels = w->pixels;
    } else if (sl->status != REEL_STATUS_SKIPPED) {
        reel__black_frame(&pl->conv, w->pixels);
        in.pixels = w->pixels;
    }
    if (rc != REEL_OK || !pl->q)
        return rc; /* decode-only runs stop here */
    in.size = in.pixels ? pl->q->rec.frame_size : 0;
    rec = pl->q->rec;
    rec.codec = codec;
    rec.keyint = pl->keyint;
    rc = reel__frame_encode(w->codec, pl->level, &rec, idx, &in, w->have_prev ? w->prev : NULL,
                            &e, alone);
    /* this frame is the next one's reference, if it has pixels */
    w->have_prev = in.pixels != NULL && codec == REEL_CODEC_TEMPORAL;
    if (w->have_prev)
        t = w->prev, w->prev = w->pixels, w->pixels = t;
    if (rc != REEL_OK)
        return rc;
    if (e.blob && e.len > sl->blob_cap) {
        uint8_t *b = reel__realloc(sl->blob, e.len);
        if (!b)
            return reel__err(REEL_NOMEM, "out of memory");
        sl->blob = b;
        sl->blob_cap = e.len;
    }
    if (e.blob)
        memcpy(sl->blob, e.blob, e.len);
    sl->blob_len = e.blob ? e.len : 0;
    sl->sum = e.checksum;
    sl->filter = e.filter;
    return REEL_OK;
}

/* AUTO: how the next chain is coded (lock held). */
static int auto_codec(pipeline *pl)
{
    if (pl->codec != REEL_CODEC_AUTO)
        return pl->codec;
    if (pl->auto_temporal || ++pl->auto_chains >= AUTO_PROBE) {
        pl->auto_chains = 0;
        return REEL_CODEC_TEMPORAL;
    }
    return REEL_CODEC_INTRA;
}

/* AUTO: a chain coded temporally took coded bytes where its frames alone take alone. */
static void auto_count(pipeline *pl, double alone, double coded)
{
    double saving;
    if (pl->codec != REEL_CODEC_AUTO || alone <= 0)
        return;
    saving = 1 - coded / alone;
    pl->auto_saving = pl->auto_temporal ? 0.5 * pl->auto_saving + 0.5 * saving : saving;
    pl->auto_temporal = pl->auto_saving >= AUTO_MIN_SAVING;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    pipeline *pl = w->pl;
    pthread_mutex_lock(&pl->lock);
    for (;;) {
        int64_t i, end;
        double alone = 0, coded = 0;
        int codec, rc = REEL_OK;
        while (!pl->failed && pl->next_encode >= pl->next_decode && !pl->eof)
            pthread_cond_wait(&pl->cond, &pl->lock);
        if (pl->failed || pl->next_encode >= pl->next_decode)
            break;
        /* INTRA: one frame; else the chain up to the next multiple of keyint (AUTO coding a
         * chain alone included: its probes must start where chains start) */
        codec = auto_codec(pl);
        i = pl->next_encode;
        end = pl->codec == REEL_CODEC_INTRA ? i + 1 : i - i % pl->keyint + pl->keyint;
        pl->next_encode = end;
        w->have_prev = 0;
        for (; i < end && rc == REEL_OK; i++) {
            slot *sl;
            size_t alone_len = 0;
            while (!pl->failed && i >= pl->next_decode && !pl->eof)
                pthread_cond_wait(&pl->cond, &pl->lock);
            if (pl->failed || i >= pl->next_decode)
                break; /* the end of the video within this chain */
            sl = &pl->ring[i % pl->depth];
            pthread_mutex_unlock(&pl->lock);
            rc = encode_slot(w, sl, i, codec, &alone_len);
            pthread_mutex_lock(&pl->lock);
            if (rc != REEL_OK)
                fail_locked(pl, rc);
            if (alone_len) {
                alone += (double)alone_len;
                coded += (double)sl->blob_len;
            }
            pl->deltas += rc == REEL_OK && reel__filter_is_delta(sl->filter);
            sl->state = SLOT_ENCODED;
            pthread_cond_broadcast(&pl->cond);
        }
        if (codec == REEL_CODEC_TEMPORAL)
            auto_count(pl, alone, coded);
    }
    pthread_mutex_unlock(&pl->lock);
    return NULL;
}

/* ---- writer: commit in order, a batch per transaction ----------------------------------- */

static int commit(pipeline *pl, int64_t first, int n)
{
    reel__encoded e[BATCH];
    int i;
    for (i = 0; i < n; i++) {
        slot *sl = &pl->ring[(first + i) % pl->depth];
        e[i] = (reel__encoded){sl->blob_len ? sl->blob : NULL, sl->blob_len, sl->sum, sl->filter,
                               pl->level, sl->pts, sl->duration, sl->flags, sl->status};
    }
    return reel__seq_append_encoded(pl->q, e, (size_t)n, NULL);
}

static void *writer_main(void *arg)
{
    pipeline *pl = arg;
    pthread_mutex_lock(&pl->lock);
    for (;;) {
        int64_t first = pl->next_write, stored = 0;
        int n = 0, rc, i;
        for (;;) {
            n = 0;
            while (n < BATCH && first + n < pl->next_decode &&
                   pl->ring[(first + n) % pl->depth].state == SLOT_ENCODED)
                n++;
            if (pl->failed || n == BATCH || (pl->eof && first + n == pl->next_decode))
                break;
            pthread_cond_wait(&pl->cond, &pl->lock);
        }
        if (pl->failed || n == 0)
            break;
        pthread_mutex_unlock(&pl->lock);
        rc = pl->q ? commit(pl, first, n) : REEL_OK;
        for (i = 0; i < n; i++)
            stored += (int64_t)pl->ring[(first + i) % pl->depth].blob_len;
        pthread_mutex_lock(&pl->lock);
        if (rc != REEL_OK) {
            fail_locked(pl, rc);
            break;
        }
        for (i = 0; i < n; i++)
            pl->ring[(first + i) % pl->depth].state = SLOT_FREE;
        pl->next_write += n;
        pl->bytes_out += stored;
        pthread_cond_broadcast(&pl->cond);
    }
    pthread_mutex_unlock(&pl->lock);
    return NULL;
}

/* ---- producer side ---------------------------------------------------------------------- */

/*
 * Queue the frame at the next index: src is a new reference (or NULL). Returns REEL_OK, or the
 * pipeline's failure.
 */
static int push(pipeline *pl, AVFrame *src, int64_t pts, int64_t duration, unsigned flags,
                int status)
{
    slot *sl;
    int rc = REEL_OK;
    pthread_mutex_lock(&pl->lock);
    while (!pl->failed && pl->next_decode - pl->next_write >= pl->depth)
        pthread_cond_wait(&pl->cond, &pl->lock);
    if (pl->failed) {
        rc = pl->fail_rc;
    } else {
        sl = &pl->ring[pl->next_decode % pl->depth];
        sl->src = src;
        sl->pts = pts;
        sl->duration = duration;
        sl->flags = flags;
        sl->status = status;
        sl->state = SLOT_DECODED;
        pl->next_decode++;
        src = NULL;
        pthread_cond_broadcast(&pl->cond);
    }
    pthread_mutex_unlock(&pl->lock);
    av_frame_free(&src);
    return rc;
}

static void pipeline_free(pipeline *pl)
{
    int i;
    for (i = 0; i < pl->depth && pl->ring; i++) {
        av_frame_free(&pl->ring[i].src);
        free(pl->ring[i].blob);
    }
    for (i = 0; i < pl->nw && pl->w; i++) {
        reel__codec_free(pl->w[i].codec);
        reel__converter_free(&pl->w[i].cv);
        free(pl->w[i].pixels);
        free(pl->w[i].prev);
    }
    free(pl->w);
    free(pl->ring);
    pthread_mutex_destroy(&pl->lock);
    pthread_cond_destroy(&pl->cond);
    free(pl);
}

int reel__pipeline_start(const reel__pipeline_cfg *cfg, reel__pipeline **out)
{
    pipeline *pl = reel__calloc(1, sizeof *pl);
    int i, rc = REEL_OK;
    if (!pl)
        return reel__err(REEL_NOMEM, "out of memory");
    pl->q = cfg->seq;
    pl->conv = cfg->conv;
    pl->level = cfg->level;
    pl->nw = cfg->workers;
    pl->codec = cfg->codec ? cfg->codec : REEL_CODEC_INTRA;
    pl->keyint = pl->codec == REEL_CODEC_INTRA ? 1 : cfg->keyint;
    pl->auto_temporal = 1; /* AUTO starts temporal and learns */
    pl->depth = 4 * BATCH + 2 * pl->nw;
    /* room for every worker to hold a chain (up to 64 frames waiting in all) */
    if (pl->codec != REEL_CODEC_INTRA &&
        pl->depth < BATCH + (int64_t)pl->nw * (pl->keyint < 32 ? pl->keyint : 32))
        pl->depth = BATCH + (int64_t)pl->nw * (pl->keyint < 32 ? pl->keyint : 32);
    pl->next_decode = pl->next_encode = pl->next_write = cfg->first;
    pl->ring = reel__calloc((size_t)pl->depth, sizeof *pl->ring);
    pl->w = reel__calloc((size_t)pl->nw, sizeof *pl->w);
    pthread_mutex_init(&pl->lock, NULL);
    pthread_cond_init(&pl->cond, NULL);
    if (!pl->ring || !pl->w)
        rc = reel__err(REEL_NOMEM, "out of memory");
    for (i = 0; rc == REEL_OK && i < pl->nw; i++) {
        pl->w[i].pl = pl;
        pl->w[i].codec = reel__codec_new();
        pl->w[i].pixels = reel__malloc(cfg->frame_size);
        if (pl->codec != REEL_CODEC_INTRA)
            pl->w[i].prev = reel__malloc(cfg->frame_size);
        if (!pl->w[i].codec || !pl->w[i].pixels || (pl->codec != REEL_CODEC_INTRA && !pl->w[i].prev))
            rc = reel__err(REEL_NOMEM, "out of memory for a %zu-byte frame", cfg->frame_size);
    }
    if (rc == REEL_OK && pthread_create(&pl->writer, NULL, writer_main, pl) != 0)
        rc = reel__err(REEL_NOMEM, "cannot start the writer thread");
    if (rc != REEL_OK) {
        pipeline_free(pl);
        return rc;
    }
    for (pl->started = 0; pl->started < pl->nw; pl->started++)
        if (pthread_create(&pl->w[pl->started].thread, NULL, worker_main, &pl->w[pl->started]) !=
            0)
            break;
    if (pl->started == 0) {
        pthread_mutex_lock(&pl->lock);
        fail_locked(pl, reel__err(REEL_NOMEM, "cannot start worker threads"));
        pthread_mutex_unlock(&pl->lock);
    }
    *out = pl;
    return REEL_OK;
}

int reel__pipeline_push(reel__pipeline *pl, AVFrame *src, int64_t pts, int64_t duration,
                        unsigned flags, int status)
{
    return push(pl, src, pts, duration, flags, status);
}

int64_t reel__pipeline_committed(reel__pipeline *pl, int64_t *bytes_out)
{
    int64_t n;
    pthread_mutex_lock(&pl->lock);
    n = pl->next_write;
    if (bytes_out)
        *bytes_out = pl->bytes_out;
    pthread_mutex_unlock(&pl->lock);
    return n;
}

int reel__pipeline_finish(reel__pipeline *pl, int64_t *committed, int64_t *bytes_out,
                          int *codec)
{
    int i, rc = REEL_OK;
    pthread_mutex_lock(&pl->lock);
    pl->eof = 1;
    pthread_cond_broadcast(&pl->cond);
    pthread_mutex_unlock(&pl->lock);
    for (i = 0; i < pl->started; i++)
        pthread_join(pl->w[i].thread, NULL);
    pthread_join(pl->writer, NULL);
    if (pl->failed)
        rc = reel__err(pl->fail_rc, "%s", pl->fail_msg);
    *committed = pl->next_write;
    *bytes_out = pl->bytes_out;
    if (codec) /* what the frames are: temporal if any needs the frame before it */
        *codec = pl->codec == REEL_CODEC_AUTO
                     ? (pl->deltas > 0 ? REEL_CODEC_TEMPORAL : REEL_CODEC_INTRA)
                     : pl->codec;
    pipeline_free(pl);
    return rc;
}
