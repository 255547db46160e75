/* loc.h - where published stores live (loc.c): a local directory, a plain HTTP(S) server with
 * Range support (and PUT, for publishing to it), or an S3 bucket and prefix reached with
 * libcurl's SigV4 signing. Objects are named by keys relative to the location. */
#ifndef REEL_REMOTE_LOC_H
#define REEL_REMOTE_LOC_H

#include <pthread.h>

#include "base/common.h"

enum { REEL__LOC_DIR = 1, REEL__LOC_HTTP, REEL__LOC_S3 };

#define REEL__MULTIPART_MIN ((uint64_t)16 << 20) /* S3 objects above this go up in pieces */
#define REEL__PIECE ((uint64_t)8 << 20)          /* of this size (S3's least: 5 MiB) */

typedef struct reel__loc {
    int kind;
    char *display;          /* the location as given (messages; never holds a key) */
    char *base;             /* directory, or the URL objects are under (ends without '/') */
    char *ak, *sk, *sigv4;  /* S3: keys and the CURLOPT_AWS_SIGV4 provider string */
    pthread_mutex_t lock;   /* guards the idle handles */
    void *idle[8];          /* libcurl easy handles kept for their connections */
    int nidle;
    int64_t requests, bytes; /* GETs made and bytes they brought (statistics) */
} reel__loc;

/* Whether name is a location of a published store rather than a store file: s3://, http://,
 * https://, or a directory holding a manifest. */
REEL__HIDDEN int reel__loc_is_remote(const char *name);

/* Parse dest: "s3://BUCKET/PREFIX" (endpoint, region and keys from AWS_ENDPOINT_URL,
 * AWS_REGION (us-east-1), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), "http(s)://HOST/PATH",
 * or a directory. REEL_INVALID with a message for anything else. */
REEL__HIDDEN int reel__loc_open(const char *dest, reel__loc *l);
REEL__HIDDEN void reel__loc_close(reel__loc *l);

/* Read bytes [off, off + len) of object key into buf (exactly len, or an error). Timeouts,
 * resets, 5xx answers and short reads are retried with backoff: tries in all (0: 5). Errors name
 * the object: REEL_NOTFOUND (404 / no file), REEL_DENIED (401, 403), REEL_IO (anything else
 * after the retries). */
REEL__HIDDEN int reel__loc_read(reel__loc *l, const char *key, uint64_t off, size_t len,
                                void *buf, int tries);
/* The whole object into *data (malloc'd, NUL-terminated; *len without the NUL); an object
 * larger than max bytes is REEL_CORRUPT. */
REEL__HIDDEN int reel__loc_read_all(reel__loc *l, const char *key, size_t max, char **data,
                                    size_t *len);
/* Store bytes [off, off + size) of the file fd as object key: a directory gets them under a
 * temporary name, synced, then renamed; an HTTP server one PUT; S3 one PUT up to
 * REEL__MULTIPART_MIN bytes, above that a multipart upload of REEL__PIECE pieces, each retried
 * on its own, aborted (the pieces dropped) on failure. Errors name the object and the HTTP
 * status. */
REEL__HIDDEN int reel__loc_put_fd(reel__loc *l, const char *key, int fd, uint64_t off,
                                  uint64_t size);
/* Store len bytes as object key (as above). */
REEL__HIDDEN int reel__loc_put(reel__loc *l, const char *key, const void *data, size_t len);
/* *exists: whether object key is there (HEAD). */
REEL__HIDDEN int reel__loc_exists(reel__loc *l, const char *key, int *exists);

#endif
