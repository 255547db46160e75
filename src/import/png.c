/* png.c - one stored frame as a PNG image (FFmpeg's PNG encoder), for export and the sqlite3
 * extension. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "import/convert.h"

void reel_free(void *p) { free(p); }

int reel_png_encode(int fmt, int width, int height, const void *pixels, size_t size, void **png,
                    size_t *png_size)
{
    enum AVPixelFormat to = fmt == REEL_PIX_GRAY8      ? AV_PIX_FMT_GRAY8
                            : fmt == REEL_PIX_GRAY16LE ? AV_PIX_FMT_GRAY16BE
                                                       : AV_PIX_FMT_RGB24;
    const AVCodec *codec;
    AVCodecContext *ctx = NULL;
    AVFrame *frame = NULL;
    AVPacket *pkt = NULL;
    uint8_t *pix = NULL;
    size_t want;
    int rc = REEL_OK;
    if (!pixels || !png || !png_size)
        return reel__err(REEL_MISUSE, "reel_png_encode: NULL argument");
    if (reel_frame_size(fmt, width, height, &want) != REEL_OK || size != want)
        return reel__err(REEL_INVALID, "reel_png_encode: %zu bytes is not one %dx%d frame", size,
                         width, height);
    if ((rc = reel__av_load()) != REEL_OK)
        return rc;
    if (!(codec = avcodec_find_encoder(AV_CODEC_ID_PNG)))
        return reel__err(REEL_UNSUPPORTED, "FFmpeg has no PNG encoder");
    ctx = avcodec_alloc_context3(codec);
    frame = av_frame_alloc();
    pkt = av_packet_alloc();
    pix = reel__convert_packed(pixels, fmt, width, height, to, NULL);
    if (!ctx || !frame || !pkt || !pix) {
        rc = reel__err(REEL_NOMEM, "out of memory encoding a PNG");
    } else {
        ctx->width = frame->width = width;
        ctx->height = frame->height = height;
        ctx->pix_fmt = to;
        frame->format = to;
        ctx->time_base = (AVRational){1, 25};
        av_image_fill_arrays(frame->data, frame->linesize, pix, to, width, height, 1);
        if (avcodec_open2(ctx, codec, NULL) < 0 || avcodec_send_frame(ctx, frame) < 0 ||
            avcodec_receive_packet(ctx, pkt) < 0)
            rc = reel__err(REEL_ERROR, "the PNG encoder failed");
        else if (!(*png = reel__malloc((size_t)pkt->size)))
            rc = reel__err(REEL_NOMEM, "out of memory encoding a PNG");
        else {
            memcpy(*png, pkt->data, (size_t)pkt->size);
            *png_size = (size_t)pkt->size;
        }
    }
    free(pix);
    av_packet_free(&pkt);
    av_frame_free(&frame);
    avcodec_free_context(&ctx);
    return rc;
}
