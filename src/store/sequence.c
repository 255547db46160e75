/* sequence.c - sequences in the file: their rows, looked up, made, listed and deleted. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/db.h"
#include "base/error.h"
#include "store/sequence.h"

int reel__seq_check_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > REEL__MAX_NAME)
        return reel__err(REEL_INVALID, "a sequence name must be 1..%d bytes", REEL__MAX_NAME);
    return REEL_OK;
}

int reel__seq_check_params(const reel_seq_params *p, size_t *frame_size)
{
    if (p->time_base.num <= 0 || p->time_base.den <= 0)
        return reel__err(REEL_INVALID, "time base %d/%d: both parts must be > 0",
                         (int)p->time_base.num, (int)p->time_base.den);
    if (!reel_pix_fmt_name(p->pix_fmt))
        return reel__err(REEL_UNSUPPORTED, "pixel format %d is not supported", p->pix_fmt);
    return reel_frame_size(p->pix_fmt, p->width, p->height, frame_size);
}

static const char SQL_OPEN[] = "SELECT id, width, height, pix_fmt, tb_num, tb_den, source "
                               "FROM reel_sequence WHERE name = ?1";

void reel__seqrec_clear(reel__seqrec *r)
{
    free(r->name);
    free(r->source);
    memset(r, 0, sizeof *r);
}

/* Fill r from a reel_sequence row (id, width, height, pix_fmt, tb_num, tb_den, source). */
static int from_row(const char *name, sqlite3_stmt *st, reel__seqrec *r)
{
    const char *fmt = (const char *)sqlite3_column_text(st, 3);
    const char *src = (const char *)sqlite3_column_text(st, 6);
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    r->width = sqlite3_column_int(st, 1);
    r->height = sqlite3_column_int(st, 2);
    r->time_base.num = sqlite3_column_int(st, 4);
    r->time_base.den = sqlite3_column_int(st, 5);
    if (!fmt || reel_pix_fmt_from_name(fmt, &r->pix_fmt) != REEL_OK ||
        reel_frame_size(r->pix_fmt, r->width, r->height, &r->frame_size) != REEL_OK ||
        r->time_base.num <= 0 || r->time_base.den <= 0)
        return reel__err(REEL_CORRUPT, "sequence '%s': invalid format, size or time base", name);
    r->name = strdup(name);
    r->source = src ? strdup(src) : NULL;
    if (!r->name || (src && !r->source)) {
        reel__seqrec_clear(r);
        return reel__err(REEL_NOMEM, "out of memory");
    }
    return REEL_OK;
}

int reel__seqrec_load(sqlite3 *db, const char *name, reel__seqrec *r)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, SQL_OPEN, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return reel__sqlerr(db, rc, "opening a sequence");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = from_row(name, st, r);
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
    if ((rc = reel__seq_check_name(name)) != REEL_OK || (rc = reel__seq_check_params(p, &fs)) != REEL_OK)
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

int reel__seq_list(reel__sdb *s, int (*cb)(void *, const char *), void *ctx)
{
    reel__reader *r;
    sqlite3_stmt *st = NULL;
    int rc, stop = 0;
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

int reel__seq_info(reel__sdb *d, const reel__seqrec *q, reel_seq_info *info)
{
    reel__reader *r;
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = reel__reader_get(d, &r)) != REEL_OK)
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
    reel__reader_put(d, r);
    return rc;
}
