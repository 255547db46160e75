/* bench_video.c - the FFmpeg baselines of `reel bench`: seeking and decoding the source video,
 * decoding it start to end, and encoding frames with FFV1. */
#include <stdio.h>
#include <string.h>

#include "bench_video.h"

int bv_open(bench_video *v, const char *path, int threads, const reel_seq_info *info)
{
    const AVCodec *codec;
    memset(v, 0, sizeof *v);
    if (reel__av_load() != REEL_OK) {
        fprintf(stderr, "reel: %s\n", reel_errmsg());
        return -1;
    }
    if (avformat_open_input(&v->fmt, path, NULL, NULL) < 0 ||
        avformat_find_stream_info(v->fmt, NULL) < 0) {
        fprintf(stderr, "reel: %s: FFmpeg cannot open it\n", path);
        return -1;
    }
    v->stream = av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (v->stream < 0 || !(v->dec = avcodec_alloc_context3(codec)) ||
        avcodec_parameters_to_context(v->dec, v->fmt->streams[v->stream]->codecpar) < 0) {
        fprintf(stderr, "reel: %s: no video stream FFmpeg can decode\n", path);
        bv_close(v);
        return -1;
    }
    v->dec->thread_count = threads;
    v->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    v->pkt = av_packet_alloc();
    v->frame = av_frame_alloc();
    if (avcodec_open2(v->dec, codec, NULL) < 0 || !v->pkt || !v->frame) {
        fprintf(stderr, "reel: %s: cannot open the decoder\n", path);
        bv_close(v);
        return -1;
    }
    v->conv.fmt = info->pix_fmt;
    v->conv.av_fmt = reel__av_format(info->pix_fmt);
    v->conv.width = v->conv.scaled_w = info->width;
    v->conv.height = v->conv.scaled_h = info->height;
    return 0;
}

void bv_close(bench_video *v)
{
    reel__converter_free(&v->cvt);
    av_frame_free(&v->frame);
    av_packet_free(&v->pkt);
    avcodec_free_context(&v->dec);
    avformat_close_input(&v->fmt);
}

/* Feed the decoder one packet of our stream (or the end); 1 at the end of the file. */
static int feed(bench_video *v)
{
    for (;;) {
        if (av_read_frame(v->fmt, v->pkt) < 0) {
            avcodec_send_packet(v->dec, NULL);
            return 1;
        }
        if (v->pkt->stream_index == v->stream) {
            avcodec_send_packet(v->dec, v->pkt);
            av_packet_unref(v->pkt);
            return 0;
        }
        av_packet_unref(v->pkt);
    }
}

/* Seek to the keyframe at or before from (INT64_MIN: the start), decode forward to pts; 0 found,
 * 1 not found with *first the first timestamp decoded (INT64_MAX: none), -1 on an error. */
static int seek_decode_from(bench_video *v, int64_t from, int64_t pts, uint8_t *out,
                            int64_t *first)
{
    int eof = 0;
    *first = INT64_MAX;
    if (av_seek_frame(v->fmt, v->stream, from, AVSEEK_FLAG_BACKWARD) < 0 &&
        (from != INT64_MIN || avformat_seek_file(v->fmt, v->stream, INT64_MIN, 0, 0, 0) < 0))
        return -1;
    avcodec_flush_buffers(v->dec);
    for (;;) {
        while (avcodec_receive_frame(v->dec, v->frame) == 0) {
            int64_t ts = v->frame->best_effort_timestamp;
            int found = ts != AV_NOPTS_VALUE && ts >= pts - v->tolerance && ts <= pts + v->tolerance;
            int rc = found ? reel__convert_frame(&v->cvt, &v->conv, v->frame, out) : REEL_OK;
            if (ts != AV_NOPTS_VALUE && *first == INT64_MAX)
                *first = ts;
            av_frame_unref(v->frame);
            if (found)
                return rc == REEL_OK ? 0 : -1;
            if (ts != AV_NOPTS_VALUE && ts > pts + v->tolerance)
                return 1; /* past it */
        }
        if (eof)
            return 1;
        eof = feed(v);
    }
}

/*
 * Where the frame before a keyframe comes out of the decoder only once that keyframe's packet
 * is in (MPEG-4 part 2 with packed B-frames in AVI, as Megamind.avi: the packet of dts 154 is
 * the keyframe, the frame of timestamp 154 comes from the packets before it), seeking to the
 * keyframe at or before pts lands past the frame. Then the seek goes to the keyframe before
 * the first frame decoded, and again, from the start at the last; each try is counted in the
 * time (a reader of that file pays for it too).
 */
int bv_seek_decode(bench_video *v, int64_t pts, uint8_t *out)
{
    int64_t from = pts, first;
    int tries, rc;
    for (tries = 0; tries < 4; tries++) {
        if ((rc = seek_decode_from(v, from, pts, out, &first)) <= 0)
            return rc;
        if (from == INT64_MIN)
            return 1;
        from = first != INT64_MAX && first <= from ? first - 1 : from - 1;
        if (tries == 2)
            from = INT64_MIN;
    }
    return 1;
}

int64_t bv_map_pts(bench_video *v, reel_rational tb, int64_t first_pts, int64_t pts,
                   int64_t duration)
{
    AVStream *st = v->fmt->streams[v->stream];
    AVRational from = {tb.num, tb.den};
    int64_t start = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
    v->tolerance = av_rescale_q(duration > 0 ? duration : 1, from, st->time_base) / 2;
    return start + av_rescale_q(pts - first_pts, from, st->time_base);
}

int bv_decode_all(bench_video *v, uint8_t *scratch, int64_t *frames)
{
    int eof = 0, r;
    *frames = 0;
    if (av_seek_frame(v->fmt, v->stream, INT64_MIN, AVSEEK_FLAG_BACKWARD) < 0)
        avformat_seek_file(v->fmt, v->stream, INT64_MIN, 0, 0, 0);
    avcodec_flush_buffers(v->dec);
    for (;;) {
        while ((r = avcodec_receive_frame(v->dec, v->frame)) == 0) {
            int rc = reel__convert_frame(&v->cvt, &v->conv, v->frame, scratch);
            av_frame_unref(v->frame);
            if (rc != REEL_OK)
                return -1;
            ++*frames;
        }
        if (r == AVERROR_EOF || (eof && r != AVERROR(EAGAIN)))
            return 0;
        eof = eof || feed(v);
    }
}

/* FFV1's twin of a reel format: 8-bit RGB goes in as bgr0 (FFV1 takes no packed 24-bit RGB
 * and no 8-bit planar GBR; it applies its own reversible colour transform). */
static enum AVPixelFormat ffv1_format(int fmt)
{
    return fmt == REEL_PIX_RGB24 || fmt == REEL_PIX_BGR24 ? AV_PIX_FMT_BGR0 : reel__av_format(fmt);
}

/* Fill f (of ffv1_format) from one stored frame. */
static int load_frame(AVFrame *f, const uint8_t *px, const reel_seq_info *info,
                      struct SwsContext *sws)
{
    reel_plane_layout pl[3];
    int np, k;
    if (reel_pix_fmt_layout(info->pix_fmt, info->width, info->height, pl, &np) != REEL_OK)
        return -1;
    if (sws) {
        const uint8_t *src[4] = {px, NULL, NULL, NULL};
        int stride[4] = {(int)pl[0].stride, 0, 0, 0};
        return sws_scale(sws, src, stride, 0, info->height, f->data, f->linesize) > 0 ? 0 : -1;
    }
    for (k = 0; k < np; k++) /* reel's planes, copied into FFmpeg's (aligned) ones */
        av_image_copy_plane(f->data[k], f->linesize[k], px + pl[k].offset, (int)pl[k].stride,
                            pl[k].width * pl[k].bytes_per_pixel, pl[k].height);
    return 0;
}

/* Send frame (NULL: the end) and add the size of every packet that comes out. */
static int encode(AVCodecContext *c, AVFrame *frame, AVPacket *pkt, int64_t *bytes)
{
    int r = avcodec_send_frame(c, frame);
    if (r < 0)
        return -1;
    while ((r = avcodec_receive_packet(c, pkt)) == 0) {
        *bytes += pkt->size;
        av_packet_unref(pkt);
    }
    return r == AVERROR(EAGAIN) || r == AVERROR_EOF ? 0 : -1;
}

int bv_ffv1_size(const uint8_t *frames, size_t n, const reel_seq_info *info, int64_t *bytes)
{
    const AVCodec *codec = reel__av_load() == REEL_OK ? avcodec_find_encoder(AV_CODEC_ID_FFV1) : NULL;
    AVCodecContext *c = codec ? avcodec_alloc_context3(codec) : NULL;
    AVFrame *f = codec ? av_frame_alloc() : NULL;
    AVPacket *pkt = codec ? av_packet_alloc() : NULL;
    struct SwsContext *sws = NULL;
    size_t i;
    int rc = -1;
    *bytes = 0;
    if (!c || !f || !pkt)
        goto out;
    c->width = f->width = info->width;
    c->height = f->height = info->height;
    c->pix_fmt = ffv1_format(info->pix_fmt);
    f->format = c->pix_fmt;
    c->time_base = (AVRational){1, 25};
    c->level = 3;
    c->thread_count = 0;
    if (ffv1_format(info->pix_fmt) != reel__av_format(info->pix_fmt))
        sws = sws_getContext(info->width, info->height, reel__av_format(info->pix_fmt),
                             info->width, info->height, c->pix_fmt, SWS_POINT, NULL, NULL, NULL);
    if (avcodec_open2(c, codec, NULL) < 0 || av_frame_get_buffer(f, 0) < 0 ||
        (c->pix_fmt == AV_PIX_FMT_BGR0 && !sws))
        goto out;
    for (i = 0; i < n; i++) {
        if (av_frame_make_writable(f) < 0 ||
            load_frame(f, frames + i * info->frame_size, info, sws) < 0)
            goto out;
        f->pts = (int64_t)i;
        if (encode(c, f, pkt, bytes) < 0)
            goto out;
    }
    rc = encode(c, NULL, pkt, bytes);
out:
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&f);
    avcodec_free_context(&c);
    return rc;
}

void bv_describe(const bench_video *v, char *buf, size_t size)
{
    const AVCodecParameters *p = v->fmt->streams[v->stream]->codecpar;
    const char *pf = av_get_pix_fmt_name((enum AVPixelFormat)p->format);
    snprintf(buf, size, "%s, %dx%d, %s", avcodec_get_name(p->codec_id), p->width, p->height,
             pf ? pf : "?");
}
