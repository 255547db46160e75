/* images.h - image sequences as the frames of one import (images.c): listing a directory, a
 * glob or a %0Nd pattern in natural order, hashing the set, and decoding the files in order
 * through one frame-threaded decoder. */
#ifndef REEL_IMPORT_IMAGES_H
#define REEL_IMPORT_IMAGES_H

#include "import/av.h"

/* The files of one image sequence. Zero-initialise; free with reel__images_free. */
typedef struct reel__images {
    char **files;  /* as opened, in natural order */
    size_t count;
    size_t root;   /* bytes of each name that are the pattern's directory (not hashed) */
} reel__images;

/* Whether path names an image sequence: not a regular file, and a directory, a glob or a
 * printf pattern with one %d / %0Nd. */
REEL__HIDDEN int reel__images_is(const char *path);
/* List the files of path: REEL_OK with at least one, REEL_NOTFOUND (nothing matches),
 * REEL_INVALID (a bad pattern), REEL_NOMEM, REEL_IO. */
REEL__HIDDEN int reel__images_list(const char *path, reel__images *set);
REEL__HIDDEN void reel__images_free(reel__images *set);
/* The set's total size and a hex XXH64 over each file's name (after root), size and content
 * hash; tick as reel__file_hash (every 256 files, and after a file of 64 MiB or more). */
REEL__HIDDEN int reel__images_hash(const reel__images *set, int64_t *size, char hex[17],
                                   int (*tick)(void *ctx, int64_t bytes), void *ctx);

/* What the decoder gives for file pick[k]: f (borrowed for the call) or NULL with err set when
 * the file did not decode. Returns REEL_OK to go on, or a result code that stops the decode. */
typedef int (*reel__image_sink)(void *ctx, const AVFrame *f, int err, size_t file);
/* Decode the files pick[0..n-1] of set in order, calling sink once per file in that order.
 * A file FFmpeg does not read as an image stops it with REEL_UNSUPPORTED naming the file.
 * The sink may stop it (a progress callback asking to stop: REEL_INTERRUPTED). */
REEL__HIDDEN int reel__images_decode(const reel__images *set, const size_t *pick, size_t n,
                                     reel__image_sink sink, void *ctx);

#endif
