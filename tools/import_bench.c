/*
 * reel-import-bench - a whole import against decoding and converting alone, in one run.
 *
 *   reel-import-bench VIDEO [--pix-fmt FMT] [--workers N] [--reps N] [--random N]
 *
 * Each repetition decodes and converts VIDEO on the import's own threads without storing
 * anything (the baseline), then imports it into a fresh store in /tmp; it prints both times
 * and their ratio (target: import <= 1.5x the baseline). With --random N it then reads N
 * random frames through reel and the same frames from VIDEO the way decord and torchcodec
 * do - seek to the keyframe before, decode forward to the frame - checks that both give the
 * same pixels, and prints both rates. This grows into `reel bench`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <time.h>

#include "ingest.h"

#define BENCH_NAME "reel-import-bench"
#include "bench.h"

/* Decode the frame with presentation timestamp pts by seeking to the keyframe before it and
 * decoding forward; convert it to the stored format into out. */
static void seek_decode(AVFormatContext *fmt, AVCodecContext *dec, int stream, int64_t pts,
                        const reel__convert *cv, reel__converter *c, uint8_t *out)
{
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    int found = 0, eof = 0;
    if (av_seek_frame(fmt, stream, pts, AVSEEK_FLAG_BACKWARD) < 0)
        die("seek failed");
    avcodec_flush_buffers(dec);
    while (!found) {
        if (!eof) {
            int r = av_read_frame(fmt, pkt);
            if (r < 0) {
                eof = 1;
                avcodec_send_packet(dec, NULL);
            } else {
                if (pkt->stream_index == stream)
                    avcodec_send_packet(dec, pkt);
                av_packet_unref(pkt);
            }
        }
        while (!found && avcodec_receive_frame(dec, f) == 0) {
            if (f->best_effort_timestamp == pts) {
                if (reel__convert_frame(c, cv, f, out) != REEL_OK)
                    die("convert failed");
                found = 1;
            }
            av_frame_unref(f);
        }
        if (eof && !found)
            die("frame not found by seeking");
    }
    av_frame_free(&f);
    av_packet_free(&pkt);
}

static void random_reads(const char *video, const char *store, int n)
{
    reel_store *s;
    reel_seq *q;
    reel_seq_info info;
    reel__import im;
    reel__source src;
    reel__converter conv;
    uint8_t *a, *b;
    int64_t *idx;
    double t0, t_reel, t_ff;
    int i;
    if (reel_open(store, REEL_OPEN_READONLY, NULL, &s) || reel_seq_open(s, "bench", &q) ||
        reel_seq_info_get(q, &info))
        die(reel_errmsg());
    a = malloc(info.frame_size);
    b = malloc(info.frame_size);
    idx = malloc(sizeof *idx * (size_t)n);
    srand(42);
    for (i = 0; i < n; i++)
        idx[i] = rand() % info.frame_count;
    t0 = bench_now();
    for (i = 0; i < n; i++)
        if (reel_frame_read(q, idx[i], a, info.frame_size, NULL))
            die(reel_errmsg());
    t_reel = bench_now() - t0;
    /* FFmpeg: the same frames by seeking, each checked against reel's pixels */
    memset(&im, 0, sizeof im);
    memset(&src, 0, sizeof src);
    memset(&conv, 0, sizeof conv);
    im.path = video;
    im.opts.pix_fmt = info.pix_fmt;
    if (avformat_open_input(&im.fmt, video, NULL, NULL) < 0 ||
        avformat_find_stream_info(im.fmt, NULL) < 0)
        die("cannot open the video");
    im.stream = av_find_best_stream(im.fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    im.dec = avcodec_alloc_context3(avcodec_find_decoder(im.fmt->streams[im.stream]->codecpar->codec_id));
    avcodec_parameters_to_context(im.dec, im.fmt->streams[im.stream]->codecpar);
    im.dec->thread_count = 0;
    im.dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    if (avcodec_open2(im.dec, im.dec->codec, NULL) < 0)
        die("cannot open the decoder");
    im.conv.fmt = info.pix_fmt;
    im.conv.av_fmt = reel__av_format(info.pix_fmt);
    im.conv.width = im.conv.scaled_w = info.width;
    im.conv.height = im.conv.scaled_h = info.height;
    t0 = bench_now();
    for (i = 0; i < n; i++) {
        reel_frame_info fi;
        if (reel_frame_info_get(q, idx[i], &fi))
            die(reel_errmsg());
        seek_decode(im.fmt, im.dec, im.stream, fi.pts, &im.conv, &conv, b);
    }
    t_ff = bench_now() - t0;
    for (i = 0; i < n; i++) { /* check outside the timed loops */
        reel_frame_info fi;
        reel_frame_read(q, idx[i], a, info.frame_size, &fi);
        seek_decode(im.fmt, im.dec, im.stream, fi.pts, &im.conv, &conv, b);
        if (memcmp(a, b, info.frame_size) != 0)
            die("reel and FFmpeg seeking disagree on a frame's pixels");
    }
    printf("random reads: reel %.1f frames/s (%.2f ms), FFmpeg seek+decode %.1f frames/s "
           "(%.1f ms): reel %.0fx faster, pixels identical on all %d frames\n",
           n / t_reel, t_reel * 1e3 / n, n / t_ff, t_ff * 1e3 / n, t_ff / t_reel, n);
    reel__converter_free(&conv);
    avcodec_free_context(&im.dec);
    avformat_close_input(&im.fmt);
    free(a);
    free(b);
    free(idx);
    reel_seq_close(q);
    reel_close(s);
}

int main(int argc, char **argv)
{
    reel_import_options o;
    int reps = 3, r, i, randoms = 0;
    double best_dec = 1e9, best_imp = 1e9, sum_dec = 0, sum_imp = 0;
    int64_t frames = 0;
    char path[64];
    if (argc < 2) {
        fprintf(stderr, "usage: reel-import-bench VIDEO [--pix-fmt FMT] [--workers N] [--reps N] "
                        "[--random N]\n");
        return 2;
    }
    memset(&o, 0, sizeof o);
    for (i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--pix-fmt") && i + 1 < argc) {
            if (!strcmp(argv[++i], "native"))
                o.pix_fmt = REEL_PIX_NATIVE;
            else if (reel_pix_fmt_from_name(argv[i], &o.pix_fmt))
                die(reel_errmsg());
        } else if (!strcmp(argv[i], "--workers") && i + 1 < argc) {
            o.workers = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--random") && i + 1 < argc) {
            randoms = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else {
            die("unknown option");
        }
    }
    snprintf(path, sizeof path, "/tmp/reel-import-bench-%d.reel", (int)getpid());
    for (r = 0; r < reps; r++) {
        reel_store *s;
        reel_import_result res;
        double dec;
        char wal[80];
        if (reel__decode_only(argv[1], &o, &frames, &dec) != REEL_OK)
            die(reel_errmsg());
        unlink(path);
        o.sequence = "bench";
        if (reel_open(path, REEL_OPEN_CREATE, NULL, &s) || reel_import(s, argv[1], &o, &res))
            die(reel_errmsg());
        reel_close(s);
        if (randoms > 0 && r == reps - 1)
            random_reads(argv[1], path, randoms);
        printf("rep %d: decode+convert %.3f s (%lld frames), import %.3f s (%lld frames, ratio "
               "%.2f)\n",
               r + 1, dec, (long long)frames, res.seconds, (long long)res.frames,
               (double)res.raw_bytes / (double)res.stored_bytes);
        sum_dec += dec;
        sum_imp += res.seconds;
        best_dec = dec < best_dec ? dec : best_dec;
        best_imp = res.seconds < best_imp ? res.seconds : best_imp;
        unlink(path);
        snprintf(wal, sizeof wal, "%s-wal", path);
        unlink(wal);
        snprintf(wal, sizeof wal, "%s-shm", path);
        unlink(wal);
    }
    printf("import / decode+convert: %.2fx (sums), %.2fx (best reps)   target <= 1.5x\n",
           sum_imp / sum_dec, best_imp / best_dec);
    return 0;
}
