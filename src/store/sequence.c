/* sequence.c - sequences in the file: their rows, looked up, made, listed and deleted. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "base/db.h"
#include "base/error.h"
#include "base/pixfmt.h"
#include "store/sequence.h"

/* Whether s is well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF). */
static int utf8_ok(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s;
        int n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
        unsigned v = n == 0 ? c : n == 1 ? c & 0x1F : n == 2 ? c & 0x0F : c & 0x07;
        int i;
        if (n < 0)
            return 0;
        for (i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return 0;
            v = v << 6 | (s[i] & 0x3F);
        }
        if ((n == 1 && v < 0x80) || (n == 2 && v < 0x800) || (n == 3 && v < 0x10000) ||
            v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        s += n + 1;
    }
    return 1;
}

int reel__seq_check_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > REEL__MAX_NAME)
        return reel__err(REEL_INVALID, "a sequence name must be 1..%d bytes (this one has %zu)",
                         REEL__MAX_NAME, n);
    if (!utf8_ok((const unsigned char *)name))
        return reel__err(REEL_INVALID, "a sequence name must be valid UTF-8");
    return REEL_OK;
}

const char *reel__codec_name(int codec)
{
    return codec == REEL_CODEC_TEMPORAL ? "temporal" : "intra";
}

int reel__codec_from_name(const char *name)
{
    if (name && !strcmp(name, "intra"))
        return REEL_CODEC_INTRA;
    if (name && !strcmp(name, "temporal"))
        return REEL_CODEC_TEMPORAL;
    return 0;
}

/* The codec and keyint p asks for, resolved (0: the defaults), or REEL_INVALID. */
static int resolve_codec(const reel_seq_params *p, int *codec, int *keyint)
{
    *codec = p->codec == REEL_CODEC_DEFAULT ? REEL_CODEC_INTRA : p->codec;
    if (*codec != REEL_CODEC_INTRA && *codec != REEL_CODEC_TEMPORAL)
        return reel__err(REEL_INVALID,
                         "codec %d: a sequence is REEL_CODEC_INTRA or REEL_CODEC_TEMPORAL "
                         "(REEL_CODEC_AUTO is for imports)",
                         p->codec);
    if (p->keyint < 0 || p->keyint > REEL_MAX_KEYINT)
        return reel__err(REEL_INVALID, "keyint %d is not in 1..%d", p->keyint, REEL_MAX_KEYINT);
    *keyint = *codec == REEL_CODEC_INTRA ? 1 : p->keyint ? p->keyint : REEL_DEFAULT_KEYINT;
    return REEL_OK;
}

int reel__seq_check_params(const reel_seq_params *p, size_t max_frame, size_t *frame_size)
{
    int rc, codec = 0, keyint = 0;
    if ((rc = resolve_codec(p, &codec, &keyint)) != REEL_OK)
        return rc;
    if (p->time_base.num <= 0 || p->time_base.den <= 0)
        return reel__err(REEL_INVALID, "time base %d/%d: both parts must be > 0",
                         (int)p->time_base.num, (int)p->time_base.den);
    if (!reel_pix_fmt_name(p->pix_fmt))
        return reel__err(REEL_UNSUPPORTED, "pixel format %d is not supported", p->pix_fmt);
    if ((rc = reel_frame_size(p->pix_fmt, p->width, p->height, frame_size)) != REEL_OK)
        return rc;
    if (*frame_size > max_frame)
        return reel__err(REEL_INVALID,
                         "%dx%d %s frames are %zu bytes, over this open's cap of %zu "
                         "(reel_open_options.max_frame_mib)",
                         p->width, p->height, reel_pix_fmt_name(p->pix_fmt), *frame_size,
                         max_frame);
    return REEL_OK;
}

static const char SQL_OPEN[] = "SELECT id, width, height, pix_fmt, tb_num, tb_den, source, "
                               "codec, keyint FROM reel_sequence WHERE name = ?1";

void reel__seqrec_clear(reel__seqrec *r)
{
    free(r->name);
    free(r->source);
    memset(r, 0, sizeof *r);
}

/* Fill r from a reel_sequence row (id, width, height, pix_fmt, tb_num, tb_den, source, codec,
 * keyint): every number read whole and checked against its range before it is used. */
static int from_row(const char *name, sqlite3_stmt *st, size_t max_frame, reel__seqrec *r)
{
    const char *fmt = (const char *)sqlite3_column_text(st, 3);
    const char *src = (const char *)sqlite3_column_text(st, 6);
    int64_t w = sqlite3_column_int64(st, 1), h = sqlite3_column_int64(st, 2);
    int64_t num = sqlite3_column_int64(st, 4), den = sqlite3_column_int64(st, 5);
    int i;
    memset(r, 0, sizeof *r);
    for (i = 1; i <= 5; i++)
        if (i != 3 && sqlite3_column_type(st, i) != SQLITE_INTEGER)
            return reel__err(REEL_CORRUPT, "sequence '%s': its row holds a non-integer size or "
                                           "time base", name);
    if (w < 1 || w > REEL__MAX_DIM || h < 1 || h > REEL__MAX_DIM || num < 1 || num > INT32_MAX ||
        den < 1 || den > INT32_MAX)
        return reel__err(REEL_CORRUPT, "sequence '%s': size %lldx%lld or time base %lld/%lld is "
                                       "out of range",
                         name, (long long)w, (long long)h, (long long)num, (long long)den);
    r->id = sqlite3_column_int64(st, 0);
    r->width = (int)w;
    r->height = (int)h;
    r->time_base.num = (int32_t)num;
    r->time_base.den = (int32_t)den;
    if (!fmt || reel_pix_fmt_from_name(fmt, &r->pix_fmt) != REEL_OK ||
        reel_frame_size(r->pix_fmt, r->width, r->height, &r->frame_size) != REEL_OK)
        return reel__err(REEL_CORRUPT, "sequence '%s': invalid pixel format", name);
    if (r->frame_size > max_frame)
        return reel__err(REEL_CORRUPT,
                         "sequence '%s': its %dx%d %s frames would be %zu bytes each, over this "
                         "open's cap of %zu (reel_open_options.max_frame_mib)",
                         name, r->width, r->height, fmt, r->frame_size, max_frame);
    r->codec = reel__codec_from_name((const char *)sqlite3_column_text(st, 7));
    if (!r->codec || sqlite3_column_type(st, 8) != SQLITE_INTEGER ||
        sqlite3_column_int64(st, 8) < 1 || sqlite3_column_int64(st, 8) > REEL_MAX_KEYINT)
        return reel__err(REEL_CORRUPT, "sequence '%s': unknown codec '%s' or keyint '%s'", name,
                         sqlite3_column_text(st, 7) ? (const char *)sqlite3_column_text(st, 7)
                                                    : "NULL",
                         sqlite3_column_text(st, 8) ? (const char *)sqlite3_column_text(st, 8)
                                                    : "NULL");
    r->keyint = (int)sqlite3_column_int64(st, 8);
    r->name = reel__strdup(name);
    r->source = src ? reel__strdup(src) : NULL;
    if (!r->name || (src && !r->source)) {
        reel__seqrec_clear(r);
        return reel__err(REEL_NOMEM, "out of memory");
    }
    return REEL_OK;
}

int reel__seqrec_load(sqlite3 *db, const char *name, size_t max_frame, reel__seqrec *r)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, SQL_OPEN, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return reel__sqlerr(db, rc, "opening a sequence");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = from_row(name, st, max_frame, r);
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
    int rc, codec = REEL_CODEC_INTRA, keyint = 1;
    if ((rc = reel__seq_check_name(name)) != REEL_OK ||
        (rc = reel__seq_check_params(p, SIZE_MAX, &fs)) != REEL_OK ||
        (rc = resolve_codec(p, &codec, &keyint)) != REEL_OK)
        return rc;
    rc = sqlite3_prepare_v2(db,
                            "INSERT INTO reel_sequence(name, width, height, pix_fmt, tb_num, "
                            "tb_den, source, codec, keyint) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                            "?8, ?9)",
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
        sqlite3_bind_text(st, 8, reel__codec_name(codec), -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 9, keyint);
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
        "DELETE FROM reel_claim WHERE seq_id = ?1",
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
        "LIMIT 1) - (SELECT f.pts FROM reel_frame f WHERE f.seq_id = s.id ORDER BY f.idx LIMIT 1), "
        "(SELECT max(f.idx) FROM reel_frame f WHERE f.seq_id = s.id), typeof(s.frames) "
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
        info->codec = q->codec;
        info->keyint = q->keyint;
        info->frame_count = sqlite3_column_int64(st, 0);
        info->raw_bytes = sqlite3_column_int64(st, 1);
        info->stored_bytes = sqlite3_column_int64(st, 2);
        info->duration = sqlite3_column_int64(st, 3);
        rc = REEL_OK;
        /* the recorded count must be the frame rows': a count edited by hand would make every
         * reader stop short (or run past the end) */
        if (strcmp((const char *)sqlite3_column_text(st, 5), "integer") != 0 ||
            info->frame_count != (sqlite3_column_type(st, 4) == SQLITE_NULL
                                      ? 0
                                      : sqlite3_column_int64(st, 4) + 1))
            rc = reel__err(REEL_CORRUPT,
                           "sequence '%s': %s frames recorded, but its frame rows end at index "
                           "%lld (a damaged or hand-edited store: reel verify lists the damage)",
                           q->name, (const char *)sqlite3_column_text(st, 0),
                           sqlite3_column_type(st, 4) == SQLITE_NULL
                               ? -1LL
                               : (long long)sqlite3_column_int64(st, 4));
    } else if (rc == SQLITE_DONE) {
        rc = reel__err(REEL_NOTFOUND, "sequence '%s' was removed", q->name);
    } else {
        rc = reel__sqlerr(r->db, rc, "reading sequence metadata");
    }
    sqlite3_finalize(st);
    reel__reader_put(d, r);
    return rc;
}
