/* handles.c - checks of the public handles, and how a sequence's frames reach the cache. */
#include "config.h"

#include "base/error.h"
#include "store/frame.h"
#include "tier/handles.h"

int reel__store_check(const reel_store *s)
{
    if (!s || reel__magic(s) != REEL__MAGIC_STORE)
        return reel__err(REEL_MISUSE, "not an open reel_store handle");
    return REEL_OK;
}

int reel__seq_check(const reel_seq *q)
{
    if (!q || reel__magic(q) != REEL__MAGIC_SEQ)
        return reel__err(REEL_MISUSE, "not an open reel_seq handle");
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

int reel__load_frame(void *ctx, uint8_t *pixels, reel_frame_info *info)
{
    reel__frame_ref *r = ctx;
    return reel__frame_read(r->seq->store->db, &r->seq->rec, r->idx, pixels, info);
}

void reel__seq_pin_req(reel_seq *q, int64_t idx, reel__frame_ref *ref, reel__pin_req *r)
{
    reel__seqpol *pol = reel__seqstat_policy(q->stat);
    if (ref) {
        ref->seq = q;
        ref->idx = idx;
    }
    r->store = q->store->serial;
    r->seq = q->rec.id;
    r->idx = idx;
    r->size = q->rec.frame_size;
    r->load = reel__load_frame;
    r->ctx = ref;
    r->ops = &reel__seqstat_ops;
    r->owner = q->stat;
    r->prio = (pol ? atomic_load_explicit(&pol->priority, memory_order_relaxed) : 0) -
              REEL_PRIORITY_LOW;
}
