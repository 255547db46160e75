/* sequence.c - sequences: create, open, list, remove, metadata. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_NAME 255

int reel__seq_check(const reel_seq *q)
{
    if (!q || reel__magic(q) != REEL__MAGIC_SEQ)
        return reel__err(REEL_MISUSE, "not an open reel_seq handle");
    return REEL_OK;
}

static int check_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > MAX_NAME)
        return reel__err(REEL_INVALID, "a sequence name must be 1..%d bytes", MAX_NAME);
    return REEL_OK;
}

static int check_params(const reel_seq_params *p, size_t *frame_size)
{
    if (p->time_base.num <= 0 || p->time_base.den <= 0)
        return reel__err(REEL_INVALID, "time base %d/%d: both parts must be > 0",
                         (int)p->time_base.num, (int)p->time_base.den);
    if (!reel_pix_fmt_name(p->pix_fmt))
        return reel__err(REEL_UNSUPPORTED, "pixel format %d is not supported", p->pix_fmt);
    return reel_frame_size(p->pix_fmt, p->width, p->height, frame_size);
}

/* Build a handle from a reel_sequence row (id, width, height, pix_fmt, tb_num, tb_den, source). */
static int handle_from_row(reel_store *s, const char *name, sqlite3_stmt *st, reel_seq **out)
{
    reel_seq *q = reel__zalloc_spaced(sizeof *q);
    const char *fmt = (const char *)sqlite3_column_text(st, 3);
    const char *src = (const char *)sqlite3_column_text(st, 6);
    if (!q)
        return reel__err(REEL_NOMEM, "out of memory");
    q->store = s;
    q->id = sqlite3_column_int64(st, 0);
    q->width = sqlite3_column_int(st, 1);
    q->height = sqlite3_column_int(st, 2);
    q->time_base.num = sqlite3_column_int(st, 4);
    q->time_base.den = sqlite3_column_int(st, 5);
    if (!fmt || reel_pix_fmt_from_name(fmt, &q->pix_fmt) != REEL_OK ||
        reel_frame_size(q->pix_fmt, q->width, q->height, &q->frame_size) != REEL_OK ||
        q->time_base.num <= 0 || q->time_base.den <= 0) {
        free(q);
        return reel__err(REEL_CORRUPT, "sequence '%s': invalid format, size or time base", name);
    }
    q->name = strdup(name);
    q->source = src ? strdup(src) : NULL;
    if (!q->name || (src && !q->source)) {
        free(q->name);
        free(q);
        return reel__err(REEL_NOMEM, "out of memory");
    }
    q->stat = reel__seqstat_for(s, q->id);
    q->magic = REEL__MAGIC_SEQ;
    pthread_mutex_lock(&s->lock);
    s->open_seqs++;
    q->next_open = s->seqs;
    s->seqs = q;
    pthread_mutex_unlock(&s->lock);
    *out = q;
    return REEL_OK;
}

static const char SQL_OPEN[] = "SELECT id, width, height, pix_fmt, tb_num, tb_den, source "
                               "FROM reel_sequence WHERE name = ?1";

/* Look the sequence up on db and build a handle. */
static int open_on(reel_store *s, sqlite3 *db, const char *name, reel_seq **out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, SQL_OPEN, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return reel__sqlerr(db, rc, "opening a sequence");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = handle_from_row(s, name, st, out);
    else if (rc == SQLITE_DONE)
        rc = reel__err(REEL_NOTFOUND, "no sequence named '%s'", name);
    else
        rc = reel__sqlerr(db, rc, "opening a sequence");
    sqlite3_finalize(st);
    return rc;
}

int reel__seq_insert(sqlite3 *db, const char *name, const reel_seq_params *p, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    size_t fs;
    int rc;
    if ((rc = check_name(name)) != REEL_OK || (rc = check_params(p, &fs)) != REEL_OK)
        return rc;
    rc = sqlite3_prepare_v2(db,
                            "INSERT INTO reel_sequence(name, width, height, pix_fmt, tb_num, "
                            "tb_den, source) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, p->width);
        sqlite3_bind_int(st, 3, p->height);
        sqlite3_bind_text(st, 4, reel_pix_fmt_name(p->pix_fmt), -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, p->time_base.num);
        sqlite3_bind_int(st, 6, p->time_base.den);
        if (p->source)
            sqlite3_bind_text(st, 7, p->source, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE)
        return reel__err(REEL_EXISTS, "a sequence named '%s' exists already", name);
    if (rc != SQLITE_DONE)
        return reel__sqlerr(db, rc, "creating a sequence");
    if (id)
        *id = sqlite3_last_insert_rowid(db);
    return REEL_OK;
}

int reel_seq_create(reel_store *s, const char *name, const reel_seq_params *p, reel_seq **out)
{
    size_t fs;
    int rc;
    if (reel__store_check(s) != REEL_OK || !name || !p || !out)
        return reel__err(REEL_MISUSE, "reel_seq_create: NULL or closed argument");
    if ((rc = check_name(name)) != REEL_OK || (rc = check_params(p, &fs)) != REEL_OK)
        return rc;
    if ((rc = reel__writer_lock(s)) != REEL_OK)
        return rc;
    rc = reel__seq_insert(s->wdb, name, p, NULL);
    if (rc == REEL_OK)
        rc = open_on(s, s->wdb, name, out);
    reel__writer_unlock(s);
    return rc;
}

int reel_seq_open(reel_store *s, const char *name, reel_seq **out)
{
    reel__reader *r;
    int rc;
    if (reel__store_check(s) != REEL_OK || !name || !out)
        return reel__err(REEL_MISUSE, "reel_seq_open: NULL or closed argument");
    if ((rc = reel__reader_get(s, &r)) != REEL_OK)
        return rc;
    rc = open_on(s, r->db, name, out);
    reel__reader_put(s, r);
    return rc;
}

int reel_seq_close(reel_seq *q)
{
    if (!q)
        return REEL_OK;
    if (reel__seq_check(q) != REEL_OK)
        return REEL_MISUSE;
    if (reel__pins_total(&q->pins) > 0)
        return reel__err(REEL_MISUSE, "reel_seq_close: %lld frame handle(s) not released",
                         (long long)reel__pins_total(&q->pins));
    if (reel__wb_pending(q, -1)) { /* its frames put through the cache are stored first */
        int rc = reel__writer_lock(q->store);
        if (rc == REEL_OK) {
            rc = reel__wb_flush_locked(q->store, q);
            reel__writer_unlock(q->store);
        }
        if (rc != REEL_OK)
            return rc; /* the handle stays open: nothing is lost, the caller may retry */
    }
    reel__prefetch_forget(q);
    q->magic = REEL__MAGIC_DEAD;
    pthread_mutex_lock(&q->store->lock);
    q->store->open_seqs--;
    {
        reel_seq **p = &q->store->seqs;
        while (*p != q)
            p = &(*p)->next_open;
        *p = q->next_open;
    }
    pthread_mutex_unlock(&q->store->lock);
    free(q->name);
    free(q->source);
    free(q);
    return REEL_OK;
}

static int run_bound(sqlite3 *db, const char *sql, int64_t id)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? REEL_OK : reel__sqlerr(db, rc, "removing a sequence");
}

int reel__seq_delete(sqlite3 *db, int64_t id)
{
    static const char *const steps[] = {
        "DELETE FROM reel_blob WHERE id IN (SELECT blob_id FROM reel_frame WHERE seq_id = ?1)",
        "DELETE FROM reel_frame WHERE seq_id = ?1",
        "DELETE FROM reel_access WHERE seq_id = ?1",
        "DELETE FROM reel_source WHERE seq_id = ?1",
        "DELETE FROM reel_sequence WHERE id = ?1",
    };
    size_t i;
    int rc = REEL_OK;
    for (i = 0; rc == REEL_OK && i < sizeof steps / sizeof steps[0]; i++)
        rc = run_bound(db, steps[i], id);
    return rc;
}

int reel__seq_id(sqlite3 *db, const char *name, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT id FROM reel_sequence WHERE name = ?1", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *id = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return REEL_OK;
    if (rc == SQLITE_DONE)
        return reel__err(REEL_NOTFOUND, "no sequence named '%s'", name);
    return reel__sqlerr(db, rc, "looking up a sequence");
}

void reel__seq_forget(reel_store *s, int64_t id)
{
    if (reel__writer_lock(s) == REEL_OK) { /* its queued frames are gone with it */
        reel__wb_forget_locked(s, id);
        reel__writer_unlock(s);
    }
    reel__cache_purge(s->cache, s->serial, id);
    reel__access_forget(s->access, id);
}

int reel_seq_remove(reel_store *s, const char *name)
{
    int64_t id = 0;
    int rc;
    if (reel__store_check(s) != REEL_OK || !name)
        return reel__err(REEL_MISUSE, "reel_seq_remove: NULL or closed argument");
    if ((rc = reel__writer_lock(s)) != REEL_OK)
        return rc;
    if ((rc = reel__exec(s->wdb, "BEGIN IMMEDIATE")) != REEL_OK) {
        reel__writer_unlock(s);
        return rc;
    }
    rc = reel__seq_id(s->wdb, name, &id);
    if (rc == REEL_OK)
        rc = reel__seq_delete(s->wdb, id);
    if (rc == REEL_OK)
        rc = reel__exec(s->wdb, "COMMIT");
    if (rc != REEL_OK)
        sqlite3_exec(s->wdb, "ROLLBACK", NULL, NULL, NULL);
    reel__writer_unlock(s);
    if (rc == REEL_OK)
        reel__seq_forget(s, id);
    return rc;
}

int reel_seq_list(reel_store *s, int (*cb)(void *, const char *), void *ctx)
{
    reel__reader *r;
    sqlite3_stmt *st = NULL;
    int rc, stop = 0;
    if (reel__store_check(s) != REEL_OK || !cb)
        return reel__err(REEL_MISUSE, "reel_seq_list: NULL or closed argument");
    if ((rc = reel__reader_get(s, &r)) != REEL_OK)
        return rc;
    rc = sqlite3_prepare_v2(r->db, "SELECT name FROM reel_sequence ORDER BY name", -1, &st, NULL);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && (stop = cb(ctx, (const char *)sqlite3_column_text(st, 0))))
            break;
    }
    if (stop)
        rc = stop;
    else if (rc == SQLITE_DONE)
        rc = REEL_OK;
    else
        rc = reel__sqlerr(r->db, rc, "listing sequences");
    sqlite3_finalize(st);
    reel__reader_put(s, r);
    return rc;
}

int reel_seq_info_get(reel_seq *q, reel_seq_info *info)
{
    reel__reader *r;
    sqlite3_stmt *st = NULL;
    int rc;
    if (reel__seq_check(q) != REEL_OK || !info)
        return reel__err(REEL_MISUSE, "reel_seq_info_get: NULL or closed argument");
    if ((rc = reel__reader_get(q->store, &r)) != REEL_OK)
        return rc;
    rc = sqlite3_prepare_v2(
        r->db,
        "SELECT s.frames, s.raw_bytes, s.stored_bytes, "
        "(SELECT f.pts + f.duration FROM reel_frame f WHERE f.seq_id = s.id ORDER BY f.idx DESC "
        "LIMIT 1) - (SELECT f.pts FROM reel_frame f WHERE f.seq_id = s.id ORDER BY f.idx LIMIT 1) "
        "FROM reel_sequence s WHERE s.id = ?1",
        -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, q->id);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW) {
        memset(info, 0, sizeof *info);
        info->name = q->name;
        info->source = q->source;
        info->width = q->width;
        info->height = q->height;
        info->pix_fmt = q->pix_fmt;
        info->frame_size = q->frame_size;
        info->time_base = q->time_base;
        info->frame_count = sqlite3_column_int64(st, 0);
        info->raw_bytes = sqlite3_column_int64(st, 1);
        info->stored_bytes = sqlite3_column_int64(st, 2);
        info->duration = sqlite3_column_int64(st, 3);
        rc = REEL_OK;
    } else if (rc == SQLITE_DONE) {
        rc = reel__err(REEL_NOTFOUND, "sequence '%s' was removed", q->name);
    } else {
        rc = reel__sqlerr(r->db, rc, "reading sequence metadata");
    }
    sqlite3_finalize(st);
    reel__reader_put(q->store, r);
    return rc;
}

int reel_seq_frame_count(reel_seq *q, int64_t *count)
{
    reel_seq_info info;
    int rc;
    if (reel__seq_check(q) != REEL_OK || !count)
        return reel__err(REEL_MISUSE, "reel_seq_frame_count: NULL or closed argument");
    if ((rc = reel_seq_info_get(q, &info)) == REEL_OK)
        *count = info.frame_count;
    return rc;
}

void reel__seq_pin_req(reel_seq *q, int64_t idx, reel__frame_ref *ref, reel__pin_req *r)
{
    reel__seqpol *pol = reel__seqstat_policy(q->stat);
    reel_store *s = q->store;
    if (ref) {
        ref->seq = q;
        ref->idx = idx;
    }
    r->store = s->serial;
    r->seq = q->id;
    r->idx = idx;
    r->size = q->frame_size;
    r->load = reel__load_frame;
    r->ctx = ref;
    r->access = s->access;
    r->stat = q->stat;
    r->prio = (pol ? atomic_load_explicit(&pol->priority, memory_order_relaxed) : 0) -
              REEL_PRIORITY_LOW;
}
