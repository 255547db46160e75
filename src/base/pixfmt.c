/* pixfmt.c - stored pixel formats: names and frame sizes. */
#include "config.h"

#include <string.h>

#include "base/error.h"
#include "base/pixfmt.h"

static const char *const names[] = {
    [REEL_PIX_GRAY8] = "gray8",     [REEL_PIX_RGB24] = "rgb24",
    [REEL_PIX_BGR24] = "bgr24",     [REEL_PIX_YUV420P] = "yuv420p",
    [REEL_PIX_YUV444P] = "yuv444p", [REEL_PIX_GRAY16LE] = "gray16le",
    [REEL_PIX_YUV420P10LE] = "yuv420p10le",
};

const char *reel_pix_fmt_name(int fmt)
{
    if (fmt <= REEL_PIX_NONE || fmt >= (int)(sizeof names / sizeof names[0]))
        return NULL;
    return names[fmt];
}

int reel_pix_fmt_from_name(const char *name, int *fmt)
{
    int i;
    if (!name || !fmt)
        return reel__err(REEL_MISUSE, "reel_pix_fmt_from_name: NULL argument");
    for (i = 1; i < (int)(sizeof names / sizeof names[0]); i++) {
        if (strcmp(name, names[i]) == 0) {
            *fmt = i;
            return REEL_OK;
        }
    }
    return reel__err(REEL_UNSUPPORTED,
                     "pixel format '%s' is not supported (use gray8, rgb24, bgr24, yuv420p, "
                     "yuv444p, gray16le or yuv420p10le)",
                     name);
}

int reel_frame_size(int fmt, int width, int height, size_t *size)
{
    reel__plane p[REEL__MAX_PLANES];
    int n, i;
    size_t total = 0;
    if (!size)
        return reel__err(REEL_MISUSE, "reel_frame_size: size must not be NULL");
    n = reel__planes(fmt, width, height, p);
    if (!n)
        return reel__err(REEL_INVALID, "bad frame geometry: format %d, %dx%d (sizes 1..%d)", fmt,
                         width, height, REEL__MAX_DIM);
    for (i = 0; i < n; i++)
        total += (size_t)p[i].width * (size_t)p[i].height * (size_t)p[i].bytes;
    *size = total;
    return REEL_OK;
}

int reel_pix_fmt_layout(int fmt, int w, int h, reel_plane_layout planes[3], int *nplanes)
{
    int cw = (w + 1) / 2, ch = (h + 1) / 2, b = 1, n, i;
    size_t off = 0;
    if (!planes || !nplanes)
        return reel__err(REEL_MISUSE, "reel_pix_fmt_layout: NULL argument");
    if (!reel__planes(fmt, w, h, (reel__plane[REEL__MAX_PLANES]){{0, 0, 0}}))
        return reel__err(REEL_INVALID, "bad frame geometry: format %d, %dx%d", fmt, w, h);
    switch (fmt) {
    case REEL_PIX_RGB24:
    case REEL_PIX_BGR24:
        planes[0] = (reel_plane_layout){0, w, h, 0, 3};
        n = 1;
        break;
    case REEL_PIX_GRAY16LE:
        b = 2;
        /* fall through */
    case REEL_PIX_GRAY8:
        planes[0] = (reel_plane_layout){0, w, h, 0, b};
        n = 1;
        break;
    case REEL_PIX_YUV444P:
        for (i = 0; i < 3; i++)
            planes[i] = (reel_plane_layout){0, w, h, 0, 1};
        n = 3;
        break;
    case REEL_PIX_YUV420P10LE:
        b = 2;
        /* fall through */
    default:
        planes[0] = (reel_plane_layout){0, w, h, 0, b};
        for (i = 1; i < 3; i++)
            planes[i] = (reel_plane_layout){0, cw, ch, 0, b};
        n = 3;
        break;
    }
    for (i = 0; i < n; i++) {
        planes[i].offset = off;
        planes[i].stride = (size_t)planes[i].width * (size_t)planes[i].bytes_per_pixel;
        off += planes[i].stride * (size_t)planes[i].height;
    }
    *nplanes = n;
    return REEL_OK;
}

int reel__planes(int fmt, int w, int h, reel__plane p[REEL__MAX_PLANES])
{
    int cw = (w + 1) / 2, ch = (h + 1) / 2, n = 0, i;
    if (w < 1 || h < 1 || w > REEL__MAX_DIM || h > REEL__MAX_DIM)
        return 0;
    switch (fmt) {
    case REEL_PIX_GRAY8:
    case REEL_PIX_GRAY16LE:
        p[n++] = (reel__plane){w, h, fmt == REEL_PIX_GRAY16LE ? 2 : 1};
        break;
    case REEL_PIX_RGB24:
    case REEL_PIX_BGR24:
    case REEL_PIX_YUV444P:
        for (i = 0; i < 3; i++)
            p[n++] = (reel__plane){w, h, 1};
        break;
    case REEL_PIX_YUV420P:
    case REEL_PIX_YUV420P10LE: {
        int b = fmt == REEL_PIX_YUV420P10LE ? 2 : 1;
        p[n++] = (reel__plane){w, h, b};
        p[n++] = (reel__plane){cw, ch, b};
        p[n++] = (reel__plane){cw, ch, b};
        break;
    }
    default:
        return 0;
    }
    return n;
}
