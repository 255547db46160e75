/* handle.c - frame handles: reel_frame_get() through the store's cache, lazy pixels, release,
 * and what a handle tells of its frame. */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "base/error.h"
#include "store/counts.h"
#include "store/frame.h"
#include "store/store.h"
#include "tier/flusher.h"
#include "tier/policy.h"

#define MAGIC_FRAME 0x7266726du /* "rfrm" */

struct reel_frame {
    uint32_t magic;
    reel_seq *seq;
    reel_cache *cache;
    int64_t index;
    void *entry; /* pinned cache entry; NULL while a lazy handle has no pixels */
    int slot;    /* the pins slot of the thread that got it */
    unsigned flags;
    const void *pixels;
    reel_frame_info info;
    pthread_mutex_t lock;
};

/*
 * Handles come from a small per-thread free list of cache-line-aligned blocks: no allocator on
 * the hit path, and no two threads' handles on one cache line (malloc'd handles of two
 * threads sharing an arena can sit side by side, and both write theirs on every get). A
 * thread's list is freed when the thread exits.
 *
 * The list is found through pthread_getspecific alone, not a _Thread_local pointer: the key's
 * destructor runs at thread exit, after which a TLS variable of a dlopen'ed library (the
 * Python module loads libreel so) must not be written (glibc frees that TLS block from
 * whichever thread reuses the stack; TSan sees the destructor's write racing that free). A
 * release in a later destructor finds the key cleared and starts a new list, which glibc's
 * next destructor round frees.
 */
#define HANDLE_SIZE ((sizeof(reel_frame) + REEL__SPACING - 1) & ~(size_t)(REEL__SPACING - 1))
#define HANDLE_CACHE 32

typedef struct handle_cache {
    int n;
    reel_frame *free[HANDLE_CACHE];
} handle_cache;

static pthread_key_t cache_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_ok;

static void cache_destroy(void *p)
{
    handle_cache *hc = p;
    while (hc->n > 0)
        free(hc->free[--hc->n]);
    free(hc);
}

static void key_init(void) { key_ok = pthread_key_create(&cache_key, cache_destroy) == 0; }

/* This thread's list, or NULL. */
static handle_cache *thread_cache(void)
{
    pthread_once(&key_once, key_init);
    return key_ok ? pthread_getspecific(cache_key) : NULL;
}

static reel_frame *handle_alloc(void)
{
    handle_cache *hc = thread_cache();
    if (hc && hc->n > 0)
        return hc->free[--hc->n];
    return aligned_alloc(REEL__SPACING, HANDLE_SIZE);
}

static void handle_free(reel_frame *f)
{
    handle_cache *hc = thread_cache();
    /* on a cache line of its own: it changes on every get and release */
    if (!hc && key_ok && (hc = reel__zalloc_spaced(sizeof *hc)) &&
        pthread_setspecific(cache_key, hc) != 0) {
        free(hc);
        hc = NULL;
    }
    if (hc && hc->n < HANDLE_CACHE)
        hc->free[hc->n++] = f;
    else
        free(f);
}

/* Pin the frame's pixels, as kind. */
static int pin(reel_frame *f, reel__pin_kind kind)
{
    reel__frame_ref ref = {f->seq, f->index};
    reel__pin_req r;
    reel__pinned out;
    int rc;
    reel__seq_pin_req(f->seq, f->index, &ref, &r);
    if ((rc = reel__cache_pin(f->cache, &r, kind, &out)) == REEL_OK) {
        f->entry = out.entry;
        f->pixels = out.pixels;
        f->info = out.info;
    }
    return rc;
}

static void pinned_delta(reel_frame *f, int delta)
{
    reel__pins_add(&f->seq->pins, f->slot, delta);
}

int reel_frame_get(reel_seq *seq, int64_t index, unsigned flags, reel_frame **out)
{
    reel_frame *f;
    int rc;
    if (reel__seq_check(seq, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!out)
        return reel__null_arg(__func__);
    if (flags & ~(unsigned)(REEL_GET_LAZY | REEL_GET_ONCE))
        return reel__err(REEL_INVALID, "reel_frame_get: unknown flags 0x%x", flags);
    if (!(f = handle_alloc()))
        return reel__err(REEL_NOMEM, "out of memory");
    f->magic = 0;
    f->entry = NULL;
    f->pixels = NULL;
    memset(&f->info, 0, sizeof f->info);
    f->seq = seq;
    f->cache = seq->store->cache;
    f->index = index;
    f->slot = reel__pins_slot();
    f->flags = flags;
    pthread_mutex_init(&f->lock, NULL);
    pinned_delta(f, 1);
    if ((flags & REEL_GET_LAZY) && reel__wb_pending(seq, index))
        f->flags = flags &= ~(unsigned)REEL_GET_LAZY; /* not stored yet: its pixels are here */
    rc = (flags & REEL_GET_LAZY) ? reel__frame_info(seq->store->db, &seq->rec, index, &f->info)
                                  : pin(f, REEL__PIN_COUNTED);
    if (rc != REEL_OK) {
        pinned_delta(f, -1);
        pthread_mutex_destroy(&f->lock);
        handle_free(f);
        return rc;
    }
    if (flags & REEL_GET_LAZY)
        reel__access_count(seq->store->access, seq->rec.id, index);
    reel__prefetch_saw(seq, index);
    reel__policy_after_get(seq, index);
    reel__flusher_start(seq->store->flusher);
    f->magic = MAGIC_FRAME;
    *out = f;
    return REEL_OK;
}

static int frame_check(const reel_frame *f, const char *fn)
{
    if (!f || reel__magic(f) != MAGIC_FRAME)
        return reel__err(REEL_MISUSE, "%s: not a reel_frame handle", fn);
    return reel__seq_check(f->seq, fn); /* (and not one inherited through fork) */
}

int reel_frame_pixels(reel_frame *f, const void **pixels, size_t *size)
{
    int rc = REEL_OK;
    if (frame_check(f, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!pixels)
        return reel__null_arg(__func__);
    pthread_mutex_lock(&f->lock);
    if (!f->entry)
        rc = pin(f, REEL__PIN_UNCOUNTED); /* the get counted already */
    pthread_mutex_unlock(&f->lock);
    if (rc != REEL_OK)
        return rc;
    *pixels = f->pixels;
    if (size)
        *size = f->seq->rec.frame_size;
    return REEL_OK;
}

int reel_frame_meta(const reel_frame *f, reel_frame_info *info)
{
    if (frame_check(f, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!info)
        return reel__null_arg(__func__);
    *info = f->info;
    return REEL_OK;
}

int reel_frame_describe(const reel_frame *f, reel_frame_desc *d)
{
    const reel_seq *q;
    if (frame_check(f, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!d)
        return reel__null_arg(__func__);
    q = f->seq;
    memset(d, 0, sizeof *d);
    d->index = f->index;
    d->pts = f->info.pts;
    d->time_s = (double)f->info.pts * q->rec.time_base.num / q->rec.time_base.den;
    d->width = q->rec.width;
    d->height = q->rec.height;
    d->pix_fmt = q->rec.pix_fmt;
    d->size = q->rec.frame_size;
    return reel_pix_fmt_layout(q->rec.pix_fmt, q->rec.width, q->rec.height, d->planes,
                               &d->nplanes);
}

/* The frame's count and latest access: in the file plus what is still in memory. */
static int access_of(const reel_frame *f, int64_t *count, int64_t *last_ms)
{
    reel_store *s = f->seq->store;
    int64_t stored = 0, stored_ms = 0, mem_ms = 0;
    int rc, locked;
    if (f->entry) /* the entry's own counts join the store's table first */
        reel__cache_hand_over(f->cache, f->entry);
    /* the writer locked: no flush moves counts meanwhile */
    locked = reel__sdb_writable(s->db) && reel__writer_lock(s->db) == REEL_OK;
    rc = reel__counts_stored(s->db, f->seq->rec.id, f->index, &stored, &stored_ms);
    *count = stored + reel__access_peek(s->access, f->seq->rec.id, f->index, &mem_ms);
    *last_ms = mem_ms > stored_ms ? mem_ms : stored_ms;
    if (locked)
        reel__writer_unlock(s->db);
    return rc;
}

int reel_frame_access_count(const reel_frame *f, int64_t *count)
{
    int64_t ms;
    if (frame_check(f, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!count)
        return reel__null_arg(__func__);
    return access_of(f, count, &ms);
}

int reel_frame_last_access(const reel_frame *f, int64_t *unix_ms)
{
    int64_t n;
    if (frame_check(f, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!unix_ms)
        return reel__null_arg(__func__);
    return access_of(f, &n, unix_ms);
}

/*
 * Unpin a handle's pixels. A one-pass read goes to the cold end, except on a temporal
 * sequence: there the frame stays warm as the reference of the next one, and the one the
 * scan released before it (no longer anybody's reference) goes to the cold end instead.
 */
static void unpin(reel_frame *f)
{
    reel_seq *q = f->seq;
    int64_t prev;
    if (!(f->flags & REEL_GET_ONCE)) {
        reel__cache_unpin(f->cache, f->entry, REEL__UNPIN_HOT);
        return;
    }
    if (q->rec.codec != REEL_CODEC_TEMPORAL) {
        reel__cache_unpin(f->cache, f->entry, REEL__UNPIN_COLD);
        return;
    }
    reel__cache_unpin(f->cache, f->entry, REEL__UNPIN_SCAN);
    prev = atomic_exchange(&q->scan_last, f->index);
    if (prev >= 0 && prev != f->index)
        reel__cache_demote(f->cache, q->store->serial, q->rec.id, prev);
}

int reel_frame_release(reel_frame *f)
{
    if (!f)
        return REEL_OK;
    if (frame_check(f, __func__) != REEL_OK)
        return REEL_MISUSE;
    f->magic = REEL__MAGIC_DEAD;
    if (f->entry)
        unpin(f);
    pinned_delta(f, -1);
    pthread_mutex_destroy(&f->lock);
    handle_free(f);
    return REEL_OK;
}

int reel_frames_release(reel_frame **frames, size_t n)
{
    size_t i;
    if (!frames && n)
        return reel__err(REEL_MISUSE, "reel_frames_release: NULL array");
    for (i = 0; i < n; i++) {
        reel_frame_release(frames[i]);
        frames[i] = NULL;
    }
    return REEL_OK;
}
