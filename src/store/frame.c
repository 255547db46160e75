/* frame.c - frames in the file: appended in transactions, read back by index, range or
 * timestamp. */
#include "config.h"

#include <string.h>

#include "base/db.h"
#include "base/error.h"
#include "store/frame.h"

/* ---- append ----------------------------------------------------------------------------- */

int reel__frame_check(const reel__seqrec *q, const reel_frame_in *f, size_t i)
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
    const reel__seqrec *q;
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
                                "filter, level, checksum, raw_bytes, stored_bytes, blob_id, "
                                "checksum_v) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                                "?11, ?12, " REEL__STR(REEL__CHECKSUM_V) ")",
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

int reel__frame_encode(reel__codec *c, int level, const reel__seqrec *q, int64_t idx,
                       const reel_frame_in *f, const void *ref, reel__encoded *e,
                       size_t *intra_len)
{
    reel__geom g = {q->pix_fmt, q->width, q->height};
    reel__blob b;
    int rc, filter = REEL__FILTER_BEST; /* never larger than plain zstd would make it */
    memset(e, 0, sizeof *e);
    e->pts = f->pts;
    e->duration = f->duration;
    e->flags = f->flags;
    e->status = f->status;
    e->level = level;
    if (!f->pixels)
        return REEL_OK;
    if (intra_len)
        *intra_len = 0;
    if (q->codec != REEL_CODEC_TEMPORAL || idx % q->keyint == 0)
        ref = NULL; /* a chain of references is at most keyint frames long */
    if ((rc = reel__encode_ref(c, filter, level, &g, f->pixels, ref, &b, intra_len)) == REEL_OK) {
        e->blob = b.data;
        e->len = b.len;
        e->checksum = b.checksum ^ reel__geom_mask(&g); /* REEL__CHECKSUM_V */
        e->filter = b.filter;
    }
    return rc;
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

/* Insert frame i of a (encoding it first when raw; ref: the raw frame before it, or NULL). */
static int append_one(appender *ap, reel__sdb *d, const reel__append *a, size_t i,
                      const void *ref)
{
    reel__encoded e;
    int rc;
    if (a->encoded)
        return insert_encoded(ap, &a->encoded[i]);
    rc = reel__frame_encode(d->wcodec, d->level, a->q, ap->next, &a->raw[i], ref, &e, NULL);
    return rc == REEL_OK ? insert_encoded(ap, &e) : rc;
}

/* The reference of the first raw frame of a temporal append: the caller's copy when it is of
 * the frame stored last, else that frame decoded again into *scratch (malloc'd; NULL when
 * the frame to come needs no reference or has none to take). */
static const void *first_ref(reel__sdb *d, const reel__append *a, int64_t next, void **scratch)
{
    int64_t last;
    *scratch = NULL;
    if (!a->raw || a->q->codec != REEL_CODEC_TEMPORAL || next == 0 || next % a->q->keyint == 0)
        return NULL;
    if (a->ref && a->ref_index == next - 1)
        return a->ref;
    if (!(*scratch = reel__malloc(a->q->frame_size)))
        return NULL; /* the frame is coded to need no reference: larger, never wrong */
    if (reel__frame_read_last(d, a->q, *scratch, &last) != REEL_OK || last != next - 1) {
        free(*scratch);
        *scratch = NULL;
    }
    return *scratch;
}

int reel__frames_append_locked(reel__sdb *d, reel__append *a)
{
    appender ap;
    size_t i;
    int rc;
    memset(&ap, 0, sizeof ap);
    ap.q = a->q;
    ap.lens = a->stored;
    ap.db = d->wdb;
    if (a->n == 0)
        return REEL_OK;
    rc = reel__writer_begin(d);
    if (rc == REEL_OK) {
        rc = append_begin(&ap);
        if (rc == REEL_OK && a->expect >= 0 && ap.next != a->expect)
            rc = reel__err(REEL_MISUSE,
                           "sequence '%s' has %lld frames where %lld were expected: frames were "
                           "appended through another handle while frames put through the cache "
                           "waited",
                           a->q->name, (long long)ap.next, (long long)a->expect);
        void *scratch = NULL;
        const void *ref = rc == REEL_OK ? first_ref(d, a, ap.next, &scratch) : NULL;
        for (i = 0; rc == REEL_OK && i < a->n; i++) {
            rc = append_one(&ap, d, a, i, ref);
            ref = a->raw ? a->raw[i].pixels : NULL; /* a frame without pixels is no reference */
        }
        free(scratch);
        if (rc == REEL_OK)
            rc = append_end(&ap, a->n);
        sqlite3_finalize(ap.blob);
        sqlite3_finalize(ap.frame);
        if (rc == REEL_OK)
            rc = reel__exec(ap.db, "COMMIT");
        if (rc != REEL_OK) {
            rc = reel__writer_full(d, rc, a->q->name);
            sqlite3_exec(ap.db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    if (rc == REEL_OK)
        a->first = ap.next - (int64_t)a->n;
    return rc;
}

/* ---- read ------------------------------------------------------------------------------- */

static const char SQL_FRAME[] =
    "SELECT " REEL__FRAME_COLUMNS REEL__FRAME_FROM "WHERE f.seq_id = ?1 AND f.idx = ?2";
static const char SQL_RANGE[] = "SELECT f.idx, " REEL__FRAME_COLUMNS REEL__FRAME_FROM
                                "WHERE f.seq_id = ?1 AND f.idx >= ?2 AND f.idx < ?3 "
                                "ORDER BY f.idx";
static const char SQL_INFO[] =
    "SELECT pts, duration, flags, status, stored_bytes FROM reel_frame "
    "WHERE seq_id = ?1 AND idx = ?2";
static const char SQL_FIND[] =
    "SELECT f.idx, f.pts, f.duration, s.frames FROM reel_frame AS f JOIN reel_sequence AS s "
    "ON s.id = f.seq_id WHERE f.seq_id = ?1 AND f.pts <= ?2 ORDER BY f.pts DESC LIMIT 1";

static const char SQL_PROBE[] =
    "SELECT status, raw_bytes, stored_bytes, blob_id IS NULL FROM reel_frame "
    "WHERE seq_id = ?1 AND idx = ?2";
static const char SQL_KIND[] = "SELECT filter FROM reel_frame WHERE seq_id = ?1 AND idx = ?2";

int reel__frame_prepare(reel__reader *r)
{
    const char *sql[] = {SQL_FRAME, SQL_INFO, SQL_FIND, SQL_RANGE, SQL_PROBE, SQL_FRAME, SQL_KIND};
    sqlite3_stmt **st[] = {&r->frame, &r->info, &r->find,  &r->range,
                           &r->probe, &r->chain, &r->kind};
    size_t i;
    for (i = 0; i < sizeof st / sizeof st[0]; i++) {
        int rc = sqlite3_prepare_v3(r->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, st[i], NULL);
        if (rc != SQLITE_OK)
            return reel__sqlerr(r->db, rc, "preparing a read statement");
    }
    return REEL_OK;
}

static int not_found(const reel__seqrec *q, int64_t index)
{
    return reel__err(REEL_NOTFOUND, "sequence '%s' has no frame %lld", q->name, (long long)index);
}

static void stored_init(const reel__seqrec *q, int64_t index, reel__stored *s)
{
    memset(s, 0, sizeof *s);
    s->seq_name = q->name;
    s->index = index;
    s->geom = (reel__geom){q->pix_fmt, q->width, q->height};
    s->frame_size = q->frame_size;
}

/* The chain of a temporal frame, read on r's chain and kind statements; earlier frames of a
 * range read are offered from the range's own buffer. */
typedef struct chain_ctx {
    const reel__seqrec *q;
    reel__reader *r;
    const reel__held *held;
    const uint8_t *range_dst; /* a range read: frames [range_first, range_next) decoded here */
    int64_t range_first, range_next;
} chain_ctx;

static int chain_row(void *ctx, int64_t idx, reel__stored *s)
{
    chain_ctx *c = ctx;
    sqlite3_stmt *st = c->r->chain;
    int rc;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, c->q->id);
    sqlite3_bind_int64(st, 2, idx);
    stored_init(c->q, idx, s);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        reel__frame_row(st, 0, s);
        return REEL_OK;
    }
    return rc == SQLITE_DONE ? not_found(c->q, idx) : reel__sqlerr(c->r->db, rc, "reading a frame");
}

static int chain_kind(void *ctx, int64_t idx, int *filter)
{
    chain_ctx *c = ctx;
    sqlite3_stmt *st = c->r->kind;
    int rc;
    sqlite3_bind_int64(st, 1, c->q->id);
    sqlite3_bind_int64(st, 2, idx);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *filter = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return REEL_OK;
    return rc == SQLITE_DONE ? not_found(c->q, idx) : reel__sqlerr(c->r->db, rc, "reading a frame");
}

static const void *chain_have(void *ctx, int64_t idx, void **token)
{
    chain_ctx *c = ctx;
    *token = NULL;
    if (c->range_dst && idx >= c->range_first && idx < c->range_next)
        return c->range_dst + (size_t)(idx - c->range_first) * c->q->frame_size;
    return c->held ? c->held->have(c->held->ctx, idx, token) : NULL;
}

static void chain_release(void *ctx, void *token)
{
    chain_ctx *c = ctx;
    if (token && c->held)
        c->held->release(c->held->ctx, token);
}

/* Validate and decode the frame of the row st is on (its columns from col0) into dst. */
static int decode_row(chain_ctx *c, sqlite3_stmt *st, int col0, int64_t index, void *dst)
{
    reel__chain_src src = {c, chain_row, chain_kind, chain_have, chain_release};
    reel__stored s;
    int rc;
    stored_init(c->q, index, &s);
    reel__frame_row(st, col0, &s);
    rc = reel__chain_decode(c->r->codec, &src, &s, dst);
    sqlite3_reset(c->r->chain);
    return rc;
}

/* The metadata of the row st is on (columns pts, duration, flags, status from 0). */
static void fill_info(sqlite3_stmt *st, int64_t index, int stored_col, reel_frame_info *info)
{
    info->index = index;
    info->pts = sqlite3_column_int64(st, REEL__COL_PTS);
    info->duration = sqlite3_column_int64(st, REEL__COL_DURATION);
    info->flags = (unsigned)sqlite3_column_int(st, REEL__COL_FLAGS);
    info->status = sqlite3_column_int(st, REEL__COL_STATUS);
    info->stored_bytes = (size_t)sqlite3_column_int64(st, stored_col);
}

int reel__frame_read(reel__sdb *d, const reel__seqrec *q, int64_t index, void *dst,
                     reel_frame_info *info, const reel__held *held)
{
    reel__reader *r;
    chain_ctx c;
    int rc;
    if ((rc = reel__reader_get(d, &r)) != REEL_OK)
        return rc;
    c = (chain_ctx){q, r, held, NULL, 0, 0};
    sqlite3_bind_int64(r->frame, 1, q->id);
    sqlite3_bind_int64(r->frame, 2, index);
    rc = sqlite3_step(r->frame);
    if (rc == SQLITE_ROW) {
        rc = decode_row(&c, r->frame, 0, index, dst);
        if (rc == REEL_OK && info)
            fill_info(r->frame, index, REEL__COL_STORED, info);
    } else if (rc == SQLITE_DONE) {
        rc = not_found(q, index);
    } else {
        rc = reel__sqlerr(r->db, rc, "reading a frame");
    }
    sqlite3_reset(r->frame);
    reel__reader_put(d, r);
    return rc;
}

int reel__frame_read_range(reel__sdb *d, const reel__seqrec *q, int64_t first, size_t n,
                           void *dst)
{
    reel__reader *r;
    chain_ctx c;
    int64_t expect = first;
    int rc;
    if (n == 0)
        return REEL_OK;
    if ((rc = reel__reader_get(d, &r)) != REEL_OK)
        return rc;
    c = (chain_ctx){q, r, NULL, dst, first, first};
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
        rc = decode_row(&c, r->range, 1, expect,
                        (uint8_t *)dst + (size_t)(expect - first) * q->frame_size);
        c.range_next = ++expect;
    }
    if (rc == REEL_OK && expect != first + (int64_t)n)
        rc = not_found(q, expect);
    sqlite3_reset(r->range);
    reel__reader_put(d, r);
    return rc;
}

/* What the row claims, checked before anything is allocated for the frame. */
static int probe_row(const reel__seqrec *q, sqlite3_stmt *st, int64_t index)
{
    int status = sqlite3_column_int(st, 0), none = sqlite3_column_int(st, 3);
    int64_t raw = sqlite3_column_int64(st, 1), stored = sqlite3_column_int64(st, 2);
    if (none && status == REEL_STATUS_SKIPPED)
        return reel__err(REEL_NODATA, "sequence '%s' frame %lld: skipped at import, no pixels",
                         q->name, (long long)index);
    if (none)
        return reel__err(REEL_CORRUPT, "sequence '%s' frame %lld: pixel blob is missing", q->name,
                         (long long)index);
    if (raw != (int64_t)q->frame_size)
        return reel__err(REEL_CORRUPT,
                         "sequence '%s' frame %lld: recorded size %lld, expected %zu for %dx%d %s",
                         q->name, (long long)index, (long long)raw, q->frame_size, q->width,
                         q->height, reel_pix_fmt_name(q->pix_fmt));
    if (stored <= 0 || q->frame_size / REEL__ZSTD_MAX_RATIO > (size_t)stored)
        return reel__err(REEL_CORRUPT,
                         "sequence '%s' frame %lld: a blob of %lld bytes cannot hold a %zu-byte "
                         "frame",
                         q->name, (long long)index, (long long)stored, q->frame_size);
    return REEL_OK;
}

int reel__frame_probe(reel__sdb *d, const reel__seqrec *q, int64_t index)
{
    reel__reader *r;
    int rc;
    if ((rc = reel__reader_get(d, &r)) != REEL_OK)
        return rc;
    sqlite3_bind_int64(r->probe, 1, q->id);
    sqlite3_bind_int64(r->probe, 2, index);
    rc = sqlite3_step(r->probe);
    if (rc == SQLITE_ROW)
        rc = probe_row(q, r->probe, index);
    else if (rc == SQLITE_DONE)
        rc = not_found(q, index);
    else
        rc = reel__sqlerr(r->db, rc, "reading frame metadata");
    sqlite3_reset(r->probe);
    reel__reader_put(d, r);
    return rc;
}

int reel__frame_info(reel__sdb *d, const reel__seqrec *q, int64_t index, reel_frame_info *info)
{
    reel__reader *r;
    int rc;
    if ((rc = reel__reader_get(d, &r)) != REEL_OK)
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
    reel__reader_put(d, r);
    return rc;
}

int reel__frame_find_pts(reel__sdb *d, const reel__seqrec *q, int64_t pts, int64_t *index)
{
    reel__reader *r;
    int rc;
    if ((rc = reel__reader_get(d, &r)) != REEL_OK)
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
    reel__reader_put(d, r);
    return rc;
}

int reel__frame_read_last(reel__sdb *d, const reel__seqrec *q, void *dst, int64_t *index)
{
    reel__reader *r;
    sqlite3_stmt *st = NULL;
    int64_t last = -1;
    int rc;
    if ((rc = reel__reader_get(d, &r)) != REEL_OK)
        return rc;
    rc = sqlite3_prepare_v2(r->db, "SELECT max(idx) FROM reel_frame WHERE seq_id = ?1", -1, &st,
                            NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, q->id);
        if ((rc = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER)
            last = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        rc = reel__sqlerr(r->db, rc, "reading the last frame");
    reel__reader_put(d, r);
    if (rc != SQLITE_ROW)
        return rc;
    if (last < 0)
        return not_found(q, 0);
    *index = last;
    return reel__frame_read(d, q, last, dst, NULL, NULL);
}
