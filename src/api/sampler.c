/* sampler.c - a training run's order of items: each worker's seeded, epoch-dependent, shuffled,
 * chunk-local share (reel_sample). Pure arithmetic: no state, no allocation, no I/O.
 *
 * The n items are cut into chunks of `chunk` consecutive items (the last one may be short).
 * An epoch's order is: the full chunks in a keyed pseudo-random order, the short chunk last,
 * each chunk's items in a keyed pseudo-random order of their own. That order, padded by
 * wrapping round to a multiple of world, is cut into world equal runs: rank r's share is run r.
 * So every item is in exactly one share (a few at the wrap in two), and a share covers about
 * share/chunk + 2 chunks: consecutive items are frames that lie together in the store, and a
 * worker mostly reads blocks no other worker reads.
 *
 * The permutations are Feistel networks on the next power of 4 with cycle walking (the
 * construction of format-preserving encryption): a bijection of [0, n) computed for any
 * position in O(1), with no table, so that any position can be asked for (resuming) and
 * 10^10 items cost nothing more than 10.
 */
#include "config.h"

#include <stdint.h>

#include "base/error.h"
#include "reel.h"

#define ROUNDS 4

static uint64_t mix64(uint64_t x) /* splitmix64's finaliser */
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* A keyed bijection of [0, n), n >= 1. */
typedef struct perm {
    uint64_t n, mask;
    unsigned half; /* bits per Feistel half */
    uint64_t key[ROUNDS];
} perm;

static void perm_init(perm *p, uint64_t n, uint64_t key)
{
    unsigned bits = 2;
    int i;
    while (bits < 64 && (n - 1) >> bits)
        bits++;
    bits += bits & 1;
    p->n = n;
    p->half = bits / 2;
    p->mask = (UINT64_C(1) << p->half) - 1;
    for (i = 0; i < ROUNDS; i++)
        p->key[i] = mix64(key + 0x9e3779b97f4a7c15u * (uint64_t)(i + 1));
}

static uint64_t perm_at(const perm *p, uint64_t x)
{
    if (p->n <= 1)
        return 0;
    do { /* cycle walking: at most ~4 rounds on average, as the domain is < 4n */
        uint64_t l = x >> p->half, r = x & p->mask, t;
        int i;
        for (i = 0; i < ROUNDS; i++) {
            t = r;
            r = l ^ (mix64(r ^ p->key[i]) & p->mask);
            l = t;
        }
        x = l << p->half | r;
    } while (x >= p->n);
    return x;
}

int64_t reel_sample_count(const reel_sample_options *o)
{
    if (!o || o->items <= 0 || o->world < 1 || o->rank < 0 || o->rank >= o->world)
        return 0;
    return o->items / o->world + (o->items % o->world != 0);
}

int reel_sample(const reel_sample_options *o, int64_t position, int64_t count, int64_t *items)
{
    uint64_t n, c, full, share, key, last = UINT64_MAX;
    perm chunks, inner;
    int64_t k;
    size_t i;
    if (!o || (count > 0 && !items))
        return reel__null_arg(__func__);
    for (i = 0; i < sizeof o->reserved / sizeof o->reserved[0]; i++)
        if (o->reserved[i])
            return reel__err(REEL_INVALID, "reel_sample_options.reserved must be zero");
    if (o->items < 0 || o->chunk < 0 || o->world < 1 || o->rank < 0 || o->rank >= o->world)
        return reel__err(REEL_INVALID,
                         "reel_sample: %lld items, chunk %lld, rank %d of %d: need items >= 0, "
                         "chunk >= 0 and 0 <= rank < world",
                         (long long)o->items, (long long)o->chunk, o->rank, o->world);
    share = (uint64_t)reel_sample_count(o);
    if (position < 0 || count < 0 || (uint64_t)position > share ||
        (uint64_t)count > share - (uint64_t)position)
        return reel__err(REEL_INVALID,
                         "reel_sample: %lld items from position %lld are outside this worker's "
                         "share of %llu",
                         (long long)count, (long long)position, (unsigned long long)share);
    n = (uint64_t)o->items;
    c = o->chunk ? (uint64_t)o->chunk : 256;
    if (c > n)
        c = n;
    full = c ? n / c : 0; /* chunks of c items; a short one (n % c items) goes last */
    key = mix64(o->seed ^ mix64(o->epoch + 0x632be59bd9b4e019u));
    if (full)
        perm_init(&chunks, full, key);
    for (k = 0; k < count; k++) {
        uint64_t g = (uint64_t)o->rank * share + (uint64_t)(position + k), ch, len, off;
        if (g >= n) /* the padding: wrap round to the start of the order */
            g %= n;
        ch = g / c;
        off = g % c;
        len = ch < full ? c : n - full * c;
        if (ch < full)
            ch = perm_at(&chunks, ch);
        if (ch != last) /* a chunk's own order */
            perm_init(&inner, len, key ^ mix64(ch + 1));
        last = ch;
        items[k] = (int64_t)(ch * c + perm_at(&inner, off));
    }
    return REEL_OK;
}
