/* handles.c - checks of the public handles, and how a sequence's frames reach the cache. */
#include "config.h"

#include "base/error.h"
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

int reel__load_frame(void *ctx, uint8_t *pixels, reel_frame_info *info)
{
    reel__frame_ref *r = ctx;
    return reel__frame_read(r->seq->store->db, &r->seq->rec, r->idx, pixels, info);
}
