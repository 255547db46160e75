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
#define REEL__LOC_TIMEOUT_MS 30000 /* a read's deadline over its tries (REEL_REMOTE_TIMEOUT) */
#define REEL__LOC_SLOW_BPS 1024    /* a transfer slower than this (bytes/s) ... */
#define REEL__LOC_SLOW_S 10        /* ... for this long (s) fails, and may be tried again */

typedef struct reel__loc {
    int kind;               /* REEL__LOC_* */
    int local;              /* a directory: reading back what is there costs a local read */
    const struct reel__loc_ops *ops; /* what its kind does (loc.c's table) */
    char *display;          /* the location as given, without a URL's userinfo (messages;
                               never holds a key or a password) */
    char *base;             /* directory, or the URL objects are under (ends without '/') */
    char *ak, *sk, *sigv4;  /* S3: keys and the CURLOPT_AWS_SIGV4 provider string */
    char *token;            /* S3: "x-amz-security-token: ..." (AWS_SESSION_TOKEN), or NULL */
    char *bucket, *prefix;  /* S3: the bucket's URL, and the prefix in it (no '/' at the end) */
    pthread_mutex_t lock;   /* guards the idle handles */
    void *idle[8];          /* libcurl easy handles kept for their connections */
    int nidle;
    int64_t requests, bytes; /* GETs made and bytes they brought (statistics) */
    int64_t timeout_ms;      /* what one read may take over all its tries */
} reel__loc;

/* Whether name is a location of a published store rather than a store file: s3://, http://,
 * https://, or a directory holding a manifest. */
REEL__HIDDEN int reel__loc_is_remote(const char *name);

/* Parse dest: "s3://BUCKET/PREFIX" (endpoint, region and keys from AWS_ENDPOINT_URL,
 * AWS_REGION (us-east-1), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for temporary
 * credentials, AWS_SESSION_TOKEN; REEL_S3_ADDRESSING path or virtual), "http(s)://HOST/PATH"
 * (userinfo in it is sent as the server's credentials and appears in no message), or a
 * directory. REEL_REMOTE_TIMEOUT (seconds, default 30) bounds each read. REEL_INVALID with a
 * message for anything else (or junk in REEL_REMOTE_TIMEOUT). */
REEL__HIDDEN int reel__loc_open(const char *dest, reel__loc *l);
/* dest without the userinfo of a URL ("http://user:secret@host/x" as "http://host/x"): how a
 * message names a location, so that no password reaches a message, a log or a file name
 * (malloc'd; NULL when out of memory). */
REEL__HIDDEN char *reel__loc_shown(const char *dest);
REEL__HIDDEN void reel__loc_close(reel__loc *l);

/* Read bytes [off, off + len) of object key into buf (exactly len, or an error). Timeouts,
 * resets, 5xx answers, transfers slower than REEL__LOC_SLOW_BPS for REEL__LOC_SLOW_S and short
 * reads are retried with backoff: tries in all (0: 5), all within l->timeout_ms. Errors name
 * the object: REEL_NOTFOUND (404 / no file), REEL_DENIED (401, 403), REEL_INTERRUPTED
 * (reel_interrupt), REEL_IO (anything else after the retries, or the deadline passed). */
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
/* *size: the size of object key (HEAD's Content-Length, or stat), -1 when it is not there, -2
 * when something is there whose size is not known (an answer without Content-Length; in a
 * directory, anything but a regular file). */
REEL__HIDDEN int reel__loc_size(reel__loc *l, const char *key, int64_t *size);
/* l made ready to take objects: a directory and its parts/ folder made (servers make paths on
 * PUT). Errors name the path. */
REEL__HIDDEN int reel__loc_prepare(reel__loc *l);
/* What publishes killed before they finished left at l, removed: in a directory, the
 * temporary files "KEY.<pid>.tmp" of processes that are gone; on S3, every unfinished multipart
 * upload under the prefix (so two publishes to one prefix must not run at once). *removed: how
 * many. Errors: only a listing S3 refused. */
REEL__HIDDEN int reel__loc_clean(reel__loc *l, int *removed);
/* The process is exiting: from now on every transfer of every location ends at once, as an
 * interrupted one does (REEL_INTERRUPTED), and none starts. Async-signal-unsafe, thread-safe. */
REEL__HIDDEN void reel__loc_abort_all(void);
/* Whether name is before + a pid + suffix, and that pid is not a live process (nor this one). */
REEL__HIDDEN int reel__pid_dead(const char *name, const char *before, const char *suffix);

#endif
