/* annot.c - the reel_annot_* entry points: handle and argument checks, the writer's lock and
 * transaction, and a read connection from the pool, around the SQL of src/store/annot.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/db.h"
#include "base/error.h"
#include "store/annot.h"

typedef struct {
    reel_seq *q;
    const char *key;
    const reel_annot *a;
    size_t n;
} put_args;

static int put_in(void *ctx, sqlite3 *db)
{
    put_args *p = ctx;
    return reel__annot_put(db, &p->q->rec, p->key, p->a, p->n);
}

static int put(reel_seq *q, const char *key, const reel_annot *a, size_t n)
{
    put_args p = {q, key, a, n};
    int rc;
    if ((rc = reel__annot_check(key, a, n)) != REEL_OK)
        return rc;
    return reel__writer_txn(q->store->db, q->rec.name, put_in, &p);
}

int reel_annot_set(reel_seq *q, const char *key, const reel_annot *a)
{
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!key || !a)
        return reel__null_arg(__func__);
    return put(q, key, a, 1);
}

int reel_annots_set(reel_seq *q, const char *key, const reel_annot *a, size_t n)
{
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!key || (!a && n))
        return reel__null_arg(__func__);
    return n ? put(q, key, a, n) : REEL_OK;
}

/* One allocation holding a copy of a and what it points to. */
static int copy_one(void *ctx, const char *key, const reel_annot *a)
{
    size_t dl = a->dtype ? strlen(a->dtype) + 1 : 0, pl = a->producer ? strlen(a->producer) + 1 : 0;
    reel_annot *c = reel__malloc(sizeof *c + a->size + 1 + dl + pl);
    char *p;
    (void)key;
    if (!c)
        return reel__err(REEL_NOMEM, "out of memory");
    *c = *a;
    p = (char *)(c + 1);
    if (a->size)
        memcpy(p, a->value, a->size);
    p[a->size] = '\0';
    c->value = p;
    p += a->size + 1;
    if (dl)
        c->dtype = memcpy(p, a->dtype, dl);
    if (pl)
        c->producer = memcpy(p + dl, a->producer, pl);
    *(reel_annot **)ctx = c;
    return -1; /* one row at most: stop, found */
}

/* fn over the annotations of q (key NULL: every key; index -1: every frame) on a read
 * connection. */
static int each(reel_seq *q, const char *key, int64_t index, reel__annot_fn fn, void *ctx)
{
    reel__reader *r;
    int rc;
    if ((rc = reel__reader_get(q->store->db, &r)) != REEL_OK)
        return rc;
    rc = reel__annot_each(r->db, &q->rec, key, index, fn, ctx);
    reel__reader_put(q->store->db, r);
    return rc;
}

int reel_annot_get(reel_seq *q, const char *key, int64_t index, reel_annot **out)
{
    reel_annot *got = NULL;
    int rc;
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!key || !out)
        return reel__null_arg(__func__);
    *out = NULL;
    if (index < 0)
        return reel__err(REEL_INVALID, "frame index %lld < 0", (long long)index);
    rc = each(q, key, index, copy_one, &got);
    if (rc == -1) {
        *out = got;
        return REEL_OK;
    }
    if (rc != REEL_OK)
        return rc;
    return reel__err(REEL_NOTFOUND, "sequence '%s' frame %lld has no annotation '%s'",
                     q->rec.name, (long long)index, key);
}

int reel_annot_foreach(reel_seq *q, const char *key,
                       int (*cb)(void *ctx, const char *key, const reel_annot *a), void *ctx)
{
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!cb)
        return reel__null_arg(__func__);
    return each(q, key, -1, cb, ctx);
}

typedef struct {
    reel_seq *q;
    const char *key;
    int64_t index;
    int gone;
} delete_args;

static int delete_in(void *ctx, sqlite3 *db)
{
    delete_args *a = ctx;
    return reel__annot_delete(db, &a->q->rec, a->key, a->index, &a->gone);
}

int reel_annot_delete(reel_seq *q, const char *key, int64_t index)
{
    delete_args a = {q, key, index, 0};
    int rc;
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!key)
        return reel__null_arg(__func__);
    rc = reel__writer_run(q->store->db, delete_in, &a);
    if (rc == REEL_OK && !a.gone)
        rc = reel__err(REEL_NOTFOUND, "sequence '%s' frame %lld has no annotation '%s'",
                       q->rec.name, (long long)index, key);
    return rc;
}

int reel_annot_count(reel_seq *q, const char *key, int64_t *count)
{
    reel__reader *r;
    int rc;
    if (reel__seq_check(q, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!count)
        return reel__null_arg(__func__);
    *count = 0;
    if ((rc = reel__reader_get(q->store->db, &r)) != REEL_OK)
        return rc;
    rc = reel__annot_count(r->db, &q->rec, key, count);
    reel__reader_put(q->store->db, r);
    return rc;
}
