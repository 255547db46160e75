/*
 * convert.c - decoded FFmpeg frames to stored frames: the choice of stored format, copy or
 * libswscale conversion into reel's packed plane layout, rotation, and black frames.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "import/convert.h"

static const struct {
    int fmt;
    enum AVPixelFormat av;
} twins[] = {
    {REEL_PIX_GRAY8, AV_PIX_FMT_GRAY8},         {REEL_PIX_RGB24, AV_PIX_FMT_RGB24},
    {REEL_PIX_BGR24, AV_PIX_FMT_BGR24},         {REEL_PIX_YUV420P, AV_PIX_FMT_YUV420P},
    {REEL_PIX_YUV444P, AV_PIX_FMT_YUV444P},     {REEL_PIX_GRAY16LE, AV_PIX_FMT_GRAY16LE},
    {REEL_PIX_YUV420P10LE, AV_PIX_FMT_YUV420P10LE},
    /* full-range JPEG twins have the same layout */
    {REEL_PIX_YUV420P, AV_PIX_FMT_YUVJ420P},    {REEL_PIX_YUV444P, AV_PIX_FMT_YUVJ444P},
};

enum AVPixelFormat reel__av_format(int fmt)
{
    size_t i;
    for (i = 0; i < sizeof twins / sizeof twins[0]; i++)
        if (twins[i].fmt == fmt)
            return twins[i].av;
    return AV_PIX_FMT_NONE;
}

int reel__stored_format(enum AVPixelFormat decoded, int want)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(decoded);
    size_t i;
    if (want > 0)
        return want;
    if (want == 0)
        return REEL_PIX_RGB24;
    for (i = 0; i < sizeof twins / sizeof twins[0]; i++)
        if (twins[i].av == decoded)
            return twins[i].fmt;
    if (!d)
        return REEL_PIX_RGB24;
    /* the nearest lossless stored format */
    if (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL))
        return REEL_PIX_RGB24;
    if (d->nb_components <= 2)
        return d->comp[0].depth > 8 ? REEL_PIX_GRAY16LE : REEL_PIX_GRAY8;
    if (d->comp[0].depth > 8)
        return REEL_PIX_YUV420P10LE;
    return d->log2_chroma_w == 1 && d->log2_chroma_h == 1 ? REEL_PIX_YUV420P : REEL_PIX_YUV444P;
}

void reel__converter_free(reel__converter *c)
{
    if (c->sws) /* never made when FFmpeg was not loaded */
        sws_freeContext(c->sws);
    free(c->tmp);
    free(c->pad);
    memset(c, 0, sizeof *c);
}

/* Rotate a w x h plane of es-byte elements by deg clockwise into dst. */
static void rotate_plane(const uint8_t *src, int w, int h, int es, int deg, uint8_t *dst)
{
    int x, y;
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++) {
            size_t to;
            if (deg == 90)
                to = (size_t)x * (size_t)h + (size_t)(h - 1 - y);
            else if (deg == 180)
                to = (size_t)(h - 1 - y) * (size_t)w + (size_t)(w - 1 - x);
            else
                to = (size_t)(w - 1 - x) * (size_t)h + (size_t)y;
            memcpy(dst + to * (size_t)es, src + ((size_t)y * (size_t)w + (size_t)x) * (size_t)es,
                   (size_t)es);
        }
}

static void rotate_frame(const reel__convert *cv, const uint8_t *src, uint8_t *dst)
{
    reel_plane_layout pl[3];
    int n, i;
    reel_pix_fmt_layout(cv->fmt, cv->scaled_w, cv->scaled_h, pl, &n);
    for (i = 0; i < n; i++) {
        size_t bytes = pl[i].stride * (size_t)pl[i].height;
        rotate_plane(src, pl[i].width, pl[i].height, pl[i].bytes_per_pixel, cv->rotate, dst);
        src += bytes;
        dst += bytes;
    }
}

/* Packed planes (no padding) of fmt, w x h, at p: what a conversion writes. */
typedef struct packed {
    uint8_t *p;
    enum AVPixelFormat fmt;
    int w, h;
} packed;

/* sws_scale of sh source lines into dst. libswscale's SIMD code stores whole vectors, so a
 * line whose bytes are not a multiple of 64 is written past its end, and the last line past
 * the buffer (valgrind: a 40x24 rgb24 import). Such frames are scaled into lines padded to 64
 * bytes (c->pad) and copied packed. REEL_OK, or REEL_ERROR / REEL_NOMEM (no message). */
static int scale_packed(reel__converter *c, struct SwsContext *ctx, const uint8_t *const *sdata,
                        const int *slines, int sh, const packed *dst)
{
    uint8_t *data[4];
    int lines[4], i, padded = 0, n;
    if (av_image_fill_arrays(data, lines, dst->p, dst->fmt, dst->w, dst->h, 1) < 0)
        return REEL_ERROR;
    for (i = 0; i < 4 && data[i]; i++)
        padded |= lines[i] % 64 != 0;
    if (padded) {
        if ((n = av_image_get_buffer_size(dst->fmt, dst->w, dst->h, 64)) < 0)
            return REEL_ERROR;
        if ((size_t)n + 64 > c->pad_cap) {
            uint8_t *t = reel__realloc(c->pad, (size_t)n + 64);
            if (!t)
                return REEL_NOMEM;
            c->pad = t;
            c->pad_cap = (size_t)n + 64;
        }
        av_image_fill_arrays(data, lines, c->pad, dst->fmt, dst->w, dst->h, 64);
    }
    if (sws_scale(ctx, sdata, slines, 0, sh, data, lines) <= 0)
        return REEL_ERROR;
    if (padded && av_image_copy_to_buffer(dst->p, av_image_get_buffer_size(dst->fmt, dst->w,
                                                                           dst->h, 1),
                                          (const uint8_t *const *)data, lines, dst->fmt, dst->w,
                                          dst->h, 1) < 0)
        return REEL_ERROR;
    return REEL_OK;
}

/* Scale/convert src into dst (scaled_w x scaled_h, stored format, packed planes). */
static int scale(reel__converter *c, const reel__convert *cv, const AVFrame *src, uint8_t *dst)
{
    packed out;
    int cs, range;
    struct SwsContext *ctx;
    ctx = sws_getCachedContext(c->sws, src->width, src->height, (enum AVPixelFormat)src->format,
                               cv->scaled_w, cv->scaled_h, cv->av_fmt,
                               SWS_BICUBIC, NULL, NULL, NULL);
    if (!ctx)
        return reel__err(REEL_UNSUPPORTED, "cannot convert %s %dx%d to %s %dx%d",
                         av_get_pix_fmt_name((enum AVPixelFormat)src->format), src->width,
                         src->height, reel_pix_fmt_name(cv->fmt), cv->scaled_w, cv->scaled_h);
    cs = src->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : (int)src->colorspace;
    range = src->color_range == AVCOL_RANGE_JPEG;
    if (ctx != c->sws || cs != c->cs || range != c->range) {
        const int *coef = sws_getCoefficients(cs);
        int dst_full = cv->fmt == REEL_PIX_RGB24 || cv->fmt == REEL_PIX_BGR24 ||
                       cv->fmt == REEL_PIX_GRAY8 || cv->fmt == REEL_PIX_GRAY16LE || range;
        sws_setColorspaceDetails(ctx, coef, range, coef, dst_full, 0, 1 << 16, 1 << 16);
        c->cs = cs;
        c->range = range;
    }
    c->sws = ctx;
    out.p = dst, out.fmt = cv->av_fmt, out.w = cv->scaled_w, out.h = cv->scaled_h;
    if (scale_packed(c, ctx, (const uint8_t *const *)src->data, src->linesize, src->height,
                     &out) != REEL_OK)
        return reel__err(REEL_ERROR, "swscale failed on a %dx%d frame", src->width, src->height);
    return REEL_OK;
}

int reel__convert_frame(reel__converter *c, const reel__convert *cv, const AVFrame *src,
                        uint8_t *dst)
{
    size_t size;
    uint8_t *out = dst;
    int rc;
    reel_frame_size(cv->fmt, cv->scaled_w, cv->scaled_h, &size);
    if (cv->rotate) {
        if (size > c->tmp_cap) {
            uint8_t *t = reel__realloc(c->tmp, size);
            if (!t)
                return reel__err(REEL_NOMEM, "out of memory");
            c->tmp = t;
            c->tmp_cap = size;
        }
        out = c->tmp;
    }
    if (reel__av_format(cv->fmt) != AV_PIX_FMT_NONE && src->width == cv->scaled_w &&
        src->height == cv->scaled_h &&
        (src->format == cv->av_fmt ||
         (cv->fmt == REEL_PIX_YUV420P && src->format == AV_PIX_FMT_YUVJ420P) ||
         (cv->fmt == REEL_PIX_YUV444P && src->format == AV_PIX_FMT_YUVJ444P))) {
        /* Already in the stored format: copy the planes, bit for bit. */
        if (av_image_copy_to_buffer(out, (int)size, (const uint8_t *const *)src->data,
                                    src->linesize, (enum AVPixelFormat)src->format, src->width,
                                    src->height, 1) < 0)
            return reel__err(REEL_ERROR, "cannot copy a decoded frame");
    } else if ((rc = scale(c, cv, src, out)) != REEL_OK) {
        return rc;
    }
    if (cv->rotate)
        rotate_frame(cv, out, dst);
    return REEL_OK;
}

void reel__black_frame(const reel__convert *cv, uint8_t *dst)
{
    reel_plane_layout pl[3];
    int n, i;
    int yuv = cv->fmt == REEL_PIX_YUV420P || cv->fmt == REEL_PIX_YUV444P ||
              cv->fmt == REEL_PIX_YUV420P10LE;
    reel_pix_fmt_layout(cv->fmt, cv->width, cv->height, pl, &n);
    for (i = 0; i < n; i++) {
        size_t count = (size_t)pl[i].width * (size_t)pl[i].height, k;
        if (!yuv) {
            memset(dst, 0, count * (size_t)pl[i].bytes_per_pixel);
        } else if (pl[i].bytes_per_pixel == 1) {
            memset(dst, i == 0 ? 16 : 128, count);
        } else {
            unsigned v = i == 0 ? 64 : 512;
            for (k = 0; k < count; k++) {
                dst[2 * k] = (uint8_t)(v & 0xff);
                dst[2 * k + 1] = (uint8_t)(v >> 8);
            }
        }
        dst += count * (size_t)pl[i].bytes_per_pixel;
    }
}

uint8_t *reel__convert_packed(const uint8_t *src, int fmt, int w, int h, enum AVPixelFormat to,
                              int *size)
{
    const uint8_t *sdata[4];
    uint8_t *out = NULL;
    int slines[4], n;
    struct SwsContext *sws;
    reel__converter c = {0};
    packed dst;
    if (reel__av_load() != REEL_OK)
        return NULL;
    n = av_image_get_buffer_size(to, w, h, 1);
    sws = sws_getContext(w, h, reel__av_format(fmt), w, h, to,
                         SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
    if (sws && n > 0 && (out = reel__malloc((size_t)n))) {
        av_image_fill_arrays((uint8_t **)sdata, slines, src, reel__av_format(fmt), w, h, 1);
        dst.p = out, dst.fmt = to, dst.w = w, dst.h = h;
        if (scale_packed(&c, sws, sdata, slines, h, &dst) != REEL_OK) {
            free(out);
            out = NULL;
        } else if (size) {
            *size = n;
        }
    }
    if (sws)
        sws_freeContext(sws);
    free(c.pad);
    return out;
}

int reel_frame_convert(const reel_image *src, int to, void **out, size_t *out_size)
{
    size_t need, want;
    int size = 0, rc;
    uint8_t *p;
    if (!src || !src->pixels || !out || !out_size)
        return reel__err(REEL_MISUSE, "reel_frame_convert: NULL argument");
    if ((rc = reel_frame_size(src->pix_fmt, src->width, src->height, &need)) != REEL_OK)
        return rc;
    if (src->size != need)
        return reel__err(REEL_INVALID, "reel_frame_convert: %zu bytes is not one %dx%d %s frame",
                         src->size, src->width, src->height, reel_pix_fmt_name(src->pix_fmt));
    if ((rc = reel_frame_size(to, src->width, src->height, &want)) != REEL_OK)
        return rc;
    if (to == src->pix_fmt) {
        if (!(p = reel__malloc(need)))
            return reel__err(REEL_NOMEM, "out of memory");
        memcpy(p, src->pixels, need);
    } else {
        if ((rc = reel__av_load()) != REEL_OK)
            return rc;
        if (!(p = reel__convert_packed(src->pixels, src->pix_fmt, src->width, src->height,
                                       reel__av_format(to), &size)) ||
            (size_t)size != want) {
            free(p);
            return reel__err(REEL_NOMEM, "cannot convert a %dx%d %s frame to %s", src->width,
                             src->height, reel_pix_fmt_name(src->pix_fmt), reel_pix_fmt_name(to));
        }
    }
    *out = p;
    *out_size = want;
    return REEL_OK;
}
