/* pixfmt.c - stored pixel formats: names and frame sizes. */
#include "config.h"

#include <string.h>

#include "internal.h"

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
