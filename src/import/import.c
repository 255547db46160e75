/*
 * import.c - reel_import(): open the video, choose what to store, decide create/resume/done
 * with the source record (source.c), and run the demux/decode loop that feeds the pipeline
 * (pipeline.c: start, push every frame, finish).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/pixfmt.h"
#include "import/images.h"
#include "import/import.h"
#include "import/pipeline.h"
#include "import/source.h"

#define PROGRESS_EVERY 0.1 /* seconds */

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
    reel__pipeline *pipe;     /* while it runs */
    int64_t committed, bytes_out; /* frames in the sequence, compressed bytes of this run */
    int64_t yielded;              /* frames the file gave, committed earlier or not */
    int64_t skipped, repeated, black;
    int truncated, interrupted;
    int codec, keyint;        /* as asked (AUTO resolved at the end into coded) */
    int coded;                /* the codec the frames ended up with */
    double t0;
    int images;               /* path is an image sequence (images.c) */
    reel__images set;         /* its files */
    size_t *pick;             /* the positions in set kept (start, duration, every) */
    size_t npick;
    int first_w, first_h;     /* the size of the first image */
    AVFrame *probe;           /* the first image, decoded to plan the sequence */
} reel__import;


static const char *const policy_names[] = {"skip", "repeat", "black", "fail"};

static int averr(int code, const char *path, const char *what, int err)
{
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(err, buf, sizeof buf);
    return reel__err(code, "%s: %s: %s", path, what, buf);
}

/* ---- the decode loop -------------------------------------------------------------------- */

typedef struct cursor {
    int64_t index;            /* next frame index */
    int64_t seen;             /* frames the source gave (kept or not) */
    int64_t seen_window;      /* of them, those in the start/duration window */
    int64_t first_pts;        /* the source's first timestamp */
    int64_t forced_pts;       /* images: this frame's pts (its file's position), else -1 */
    const char *file;         /* images: the file of this frame, for messages */
    int past_end;             /* the frames after start + duration: stop decoding */
    int64_t last_pts, last_dur, default_dur;
    int have_pts;
    AVFrame *last_good;       /* kept for REEL_ON_ERROR_REPEAT */
    double next_report;
} cursor;

static int report(reel__import *im, cursor *c, int final)
{
    reel_import_progress p;
    double t = reel__seconds();
    if (!im->opts.progress || (!final && t < c->next_report))
        return 0;
    c->next_report = t + PROGRESS_EVERY;
    memset(&p, 0, sizeof p);
    p.path = im->path;
    p.sequence = im->seq ? im->seq->rec.name : NULL;
    p.frames_done = im->pipe ? reel__pipeline_committed(im->pipe, &im->bytes_out) : im->committed;
    p.frames_expected = im->expected;
    p.bytes_in = im->fmt && im->fmt->pb ? avio_seek(im->fmt->pb, 0, SEEK_CUR) /* avio_tell */ : 0;
    p.bytes_out = im->bytes_out;
    p.seconds = t - im->t0;
    return im->opts.progress(im->opts.progress_ctx, &p);
}

/* Timestamps for the next frame: its own when it has one after the previous, else made up. */
static void stamp(cursor *c, const AVFrame *f, int64_t *pts, int64_t *dur)
{
    int64_t t = f ? f->best_effort_timestamp : AV_NOPTS_VALUE;
    int64_t d = 0;
    if (c->forced_pts >= 0) {
        *pts = c->last_pts = c->forced_pts;
        *dur = c->last_dur = 1;
        c->have_pts = 1;
        return;
    }
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(58, 2, 100)
    if (f)
        d = f->duration;
#else
    if (f)
        d = f->pkt_duration;
#endif
    if (d <= 0)
        d = c->default_dur;
    if (t == AV_NOPTS_VALUE)
        t = c->have_pts ? c->last_pts + (c->last_dur > 0 ? c->last_dur : 1) : 0;
    if (c->have_pts && t <= c->last_pts)
        t = c->last_pts + 1;
    c->last_pts = t;
    c->last_dur = d;
    c->have_pts = 1;
    *pts = t;
    *dur = d;
}

/* Whether a video's frame at pts is kept by start_ms, duration_ms and every (sets past_end
 * after the window). Image sequences pick their files instead (pick_files). */
static int keep(reel__import *im, cursor *c, int64_t pts)
{
    const reel_import_options *o = &im->opts;
    AVRational tb = im->fmt->streams[im->stream]->time_base;
    int64_t ms, n = c->seen++;
    if (n == 0)
        c->first_pts = pts;
    if (!o->start_ms && !o->duration_ms && o->every <= 1)
        return 1;
    ms = av_rescale_q(pts - c->first_pts, tb, (AVRational){1, 1000});
    if (ms < o->start_ms)
        return 0;
    if (o->duration_ms && ms >= (int64_t)o->start_ms + o->duration_ms) {
        c->past_end = 1;
        return 0;
    }
    if (c->seen_window++ % (o->every > 1 ? o->every : 1))
        return 0;
    return 1;
}

/* A frame that decoded (or failed to: f NULL or flagged corrupt) becomes the next index. */
static int emit(reel__import *im, cursor *c, const AVFrame *f, int err)
{
    int64_t idx, pts, dur;
    int bad = !f || err || f->decode_error_flags || (f->flags & AV_FRAME_FLAG_CORRUPT);
    int policy = im->opts.on_error, status = REEL_STATUS_OK;
    AVFrame *src = NULL;

    stamp(c, bad ? NULL : f, &pts, &dur);
    if (!im->images && !keep(im, c, pts))
        return REEL_OK;
    idx = c->index++;
    if (bad) {
        if (policy == REEL_ON_ERROR_FAIL) {
            char why[AV_ERROR_MAX_STRING_SIZE] = "decoded with errors";
            if (err)
                av_strerror(err, why, sizeof why);
            return reel__err(REEL_CORRUPT,
                             "%s: frame %lld failed to decode (%s); with on-error fail the "
                             "sequence is not kept",
                             c->file ? c->file : im->path, (long long)idx, why);
        }
        if (idx >= im->resume) {
            im->skipped += policy == REEL_ON_ERROR_SKIP;
            im->repeated += policy == REEL_ON_ERROR_REPEAT;
            im->black += policy == REEL_ON_ERROR_BLACK;
        }
        status = policy == REEL_ON_ERROR_SKIP     ? REEL_STATUS_SKIPPED
                 : policy == REEL_ON_ERROR_REPEAT ? REEL_STATUS_REPEATED
                                                  : REEL_STATUS_BLACK;
        if (policy == REEL_ON_ERROR_REPEAT && c->last_good)
            src = c->last_good;
    } else {
        src = (AVFrame *)f;
        if (policy == REEL_ON_ERROR_REPEAT) {
            av_frame_free(&c->last_good);
            c->last_good = av_frame_clone(f);
        }
    }
    if (idx < im->resume)
        return REEL_OK; /* committed by an earlier run */
    if (src && !(src = av_frame_clone(src)))
        return reel__err(REEL_NOMEM, "out of memory");
    return reel__pipeline_push(im->pipe, src, pts, dur, !bad && f->key_frame ? REEL_FRAME_KEY : 0,
                               status);
}

/* Take every frame the decoder has ready. Returns 1 at the decoder's end, 0, or -rc. */
static int drain(reel__import *im, cursor *c, AVFrame *frame)
{
    for (;;) {
        int r = avcodec_receive_frame(im->dec, frame), rc;
        if (r == AVERROR(EAGAIN))
            return 0;
        if (r == AVERROR_EOF)
            return 1;
        rc = emit(im, c, r < 0 ? NULL : frame, r < 0 ? r : 0);
        av_frame_unref(frame);
        if (rc != REEL_OK)
            return -rc;
        if (r < 0)
            return 0;
    }
}

/*
 * Whether the frames ended well before the container's declared end (a file cut short whose
 * prefix still decodes): its duration, or its frame count at the average frame rate, whichever
 * is later (a cut AVI keeps its frame count in the header but loses the index that gives the
 * duration). The tolerance is two frames or 2% of the duration.
 */
static int ends_early(reel__import *im, int64_t end, int64_t frame_dur)
{
    AVStream *st = im->fmt->streams[im->stream];
    int64_t start = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0, dur = st->duration;
    int64_t tol;
    if (dur == AV_NOPTS_VALUE || dur <= 0) {
        if (im->fmt->duration == AV_NOPTS_VALUE || im->fmt->duration <= 0)
            return 0;
        dur = av_rescale_q(im->fmt->duration, AV_TIME_BASE_Q, st->time_base);
    }
    if (st->nb_frames > 0 && st->nb_frames * frame_dur > dur)
        dur = st->nb_frames * frame_dur;
    tol = dur / 50 > 2 * frame_dur ? dur / 50 : 2 * frame_dur;
    return end < start + dur - tol;
}

/* Demux and decode everything, pushing each frame; honours progress and interrupts. */
static int decode_loop(reel__import *im)
{
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    AVStream *st = im->fmt->streams[im->stream];
    cursor c;
    int reading = 1, rc = REEL_OK, r;

    memset(&c, 0, sizeof c);
    c.forced_pts = -1;
    if (st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0)
        c.default_dur = av_rescale_q(1, av_inv_q(st->avg_frame_rate), st->time_base);
    if (c.default_dur <= 0)
        c.default_dur = 1;
    if (!pkt || !frame)
        rc = reel__err(REEL_NOMEM, "out of memory");
    while (rc == REEL_OK) {
        if (reading) {
            r = av_read_frame(im->fmt, pkt);
            if (r < 0) {
                if (r != AVERROR_EOF)
                    im->truncated = 1;
                reading = 0;
                avcodec_send_packet(im->dec, NULL);
            } else {
                if (pkt->stream_index == im->stream) {
                    int s = avcodec_send_packet(im->dec, pkt);
                    if (s < 0 && s != AVERROR(EAGAIN))
                        rc = emit(im, &c, NULL, s);
                }
                av_packet_unref(pkt);
            }
        }
        if (rc != REEL_OK)
            break;
        r = drain(im, &c, frame);
        if (r < 0)
            rc = -r;
        else if (r == 1 || c.past_end)
            break;
        if (rc == REEL_OK && report(im, &c, 0)) {
            im->interrupted = 1;
            rc = reel__err(REEL_INTERRUPTED, "%s: import interrupted; rerun it to resume",
                           im->path);
        }
    }
    im->yielded = c.index;
    if (rc == REEL_OK && c.have_pts && !c.past_end &&
        ends_early(im, c.last_pts + c.last_dur, c.default_dur))
        im->truncated = 1;
    av_frame_free(&c.last_good);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    return rc;
}

/* ---- opening the video ------------------------------------------------------------------ */

static int open_video(reel__import *im)
{
    const AVCodec *codec;
    AVStream *st;
    int r;
    if ((r = avformat_open_input(&im->fmt, im->path, NULL, NULL)) < 0)
        return averr(r == AVERROR(ENOENT) ? REEL_NOTFOUND : REEL_UNSUPPORTED, im->path,
                     "not a video FFmpeg can read", r);
    if ((r = avformat_find_stream_info(im->fmt, NULL)) < 0)
        return averr(REEL_UNSUPPORTED, im->path, "cannot read stream information", r);
    if (im->opts.stream) {
        int i = im->opts.stream - 1;
        if (i >= (int)im->fmt->nb_streams ||
            im->fmt->streams[i]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
            return reel__err(REEL_NOTFOUND, "%s: stream %d is not a video stream", im->path, i);
        im->stream = i;
    } else if ((im->stream = av_find_best_stream(im->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0)) <
               0) {
        return reel__err(REEL_UNSUPPORTED, "%s: no video stream", im->path);
    }
    st = im->fmt->streams[im->stream];
    if (!(codec = avcodec_find_decoder(st->codecpar->codec_id)))
        return reel__err(REEL_UNSUPPORTED, "%s: no decoder for codec %s", im->path,
                         avcodec_get_name(st->codecpar->codec_id));
    if (!(im->dec = avcodec_alloc_context3(codec)))
        return reel__err(REEL_NOMEM, "out of memory");
    if ((r = avcodec_parameters_to_context(im->dec, st->codecpar)) < 0)
        return averr(REEL_UNSUPPORTED, im->path, "bad codec parameters", r);
    im->dec->thread_count = 0;
    im->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    im->dec->pkt_timebase = st->time_base;
    if ((r = avcodec_open2(im->dec, codec, NULL)) < 0)
        return averr(REEL_UNSUPPORTED, im->path, "cannot open the decoder", r);
    if (im->dec->width <= 0 || im->dec->height <= 0 || im->dec->pix_fmt == AV_PIX_FMT_NONE)
        return reel__err(REEL_UNSUPPORTED, "%s: video stream has no size or pixel format",
                         im->path);
    im->expected = st->nb_frames > 0 ? st->nb_frames : -1;
    return REEL_OK;
}

/* The stream's display rotation, clockwise, snapped to 0/90/180/270. */
static int stream_rotation(const AVStream *st)
{
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    double theta;
    int deg;
    if (!m)
        return 0;
    theta = -av_display_rotation_get((const int32_t *)(const void *)m);
    if (isnan(theta))
        return 0;
    deg = (int)lround(theta / 90.0) * 90;
    deg %= 360;
    return deg < 0 ? deg + 360 : deg;
}

/* The size frames of w x h are stored at (before rotation): opts' size, with a side of -1 from
 * the other and the aspect ratio, rounded to the chroma subsampling of the stored format. */
static int scaled_size(reel__import *im, int w, int h)
{
    reel__convert *cv = &im->conv;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(cv->av_fmt);
    int64_t ow = im->opts.width, oh = im->opts.height, mw, mh;
    mw = d ? 1 << d->log2_chroma_w : 1;
    mh = d ? 1 << d->log2_chroma_h : 1;
    if (ow == -1)
        ow = ((oh * w + h / 2) / h + mw / 2) / mw * mw;
    if (oh == -1)
        oh = ((ow * h + w / 2) / w + mh / 2) / mh * mh;
    cv->scaled_w = ow ? (int)ow : w;
    cv->scaled_h = oh ? (int)oh : h;
    if (cv->scaled_w < 1 || cv->scaled_h < 1 || cv->scaled_w > REEL__MAX_DIM ||
        cv->scaled_h > REEL__MAX_DIM)
        return reel__err(REEL_INVALID, "%s: scaling %dx%d to %d:%d gives %dx%d (1..%d each)",
                         im->path, w, h, im->opts.width, im->opts.height, cv->scaled_w,
                         cv->scaled_h, REEL__MAX_DIM);
    return REEL_OK;
}

/* " start_ms=.. duration_ms=.. every=.." when any differs from the default, for src->options. */
static void window_options(const reel_import_options *o, char *out, size_t cap)
{
    size_t n = strlen(out);
    if (o->start_ms || o->duration_ms || o->every > 1)
        snprintf(out + n, cap - n, " start_ms=%d duration_ms=%d every=%d", o->start_ms,
                 o->duration_ms, o->every > 1 ? o->every : 1);
}

/* Decide the stored format and size. */
static int plan(reel__import *im, reel__source *src)
{
    reel__convert *cv = &im->conv;
    AVStream *st = im->fmt->streams[im->stream];
    int rot = stream_rotation(st), rc;
    cv->fmt = reel__stored_format(im->dec->pix_fmt, im->opts.pix_fmt);
    cv->av_fmt = reel__av_format(cv->fmt);
    if ((rc = scaled_size(im, im->dec->width, im->dec->height)) != REEL_OK)
        return rc;
    cv->rotate = im->opts.autorotate ? rot : 0;
    cv->width = cv->rotate % 180 ? cv->scaled_h : cv->scaled_w;
    cv->height = cv->rotate % 180 ? cv->scaled_w : cv->scaled_h;
    if (reel_frame_size(cv->fmt, cv->width, cv->height, &im->frame_size) != REEL_OK)
        return reel__err(REEL_UNSUPPORTED, "%s: cannot store %dx%d frames", im->path, cv->width,
                         cv->height);
    src->path = im->path;
    src->codec = avcodec_get_name(st->codecpar->codec_id);
    src->stream = im->stream;
    src->rotation = rot;
    src->rotated = cv->rotate != 0;
    src->frames_expected = im->expected;
    snprintf(src->options, sizeof src->options,
             "pix_fmt=%s size=%dx%d stream=%d on_error=%s autorotate=%d",
             im->opts.pix_fmt == REEL_PIX_NATIVE ? "native" : reel_pix_fmt_name(cv->fmt),
             im->opts.width, im->opts.height, im->opts.stream, policy_names[im->opts.on_error],
             im->opts.autorotate != 0);
    /* the default codec adds nothing: a store imported before codecs existed still matches */
    if (im->codec != REEL_CODEC_AUTO || im->keyint != REEL_DEFAULT_KEYINT)
        snprintf(src->options + strlen(src->options), sizeof src->options - strlen(src->options),
                 " codec=%s keyint=%d",
                 im->codec == REEL_CODEC_AUTO ? "auto" : reel__codec_name(im->codec), im->keyint);
    window_options(&im->opts, src->options, sizeof src->options);
    return REEL_OK;
}

static int check_options(const reel_import_options *o)
{
    if (o->pix_fmt != 0 && o->pix_fmt != REEL_PIX_NATIVE && !reel_pix_fmt_name(o->pix_fmt))
        return reel__err(REEL_UNSUPPORTED, "pixel format %d is not supported", o->pix_fmt);
    if ((o->width == 0) != (o->height == 0) || o->width < -1 || o->height < -1 ||
        (o->width == -1 && o->height == -1) || o->width > REEL__MAX_DIM ||
        o->height > REEL__MAX_DIM)
        return reel__err(REEL_INVALID,
                         "scale %dx%d: give both sizes, 1..%d, or one and -1 for the other", o->width,
                         o->height, REEL__MAX_DIM);
    if (o->every < 0 || o->start_ms < 0 || o->duration_ms < 0)
        return reel__err(REEL_INVALID, "every, start_ms and duration_ms must be >= 0");
    if (o->fps_num < 0 || o->fps_den < 0 || (o->fps_num == 0) != (o->fps_den == 0))
        return reel__err(REEL_INVALID, "fps %d/%d: give both, > 0 (or both 0 for 25)",
                         o->fps_num, o->fps_den);
    if (o->on_error < REEL_ON_ERROR_SKIP || o->on_error > REEL_ON_ERROR_FAIL)
        return reel__err(REEL_INVALID, "unknown on_error policy %d", o->on_error);
    if (o->log != REEL_IMPORT_LOG_DEFAULT && o->log != REEL_IMPORT_LOG_QUIET)
        return reel__err(REEL_INVALID, "unknown log setting %d", o->log);
    if (o->stream < 0 || o->workers < 0)
        return reel__err(REEL_INVALID, "stream and workers must be >= 0");
    if (o->codec < REEL_CODEC_DEFAULT || o->codec > REEL_CODEC_AUTO)
        return reel__err(REEL_INVALID, "unknown codec %d", o->codec);
    if (o->keyint < 0 || o->keyint > REEL_MAX_KEYINT)
        return reel__err(REEL_INVALID, "keyint %d is not in 1..%d", o->keyint, REEL_MAX_KEYINT);
    return REEL_OK;
}

/* The default sequence name: the file name without directory and extension. */
static void default_name(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/'), *dot;
    size_t n;
    base = base ? base + 1 : path;
    dot = strrchr(base, '.');
    n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, base, n);
    out[n] = 0;
}

/* An image sequence's default name: its directory's (the last one before any wildcard or %). */
static void images_name(const char *path, char *out, size_t cap)
{
    size_t end = strcspn(path, "*?[%"), start;
    if (!path[end]) /* a directory */
        end = strlen(path);
    else
        while (end > 0 && path[end - 1] != '/')
            end--;
    while (end > 0 && path[end - 1] == '/')
        end--;
    for (start = end; start > 0 && path[start - 1] != '/'; start--)
        ;
    if (end == start || (end - start == 1 && path[start] == '.'))
        snprintf(out, cap, "images");
    else
        snprintf(out, cap, "%.*s", (int)(end - start), path + start);
}

static void fill_result(reel__import *im, reel_import_result *res, int rotation)
{
    reel_seq_info info;
    memset(res, 0, sizeof *res);
    if (im->seq && reel_seq_get_info(im->seq, &info) == REEL_OK) {
        res->frames = info.frame_count;
        res->stored_bytes = info.stored_bytes;
        res->raw_bytes = info.raw_bytes;
        res->pix_fmt = info.pix_fmt;
        res->width = info.width;
        res->height = info.height;
    }
    res->resumed_from = im->resume;
    res->skipped = im->skipped;
    res->repeated = im->repeated;
    res->black = im->black;
    res->truncated = im->truncated;
    res->rotation = rotation;
    res->seconds = reel__seconds() - im->t0;
}

static void set_workers(reel__import *im)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    im->workers = im->opts.workers ? im->opts.workers : (int)(cores > 0 ? cores : 1);
    if (im->workers > 16)
        im->workers = 16;
}

static int images_loop(reel__import *im);

/* The pipeline around the decode loop. */
static int run_pipeline(reel__import *im)
{
    reel__pipeline_cfg cfg = {im->seq,        im->conv,  im->frame_size, 1, im->workers,
                              im->resume,     im->codec, im->keyint};
    int rc, r;
    if (im->store)
        cfg.level = im->store->db->level;
    if ((rc = reel__pipeline_start(&cfg, &im->pipe)) != REEL_OK)
        return rc;
    rc = im->images ? images_loop(im) : decode_loop(im);
    r = reel__pipeline_finish(im->pipe, &im->committed, &im->bytes_out, &im->coded);
    im->pipe = NULL;
    return r != REEL_OK ? r : rc;
}

/* The progress callback while the file is hashed (so that a huge file can be stopped). */
static int hashing(void *ctx, int64_t bytes)
{
    reel__import *im = ctx;
    reel_import_progress p;
    if (!im->opts.progress)
        return 0;
    memset(&p, 0, sizeof p);
    p.path = im->path;
    p.frames_expected = -1;
    p.bytes_in = bytes;
    p.seconds = reel__seconds() - im->t0;
    return im->opts.progress(im->opts.progress_ctx, &p);
}

/* ---- image sequences (the files from images.c) ----------------------------------------- */

/* The files kept: positions from start_ms for duration_ms, every Nth, at fps. */
static int pick_files(reel__import *im)
{
    const reel_import_options *o = &im->opts;
    int64_t num = o->fps_num ? o->fps_num : 25, den = o->fps_num ? o->fps_den : 1;
    int64_t first = ((int64_t)o->start_ms * num + 1000 * den - 1) / (1000 * den);
    int64_t end = o->duration_ms
                      ? (((int64_t)o->start_ms + o->duration_ms) * num + 1000 * den - 1) /
                            (1000 * den)
                      : (int64_t)im->set.count;
    int64_t step = o->every > 1 ? o->every : 1, i;
    if (end > (int64_t)im->set.count)
        end = (int64_t)im->set.count;
    if (!(im->pick = malloc((im->set.count + 1) * sizeof *im->pick)))
        return reel__err(REEL_NOMEM, "out of memory");
    for (i = first; i < end; i += step)
        im->pick[im->npick++] = (size_t)i;
    if (!im->npick)
        return reel__err(REEL_NOTFOUND, "%s: no image in the window asked for (%zu files)",
                         im->path, im->set.count);
    return REEL_OK;
}

static int probe_sink(void *ctx, const AVFrame *f, int err, size_t file)
{
    reel__import *im = ctx;
    (void)err, (void)file;
    if (f && !f->decode_error_flags && !(f->flags & AV_FRAME_FLAG_CORRUPT) &&
        !(im->probe = av_frame_clone(f)))
        return reel__err(REEL_NOMEM, "out of memory");
    return REEL_OK;
}

/* Decode the first kept image that decodes, to plan the sequence by it. */
static int probe_images(reel__import *im)
{
    size_t k;
    int rc = REEL_OK;
    for (k = 0; rc == REEL_OK && !im->probe && k < im->npick; k++)
        rc = reel__images_decode(&im->set, im->pick + k, 1, probe_sink, im);
    if (rc == REEL_OK && !im->probe)
        rc = reel__err(REEL_CORRUPT, "%s: none of the %zu images decodes", im->path, im->npick);
    return rc;
}

static int plan_images(reel__import *im, reel__source *src)
{
    reel__convert *cv = &im->conv;
    const AVFrame *f = im->probe;
    int rc;
    cv->fmt = reel__stored_format((enum AVPixelFormat)f->format, im->opts.pix_fmt);
    cv->av_fmt = reel__av_format(cv->fmt);
    im->first_w = f->width;
    im->first_h = f->height;
    if ((rc = scaled_size(im, f->width, f->height)) != REEL_OK)
        return rc;
    cv->width = cv->scaled_w;
    cv->height = cv->scaled_h;
    if (reel_frame_size(cv->fmt, cv->width, cv->height, &im->frame_size) != REEL_OK)
        return reel__err(REEL_UNSUPPORTED, "%s: cannot store %dx%d frames", im->path, cv->width,
                         cv->height);
    src->path = im->path;
    src->codec = "images";
    src->frames_expected = im->expected = (int64_t)im->npick;
    snprintf(src->options, sizeof src->options,
             "images fps=%d/%d pix_fmt=%s size=%dx%d on_error=%s",
             im->opts.fps_num ? im->opts.fps_num : 25, im->opts.fps_num ? im->opts.fps_den : 1,
             im->opts.pix_fmt == REEL_PIX_NATIVE ? "native" : reel_pix_fmt_name(cv->fmt),
             im->opts.width, im->opts.height, policy_names[im->opts.on_error]);
    if (im->codec != REEL_CODEC_AUTO || im->keyint != REEL_DEFAULT_KEYINT)
        snprintf(src->options + strlen(src->options), sizeof src->options - strlen(src->options),
                 " codec=%s keyint=%d",
                 im->codec == REEL_CODEC_AUTO ? "auto" : reel__codec_name(im->codec), im->keyint);
    window_options(&im->opts, src->options, sizeof src->options);
    return REEL_OK;
}

typedef struct image_run {
    reel__import *im;
    cursor c;
} image_run;

static int image_sink(void *ctx, const AVFrame *f, int err, size_t file)
{
    image_run *ir = ctx;
    reel__import *im = ir->im;
    ir->c.forced_pts = (int64_t)file;
    ir->c.file = im->set.files[file];
    if (f && !im->opts.width && (f->width != im->first_w || f->height != im->first_h))
        return reel__err(REEL_INVALID,
                         "%s: %dx%d, but the images before it are %dx%d; an image sequence has "
                         "one size (or scale them all: --scale / reel_import_options.width)",
                         ir->c.file, f->width, f->height, im->first_w, im->first_h);
    if (report(im, &ir->c, 0)) {
        im->interrupted = 1;
        return reel__err(REEL_INTERRUPTED, "%s: import interrupted; rerun it to resume",
                         im->path);
    }
    return emit(im, &ir->c, f, err);
}

/* Decode the kept files from the first not yet committed. */
static int images_loop(reel__import *im)
{
    image_run ir;
    int rc;
    memset(&ir, 0, sizeof ir);
    ir.im = im;
    ir.c.index = im->resume;
    if (im->resume >= (int64_t)im->npick)
        return REEL_OK;
    rc = reel__images_decode(&im->set, im->pick + im->resume, im->npick - (size_t)im->resume,
                             image_sink, &ir);
    im->yielded = ir.c.index;
    av_frame_free(&ir.c.last_good);
    return rc;
}

/* What differs between a video and an image sequence before the import proper. */
static int open_source(reel__import *im, reel__source *src)
{
    int rc;
    if (!im->images) {
        if ((rc = reel__file_hash(im->path, &src->size, src->hash, hashing, im)) != REEL_OK)
            return rc;
        if (src->size == 0)
            return reel__err(REEL_UNSUPPORTED, "%s: empty file", im->path);
        if ((rc = open_video(im)) != REEL_OK)
            return rc;
        return plan(im, src);
    }
    if ((rc = reel__images_list(im->path, &im->set)) != REEL_OK ||
        (rc = pick_files(im)) != REEL_OK ||
        (rc = reel__images_hash(&im->set, &src->size, src->hash, hashing, im)) != REEL_OK ||
        (rc = probe_images(im)) != REEL_OK)
        return rc;
    return plan_images(im, src);
}

static int run(reel__import *im, reel_import_result *res)
{
    reel__source src;
    reel_seq_params p;
    char name[1024];
    int rc;

    memset(&src, 0, sizeof src);
    src.token = (int64_t)((uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)im ^
                          (uint64_t)(reel__seconds() * 1e9));
    if (im->opts.sequence)
        snprintf(name, sizeof name, "%s", im->opts.sequence);
    else if (im->images)
        images_name(im->path, name, sizeof name);
    else
        default_name(im->path, name, sizeof name);
    if ((rc = reel__seq_check_name(name)) != REEL_OK)
        return reel__err(rc, "%s: sequence name '%.40s%s': %s%s", im->path, name,
                         strlen(name) > 40 ? "..." : "", reel_errmsg(),
                         im->opts.sequence ? "" : " (name it yourself)");
    if ((rc = open_source(im, &src)) != REEL_OK)
        return rc;
    p = (reel_seq_params){im->conv.width,
                          im->conv.height,
                          im->conv.fmt,
                          {im->images ? (im->opts.fps_num ? im->opts.fps_den : 1)
                                      : im->fmt->streams[im->stream]->time_base.num,
                           im->images ? (im->opts.fps_num ? im->opts.fps_num : 25)
                                      : im->fmt->streams[im->stream]->time_base.den},
                          im->path,
                          im->codec == REEL_CODEC_INTRA ? REEL_CODEC_INTRA : REEL_CODEC_TEMPORAL,
                          im->keyint};
    rc = reel__source_begin(im->store, name, &p, &src, im->opts.replace, &im->seq, &im->resume);
    if (rc != REEL_OK) {
        if (res)
            fill_result(im, res, src.rotation);
        return rc;
    }
    set_workers(im);
    rc = run_pipeline(im);
    if (rc == REEL_OK && im->committed == 0 && im->yielded == 0 && !im->images &&
        (im->opts.start_ms || im->opts.duration_ms))
        rc = reel__err(REEL_NOTFOUND, "%s: no frame from %.3f s for %.3f s (the video is "
                                      "shorter)",
                       im->path, im->opts.start_ms / 1000.0, im->opts.duration_ms / 1000.0);
    else if (rc == REEL_OK && im->committed == 0)
        rc = reel__err(REEL_CORRUPT, "%s: no frame could be decoded", im->path);
    if (rc == REEL_OK)
        rc = reel__source_finish(im->seq, im->truncated, im->coded);
    report(im, &(cursor){0}, 1);
    if (res)
        fill_result(im, res, src.rotation);
    if (rc != REEL_OK && rc != REEL_INTERRUPTED &&
        (im->resume == 0 || im->opts.on_error == REEL_ON_ERROR_FAIL)) {
        /* Leave nothing behind: the sequence goes, with what was committed of it. */
        char msg[512];
        int64_t id = im->seq->rec.id;
        snprintf(msg, sizeof msg, "%s", reel_errmsg());
        reel_seq_close(im->seq);
        im->seq = NULL;
        if (reel_seq_remove(im->store, name) != REEL_OK) /* its claim goes with it, */
            reel__source_release(im->store, id, src.token); /* or at least the claim */
        reel__err(rc, "%s", msg);
        if (res)
            res->frames = 0;
    }
    if (im->seq) { /* held until here: no other import touches it before this one is done */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", reel_errmsg());
        reel__source_release(im->store, im->seq->rec.id, src.token);
        reel__err(rc, "%s", msg);
    }
    return rc;
}

int reel_import(reel_store *store, const char *path, const reel_import_options *opts,
                reel_import_result *res)
{
    reel__import im;
    int rc;
    if (res)
        memset(res, 0, sizeof *res);
    if (reel__store_check(store, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!path)
        return reel__null_arg(__func__);
    memset(&im, 0, sizeof im);
    if (opts)
        im.opts = *opts;
    if ((rc = check_options(&im.opts)) != REEL_OK || (rc = reel__av_load()) != REEL_OK)
        return rc;
    if (im.opts.log == REEL_IMPORT_LOG_QUIET)
        av_log_set_level(AV_LOG_QUIET);
    if (!reel__sdb_writable(store->db))
        return reel__err(REEL_READONLY, "%s: store was opened read-only", store->db->path);
    im.store = store;
    im.path = path;
    im.t0 = reel__seconds();
    im.expected = -1;
    im.codec = im.opts.codec ? im.opts.codec : REEL_CODEC_AUTO;
    im.keyint = im.opts.keyint ? im.opts.keyint : REEL_DEFAULT_KEYINT;
    im.coded = im.codec == REEL_CODEC_INTRA ? REEL_CODEC_INTRA : REEL_CODEC_TEMPORAL;
    im.images = reel__images_is(path);
    rc = run(&im, res);
    reel__images_free(&im.set);
    free(im.pick);
    av_frame_free(&im.probe);
    reel_seq_close(im.seq);
    avcodec_free_context(&im.dec);
    avformat_close_input(&im.fmt);
    return rc;
}

int reel__decode_only(const char *path, const reel_import_options *opts, int64_t *frames,
                      double *seconds)
{
    reel__import im;
    reel__source src;
    int rc;
    memset(&im, 0, sizeof im);
    memset(&src, 0, sizeof src);
    if (opts)
        im.opts = *opts;
    im.opts.progress = NULL;
    im.path = path;
    im.expected = -1;
    im.t0 = reel__seconds();
    if ((rc = check_options(&im.opts)) == REEL_OK && (rc = reel__av_load()) == REEL_OK &&
        (rc = open_video(&im)) == REEL_OK &&
        (rc = plan(&im, &src)) == REEL_OK) {
        set_workers(&im);
        rc = run_pipeline(&im);
    }
    *frames = im.yielded;
    *seconds = reel__seconds() - im.t0;
    avcodec_free_context(&im.dec);
    avformat_close_input(&im.fmt);
    return rc;
}
