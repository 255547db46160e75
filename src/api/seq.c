/* seq.c - sequences and their frames through the public API: handles over the records and
 * frames of src/store, with what the RAM tier must know (queued puts stored first, a removed
 * sequence forgotten, read-ahead stopped before a handle goes). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/db.h"
#include "base/error.h"
#include "store/frame.h"
#include "store/store.h"
#include "tier/share.h"

int reel__seq_open_on(reel_store *s, sqlite3 *db, const char *name, reel_seq **out)
{
    reel_seq *q = reel__zalloc_spaced(sizeof *q);
    int rc;
    if (!q)
        return reel__err(REEL_NOMEM, "out of memory");
    if ((rc = reel__seqrec_load(db, name, s->db->max_frame, &q->rec)) != REEL_OK) {
        free(q);
        return rc;
    }
    q->store = s;
    q->last_idx = -1;
    atomic_init(&q->scan_last, -1);
    pthread_mutex_lock(&s->lock);
    q->stat = reel__share_seqstat(s->share, q->rec.id);
    q->pol = reel__seqstat_policy(q->stat);
    s->open_seqs++;
    q->next_open = s->seqs;
    s->seqs = q;
    pthread_mutex_unlock(&s->lock);
    q->magic = REEL__MAGIC_SEQ;
    *out = q;
    return REEL_OK;
}

typedef struct {
    reel_store *s;
    const char *name;
    const reel_seq_params *p;
    reel_seq **out;
} create_args;

static int create_in(void *ctx, sqlite3 *db)
{
    create_args *c = ctx;
    int rc = reel__seq_insert(db, c->name, c->p, NULL);
    return rc == REEL_OK ? reel__seq_open_on(c->s, db, c->name, c->out) : rc;
}

int reel_seq_create(reel_store *s, const char *name, const reel_seq_params *p, reel_seq **out)
{
    create_args c = {s, name, p, out};
    size_t fs;
    int rc;
    if (reel__store_check(s, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!name || !p || !out)
        return reel__null_arg(__func__);
    if ((rc = reel__seq_check_name(name)) != REEL_OK ||
        (rc = reel__seq_check_params(p, s->db->max_frame, &fs)) != REEL_OK)
        return rc;
    return reel__writer_run(s->db, create_in, &c);
}

int reel_seq_open(reel_store *s, const char *name, reel_seq **out)
{
    reel__reader *r;
    int rc;
    if (reel__store_check(s, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!name || !out)
        return reel__null_arg(__func__);
    if ((rc = reel__reader_get(s->db, &r)) != REEL_OK)
        return rc;
    rc = reel__seq_open_on(s, r->db, name, out);
    reel__reader_put(s->db, r);
    return rc;
}

int reel_seq_close(reel_seq *q)
{
    reel_seq **p;
    if (!q)
        return REEL_OK;
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (reel__pins_total(&q->pins) > 0)
        return reel__err(REEL_MISUSE, "reel_seq_close: %lld frame handle(s) not released",
                         (long long)reel__pins_total(&q->pins));
    if (reel__wb_pending(q, -1)) { /* its frames put through the cache are stored first */
        int rc = reel__writer_lock(q->store->db);
        if (rc == REEL_OK) {
            rc = reel__wb_flush_locked(q->store, q);
            reel__writer_unlock(q->store->db);
        }
        if (rc != REEL_OK)
            return rc; /* the handle stays open: nothing is lost, the caller may retry */
    }
    reel__prefetch_forget(q);
    q->magic = REEL__MAGIC_DEAD;
    pthread_mutex_lock(&q->store->lock);
    q->store->open_seqs--;
    for (p = &q->store->seqs; *p != q; p = &(*p)->next_open)
        ;
    *p = q->next_open;
    pthread_mutex_unlock(&q->store->lock);
    reel__seqrec_clear(&q->rec);
    free(q->last_px);
    free(q);
    return REEL_OK;
}

void reel__seq_forget(reel_store *s, int64_t id)
{
    if (reel__writer_lock(s->db) == REEL_OK) { /* its queued frames are gone with it */
        reel__wb_forget_locked(s, id);
        reel__writer_unlock(s->db);
    }
    reel__cache_purge(s->cache, s->serial, id);
    reel__access_forget(s->access, id);
}

typedef struct {
    const char *name;
    int64_t id;
} remove_args;

static int remove_in(void *ctx, sqlite3 *db)
{
    remove_args *r = ctx;
    int rc = reel__seq_id(db, r->name, &r->id);
    return rc == REEL_OK ? reel__seq_delete(db, r->id) : rc;
}

int reel_seq_remove(reel_store *s, const char *name)
{
    remove_args r = {name, 0};
    int rc;
    if (reel__store_check(s, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!name)
        return reel__null_arg(__func__);
    rc = reel__writer_txn(s->db, NULL, remove_in, &r);
    if (rc == REEL_OK)
        reel__seq_forget(s, r.id);
    return rc;
}

int reel_seq_list(reel_store *s, int (*cb)(void *, const char *), void *ctx)
{
    if (reel__store_check(s, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!cb)
        return reel__null_arg(__func__);
    return reel__seq_list(s->db, cb, ctx);
}

int reel_seq_get_info(reel_seq *q, reel_seq_info *info)
{
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!info)
        return reel__null_arg(__func__);
    return reel__seq_info(q->store->db, &q->rec, info);
}

int reel_seq_frame_count(reel_seq *q, int64_t *count)
{
    reel_seq_info info;
    int rc;
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!count)
        return reel__null_arg(__func__);
    if ((rc = reel__seq_info(q->store->db, &q->rec, &info)) == REEL_OK)
        *count = info.frame_count;
    return rc;
}

/* ---- frames ------------------------------------------------------------------------------ */

/* One append transaction with the writer locked here; the handle's queued puts go first. */
static int append_txn(reel_seq *q, reel__append *a)
{
    int rc;
    if ((rc = reel__writer_lock(q->store->db)) != REEL_OK)
        return rc;
    rc = reel__wb_flush_locked(q->store, q);
    reel__seq_ref_offer(q, a);
    if (rc == REEL_OK && (rc = reel__frames_append_locked(q->store->db, a)) == REEL_OK)
        reel__seq_ref_keep(q, a);
    reel__writer_unlock(q->store->db);
    return rc;
}

int reel__seq_append_encoded(reel_seq *q, const reel__encoded *frames, size_t n, int64_t *first)
{
    reel__append a;
    int rc;
    if (n == 0)
        return REEL_OK;
    memset(&a, 0, sizeof a);
    a.q = &q->rec;
    a.encoded = frames;
    a.n = n;
    a.expect = -1;
    if ((rc = append_txn(q, &a)) == REEL_OK && first)
        *first = a.first;
    return rc;
}

int reel_frames_append(reel_seq *q, const reel_frame_in *frames, size_t n, int64_t *first)
{
    reel__append a;
    size_t i;
    int rc;
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!frames && n)
        return reel__null_arg(__func__);
    if (n > SIZE_MAX / sizeof *frames) /* no array of frames holds that many */
        return reel__err(REEL_INVALID, "reel_frames_append: n = %zu is more than an array "
                         "holds (at most %zu)", n, SIZE_MAX / sizeof *frames);
    for (i = 0; i < n; i++)
        if ((rc = reel__frame_check(&q->rec, &frames[i], i)) != REEL_OK)
            return rc;
    if (n == 0)
        return REEL_OK;
    memset(&a, 0, sizeof a);
    a.q = &q->rec;
    a.raw = frames;
    a.n = n;
    a.expect = -1;
    if ((rc = append_txn(q, &a)) == REEL_OK && first)
        *first = a.first;
    return rc;
}

int reel_frame_append(reel_seq *q, const reel_frame_in *f, int64_t *index)
{
    if (!f)
        return reel__err(REEL_MISUSE, "reel_frame_append: frame must not be NULL");
    return reel_frames_append(q, f, 1, index);
}

int reel_frame_read(reel_seq *q, int64_t index, void *dst, size_t cap, reel_frame_info *info)
{
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!dst)
        return reel__null_arg(__func__);
    if (cap < q->rec.frame_size)
        return reel__err(REEL_FULL, "reel_frame_read: buffer of %zu bytes, frames need %zu", cap,
                         q->rec.frame_size);
    return reel__seq_read(q, index, dst, info);
}

int reel_frame_read_range(reel_seq *q, int64_t first, size_t n, void *dst, size_t cap)
{
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!dst && n)
        return reel__null_arg(__func__);
    if (first < 0 || n > (size_t)INT64_MAX - (size_t)first)
        return reel__err(REEL_INVALID,
                         "reel_frame_read_range: first %lld, n %zu is not a range of indexes "
                         "(first >= 0, first + n <= INT64_MAX)", (long long)first, n);
    if (n && cap / n < q->rec.frame_size)
        return reel__err(REEL_FULL,
                         "reel_frame_read_range: buffer of %zu bytes, less than %zu frames of "
                         "%zu bytes", cap, n, q->rec.frame_size);
    return reel__frame_read_range(q->store->db, &q->rec, first, n, dst);
}

int reel_frame_get_info(reel_seq *q, int64_t index, reel_frame_info *info)
{
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!info)
        return reel__null_arg(__func__);
    return reel__frame_info(q->store->db, &q->rec, index, info);
}

int reel_seq_find_pts(reel_seq *q, int64_t pts, int64_t *index)
{
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!index)
        return reel__null_arg(__func__);
    return reel__frame_find_pts(q->store->db, &q->rec, pts, index);
}

int reel_seq_resident(reel_seq *seq, int64_t first, int64_t count, unsigned char *out,
                      int64_t *resident)
{
    int64_t n;
    if (reel__seq_check(seq, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!out && count > 0)
        return reel__null_arg(__func__);
    if (first < 0 || count < 0 || count > INT64_MAX - first)
        return reel__err(REEL_INVALID, "reel_seq_resident: first %lld and count %lld must be "
                                       ">= 0 (and their sum an int64)",
                         (long long)first, (long long)count);
    n = reel__cache_resident_map(seq->store->cache, seq->store->serial, seq->rec.id, first,
                                 count, out);
    if (resident)
        *resident = n;
    return REEL_OK;
}
