/* digest.h - SHA-256 and hex digits (digest.c): how published objects and blocks are named and
 * checked. The one place src/remote reaches OpenSSL's libcrypto. */
#ifndef REEL_REMOTE_DIGEST_H
#define REEL_REMOTE_DIGEST_H

#include "base/common.h"

#define REEL__SHA256_BYTES 32

/* OpenSSL initialized, so that the cleanup it runs at exit is registered before whatever the
 * caller registers with atexit() next (handlers run in reverse order: the caller's first).
 * Thread-safe; idempotent. */
REEL__HIDDEN void reel__digest_init(void);

/* Whether libcrypto (directly, or through libcurl's TLS) may be used now: 1, and it may until
 * reel__crypto_release(); 0 once the process is exiting (reel__digest_exit). Holds nest. */
REEL__HIDDEN int reel__crypto_hold(void);
REEL__HIDDEN void reel__crypto_release(void);
/* The process is exiting: wait for the holds in progress, refuse new ones (reel__sha256 then
 * computes in plain C). Called by vfs.c's atexit handler, before OpenSSL's cleanup. */
REEL__HIDDEN void reel__digest_exit(void);

/* SHA-256 of n bytes into md. Thread-safe, also while the process exits. */
REEL__HIDDEN void reel__sha256(const void *data, size_t n, uint8_t md[REEL__SHA256_BYTES]);
/* The first `digits` hex digits (lowercase; at most 64) of md into hex (digits + 1 bytes,
 * NUL-terminated). */
REEL__HIDDEN void reel__hex(const uint8_t *md, char *hex, int digits);
/* SHA-256 of n bytes as its first `digits` lowercase hex digits (hex: digits + 1 bytes). */
REEL__HIDDEN void reel__sha256_hex(const void *data, size_t n, char *hex, int digits);
/* n bytes from 2n lowercase hex digits and nothing after them (h NUL-terminated); -1 when h
 * is not that (out then undefined). */
REEL__HIDDEN int reel__unhex(const char *h, uint8_t *out, size_t n);

/* SHA-256 of a stream of bytes: begin (REEL_NOMEM; REEL_INTERRUPTED once the process is
 * exiting), add any number of times, end (which frees the context whatever it returns;
 * REEL_ERROR when libcrypto fails). The stream holds libcrypto (see reel__crypto_hold) from
 * begin to end. */
typedef struct reel__sha256_ctx {
    void *evp;
} reel__sha256_ctx;
REEL__HIDDEN int reel__sha256_begin(reel__sha256_ctx *c);
REEL__HIDDEN void reel__sha256_add(reel__sha256_ctx *c, const void *data, size_t n);
REEL__HIDDEN int reel__sha256_end(reel__sha256_ctx *c, uint8_t md[REEL__SHA256_BYTES]);

#endif
