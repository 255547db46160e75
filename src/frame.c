/* frame.c - appending frames and reading them back (by index, range or timestamp). */
#include "config.h"

#include <string.h>

#include "internal.h"

/* ---- append ----------------------------------------------------------------------------- */

int reel__check_frame(const reel_seq *q, const reel_frame_in *f, size_t i)
{
    if (f->status < REEL_STATUS_OK || f->status > REEL_STATUS_BLACK)
        return reel__err(REEL_INVALID, "frame %zu: unknown status %d", i, f->status);
    if (f->flags & ~(unsigned)REEL_FRAME_KEY)
        return reel__err(REEL_INVALID, "frame %zu: unknown flags 0x%x", i, f->flags);
    if (f->duration < 0)
        return reel__err(REEL_INVALID, "frame %zu: negative duration", i);
    if (!f->pixels) {
        if (f->status != REEL_STATUS_SKIPPED || f->size != 0)
            return reel__err(REEL_INVALID,
                             "frame %zu: pixels may be NULL only for a skipped frame of size 0", i);
        return REEL_OK;
    }
    if (f->size != q->frame_size)
        return reel__err(REEL_INVALID, "frame %zu: %zu bytes given, sequence '%s' frames are %zu",
                         i, f->size, q->name, q->frame_size);
    return REEL_OK;
}

typedef struct appender {
    reel_seq *q;
    sqlite3 *db;
    sqlite3_stmt *blob, *frame;
    int64_t next, last_pts, raw, stored;
    int have_last;
    size_t *lens, nlens; /* when lens is set: the stored size of each frame inserted */
} appender;

/* Read where the sequence ends, inside the write transaction. */
static int append_begin(appender *a)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(a->db,
                                "SELECT s.frames, (SELECT pts FROM reel_frame WHERE seq_id = s.id "
                                "ORDER BY idx DESC LIMIT 1) FROM reel_sequence s WHERE s.id = ?1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, a->q->id);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW) {
        a->next = sqlite3_column_int64(st, 0);
        a->have_last = sqlite3_column_type(st, 1) != SQLITE_NULL;
        a->last_pts = sqlite3_column_int64(st, 1);
        rc = REEL_OK;
    } else if (rc == SQLITE_DONE) {
        rc = reel__err(REEL_NOTFOUND, "sequence '%s' was removed", a->q->name);
    } else {
        rc = reel__sqlerr(a->db, rc, "appending frames");
    }
    sqlite3_finalize(st);
    if (rc != REEL_OK)
        return rc;
    rc = sqlite3_prepare_v2(a->db, "INSERT INTO reel_blob(data) VALUES(?1)", -1, &a->blob, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(a->db,
                                "INSERT INTO reel_frame(seq_id, idx, pts, duration, flags, status, "
                                "filter, level, checksum, raw_bytes, stored_bytes, blob_id) "
                                "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                                -1, &a->frame, NULL);
    return rc == SQLITE_OK ? REEL_OK : reel__sqlerr(a->db, rc, "appending frames");
}

/* Insert one encoded frame at the end of the sequence. */
static int insert_encoded(appender *a, const reel__encoded *e)
{
    sqlite3_int64 blob_id = 0;
    int rc;
    if (a->have_last && e->pts <= a->last_pts)
        return reel__err(REEL_INVALID,
                         "sequence '%s' frame %lld: pts %lld is not after the previous pts %lld",
                         a->q->name, (long long)a->next, (long long)e->pts,
                         (long long)a->last_pts);
    if (e->blob) {
        sqlite3_reset(a->blob);
        sqlite3_bind_blob64(a->blob, 1, e->blob, e->len, SQLITE_STATIC);
        if ((rc = sqlite3_step(a->blob)) != SQLITE_DONE)
            return reel__sqlerr(a->db, rc, "storing a frame");
        blob_id = sqlite3_last_insert_rowid(a->db);
    }
    sqlite3_reset(a->frame);
    sqlite3_bind_int64(a->frame, 1, a->q->id);
    sqlite3_bind_int64(a->frame, 2, a->next);
    sqlite3_bind_int64(a->frame, 3, e->pts);
    sqlite3_bind_int64(a->frame, 4, e->duration);
    sqlite3_bind_int(a->frame, 5, (int)e->flags);
    sqlite3_bind_int(a->frame, 6, e->status);
    sqlite3_bind_int(a->frame, 7, e->filter);
    sqlite3_bind_int(a->frame, 8, e->level);
    sqlite3_bind_int64(a->frame, 9, (sqlite3_int64)e->checksum);
    sqlite3_bind_int64(a->frame, 10, e->blob ? (sqlite3_int64)a->q->frame_size : 0);
    sqlite3_bind_int64(a->frame, 11, e->blob ? (sqlite3_int64)e->len : 0);
    if (e->blob)
        sqlite3_bind_int64(a->frame, 12, blob_id);
    else
        sqlite3_bind_null(a->frame, 12);
    if ((rc = sqlite3_step(a->frame)) != SQLITE_DONE)
        return reel__sqlerr(a->db, rc, "storing frame metadata");
    a->raw += e->blob ? (int64_t)a->q->frame_size : 0;
    a->stored += e->blob ? (int64_t)e->len : 0;
    a->last_pts = e->pts;
    a->have_last = 1;
    if (a->lens)
        a->lens[a->nlens++] = e->blob ? e->len : 0;
    a->next++;
    return REEL_OK;
}

int reel__encode_frame(reel__codec *c, int level, const reel_seq *q, const reel_frame_in *f,
                       reel__encoded *e)
{
    reel__geom g = {q->pix_fmt, q->width, q->height};
    reel__blob b;
    int rc;
    memset(e, 0, sizeof *e);
    e->pts = f->pts;
    e->duration = f->duration;
    e->flags = f->flags;
    e->status = f->status;
    e->level = level;
    if (!f->pixels)
        return REEL_OK;
    if ((rc = reel__encode(c, REEL__FILTER_DEFAULT, level, &g, f->pixels, &b)) == REEL_OK) {
        e->blob = b.data;
        e->len = b.len;
        e->checksum = b.checksum;
        e->filter = b.filter;
    }
    return rc;
}

static int append_one(appender *a, const reel_frame_in *f)
{
    reel__encoded e;
    int rc = reel__encode_frame(a->q->store->wcodec, a->q->store->level, a->q, f, &e);
    return rc == REEL_OK ? insert_encoded(a, &e) : rc;
}

static int append_end(appender *a, size_t n)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(a->db,
                                "UPDATE reel_sequence SET frames = frames + ?2, "
                                "raw_bytes = raw_bytes + ?3, stored_bytes = stored_bytes + ?4 "
                                "WHERE id = ?1",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, a->q->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)n);
        sqlite3_bind_int64(st, 3, a->raw);
        sqlite3_bind_int64(st, 4, a->stored);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? REEL_OK : reel__sqlerr(a->db, rc, "updating sequence totals");
}

/* Run one append transaction of n frames, the writer locked: one(a, i) inserts frame i.
 * expect >= 0: the index the first frame must get (else nothing is written). */
static int append_locked(reel_seq *q, size_t n, int (*one)(appender *, const void *, size_t),
                         const void *frames, int64_t expect, int64_t *first, size_t *lens)
{
    appender a;
    size_t i;
    int rc;
    memset(&a, 0, sizeof a);
    a.q = q;
    a.lens = lens;
    a.db = q->store->wdb;
    rc = reel__exec(a.db, "BEGIN IMMEDIATE");
    if (rc == REEL_OK) {
        rc = append_begin(&a);
        if (rc == REEL_OK && expect >= 0 && a.next != expect)
            rc = reel__err(REEL_MISUSE,
                           "sequence '%s' has %lld frames where %lld were expected: frames were "
                           "appended through another handle while frames put through the cache "
                           "waited",
                           q->name, (long long)a.next, (long long)expect);
        for (i = 0; rc == REEL_OK && i < n; i++)
            rc = one(&a, frames, i);
        if (rc == REEL_OK)
            rc = append_end(&a, n);
        sqlite3_finalize(a.blob);
        sqlite3_finalize(a.frame);
        if (rc == REEL_OK)
            rc = reel__exec(a.db, "COMMIT");
        if (rc != REEL_OK)
            sqlite3_exec(a.db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (rc == REEL_OK && first)
        *first = a.next - (int64_t)n;
    return rc;
}

/* The same with the writer locked here; frames put through the cache go first. */
static int append_txn(reel_seq *q, size_t n, int (*one)(appender *, const void *, size_t),
                      const void *frames, int64_t *first)
{
    int rc;
    if ((rc = reel__writer_lock(q->store)) != REEL_OK)
        return rc;
    rc = reel__wb_flush_locked(q->store, q); /* its own queued frames go first */
    if (rc == REEL_OK)
        rc = append_locked(q, n, one, frames, -1, first, NULL);
    reel__writer_unlock(q->store);
    return rc;
}

static int append_raw_at(appender *a, const void *frames, size_t i)
{
    return append_one(a, (const reel_frame_in *)frames + i);
}

static int append_encoded_at(appender *a, const void *frames, size_t i)
{
    return insert_encoded(a, (const reel__encoded *)frames + i);
}

int reel__append_frames_locked(reel_seq *q, const reel_frame_in *frames, size_t n,
                               int64_t expect, size_t *stored)
{
    return append_locked(q, n, append_raw_at, frames, expect, NULL, stored);
}

int reel__append_encoded(reel_seq *q, const reel__encoded *frames, size_t n, int64_t *first)
{
    return n ? append_txn(q, n, append_encoded_at, frames, first) : REEL_OK;
}

int reel_frames_append(reel_seq *q, const reel_frame_in *frames, size_t n, int64_t *first)
{
    size_t i;
    int rc;
    if (reel__seq_check(q) != REEL_OK || (!frames && n))
        return reel__err(REEL_MISUSE, "reel_frames_append: NULL or closed argument");
    for (i = 0; i < n; i++)
        if ((rc = reel__check_frame(q, &frames[i], i)) != REEL_OK)
            return rc;
    if (n == 0)
        return REEL_OK;
    return append_txn(q, n, append_raw_at, frames, first);
}

int reel_frame_append(reel_seq *q, const reel_frame_in *f, int64_t *index)
{
    if (!f)
        return reel__err(REEL_MISUSE, "reel_frame_append: frame must not be NULL");
    return reel_frames_append(q, f, 1, index);
}

/* ---- read ------------------------------------------------------------------------------- */

/*
 * Validate and decode the blob in column col of st (status, filter, checksum, raw_bytes and
 * stored_bytes at the columns given by c[0..4]) into dst.
 */
static int decode_row(reel_seq *q, reel__reader *r, sqlite3_stmt *st, const int c[5], int col,
                      int64_t index, void *dst)
{
    reel__stored s;
    s.seq_name = q->name;
    s.index = index;
    s.geom = (reel__geom){q->pix_fmt, q->width, q->height};
    s.frame_size = q->frame_size;
    s.status = sqlite3_column_int(st, c[0]);
    s.filter = sqlite3_column_int(st, c[1]);
    s.checksum = (uint64_t)sqlite3_column_int64(st, c[2]);
    s.raw_bytes = sqlite3_column_int64(st, c[3]);
    s.stored_bytes = sqlite3_column_int64(st, c[4]);
    s.present = sqlite3_column_type(st, col) != SQLITE_NULL;
    s.data = s.present ? sqlite3_column_blob(st, col) : NULL;
    s.len = s.present ? (size_t)sqlite3_column_bytes(st, col) : 0;
    return reel__stored_decode(r->codec, &s, dst);
}

static int not_found(reel_seq *q, int64_t index)
{
    return reel__err(REEL_NOTFOUND, "sequence '%s' has no frame %lld", q->name, (long long)index);
}

static void fill_info(sqlite3_stmt *st, int64_t index, int stored_col, reel_frame_info *info)
{
    info->index = index;
    info->pts = sqlite3_column_int64(st, 0);
    info->duration = sqlite3_column_int64(st, 1);
    info->flags = (unsigned)sqlite3_column_int(st, 2);
    info->status = sqlite3_column_int(st, 3);
    info->stored_bytes = (size_t)sqlite3_column_int64(st, stored_col);
}

int reel_frame_read(reel_seq *q, int64_t index, void *dst, size_t cap, reel_frame_info *info)
{
    static const int cols[5] = {3, 4, 5, 6, 7};
    reel__reader *r;
    int rc;
    if (reel__seq_check(q) != REEL_OK || !dst)
        return reel__err(REEL_MISUSE, "reel_frame_read: NULL or closed argument");
    if (cap < q->frame_size)
        return reel__err(REEL_FULL, "reel_frame_read: buffer of %zu bytes, frames need %zu", cap,
                         q->frame_size);
    if ((rc = reel__reader_get(q->store, &r)) != REEL_OK)
        return rc;
    sqlite3_bind_int64(r->frame, 1, q->id);
    sqlite3_bind_int64(r->frame, 2, index);
    rc = sqlite3_step(r->frame);
    if (rc == SQLITE_ROW) {
        rc = decode_row(q, r, r->frame, cols, 8, index, dst);
        if (rc == REEL_OK && info)
            fill_info(r->frame, index, 7, info);
    } else if (rc == SQLITE_DONE) {
        rc = not_found(q, index);
    } else {
        rc = reel__sqlerr(r->db, rc, "reading a frame");
    }
    sqlite3_reset(r->frame);
    reel__reader_put(q->store, r);
    return rc;
}

int reel_frame_read_range(reel_seq *q, int64_t first, size_t n, void *dst, size_t cap)
{
    static const int cols[5] = {1, 2, 3, 4, 5};
    reel__reader *r;
    int64_t expect = first;
    int rc;
    if (reel__seq_check(q) != REEL_OK || (!dst && n))
        return reel__err(REEL_MISUSE, "reel_frame_read_range: NULL or closed argument");
    if (first < 0 || n > (size_t)INT64_MAX - (size_t)first)
        return reel__err(REEL_INVALID, "reel_frame_read_range: bad range");
    if (n && cap / n < q->frame_size)
        return reel__err(REEL_FULL, "reel_frame_read_range: buffer of %zu bytes, %zu frames need %zu",
                         cap, n, n * q->frame_size);
    if (n == 0)
        return REEL_OK;
    if ((rc = reel__reader_get(q->store, &r)) != REEL_OK)
        return rc;
    sqlite3_bind_int64(r->range, 1, q->id);
    sqlite3_bind_int64(r->range, 2, first);
    sqlite3_bind_int64(r->range, 3, first + (int64_t)n);
    rc = REEL_OK;
    while (rc == REEL_OK) {
        int step = sqlite3_step(r->range);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = reel__sqlerr(r->db, step, "reading frames");
            break;
        }
        if (sqlite3_column_int64(r->range, 0) != expect) {
            rc = not_found(q, expect);
            break;
        }
        rc = decode_row(q, r, r->range, cols, 6, expect,
                        (uint8_t *)dst + (size_t)(expect - first) * q->frame_size);
        expect++;
    }
    if (rc == REEL_OK && expect != first + (int64_t)n)
        rc = not_found(q, expect);
    sqlite3_reset(r->range);
    reel__reader_put(q->store, r);
    return rc;
}

int reel_frame_info_get(reel_seq *q, int64_t index, reel_frame_info *info)
{
    reel__reader *r;
    int rc;
    if (reel__seq_check(q) != REEL_OK || !info)
        return reel__err(REEL_MISUSE, "reel_frame_info_get: NULL or closed argument");
    if ((rc = reel__reader_get(q->store, &r)) != REEL_OK)
        return rc;
    sqlite3_bind_int64(r->info, 1, q->id);
    sqlite3_bind_int64(r->info, 2, index);
    rc = sqlite3_step(r->info);
    if (rc == SQLITE_ROW) {
        fill_info(r->info, index, 4, info);
        rc = REEL_OK;
    } else if (rc == SQLITE_DONE) {
        rc = not_found(q, index);
    } else {
        rc = reel__sqlerr(r->db, rc, "reading frame metadata");
    }
    sqlite3_reset(r->info);
    reel__reader_put(q->store, r);
    return rc;
}

int reel_seq_find_pts(reel_seq *q, int64_t pts, int64_t *index)
{
    reel__reader *r;
    int rc;
    if (reel__seq_check(q) != REEL_OK || !index)
        return reel__err(REEL_MISUSE, "reel_seq_find_pts: NULL or closed argument");
    if ((rc = reel__reader_get(q->store, &r)) != REEL_OK)
        return rc;
    sqlite3_bind_int64(r->find, 1, q->id);
    sqlite3_bind_int64(r->find, 2, pts);
    rc = sqlite3_step(r->find);
    if (rc == SQLITE_ROW) {
        int64_t idx = sqlite3_column_int64(r->find, 0), start = sqlite3_column_int64(r->find, 1);
        int64_t dur = sqlite3_column_int64(r->find, 2), frames = sqlite3_column_int64(r->find, 3);
        int last = idx == frames - 1;
        if (last && pts != start && (uint64_t)pts - (uint64_t)start >= (uint64_t)dur)
            rc = reel__err(REEL_NOTFOUND, "sequence '%s': pts %lld is after its last frame",
                           q->name, (long long)pts);
        else {
            *index = idx;
            rc = REEL_OK;
        }
    } else if (rc == SQLITE_DONE) {
        rc = reel__err(REEL_NOTFOUND, "sequence '%s': no frame at or before pts %lld", q->name,
                       (long long)pts);
    } else {
        rc = reel__sqlerr(r->db, rc, "looking up a timestamp");
    }
    sqlite3_reset(r->find);
    reel__reader_put(q->store, r);
    return rc;
}
