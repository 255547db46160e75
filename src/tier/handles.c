/* handles.c - checks of the public handles, and how a sequence's frames reach the cache. */
#include "config.h"

#include "base/error.h"
#include "base/fork.h"
#include "store/frame.h"
#include "tier/handles.h"

static int inherited(const char *fn)
{
    return reel__err(REEL_MISUSE, "%s: this handle was made before fork(), in the parent "
                                  "process: open the store again in this one",
                     fn);
}

int reel__store_check(const reel_store *s, const char *fn)
{
    if (!s || reel__magic(s) != REEL__MAGIC_STORE)
        return reel__err(REEL_MISUSE, "%s: not an open reel_store handle", fn);
    if (s->forks != reel__fork_generation())
        return inherited(fn);
    return REEL_OK;
}

int reel__seq_check(const reel_seq *q, const char *fn)
{
    if (!q || reel__magic(q) != REEL__MAGIC_SEQ)
        return reel__err(REEL_MISUSE, "%s: not an open reel_seq handle", fn);
    if (q->store->forks != reel__fork_generation())
        return inherited(fn);
    return REEL_OK;
}

int64_t reel__store_pinned(reel_store *s)
{
    int64_t n = 0;
    reel_seq *q;
    pthread_mutex_lock(&s->lock);
    for (q = s->seqs; q; q = q->next_open)
        n += reel__pins_total(&q->pins);
    pthread_mutex_unlock(&s->lock);
    return n;
}

int reel__probe_frame(void *ctx)
{
    reel__frame_ref *r = ctx;
    return reel__frame_probe(r->seq->store->db, &r->seq->rec, r->idx);
}

/* The frames of a sequence resident in its store's cache, as references of temporal frames. */
static const void *held_have(void *ctx, int64_t idx, void **token)
{
    reel_seq *q = ctx;
    reel__pin_req r;
    reel__pinned out;
    reel__seq_pin_req(q, idx, NULL, &r);
    if (reel__cache_pin_resident(q->store->cache, &r, &out) != REEL_OK)
        return NULL;
    *token = out.entry;
    return out.pixels;
}

static void held_release(void *ctx, void *token)
{
    reel_seq *q = ctx;
    reel__cache_unpin(q->store->cache, token, REEL__UNPIN_REF);
}

int reel__seq_read(reel_seq *q, int64_t idx, uint8_t *pixels, reel_frame_info *info)
{
    reel__held held = {held_have, held_release, q};
    return reel__frame_read(q->store->db, &q->rec, idx, pixels, info,
                            q->rec.codec == REEL_CODEC_TEMPORAL ? &held : NULL);
}

int reel__load_frame(void *ctx, uint8_t *pixels, reel_frame_info *info)
{
    reel__frame_ref *r = ctx;
    return reel__seq_read(r->seq, r->idx, pixels, info);
}

void reel__seq_ref_offer(reel_seq *q, reel__append *a)
{
    a->ref = q->last_px;
    a->ref_index = q->last_px ? q->last_idx : -1;
}

void reel__seq_ref_keep(reel_seq *q, const reel__append *a)
{
    const reel_frame_in *last;
    if (q->rec.codec != REEL_CODEC_TEMPORAL || !a->raw || a->n == 0)
        return;
    last = &a->raw[a->n - 1];
    q->last_idx = -1;
    if (!last->pixels)
        return; /* a frame without pixels is nobody's reference */
    if (!q->last_px && !(q->last_px = reel__malloc(q->rec.frame_size)))
        return; /* the next append reads it back from the file */
    memcpy(q->last_px, last->pixels, q->rec.frame_size);
    q->last_idx = a->first + (int64_t)a->n - 1;
}
