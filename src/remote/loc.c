/*
 * loc.c - objects of a published store: files in a directory, or HTTP(S) objects through
 * libcurl, signed with AWS SigV4 for S3 (libcurl's CURLOPT_AWS_SIGV4).
 *
 * What S3 servers need beyond the signature (learnt against Ceph's RADOS Gateway): an
 * x-amz-content-sha256: UNSIGNED-PAYLOAD header, and keys passed as CURLOPT_USERNAME and
 * CURLOPT_PASSWORD (a key may hold ':'); temporary credentials' AWS_SESSION_TOKEN as an
 * x-amz-security-token header, which libcurl signs with the others. Objects are addressed
 * path-style, ENDPOINT/BUCKET/PREFIX/KEY, or with REEL_S3_ADDRESSING=virtual virtual-hosted
 * style, BUCKET.HOST/PREFIX/KEY. Keys and prefixes are restricted to characters that need no
 * escaping, so the signed path is the path sent.
 */
#include "config.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/interrupt.h"
#include "remote/digest.h"
#include "remote/loc.h"

#define TRIES 5
/* the longest s3://BUCKET/PREFIX after "s3://": S3's keys are at most 1024 bytes, and a
 * listing's query holds the prefix %-encoded (3 bytes a character at most) */
#define PREFIX_MAX 500
#define TOKEN_MAX 8192 /* an AWS_SESSION_TOKEN (STS's are about 1 KB) */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static atomic_int aborting; /* reel__loc_abort_all: the process is exiting */
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---- what each kind of location does (its table at the end of the file) ----------------- */

typedef struct sink sink;
typedef struct body body;
typedef struct reel__loc_ops {
    const char *scheme;                          /* what its names start with ("" at last) */
    int kind;                                    /* REEL__LOC_* */
    int (*open)(const char *dest, reel__loc *l); /* l->display is set */
    /* a range of an object (len 0: all of it, into s grown) */
    int (*read)(reel__loc *l, const char *key, uint64_t off, size_t len, sink *s, int tries);
    int (*put)(reel__loc *l, const char *key, body *b);
    int (*size)(reel__loc *l, const char *key, int64_t *size);
    int (*clean)(reel__loc *l, int *removed);
    int (*prepare)(reel__loc *l); /* or NULL: nothing to make */
    void (*sign)(const reel__loc *l, CURL *c, struct curl_slist **h); /* or NULL */
} loc_ops;

static const loc_ops *kind_of(const char *dest);

/* Whether transfers end now: the process interrupted (reel_interrupt) or exiting. */
static int stopping(void)
{
    return reel__interrupted() || atomic_load_explicit(&aborting, memory_order_relaxed);
}

void reel__loc_abort_all(void)
{
    atomic_store(&aborting, 1);
}

/* a/b (one '/' between them; a alone when b is empty), malloc'd; NULL when out of memory. */
static char *joined(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = reel__malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s", a, *b && *a && a[strlen(a) - 1] != '/' ? "/" : "", b);
    return s;
}

/* Characters a prefix or key may hold: none that a URL or a signature would escape. */
static int plain_path(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-' || *s == '/'))
            return 0;
    return 1;
}

int reel__loc_is_remote(const char *name)
{
    struct stat st;
    char *m;
    int yes;
    if (kind_of(name)->kind != REEL__LOC_DIR)
        return 1;
    if (stat(name, &st) != 0 || !S_ISDIR(st.st_mode) || !(m = joined(name, "manifest.json")))
        return 0;
    yes = access(m, R_OK) == 0;
    free(m);
    return yes;
}

char *reel__loc_shown(const char *dest)
{
    const char *auth = strstr(dest, "://"), *end, *at = NULL, *p;
    char *d;
    if (!auth)
        return reel__strdup(dest);
    auth += 3;
    end = auth + strcspn(auth, "/?#");
    for (p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    if (!at)
        return reel__strdup(dest);
    if ((d = reel__malloc(strlen(dest) + 1)))
        snprintf(d, strlen(dest) + 1, "%.*s%s", (int)(auth - dest), dest, at + 1);
    return d;
}

/* REEL_REMOTE_TIMEOUT: seconds a read may take over all its tries (default 30). */
static int read_timeout(reel__loc *l)
{
    const char *env = getenv("REEL_REMOTE_TIMEOUT");
    char *end;
    double v;
    l->timeout_ms = REEL__LOC_TIMEOUT_MS;
    if (!env || !*env)
        return REEL_OK;
    errno = 0;
    v = strtod(env, &end);
    if (errno || end == env || *end || !(v >= 0.1 && v <= 86400))
        return reel__err(REEL_INVALID, "REEL_REMOTE_TIMEOUT='%.40s': give the seconds a remote "
                                       "read may take, from 0.1 to 86400 (default 30)",
                         env);
    l->timeout_ms = (int64_t)(v * 1000);
    return REEL_OK;
}

/* The bucket's URL into l->bucket: ENDPOINT/BUCKET (path style, the default), or with
 * REEL_S3_ADDRESSING=virtual, SCHEME://BUCKET.HOST[:PORT][/PATH]/ (virtual-hosted style, as
 * AWS prefers and some servers require; the bucket must then be a DNS name). REEL_INVALID for
 * another value, a bucket that cannot be a host name, or an endpoint that is not a URL. */
static int bucket_url(reel__loc *l, const char *ep, const char *bucket)
{
    const char *style = getenv("REEL_S3_ADDRESSING"), *host = strstr(ep, "://"), *b;
    size_t n;
    if (!style || !*style || !strcmp(style, "path")) {
        l->bucket = joined(ep, bucket);
        return REEL_OK;
    }
    if (strcmp(style, "virtual"))
        return reel__err(REEL_INVALID, "REEL_S3_ADDRESSING='%.40s': give path (the default: "
                                       "ENDPOINT/BUCKET/KEY) or virtual (BUCKET.HOST/KEY)",
                         style);
    for (b = bucket; *b; b++)
        if (!((*b >= 'a' && *b <= 'z') || (*b >= '0' && *b <= '9') || *b == '-' || *b == '.'))
            break;
    if (*b || bucket[0] == '-' || bucket[0] == '.' || strlen(bucket) > 63)
        return reel__err(REEL_INVALID, "%s: bucket '%s' cannot be a host name, as "
                                       "REEL_S3_ADDRESSING=virtual needs (lowercase letters, "
                                       "digits, '-' and '.'; at most 63): use path style",
                         l->display, bucket);
    if (!host || host == ep || !host[3])
        return reel__err(REEL_INVALID, "AWS_ENDPOINT_URL='%.100s' is not a URL (http://HOST:PORT)",
                         ep);
    n = strlen(ep) + strlen(bucket) + 3;
    if (!(l->bucket = reel__malloc(n)))
        return REEL_OK; /* the caller reports it */
    host += 3;
    snprintf(l->bucket, n, "%.*s%s.%s%s", (int)(host - ep), ep, bucket, host,
             ep[strlen(ep) - 1] == '/' ? "" : "/");
    return REEL_OK;
}

static int open_s3(const char *dest, reel__loc *l)
{
    const char *ep = getenv("AWS_ENDPOINT_URL"), *region = getenv("AWS_REGION");
    const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = getenv("AWS_SESSION_TOKEN");
    char sig[128], *bucket_path;
    size_t n;
    int rc;
    if (!ep || !*ep)
        return reel__err(REEL_INVALID, "%s: set AWS_ENDPOINT_URL to the S3 endpoint "
                                       "(e.g. http://127.0.0.1:17480)",
                         l->display);
    if (!ak || !sk || !*ak || !*sk)
        return reel__err(REEL_INVALID, "%s: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                         l->display);
    if (!dest[5] || dest[5] == '/' || !plain_path(dest + 5))
        return reel__err(REEL_INVALID, "%s: give s3://BUCKET/PREFIX with letters, digits, "
                                       "'.', '_', '-' and '/' only",
                         l->display);
    if (token && (strlen(token) > TOKEN_MAX || strpbrk(token, "\r\n")))
        return reel__err(REEL_INVALID, "AWS_SESSION_TOKEN: longer than %d bytes or holding a "
                                       "line break: not a session token",
                         TOKEN_MAX);
    if (region && strlen(region) > 60)
        return reel__err(REEL_INVALID, "AWS_REGION longer than 60 characters: %s", region);
    if (strlen(dest + 5) > PREFIX_MAX)
        return reel__err(REEL_INVALID, "a bucket and prefix longer than %d characters: %s",
                         PREFIX_MAX, l->display);
    snprintf(sig, sizeof sig, "aws:amz:%s:s3", region && *region ? region : "us-east-1");
    bucket_path = reel__strdup(dest + 5);
    if (bucket_path && (n = strlen(bucket_path)) > 0 && bucket_path[n - 1] == '/')
        bucket_path[n - 1] = 0;
    if (bucket_path) { /* "BUCKET/PREFIX": the bucket's URL and the prefix, for listings */
        char *slash = strchr(bucket_path, '/');
        l->prefix = reel__strdup(slash ? slash + 1 : "");
        if (slash)
            *slash = 0;
        if ((rc = bucket_url(l, ep, bucket_path)) != REEL_OK) {
            free(bucket_path);
            return rc;
        }
        l->base = l->bucket && l->prefix ? joined(l->bucket, l->prefix) : NULL;
        if (l->base && (n = strlen(l->base)) > 0 && l->base[n - 1] == '/')
            l->base[n - 1] = 0; /* virtual style, no prefix: keys go after one '/' */
    }
    free(bucket_path);
    l->ak = reel__strdup(ak);
    l->sk = reel__strdup(sk);
    l->sigv4 = reel__strdup(sig);
    if (token && *token) { /* temporary credentials: the token goes in a signed header */
        size_t tn = strlen(token) + sizeof "x-amz-security-token: ";
        if ((l->token = reel__malloc(tn)))
            snprintf(l->token, tn, "x-amz-security-token: %s", token);
    }
    if (!l->base || !l->ak || !l->sk || !l->sigv4 || !l->bucket || !l->prefix ||
        (token && *token && !l->token))
        return reel__err(REEL_NOMEM, "out of memory");
    pthread_once(&curl_once, curl_init);
    return REEL_OK;
}

static int open_http(const char *dest, reel__loc *l)
{
    size_t n = strlen(dest);
    if (!(l->base = reel__strdup(dest)))
        return reel__err(REEL_NOMEM, "out of memory");
    if (n > 8 && l->base[n - 1] == '/')
        l->base[n - 1] = 0;
    pthread_once(&curl_once, curl_init);
    return REEL_OK;
}

static int open_dir(const char *dest, reel__loc *l)
{
    l->local = 1;
    return (l->base = reel__strdup(dest)) ? REEL_OK : reel__err(REEL_NOMEM, "out of memory");
}

/* A directory and its parts/ folder made. */
static int dir_prepare(reel__loc *l)
{
    char *path;
    int rc = REEL_OK;
    if (mkdir(l->base, 0755) != 0 && errno != EEXIST)
        return reel__err(REEL_IO, "%s: %s", l->display, strerror(errno));
    if (!(path = joined(l->base, "parts")))
        return reel__err(REEL_NOMEM, "out of memory");
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        rc = reel__err(REEL_IO, "%s: %s", path, strerror(errno));
    free(path);
    return rc;
}

int reel__loc_prepare(reel__loc *l)
{
    return l->ops->prepare ? l->ops->prepare(l) : REEL_OK;
}

int reel__loc_open(const char *dest, reel__loc *l)
{
    int rc;
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->lock, NULL);
    if (!(l->display = reel__loc_shown(dest)))
        return reel__err(REEL_NOMEM, "out of memory");
    if ((rc = read_timeout(l)) != REEL_OK)
        return rc;
    l->ops = kind_of(dest);
    l->kind = l->ops->kind;
    return l->ops->open(dest, l);
}

void reel__loc_close(reel__loc *l)
{
    int i;
    if (l->nidle && reel__crypto_hold()) { /* exiting: the handles are left to the exit */
        for (i = 0; i < l->nidle; i++)
            curl_easy_cleanup(l->idle[i]);
        reel__crypto_release();
    }
    free(l->display);
    free(l->base);
    free(l->ak);
    free(l->sk);
    free(l->sigv4);
    free(l->token);
    free(l->bucket);
    free(l->prefix);
    pthread_mutex_destroy(&l->lock);
    memset(l, 0, sizeof *l);
}

/* ---- HTTP ---------------------------------------------------------------------------------- */

static CURL *take(reel__loc *l)
{
    CURL *c = NULL;
    pthread_mutex_lock(&l->lock);
    if (l->nidle > 0)
        c = l->idle[--l->nidle];
    pthread_mutex_unlock(&l->lock);
    if (c)
        curl_easy_reset(c);
    else
        c = curl_easy_init();
    return c;
}

static void give(reel__loc *l, CURL *c)
{
    pthread_mutex_lock(&l->lock);
    if (l->nidle < (int)(sizeof l->idle / sizeof l->idle[0])) {
        l->idle[l->nidle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&l->lock);
    if (c)
        curl_easy_cleanup(c);
}

/* Where a response body goes. */
struct sink {
    char *buf;
    size_t len, cap; /* cap: what buf holds; grow: buf is ours to grow */
    int grow, over;
    size_t max;      /* grow: the most it may grow to (0: no limit) */
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    sink *s = ctx;
    size_t k = size * n;
    if (s->len + k > s->cap) {
        char *b;
        if (!s->grow || (s->max && s->len + k > s->max)) {
            s->over = 1;
            return 0; /* more than asked for, or than may be: stop */
        }
        if (!(b = realloc(s->buf, 2 * (s->len + k) + 1)))
            return 0;
        s->buf = b;
        s->cap = 2 * (s->len + k);
    }
    memcpy(s->buf + s->len, p, k);
    s->len += k;
    return k;
}

/* Set up one request of key (with query, already in SigV4's canonical form: parameters sorted
 * by name, values encoded; or NULL) on c. */
/* libcurl's progress callback (several times a second, also while a transfer stalls): a nonzero
 * return ends the transfer with CURLE_ABORTED_BY_CALLBACK. */
static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)ctx, (void)dt, (void)dn, (void)ut, (void)un;
    return stopping();
}

static int request(reel__loc *l, const char *base, CURL *c, const char *key, const char *query,
                   struct curl_slist **h, char **url)
{
    size_t n;
    if (!plain_path(key))
        return reel__err(REEL_INVALID, "object name '%s' has characters reel does not use", key);
    n = strlen(base) + strlen(key) + (query ? strlen(query) : 0) + 3;
    if (!(*url = reel__malloc(n)))
        return reel__err(REEL_NOMEM, "out of memory");
    snprintf(*url, n, "%s%s%s%s%s", base, *key ? "/" : "", key, query ? "?" : "",
             query ? query : "");
    curl_easy_setopt(c, CURLOPT_URL, *url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    /* a stalled or dripping transfer ends (and may be tried again) */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)REEL__LOC_SLOW_BPS);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)REEL__LOC_SLOW_S);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    if (l->ops->sign)
        l->ops->sign(l, c, h);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *h);
    return REEL_OK;
}

/* S3: SigV4 (libcurl's), with the header RGW needs and the keys as user and password. */
static void s3_sign(const reel__loc *l, CURL *c, struct curl_slist **h)
{
    *h = curl_slist_append(*h, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    if (l->token) /* libcurl signs every header it is given */
        *h = curl_slist_append(*h, l->token);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, l->sigv4);
    curl_easy_setopt(c, CURLOPT_USERNAME, l->ak);
    curl_easy_setopt(c, CURLOPT_PASSWORD, l->sk);
}

/* Whether a failed try is worth another: the network or the server, not the request. */
static int transient(CURLcode cc, long status)
{
    if (cc == CURLE_OK)
        return status >= 500 || status == 429 || status == 0;
    return cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
           cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR || cc == CURLE_GOT_NOTHING ||
           cc == CURLE_PARTIAL_FILE || cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_SSL_CONNECT_ERROR;
}

static int status_error(const reel__loc *l, const char *key, const char *what, CURLcode cc,
                        long status)
{
    if (cc == CURLE_ABORTED_BY_CALLBACK || stopping())
        return reel__err(REEL_INTERRUPTED, "%s: %s %s: interrupted", l->display, what, key);
    if (cc != CURLE_OK)
        return reel__err(REEL_IO, "%s: %s %s: %s (after %d tries)", l->display, what, key,
                         curl_easy_strerror(cc), TRIES);
    if (status == 404)
        return reel__err(REEL_NOTFOUND, "%s: %s %s: not found (HTTP 404)%s", l->display, what, key,
                         strcmp(what, "writing") == 0 ? "; does the bucket exist?" : "");
    if (status == 401 || status == 403)
        return reel__err(REEL_DENIED,
                         "%s: %s %s: access denied (HTTP %ld): check the keys and the bucket's "
                         "permissions",
                         l->display, what, key, status);
    return reel__err(REEL_IO, "%s: %s %s: HTTP %ld%s", l->display, what, key, status,
                     status >= 500 ? " (after retries)" : "");
}

/* The wait before try attempt + 2: 0.1, 0.2, 0.4, 0.8 s, in steps of 50 ms that end early when
 * the process is interrupted or at end (reel__mono_ms(); 0: none). */
static void backoff(int attempt, int64_t end)
{
    const struct timespec step = {0, 50000000L};
    int n;
    for (n = 2 << attempt; n > 0 && !stopping() && (!end || reel__mono_ms() < end); n--)
        nanosleep(&step, NULL);
}

/* One request of key (and query) under base (a URL): set up by setup(c, ctx) after the common
 * options, performed; its libcurl result and HTTP status. REEL_OK unless the request could not
 * even be made. */
static int perform_at(reel__loc *l, const char *base, const char *key, const char *query,
                      void (*setup)(CURL *, void *), void *ctx, CURLcode *cc, long *status)
{
    struct curl_slist *h = NULL;
    char *url = NULL;
    CURL *c;
    int rc;
    *cc = CURLE_ABORTED_BY_CALLBACK;
    *status = 0;
    if (!reel__crypto_hold()) /* exiting: libcurl's TLS may be freed under it */
        return REEL_OK;
    if (!(c = take(l))) {
        reel__crypto_release();
        return reel__err(REEL_NOMEM, "out of memory");
    }
    *cc = CURLE_OK;
    if (stopping()) {
        give(l, c);
        reel__crypto_release();
        *cc = CURLE_ABORTED_BY_CALLBACK;
        return REEL_OK;
    }
    if ((rc = request(l, base, c, key, query, &h, &url)) == REEL_OK) {
        setup(c, ctx);
        *cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    }
    curl_slist_free_all(h);
    free(url);
    give(l, c);
    reel__crypto_release();
    return rc;
}

/* Why a GET of key failed after tries tries: interrupted, the deadline end passed, a short
 * answer (got of len bytes), or status_error's reasons. */
static int get_error(const reel__loc *l, const char *key, size_t len, size_t got, CURLcode cc,
                     long status, int tries, int64_t end)
{
    if (cc == CURLE_ABORTED_BY_CALLBACK || stopping())
        return status_error(l, key, "reading", cc, status);
    if (reel__mono_ms() >= end)
        return reel__err(REEL_IO, "%s: reading %s: no whole answer within %.1f s (%d tr%s%s; "
                                  "REEL_REMOTE_TIMEOUT sets the limit)",
                         l->display, key, (double)l->timeout_ms / 1000, tries,
                         tries == 1 ? "y" : "ies",
                         cc == CURLE_OPERATION_TIMEDOUT ? ", the server too slow or silent" : "");
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return reel__err(REEL_IO, "%s: reading %s: the server sent less than %d bytes/s for %d s "
                                  "(after %d tries)",
                         l->display, key, REEL__LOC_SLOW_BPS, REEL__LOC_SLOW_S, tries);
    if (cc == CURLE_OK && (status == 206 || status == 200))
        return reel__err(REEL_IO, "%s: %s: short read (%zu of %zu bytes, after %d tries)",
                         l->display, key, got, len, tries);
    return status_error(l, key, "reading", cc, status);
}

/* perform_at the location's own base. */
static int perform(reel__loc *l, const char *key, const char *query,
                   void (*setup)(CURL *, void *), void *ctx, CURLcode *cc, long *status)
{
    return perform_at(l, l->base, key, query, setup, ctx, cc, status);
}

typedef struct get_req {
    sink *s;
    uint64_t off;
    size_t len;
    int64_t end; /* the read's deadline (reel__mono_ms()) */
} get_req;

static void setup_get(CURL *c, void *ctx)
{
    get_req *g = ctx;
    char range[64];
    int64_t left = g->end - reel__mono_ms();
    if (left < 1)
        left = 1;
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left); /* this try: what the read has left */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(left < 10000 ? left : 10000));
    g->s->len = 0;
    g->s->over = 0;
    if (g->len) {
        snprintf(range, sizeof range, "%llu-%llu", (unsigned long long)g->off,
                 (unsigned long long)(g->off + g->len - 1));
        curl_easy_setopt(c, CURLOPT_RANGE, range); /* libcurl copies it */
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, g->s);
}

/* GET key (range [off, off + len) when len > 0) into s: up to tries tries, all within the
 * location's deadline. */
static int http_get(reel__loc *l, const char *key, uint64_t off, size_t len, sink *s, int tries)
{
    get_req g = {s, off, len, reel__mono_ms() + l->timeout_ms};
    int attempt, rc;
    long status = 0;
    CURLcode cc = CURLE_OK;
    for (attempt = 0; attempt < tries && reel__mono_ms() < g.end; attempt++) {
        if (attempt) {
            backoff(attempt - 1, g.end);
            if (reel__mono_ms() >= g.end || stopping())
                break;
        }
        if ((rc = perform(l, key, NULL, setup_get, &g, &cc, &status)) != REEL_OK)
            return rc;
        if (cc == CURLE_OK && (status == 206 || (status == 200 && (!len || off == 0))) &&
            (!len || s->len == len)) {
            __atomic_add_fetch(&l->requests, 1, __ATOMIC_RELAXED);
            __atomic_add_fetch(&l->bytes, (int64_t)s->len, __ATOMIC_RELAXED);
            return REEL_OK;
        }
        if (cc == CURLE_OK && status == 200 && len && off != 0)
            return reel__err(REEL_UNSUPPORTED, "%s: the server ignores byte ranges (HTTP 200 to "
                                               "a Range request for %s)",
                             l->display, key);
        if (cc == CURLE_WRITE_ERROR && s->over)
            return s->grow ? reel__err(REEL_CORRUPT, "%s: %s is larger than %zu bytes: not "
                                                     "reel's",
                                       l->display, key, s->max)
                           : reel__err(REEL_IO, "%s: %s: the server sent more bytes than asked "
                                                "for",
                                       l->display, key);
        if (!transient(cc, status) && !(cc == CURLE_OK && (status == 206 || status == 200)))
            break; /* 4xx: another try gets the same answer */
    }
    return get_error(l, key, len, s->len, cc, status, attempt, g.end);
}

/* ---- directories --------------------------------------------------------------------------- */

static int dir_read(reel__loc *l, const char *key, uint64_t off, size_t len, sink *s, int tries)
{
    char *path = joined(l->base, key);
    struct stat st = {0};
    int fd, rc = REEL_OK;
    ssize_t got;
    (void)tries; /* a local read is not tried again */
    if (!path)
        return reel__err(REEL_NOMEM, "out of memory");
    /* not blocking: a FIFO or a device there must not hang the reader, only be refused */
    if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
        rc = reel__err(errno == ENOENT ? REEL_NOTFOUND : REEL_IO, "%s: object %s: %s",
                       l->display, key, strerror(errno));
    } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = reel__err(REEL_CORRUPT, "%s: object %s is not a regular file (%s): not reel's",
                       l->display, key,
                       S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "a device");
        close(fd);
    } else {
        if (!len) {
            len = (size_t)st.st_size;
            if (s->max && len > s->max)
                rc = reel__err(REEL_CORRUPT, "%s: %s is larger than %zu bytes: not reel's",
                               l->display, key, s->max);
            else if (s->grow && !(s->buf = realloc(s->buf, len + 1)))
                rc = reel__err(REEL_NOMEM, "out of memory");
            s->cap = len;
        }
        got = rc == REEL_OK ? pread(fd, s->buf, len, (off_t)off) : -1;
        if (rc == REEL_OK && (got < 0 || (size_t)got != len))
            rc = reel__err(REEL_IO, "%s: object %s: short read (%zd of %zu bytes)", l->display,
                           key, got, len);
        s->len = got > 0 ? (size_t)got : 0;
        close(fd);
    }
    free(path);
    return rc;
}

/* ---- the operations ------------------------------------------------------------------------ */

int reel__loc_read(reel__loc *l, const char *key, uint64_t off, size_t len, void *buf,
                   int tries)
{
    sink s = {buf, 0, len, 0, 0, 0};
    if (len == 0)
        return REEL_OK;
    return l->ops->read(l, key, off, len, &s, tries > 0 ? tries : TRIES);
}

int reel__loc_read_all(reel__loc *l, const char *key, size_t max, char **data, size_t *len)
{
    sink s = {NULL, 0, 0, 1, 0, max};
    int rc = l->ops->read(l, key, 0, 0, &s, TRIES);
    if (rc == REEL_OK && !s.buf && !(s.buf = malloc(1)))
        rc = reel__err(REEL_NOMEM, "out of memory");
    if (rc != REEL_OK) {
        free(s.buf);
        return rc;
    }
    s.buf[s.len] = 0;
    *data = s.buf;
    *len = s.len;
    return REEL_OK;
}

static void setup_delete(CURL *c, void *ctx)
{
    (void)ctx;
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
}

/* ---- writing ------------------------------------------------------------------------------ */

/* What a PUT or POST sends: size bytes from off of the file fd, or of mem. */
struct body {
    int fd;
    const char *mem;
    uint64_t off, size, pos;
};

static size_t on_read(char *p, size_t size, size_t n, void *ctx)
{
    body *b = ctx;
    size_t k = size * n;
    ssize_t got;
    if (k > b->size - b->pos)
        k = (size_t)(b->size - b->pos);
    if (!k)
        return 0;
    if (b->mem) {
        memcpy(p, b->mem + b->off + b->pos, k);
        got = (ssize_t)k;
    } else if ((got = pread(b->fd, p, k, (off_t)(b->off + b->pos))) <= 0) {
        return CURL_READFUNC_ABORT;
    }
    b->pos += (uint64_t)got;
    return (size_t)got;
}

/* A request that sends a body and keeps what comes back: the body (S3's XML answers) and the
 * ETag header. */
typedef struct send_req {
    body *b;
    int post;
    sink reply;
    char etag[128];
} send_req;

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    send_req *r = ctx;
    size_t k = size * n;
    if (k > 5 && !strncasecmp(p, "etag:", 5)) {
        size_t i = 5, j;
        while (i < k && (p[i] == ' ' || p[i] == '\t'))
            i++;
        for (j = k; j > i && (p[j - 1] == '\r' || p[j - 1] == '\n' || p[j - 1] == ' '); j--)
            ;
        if (j - i < sizeof r->etag) /* a longer one stays "": no usable ETag */
            snprintf(r->etag, sizeof r->etag, "%.*s", (int)(j - i), p + i);
    }
    return k;
}

static void setup_send(CURL *c, void *ctx)
{
    send_req *r = ctx;
    r->b->pos = 0; /* a retry sends it all again */
    r->reply.len = 0;
    r->etag[0] = 0;
    if (r->post) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->b->size);
    } else {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->b->size);
    }
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, r->b);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->reply);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
}

/* PUT (or POST) b to key?query, retried; r->reply and r->etag hold the answer. */
static int http_send(reel__loc *l, const char *key, const char *query, int post, body *b,
                     send_req *r, const char *what)
{
    int attempt, rc;
    long status = 0;
    CURLcode cc = CURLE_OK;
    r->b = b;
    r->post = post;
    for (attempt = 0; attempt < TRIES; attempt++) {
        if ((rc = perform(l, key, query, setup_send, r, &cc, &status)) != REEL_OK)
            return rc;
        if (cc == CURLE_OK && status >= 200 && status < 300) {
            if (r->reply.buf) /* on_body leaves room for it */
                r->reply.buf[r->reply.len] = 0;
            return REEL_OK;
        }
        if (!transient(cc, status))
            break;
        if (attempt + 1 < TRIES)
            backoff(attempt, 0);
    }
    return status_error(l, key, what, cc, status);
}

/* s with every character but RFC 3986's unreserved ones %-encoded, into out (cap bytes: room
 * for 3 bytes a character, which the callers' limits on s give). */
static void encode(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~')
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", ch);
    }
    out[o] = 0;
}

/* The text of XML element tag in xml (the first one), into out; 0 when there is none. */
static int xml_text(const char *xml, const char *tag, char *out, size_t cap)
{
    char open[64];
    const char *a, *e;
    snprintf(open, sizeof open, "<%s>", tag);
    if (!xml || !(a = strstr(xml, open)) || !(e = strchr(a += strlen(open), '<')) ||
        (size_t)(e - a) >= cap)
        return 0;
    memcpy(out, a, (size_t)(e - a));
    out[e - a] = 0;
    return 1;
}

/* S3's multipart upload: start it, send each piece (retried on its own) keeping its ETag,
 * complete it with the list; on any failure, abort it so the server drops the pieces. */
static int s3_multipart(reel__loc *l, const char *key, body *whole)
{
    send_req r;
    body none = {-1, "", 0, 0, 0}, piece;
    char id[512], qid[1600], query[1700], etag[128];
    char *list = NULL;
    size_t cap = 0, len = 0;
    uint64_t at;
    int rc, n;
    memset(&r, 0, sizeof r);
    r.reply.grow = 1;
    r.reply.cap = 0;
    rc = http_send(l, key, "uploads=", 1, &none, &r, "starting the upload of");
    if (rc == REEL_OK && !xml_text(r.reply.buf, "UploadId", id, sizeof id))
        rc = reel__err(REEL_IO, "%s: starting the upload of %s: no UploadId in the answer",
                       l->display, key);
    if (rc != REEL_OK) {
        free(r.reply.buf);
        return rc;
    }
    encode(id, qid, sizeof qid);
    for (at = 0, n = 1; rc == REEL_OK && at < whole->size; at += piece.size, n++) {
        char entry[256];
        size_t k;
        piece = *whole;
        piece.off = whole->off + at;
        piece.size = whole->size - at < REEL__PIECE ? whole->size - at : REEL__PIECE;
        snprintf(query, sizeof query, "partNumber=%d&uploadId=%s", n, qid);
        if ((rc = http_send(l, key, query, 0, &piece, &r, "uploading a piece of")) != REEL_OK)
            break;
        snprintf(etag, sizeof etag, "%s", r.etag);
        if (!etag[0] || strpbrk(etag, "<>&")) {
            rc = reel__err(REEL_IO, "%s: uploading piece %d of %s: no usable ETag in the answer",
                           l->display, n, key);
            break;
        }
        k = (size_t)snprintf(entry, sizeof entry,
                             "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", n, etag);
        if (len + k + 64 > cap) {
            char *g = realloc(list, cap = 2 * (len + k + 64));
            if (!g) {
                rc = reel__err(REEL_NOMEM, "out of memory");
                break;
            }
            list = g;
        }
        memcpy(list + len, entry, k + 1);
        len += k;
    }
    if (rc == REEL_OK) {
        static const char head[] = "<CompleteMultipartUpload>",
                          tail[] = "</CompleteMultipartUpload>";
        size_t total = strlen(head) + len + strlen(tail) + 1;
        char *doc = reel__malloc(total);
        body b = {-1, doc, 0, 0, 0};
        if (!doc) {
            rc = reel__err(REEL_NOMEM, "out of memory");
        } else {
            snprintf(doc, total, "%s%s%s", head, list, tail);
            b.size = strlen(doc);
            snprintf(query, sizeof query, "uploadId=%s", qid);
            rc = http_send(l, key, query, 1, &b, &r, "completing the upload of");
            /* S3 may answer 200 and still report an error in the body */
            if (rc == REEL_OK &&
                (!r.reply.buf || !strstr(r.reply.buf, "<CompleteMultipartUploadResult"))) {
                char code[128] = "no result";
                xml_text(r.reply.buf, "Code", code, sizeof code);
                rc = reel__err(REEL_IO, "%s: completing the upload of %s: %s", l->display, key,
                               code);
            }
            free(doc);
        }
    }
    if (rc != REEL_OK) { /* best effort: the error to report is the one above */
        char msg[1024];
        long status;
        CURLcode cc;
        snprintf(msg, sizeof msg, "%s", reel_errmsg());
        snprintf(query, sizeof query, "uploadId=%s", qid);
        perform(l, key, query, setup_delete, NULL, &cc, &status);
        reel__err(rc, "%s", msg);
    }
    free(list);
    free(r.reply.buf);
    return rc;
}

/* All n bytes of buf to fd (a short write is continued, so that its cause, ENOSPC, is seen);
 * -1 with errno set. */
static int write_all(int fd, const char *buf, size_t n)
{
    ssize_t w;
    while (n > 0) {
        if ((w = write(fd, buf, n)) < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The directory holding path synced (a rename in it made durable). */
static int sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
    int fd, rc;
    if (!dir)
        return -1;
    fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* A directory: the bytes copied to a temporary file KEY.<pid>.tmp (what reel__loc_clean
 * removes after a kill), synced, renamed into place, the directory synced. */
static int dir_put(reel__loc *l, const char *key, body *b)
{
    char *dst = joined(l->base, key), *tmp = dst ? reel__malloc(strlen(dst) + 32) : NULL;
    char buf[65536];
    int fd = -1, rc = REEL_OK;
    if (tmp) {
        sprintf(tmp, "%s.%d.tmp", dst, (int)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    }
    if (fd < 0)
        rc = tmp ? reel__err(REEL_IO, "%s: cannot write %s: %s", l->display, key, strerror(errno))
                 : reel__err(REEL_NOMEM, "out of memory");
    for (b->pos = 0; rc == REEL_OK && b->pos < b->size;) {
        size_t n = on_read(buf, 1, sizeof buf, b);
        if (n == CURL_READFUNC_ABORT)
            rc = reel__err(REEL_IO, "reading what to write as %s: %s", key, strerror(errno));
        else if (write_all(fd, buf, n) != 0)
            rc = reel__err(REEL_IO, "%s: writing %s: %s", l->display, key, strerror(errno));
    }
    if (fd >= 0 && rc == REEL_OK && fsync(fd) != 0)
        rc = reel__err(REEL_IO, "%s: writing %s: %s", l->display, key, strerror(errno));
    if (fd >= 0 && close(fd) != 0 && rc == REEL_OK)
        rc = reel__err(REEL_IO, "%s: writing %s: %s", l->display, key, strerror(errno));
    if (rc == REEL_OK && (rename(tmp, dst) != 0 || sync_parent(dst) != 0))
        rc = reel__err(REEL_IO, "%s: %s: %s", l->display, key, strerror(errno));
    if (rc != REEL_OK && tmp)
        unlink(tmp);
    free(dst);
    free(tmp);
    return rc;
}

/* HTTP: one PUT. */
static int http_put(reel__loc *l, const char *key, body *b)
{
    send_req r;
    int rc;
    memset(&r, 0, sizeof r);
    r.reply.grow = 1;
    rc = http_send(l, key, NULL, 0, b, &r, "writing");
    free(r.reply.buf);
    return rc;
}

/* S3: one PUT, or a multipart upload above REEL__MULTIPART_MIN. */
static int s3_put(reel__loc *l, const char *key, body *b)
{
    return b->size > REEL__MULTIPART_MIN ? s3_multipart(l, key, b) : http_put(l, key, b);
}

int reel__loc_put_fd(reel__loc *l, const char *key, int fd, uint64_t off, uint64_t size)
{
    body b = {fd, NULL, off, size, 0};
    return l->ops->put(l, key, &b);
}

int reel__loc_put(reel__loc *l, const char *key, const void *data, size_t len)
{
    body b = {-1, data, 0, len, 0};
    return l->ops->put(l, key, &b);
}

/* A HEAD's Content-Length header into *(int64_t *)ctx. */
static size_t on_length(char *p, size_t size, size_t n, void *ctx)
{
    size_t k = size * n;
    if (k > 15 && !strncasecmp(p, "content-length:", 15)) {
        char num[32], *end;
        long long v;
        snprintf(num, sizeof num, "%.*s", (int)(k - 15 < 31 ? k - 15 : 31), p + 15);
        v = strtoll(num, &end, 10);
        if (end != num && v >= 0)
            *(int64_t *)ctx = v;
    }
    return k;
}

static void setup_head(CURL *c, void *ctx)
{
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_length);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, ctx);
}

static int dir_size(reel__loc *l, const char *key, int64_t *size)
{
    char *path = joined(l->base, key);
    struct stat st;
    int rc;
    if (!path)
        return reel__err(REEL_NOMEM, "out of memory");
    rc = lstat(path, &st) == 0 ? REEL_OK : errno;
    free(path);
    if (rc == REEL_OK && S_ISREG(st.st_mode))
        *size = (int64_t)st.st_size;
    else if (rc == REEL_OK) /* a directory, FIFO or link in its place: not a part */
        *size = -2;
    else if (rc != ENOENT)
        return reel__err(REEL_IO, "%s: %s: %s", l->display, key, strerror(rc));
    return REEL_OK;
}

/* HTTP and S3: a HEAD. */
static int http_size(reel__loc *l, const char *key, int64_t *size)
{
    long status = 0;
    CURLcode cc;
    int rc;
    if ((rc = perform(l, key, NULL, setup_head, size, &cc, &status)) != REEL_OK)
        return rc;
    if (cc == CURLE_OK && status == 404)
        *size = -1;
    else if (cc == CURLE_OK && status == 200 && *size < 0)
        *size = -2; /* there, of a size not said: sent again */
    else if (!(cc == CURLE_OK && status == 200))
        return status_error(l, key, "looking for", cc, status);
    return REEL_OK;
}

int reel__loc_size(reel__loc *l, const char *key, int64_t *size)
{
    *size = -1;
    return l->ops->size(l, key, size);
}

/* ---- what killed publishes left ------------------------------------------------------------ */

int reel__pid_dead(const char *name, const char *before, const char *suffix)
{
    size_t n = strlen(name), a = strlen(before), z = strlen(suffix);
    const char *p;
    char *end;
    long pid;
    if (n <= a + z || strncmp(name, before, a) || strcmp(name + n - z, suffix))
        return 0;
    p = name + a;
    if (*p < '0' || *p > '9')
        return 0;
    errno = 0;
    pid = strtol(p, &end, 10);
    if (errno || end != name + n - z || pid <= 0 || pid > 0x7fffffffL)
        return 0;
    return pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* In the directory path: every "*.<pid>.tmp" of a process that is gone removed. */
static void clean_dir(const char *path, int *removed)
{
    DIR *d = opendir(path);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d))) {
        const char *dot = strrchr(e->d_name, '.'), *p = dot;
        if (!dot || strcmp(dot, ".tmp"))
            continue;
        while (p > e->d_name && p[-1] >= '0' && p[-1] <= '9')
            p--;
        if (p == dot || p == e->d_name || p[-1] != '.' ||
            !reel__pid_dead(p, "", ".tmp"))
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            ++*removed;
    }
    closedir(d);
}

static void setup_get_body(CURL *c, void *ctx)
{
    ((sink *)ctx)->len = 0;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, ctx);
}

/* S3: every unfinished multipart upload under the prefix aborted (a publish killed between a
 * piece and the completion leaves one, which the server keeps, and bills, until aborted). */
static int abort_uploads(reel__loc *l, int *removed)
{
    sink s = {NULL, 0, 0, 1, 0, 4 << 20};
    char query[1700], qp[1600], key[1100], id[512], qid[1600], q2[1700]; /* PREFIX_MAX */
    int round, rc = REEL_OK, got = 1;
    long status;
    CURLcode cc;
    snprintf(key, sizeof key, "%s%s", l->prefix, *l->prefix ? "/" : "");
    encode(key, qp, sizeof qp);
    snprintf(query, sizeof query, "prefix=%s&uploads=", qp); /* SigV4's order: by name */
    for (round = 0; rc == REEL_OK && got && round < 100; round++) {
        const char *at;
        got = 0;
        if ((rc = perform_at(l, l->bucket, "", query, setup_get_body, &s, &cc, &status)) !=
            REEL_OK)
            break;
        if (cc != CURLE_OK || status != 200) {
            rc = status_error(l, "(unfinished uploads)", "listing", cc, status);
            break;
        }
        if (s.buf)
            s.buf[s.len] = 0;
        for (at = s.buf; at && (at = strstr(at, "<Upload>")); at += 8) {
            long st2;
            CURLcode cc2;
            if (!xml_text(at, "Key", key, sizeof key) || !xml_text(at, "UploadId", id, sizeof id) ||
                strncmp(key, l->prefix, strlen(l->prefix)) || !plain_path(key))
                continue;
            encode(id, qid, sizeof qid);
            snprintf(q2, sizeof q2, "uploadId=%s", qid);
            if (perform_at(l, l->bucket, key, q2, setup_delete, NULL, &cc2, &st2) == REEL_OK &&
                cc2 == CURLE_OK && st2 >= 200 && st2 < 300) {
                ++*removed;
                got = 1;
            }
        }
        if (!s.buf || !strstr(s.buf, "<IsTruncated>true</IsTruncated>"))
            break;
    }
    free(s.buf);
    return rc;
}

/* A directory: its temporaries and those of its parts/ folder. */
static int dir_clean(reel__loc *l, int *removed)
{
    char *parts = joined(l->base, "parts");
    if (!parts)
        return reel__err(REEL_NOMEM, "out of memory");
    clean_dir(l->base, removed);
    clean_dir(parts, removed);
    free(parts);
    return REEL_OK;
}

/* An HTTP server: a PUT leaves nothing behind when it fails. */
static int http_clean(reel__loc *l, int *removed)
{
    (void)l, (void)removed;
    return REEL_OK;
}

int reel__loc_clean(reel__loc *l, int *removed)
{
    *removed = 0;
    return l->ops->clean(l, removed);
}

/* ---- the kinds of location ------------------------------------------------------------------ */

static const loc_ops kinds[] = {
    {"s3://", REEL__LOC_S3, open_s3, http_get, s3_put, http_size, abort_uploads, NULL, s3_sign},
    {"http://", REEL__LOC_HTTP, open_http, http_get, http_put, http_size, http_clean, NULL, NULL},
    {"https://", REEL__LOC_HTTP, open_http, http_get, http_put, http_size, http_clean, NULL,
     NULL},
    {"", REEL__LOC_DIR, open_dir, dir_read, dir_put, dir_size, dir_clean, dir_prepare,
     NULL}, /* the rest: a directory */
};

/* The kind of location dest names: the first whose scheme it starts with. */
static const loc_ops *kind_of(const char *dest)
{
    size_t i;
    for (i = 0; strncmp(dest, kinds[i].scheme, strlen(kinds[i].scheme)); i++)
        ;
    return &kinds[i];
}
