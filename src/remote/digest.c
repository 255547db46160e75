/*
 * digest.c - SHA-256 (OpenSSL's EVP, which uses the CPU's SHA instructions where there are
 * some) and lowercase hex digits: a part is named by the SHA-256 of its content, an index
 * object by that of its hashes, a block checked against the first 128 bits of its own.
 *
 * OpenSSL frees its tables in a handler it registers with atexit(); a thread still hashing
 * then reads freed memory. reel__digest_init() makes sure that handler is registered before
 * the one vfs.c registers to stop the fetchers ahead, so that those are joined first.
 */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "base/error.h"
#include "remote/digest.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
    OPENSSL_init_crypto(0, NULL);
}

void reel__digest_init(void)
{
    pthread_once(&init_once, init);
}

void reel__sha256(const void *data, size_t n, uint8_t md[REEL__SHA256_BYTES])
{
    unsigned int len = 0;
    EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
}

void reel__hex(const uint8_t *md, char *hex, int digits)
{
    int i;
    for (i = 0; i < digits && i < 2 * REEL__SHA256_BYTES; i++)
        hex[i] = "0123456789abcdef"[(md[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
    hex[i] = 0;
}

void reel__sha256_hex(const void *data, size_t n, char *hex, int digits)
{
    uint8_t md[REEL__SHA256_BYTES];
    reel__sha256(data, n, md);
    reel__hex(md, hex, digits);
}

static int hex_digit(int ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

int reel__unhex(const char *h, uint8_t *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        int a = hex_digit(h[2 * i]), b = a < 0 ? -1 : hex_digit(h[2 * i + 1]);
        if (b < 0)
            return -1;
        out[i] = (uint8_t)(a * 16 + b);
    }
    return h[2 * n] ? -1 : 0;
}

int reel__sha256_begin(reel__sha256_ctx *c)
{
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    c->evp = x;
    if (!x || !EVP_DigestInit_ex(x, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(x);
        c->evp = NULL;
        return reel__err(REEL_NOMEM, "out of memory");
    }
    return REEL_OK;
}

void reel__sha256_add(reel__sha256_ctx *c, const void *data, size_t n)
{
    EVP_DigestUpdate(c->evp, data, n);
}

int reel__sha256_end(reel__sha256_ctx *c, uint8_t md[REEL__SHA256_BYTES])
{
    unsigned int len = 0;
    int ok = EVP_DigestFinal_ex(c->evp, md, &len);
    EVP_MD_CTX_free(c->evp);
    c->evp = NULL;
    return ok && len == REEL__SHA256_BYTES ? REEL_OK : reel__err(REEL_ERROR, "SHA-256 failed");
}
