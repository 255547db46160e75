/* bench_video.h - the FFmpeg baselines of `reel bench`: what a user without reel would run. */
#ifndef REEL_BENCH_VIDEO_H
#define REEL_BENCH_VIDEO_H

#include "import/convert.h"
#include "import/import.h"

/* A video opened for decoding into a sequence's stored format and size. */
typedef struct bench_video {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    int stream;
    reel__convert conv;
    reel__converter cvt;
    AVPacket *pkt;
    AVFrame *frame;
    int64_t tolerance; /* bv_seek_decode: how far a timestamp may be from the one asked */
} bench_video;

/* Open path's best video stream with threads decoder threads (0: FFmpeg's choice, all
 * cores), converting to the format and size of info. 0 or -1 (message on stderr). */
int bv_open(bench_video *v, const char *path, int threads, const reel_seq_info *info);
void bv_close(bench_video *v);

/* Decode the frame whose best-effort timestamp is pts the way decord and torchcodec do: seek
 * to the keyframe before it, decode forward to it, convert it into out (further back when
 * that keyframe comes out after the frame). 0, 1 when no frame has that timestamp, or -1. */
int bv_seek_decode(bench_video *v, int64_t pts, uint8_t *out);

/* The timestamp in v's stream of a sequence frame at pts (the sequence's time base tb, its
 * first frame at first_pts) when v is another encoding of the same frames, timed from its own
 * start; sets v's tolerance to half a frame of duration. */
int64_t bv_map_pts(bench_video *v, reel_rational tb, int64_t first_pts, int64_t pts,
                   int64_t duration);

/* Decode and convert the whole video from its start into scratch (one frame's room);
 * *frames gets the count. 0 or -1. */
int bv_decode_all(bench_video *v, uint8_t *scratch, int64_t *frames);

/* Encode n frames of info's format (back to back in frames) with libavcodec's FFV1 (level
 * 3, range coder), the lossless video codec reel is compared with; *bytes gets the total
 * size of the packets. RGB is handed to FFV1 as bgr0 (a lossless rearrangement).
 * 0 or -1. */
int bv_ffv1_size(const uint8_t *frames, size_t n, const reel_seq_info *info, int64_t *bytes);

/* "h264, 768x576, yuv420p" of the video's stream, into buf (size bytes). */
void bv_describe(const bench_video *v, char *buf, size_t size);

#endif
