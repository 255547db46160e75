/*
 * digest.c - SHA-256 (OpenSSL's EVP, which uses the CPU's SHA instructions where there are
 * some) and lowercase hex digits: a part is named by the SHA-256 of its content, an index
 * object by that of its hashes, a block checked against the first 128 bits of its own.
 *
 * OpenSSL frees its tables in a handler it registers with atexit(); a thread still hashing,
 * or in a TLS transfer of libcurl's, then reads freed memory. So every use of libcrypto here,
 * and every transfer (loc.c), runs between reel__crypto_hold() and reel__crypto_release(); at
 * exit, vfs.c's handler (registered after OpenSSL's, so run before it) calls
 * reel__digest_exit(), which waits for those in progress and refuses new ones: from then on
 * SHA-256 is computed here in plain C (FIPS 180-4), slower but the same digest, so a thread
 * still reading gets right answers, not freed memory nor false mismatches.
 */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "base/error.h"
#include "remote/digest.h"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_done = PTHREAD_COND_INITIALIZER;
static int holders, exiting; /* under hold_lock */

/* fork(): the child has none of the parent's other threads, so none of their holds */
static void fork_prepare(void) { pthread_mutex_lock(&hold_lock); }
static void fork_parent(void) { pthread_mutex_unlock(&hold_lock); }
static void fork_child(void)
{
    holders = 0;
    pthread_mutex_unlock(&hold_lock);
}

static void init(void)
{
    OPENSSL_init_crypto(0, NULL);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

int reel__crypto_hold(void)
{
    int ok;
    pthread_mutex_lock(&hold_lock);
    if ((ok = !exiting))
        holders++;
    pthread_mutex_unlock(&hold_lock);
    return ok;
}

void reel__crypto_release(void)
{
    pthread_mutex_lock(&hold_lock);
    if (--holders == 0 && exiting)
        pthread_cond_broadcast(&hold_done);
    pthread_mutex_unlock(&hold_lock);
}

void reel__digest_exit(void)
{
    pthread_mutex_lock(&hold_lock);
    exiting = 1;
    while (holders > 0)
        pthread_cond_wait(&hold_done, &hold_lock);
    pthread_mutex_unlock(&hold_lock);
}

/* ---- SHA-256 in plain C (FIPS 180-4), for when libcrypto may no longer be used ----------- */

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

#define ROR(x, n) ((x) >> (n) | (x) << (32 - (n)))

static void block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64], v[8], t1, t2;
    int i;
    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (; i < 64; i++)
        w[i] = w[i - 16] + (ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ w[i - 15] >> 3) + w[i - 7] +
               (ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ w[i - 2] >> 10);
    memcpy(v, h, sizeof v);
    for (i = 0; i < 64; i++) {
        t1 = v[7] + (ROR(v[4], 6) ^ ROR(v[4], 11) ^ ROR(v[4], 25)) +
             ((v[4] & v[5]) ^ (~v[4] & v[6])) + K[i] + w[i];
        t2 = (ROR(v[0], 2) ^ ROR(v[0], 13) ^ ROR(v[0], 22)) +
             ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
        memmove(v + 1, v, 7 * sizeof *v);
        v[4] += t1;
        v[0] = t1 + t2;
    }
    for (i = 0; i < 8; i++)
        h[i] += v[i];
}

static void plain_sha256(const uint8_t *p, size_t n, uint8_t md[REEL__SHA256_BYTES])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint8_t last[128] = {0};
    uint64_t bits = (uint64_t)n * 8;
    size_t i, rest, end;
    for (i = 0; i + 64 <= n; i += 64)
        block(h, p + i);
    rest = n - i;
    memcpy(last, p + i, rest);
    last[rest] = 0x80;
    end = rest < 56 ? 64 : 128;
    for (i = 0; i < 8; i++)
        last[end - 1 - i] = (uint8_t)(bits >> (8 * i));
    block(h, last);
    if (end == 128)
        block(h, last + 64);
    for (i = 0; i < 32; i++)
        md[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

/* ---- the calls ---------------------------------------------------------------------------- */

void reel__digest_init(void)
{
    pthread_once(&init_once, init);
}

void reel__sha256(const void *data, size_t n, uint8_t md[REEL__SHA256_BYTES])
{
    unsigned int len = 0;
    if (reel__crypto_hold()) {
        int ok = EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
        reel__crypto_release();
        if (ok && len == REEL__SHA256_BYTES)
            return;
    }
    plain_sha256(data, n, md);
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

/* A stream held for its whole life: it may span a whole part (up to 1 GiB), but only a
 * publish makes one, and an exit waits for it as for a transfer. */
int reel__sha256_begin(reel__sha256_ctx *c)
{
    EVP_MD_CTX *x;
    c->evp = NULL;
    if (!reel__crypto_hold())
        return reel__err(REEL_INTERRUPTED, "SHA-256 refused: the process is exiting");
    if (!(x = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(x, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(x);
        reel__crypto_release();
        return reel__err(REEL_NOMEM, "out of memory");
    }
    c->evp = x;
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
    reel__crypto_release();
    return ok && len == REEL__SHA256_BYTES ? REEL_OK : reel__err(REEL_ERROR, "SHA-256 failed");
}
