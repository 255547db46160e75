/*
 * images.c - image sequences: the files of a directory, a glob or a printf pattern (%d, %0Nd)
 * in natural order, their hash, and their decode: each file is opened by libavformat (an
 * image demuxer: image2 or a *_pipe one), its one packet goes to a decoder shared by the
 * files of one codec, so that FFmpeg's frame threads decode several files at once. Packet k
 * carries pts k; a frame that comes back with pts p tells that the files before p which gave
 * nothing failed to decode.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/hash.h"
#include "import/images.h"
#include "import/source.h"

#define MAX_FILES (1 << 26)

/* ---- naming --------------------------------------------------------------------------- */

/* The printf conversion of a pattern: 1 with *width (0: plain %d) and *at the offset of its
 * 'd' for exactly one %d/%0Nd (and %% elsewhere), 0 for none, -1 for anything else. */
static int pattern_spec(const char *p, int *width, size_t *at)
{
    const char *p0 = p;
    int found = 0;
    for (; *p; p++) {
        if (*p != '%')
            continue;
        if (p[1] == '%') {
            p++;
            continue;
        }
        {
            const char *q = p + 1;
            int w = 0;
            if (*q == '0')
                while (isdigit((unsigned char)*q))
                    w = w * 10 + (*q++ - '0');
            if (*q != 'd' || w > 18 || found)
                return -1;
            *width = w;
            *at = (size_t)(q - p0);
            found = 1;
            p = q;
        }
    }
    return found;
}

static int has_glob(const char *p)
{
    return strpbrk(p, "*?[") != NULL;
}

int reel__images_is(const char *path)
{
    struct stat st;
    int w;
    size_t at;
    if (stat(path, &st) == 0)
        return S_ISDIR(st.st_mode);
    return has_glob(path) || pattern_spec(path, &w, &at) != 0;
}

/* Natural order: runs of digits compare as numbers (img2 < img10), then byte order. */
static int natural(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            const char *x = a, *y = b;
            size_t la, lb;
            while (*x == '0')
                x++;
            while (*y == '0')
                y++;
            for (la = 0; isdigit((unsigned char)x[la]); la++)
                ;
            for (lb = 0; isdigit((unsigned char)y[lb]); lb++)
                ;
            if (la != lb)
                return la < lb ? -1 : 1;
            {
                int c = memcmp(x, y, la);
                if (c)
                    return c;
            }
            a = x + la;
            b = y + lb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++, b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

static int by_name(const void *x, const void *y)
{
    const char *a = *(char *const *)x, *b = *(char *const *)y;
    int c = natural(a, b);
    return c ? c : strcmp(a, b);
}

static int add(reel__images *set, size_t *cap, const char *name)
{
    if (set->count == *cap) {
        size_t n = *cap ? *cap * 2 : 256;
        char **grown;
        if (n > MAX_FILES)
            return reel__err(REEL_FULL, "more than %d files", MAX_FILES);
        if (!(grown = realloc(set->files, n * sizeof *grown)))
            return reel__err(REEL_NOMEM, "out of memory");
        set->files = grown;
        *cap = n;
    }
    if (!(set->files[set->count] = strdup(name)))
        return reel__err(REEL_NOMEM, "out of memory");
    set->count++;
    return REEL_OK;
}

static int regular(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int list_dir(const char *path, reel__images *set, size_t *cap)
{
    DIR *d = opendir(path);
    struct dirent *e;
    char name[4096];
    int rc = REEL_OK;
    size_t n = strlen(path);
    int slash = n && path[n - 1] == '/';
    if (!d)
        return reel__err(REEL_IO, "%s: %s", path, strerror(errno));
    set->root = n + !slash;
    while (rc == REEL_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(name, sizeof name, "%s%s%s", path, slash ? "" : "/", e->d_name) >=
            (int)sizeof name)
            rc = reel__err(REEL_INVALID, "%s/%s: name too long", path, e->d_name);
        else if (regular(name))
            rc = add(set, cap, name);
    }
    closedir(d);
    return rc;
}

static int list_glob(const char *path, reel__images *set, size_t *cap)
{
    glob_t g;
    size_t i;
    int rc = REEL_OK, r = glob(path, GLOB_NOSORT, NULL, &g);
    const char *wild = strpbrk(path, "*?["), *slash = wild;
    while (slash > path && slash[-1] != '/')
        slash--;
    set->root = (size_t)(slash - path);
    if (r == GLOB_NOMATCH)
        return REEL_OK;
    if (r != 0)
        return reel__err(r == GLOB_NOSPACE ? REEL_NOMEM : REEL_IO, "%s: cannot list the files",
                         path);
    for (i = 0; rc == REEL_OK && i < g.gl_pathc; i++)
        if (regular(g.gl_pathv[i]))
            rc = add(set, cap, g.gl_pathv[i]);
    globfree(&g);
    return rc;
}

/* As FFmpeg's image2: the first number from 0 to 4 that names a file, then each next one. */
static int list_pattern(const char *path, size_t at, reel__images *set, size_t *cap)
{
    char name[4096], fmt[4096];
    long long i, first = -1;
    int rc = REEL_OK;
    const char *slash = strrchr(path, '/');
    set->root = slash ? (size_t)(slash - path) + 1 : 0;
    if (strlen(path) + 3 > sizeof fmt)
        return reel__err(REEL_INVALID, "%.64s...: name too long", path);
    memcpy(fmt, path, at); /* the one %0Nd as %0Nlld: the number is a long long */
    strcpy(fmt + at, "ll");
    strcpy(fmt + at + 2, path + at);
    path = fmt;
    for (i = 0; i <= 4 && first < 0; i++) {
        snprintf(name, sizeof name, path, i);
        if (regular(name))
            first = i;
    }
    for (i = first; first >= 0 && rc == REEL_OK; i++) {
        if (snprintf(name, sizeof name, path, i) >= (int)sizeof name)
            return reel__err(REEL_INVALID, "%s: name too long", path);
        if (!regular(name))
            break;
        rc = add(set, cap, name);
    }
    return rc;
}

int reel__images_list(const char *path, reel__images *set)
{
    struct stat st;
    size_t cap = 0, at;
    int w, spec = pattern_spec(path, &w, &at), rc;
    memset(set, 0, sizeof *set);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        rc = list_dir(path, set, &cap);
    else if (spec < 0)
        return reel__err(REEL_INVALID,
                         "%s: a pattern takes one %%d or %%0Nd (N up to 18) and %%%% for a "
                         "literal %%, nothing else after a %%",
                         path);
    else if (spec == 1)
        rc = has_glob(path) ? reel__err(REEL_INVALID, "%s: give a %%0Nd pattern or a glob, "
                                                      "not both",
                                        path)
                            : list_pattern(path, at, set, &cap);
    else
        rc = list_glob(path, set, &cap);
    if (rc == REEL_OK && set->count == 0)
        rc = reel__err(REEL_NOTFOUND, "%s: no %s", path,
                       S_ISDIR(st.st_mode) && spec == 0 && !has_glob(path)
                           ? "files in this directory"
                           : "file matches");
    if (rc != REEL_OK) {
        reel__images_free(set);
        return rc;
    }
    if (spec != 1) /* a pattern's order is its numbers' */
        qsort(set->files, set->count, sizeof *set->files, by_name);
    return REEL_OK;
}

void reel__images_free(reel__images *set)
{
    size_t i;
    for (i = 0; set->files && i < set->count; i++)
        free(set->files[i]);
    free(set->files);
    memset(set, 0, sizeof *set);
}

int reel__images_hash(const reel__images *set, int64_t *size, char hex[17],
                      int (*tick)(void *ctx, int64_t bytes), void *ctx)
{
    uint64_t *sums = malloc(set->count * 2 * sizeof *sums), h = 0;
    size_t i;
    int64_t total = 0;
    int rc = sums ? REEL_OK : reel__err(REEL_NOMEM, "out of memory");
    for (i = 0; rc == REEL_OK && i < set->count; i++) {
        const char *name = set->files[i] + set->root;
        int64_t n = 0;
        char one[17];
        if ((rc = reel__file_hash(set->files[i], &n, one, NULL, NULL)) != REEL_OK)
            break;
        sums[2 * i] = reel__checksum(name, strlen(name) + 1) ^ (uint64_t)n;
        sums[2 * i + 1] = strtoull(one, NULL, 16);
        total += n;
        if (tick && (i % 256 == 255 || n >= 64 << 20) && tick(ctx, total))
            rc = reel__err(REEL_INTERRUPTED, "%s: stopped while reading it", set->files[i]);
    }
    if (rc == REEL_OK) {
        h = reel__checksum(sums, set->count * 2 * sizeof *sums);
        snprintf(hex, 17, "%016llx", (unsigned long long)h);
        *size = total;
    }
    free(sums);
    return rc;
}

/* ---- decoding ------------------------------------------------------------------------- */

typedef struct decoder {
    const reel__images *set;
    const size_t *pick;
    reel__image_sink sink;
    void *ctx;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    size_t next; /* the first pick the sink has not had */
} decoder;

/* Files next..upto-1 gave no frame: each failed. */
static int failed_upto(decoder *d, size_t upto)
{
    int rc = REEL_OK;
    for (; rc == REEL_OK && d->next < upto; d->next++)
        rc = d->sink(d->ctx, NULL, AVERROR_INVALIDDATA, d->pick[d->next]);
    return rc;
}

/* Take the frames the decoder has ready (all of them, when flushing). */
static int receive(decoder *d, size_t sent)
{
    int r, rc = REEL_OK, errors = 0;
    while (rc == REEL_OK) {
        r = avcodec_receive_frame(d->dec, d->frame);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
            break;
        if (r < 0) { /* a file that failed: found out by the pts of a later frame or the end */
            if (++errors > 4096)
                break;
            continue;
        }
        if (d->frame->pts >= (int64_t)d->next && d->frame->pts < (int64_t)sent) {
            size_t k = (size_t)d->frame->pts;
            if ((rc = failed_upto(d, k)) == REEL_OK)
                rc = d->sink(d->ctx, d->frame, 0, d->pick[k]);
            d->next = k + 1;
        }
        av_frame_unref(d->frame);
    }
    return rc;
}

/* Drain and drop the decoder (before one of another codec, and at the end). */
static int flush(decoder *d, size_t sent)
{
    int rc = REEL_OK;
    if (d->dec) {
        avcodec_send_packet(d->dec, NULL);
        rc = receive(d, sent);
        avcodec_free_context(&d->dec);
    }
    return rc == REEL_OK ? failed_upto(d, sent) : rc;
}

static int open_decoder(decoder *d, const AVCodecParameters *par, const char *file)
{
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec)
        return reel__err(REEL_UNSUPPORTED, "%s: no decoder for %s", file,
                         avcodec_get_name(par->codec_id));
    if (!(d->dec = avcodec_alloc_context3(codec)))
        return reel__err(REEL_NOMEM, "out of memory");
    if (avcodec_parameters_to_context(d->dec, par) < 0)
        return reel__err(REEL_UNSUPPORTED, "%s: bad codec parameters", file);
    d->dec->thread_count = 0;
    d->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    if (avcodec_open2(d->dec, codec, NULL) < 0)
        return reel__err(REEL_UNSUPPORTED, "%s: cannot open the %s decoder", file, codec->name);
    return REEL_OK;
}

/* Whether the demuxer FFmpeg chose reads images (image2, or one of the *_pipe ones). */
static int image_demuxer(const AVInputFormat *f)
{
    size_t n = strlen(f->name);
    return !strcmp(f->name, "image2") || (n > 5 && !strcmp(f->name + n - 5, "_pipe"));
}

/* The packet of file pick[k], with pts k; REEL_OK, or why the file is not an image. */
static int read_one(decoder *d, size_t k, AVFormatContext **fmt)
{
    const char *file = d->set->files[d->pick[k]];
    AVDictionary *o = NULL;
    int r;
    av_dict_set(&o, "pattern_type", "none", 0); /* a '%' in a file's name is a '%' */
    r = avformat_open_input(fmt, file, NULL, &o);
    av_dict_free(&o);
    if (r < 0)
        return reel__err(r == AVERROR(ENOENT) ? REEL_NOTFOUND : REEL_UNSUPPORTED,
                         "%s: not an image FFmpeg can read (file %zu of the sequence)", file,
                         d->pick[k] + 1);
    if (!image_demuxer((*fmt)->iformat) || (*fmt)->nb_streams < 1 ||
        (*fmt)->streams[0]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
        return reel__err(REEL_UNSUPPORTED,
                         "%s: not an image (FFmpeg reads it as %s); an image sequence takes "
                         "image files only",
                         file, (*fmt)->iformat->name);
    if ((r = av_read_frame(*fmt, d->pkt)) < 0) {
        d->pkt->size = 0; /* an empty file: it fails to decode */
        d->pkt->data = NULL;
    }
    d->pkt->pts = d->pkt->dts = (int64_t)k;
    return REEL_OK;
}

static int decode_one(decoder *d, size_t k)
{
    AVFormatContext *fmt = NULL;
    int rc = read_one(d, k, &fmt), r;
    if (rc == REEL_OK && d->dec && d->dec->codec_id != fmt->streams[0]->codecpar->codec_id)
        rc = flush(d, k);
    if (rc == REEL_OK && !d->dec)
        rc = open_decoder(d, fmt->streams[0]->codecpar, d->set->files[d->pick[k]]);
    while (rc == REEL_OK && d->pkt->size > 0) {
        r = avcodec_send_packet(d->dec, d->pkt);
        if (r != AVERROR(EAGAIN))
            break; /* sent, or failed: a failure shows as a file without a frame */
        rc = receive(d, k);
    }
    if (rc == REEL_OK)
        rc = receive(d, k + 1);
    av_packet_unref(d->pkt);
    avformat_close_input(&fmt);
    return rc;
}

int reel__images_decode(const reel__images *set, const size_t *pick, size_t n,
                        reel__image_sink sink, void *ctx)
{
    decoder d;
    size_t k;
    int rc = REEL_OK;
    memset(&d, 0, sizeof d);
    d.set = set, d.pick = pick, d.sink = sink, d.ctx = ctx;
    d.pkt = av_packet_alloc();
    d.frame = av_frame_alloc();
    if (!d.pkt || !d.frame)
        rc = reel__err(REEL_NOMEM, "out of memory");
    for (k = 0; rc == REEL_OK && k < n; k++)
        rc = decode_one(&d, k);
    if (rc == REEL_OK)
        rc = flush(&d, n);
    avcodec_free_context(&d.dec);
    av_frame_free(&d.frame);
    av_packet_free(&d.pkt);
    return rc;
}
