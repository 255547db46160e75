/*
 * sqlite_ext.c - the loadable sqlite3 extension: decode frames inside SQL.
 *
 *   sqlite3 store.reel -cmd '.load /usr/local/lib/reel/reel'
 *   SELECT writefile('f.png', reel_png('walk', 42));
 *
 * Functions (sequence by name, frame by index, as in the reel_frames view):
 *   reel_pixels(sequence, idx)       the raw pixels as a BLOB (reel_frame_size bytes)
 *   reel_png(sequence, idx)          a PNG image as a BLOB
 *   reel_checksum_ok(sequence, idx)  1 when the frame decodes and matches its checksum, else 0
 *   reel_version()                   the library version, e.g. '0.1.0'
 * A missing frame, or one without pixels (skipped at import), gives NULL. A damaged frame (a
 * frame row whose blob is gone included) raises an SQL error naming it (reel_checksum_ok
 * returns 0 instead).
 *
 * Only the frame codec (and FFmpeg, loaded on first use, for PNG) is linked in: every SQLite
 * call goes through the host's API routines, on the connection that runs the query. Frames are
 * selected with the library's own columns (store/frame.h) and checked by its one blob decoder
 * (codec/blob.c).
 */
#include "config.h"

#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1 /* before the headers: store/frame.h reads rows through it */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "codec/blob.h"
#include "import/convert.h"
#include "store/frame.h"

#define EXPORT __attribute__((visibility("default")))

#define GEOM_COLUMNS 3 /* then the frame's (REEL__FRAME_COLUMNS) */
static const char SQL_FRAME[] =
    "SELECT s.width, s.height, s.pix_fmt, " REEL__FRAME_COLUMNS
    " FROM reel_sequence AS s JOIN reel_frame AS f ON f.seq_id = s.id "
    "LEFT JOIN reel_blob AS b ON b.id = f.blob_id WHERE s.name = ?1 AND f.idx = ?2";

/* A temporal frame's references, read on the same connection with statements of their own. */
typedef struct chain_ctx {
    sqlite3 *db;
    const reel__stored *s; /* the frame read: name and geometry */
    sqlite3_stmt *row, *kind;
} chain_ctx;

static int prepared(chain_ctx *c, sqlite3_stmt **st, const char *sql, int64_t idx)
{
    int rc = SQLITE_OK;
    if (!*st)
        rc = sqlite3_prepare_v2(c->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK)
        return reel__err(REEL_ERROR, "%s", sqlite3_errmsg(c->db));
    sqlite3_reset(*st);
    sqlite3_bind_text(*st, 1, c->s->seq_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(*st, 2, idx);
    rc = sqlite3_step(*st);
    if (rc == SQLITE_ROW)
        return REEL_OK;
    if (rc == SQLITE_DONE)
        return reel__err(REEL_NOTFOUND, "sequence '%s' has no frame %lld", c->s->seq_name,
                         (long long)idx);
    return reel__err(REEL_ERROR, "%s", sqlite3_errmsg(c->db));
}

static int chain_row(void *ctx, int64_t idx, reel__stored *out)
{
    chain_ctx *c = ctx;
    int rc = prepared(c, &c->row,
                      "SELECT " REEL__FRAME_COLUMNS REEL__FRAME_FROM
                      "JOIN reel_sequence AS s ON s.id = f.seq_id WHERE s.name = ?1 AND f.idx = ?2",
                      idx);
    if (rc != REEL_OK)
        return rc;
    *out = *c->s;
    out->index = idx;
    out->ref = NULL;
    reel__frame_row(c->row, 0, out);
    return REEL_OK;
}

static int chain_kind(void *ctx, int64_t idx, int *filter)
{
    chain_ctx *c = ctx;
    int rc = prepared(c, &c->kind,
                      "SELECT f.filter FROM reel_frame AS f JOIN reel_sequence AS s ON "
                      "s.id = f.seq_id WHERE s.name = ?1 AND f.idx = ?2",
                      idx);
    if (rc == REEL_OK)
        *filter = sqlite3_column_int(c->kind, 0);
    return rc;
}

/* The stored frame of the row st is on, checked as the library checks it (codec/blob.c):
 * its geometry within range and the default cap, its blob able to hold it, before anything is
 * allocated for it. */
static int decode_row(sqlite3 *db, sqlite3_stmt *st, reel__stored *s, uint8_t **pixels)
{
    chain_ctx cc = {db, s, NULL, NULL};
    reel__chain_src src = {&cc, chain_row, chain_kind, NULL, NULL};
    reel__codec *c;
    int64_t w = sqlite3_column_int64(st, 0), h = sqlite3_column_int64(st, 1);
    int rc;
    s->geom.width = w > 0 && w <= 65535 ? (int)w : 0;
    s->geom.height = h > 0 && h <= 65535 ? (int)h : 0;
    if (reel_pix_fmt_from_name((const char *)sqlite3_column_text(st, 2), &s->geom.fmt) != REEL_OK ||
        reel_frame_size(s->geom.fmt, s->geom.width, s->geom.height, &s->frame_size) != REEL_OK ||
        s->frame_size > (size_t)REEL_DEFAULT_MAX_FRAME_MIB << 20)
        return reel__err(REEL_CORRUPT, "sequence '%s' frame %lld: bad frame metadata",
                         s->seq_name, (long long)s->index);
    reel__frame_row(st, GEOM_COLUMNS, s);
    if (s->present && s->frame_size / REEL__ZSTD_MAX_RATIO > s->len)
        return reel__err(REEL_CORRUPT, "sequence '%s' frame %lld: a blob of %zu bytes cannot hold "
                                       "a %zu-byte frame",
                         s->seq_name, (long long)s->index, s->len, s->frame_size);
    if (!s->present) /* no blob: skipped at import (REEL_NODATA), or damage */
        return reel__stored_decode(NULL, s, NULL);
    if (!(c = reel__codec_new()) || !(*pixels = malloc(s->frame_size)))
        rc = reel__err(REEL_NOMEM, "out of memory");
    else
        rc = reel__chain_decode(c, &src, s, *pixels);
    reel__codec_free(c);
    sqlite3_finalize(cc.row);
    sqlite3_finalize(cc.kind);
    return rc;
}

/*
 * Decode frame (name, idx) read on db. Returns REEL_OK with *pixels (malloc'd), REEL_OK with
 * NULL when there is no such frame, REEL_NODATA for a frame skipped at import, another code
 * with msg filled for a damaged one (a missing blob included).
 */
static int load(sqlite3 *db, const char *name, sqlite3_int64 idx, uint8_t **pixels, size_t *size,
                int *fmt, int *w, int *h, char *msg, size_t cap)
{
    sqlite3_stmt *st = NULL;
    reel__stored s;
    int rc = sqlite3_prepare_v2(db, SQL_FRAME, -1, &st, NULL);
    *pixels = NULL;
    if (rc != SQLITE_OK) {
        snprintf(msg, cap, "reel: %s (is this a reel store?)", sqlite3_errmsg(db));
        return REEL_ERROR;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, idx);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc != SQLITE_DONE)
            snprintf(msg, cap, "reel: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? REEL_OK : REEL_ERROR;
    }
    memset(&s, 0, sizeof s);
    s.seq_name = name;
    s.index = idx;
    if ((rc = decode_row(db, st, &s, pixels)) != REEL_OK) {
        snprintf(msg, cap, "reel: %s", reel_errmsg());
        free(*pixels);
        *pixels = NULL;
    } else {
        *size = s.frame_size;
        *fmt = s.geom.fmt;
        *w = s.geom.width;
        *h = s.geom.height;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Common argument handling; returns 0 when the function has already given its result. */
static int args(sqlite3_context *ctx, sqlite3_value **argv, const char **name, sqlite3_int64 *idx)
{
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return 0;
    }
    if (sqlite3_value_type(argv[1]) != SQLITE_INTEGER) {
        sqlite3_result_error(ctx, "reel: the frame index must be an integer", -1);
        return 0;
    }
    *name = (const char *)sqlite3_value_text(argv[0]);
    *idx = sqlite3_value_int64(argv[1]);
    return *name != NULL;
}

static void fn_pixels(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *name;
    sqlite3_int64 idx;
    uint8_t *px;
    size_t size;
    int fmt, w, h, rc;
    char msg[512];
    (void)argc;
    if (!args(ctx, argv, &name, &idx))
        return;
    rc = load(sqlite3_context_db_handle(ctx), name, idx, &px, &size, &fmt, &w, &h, msg,
              sizeof msg);
    if (rc != REEL_OK && rc != REEL_NODATA)
        sqlite3_result_error(ctx, msg, -1);
    else if (!px)
        sqlite3_result_null(ctx);
    else
        sqlite3_result_blob64(ctx, px, size, free);
}

static void fn_png(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *name;
    sqlite3_int64 idx;
    uint8_t *px;
    void *png;
    size_t size, n;
    int fmt, w, h, rc;
    char msg[512];
    (void)argc;
    if (!args(ctx, argv, &name, &idx))
        return;
    rc = load(sqlite3_context_db_handle(ctx), name, idx, &px, &size, &fmt, &w, &h, msg,
              sizeof msg);
    if (rc != REEL_OK && rc != REEL_NODATA) {
        sqlite3_result_error(ctx, msg, -1);
        return;
    }
    if (!px) {
        sqlite3_result_null(ctx);
        return;
    }
    if (reel_png_encode(fmt, w, h, px, size, &png, &n) != REEL_OK) {
        snprintf(msg, sizeof msg, "reel: sequence '%s' frame %lld: %s", name, (long long)idx,
                 reel_errmsg());
        sqlite3_result_error(ctx, msg, -1);
    } else {
        sqlite3_result_blob64(ctx, png, n, reel_free);
    }
    free(px);
}

static void fn_checksum_ok(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *name;
    sqlite3_int64 idx;
    uint8_t *px;
    size_t size;
    int fmt, w, h, rc;
    char msg[512];
    (void)argc;
    if (!args(ctx, argv, &name, &idx))
        return;
    rc = load(sqlite3_context_db_handle(ctx), name, idx, &px, &size, &fmt, &w, &h, msg,
              sizeof msg);
    if (rc == REEL_CORRUPT || rc == REEL_UNSUPPORTED) /* a missing blob is damage too */
        sqlite3_result_int(ctx, 0);
    else if (rc != REEL_OK && rc != REEL_NODATA)
        sqlite3_result_error(ctx, msg, -1);
    else if (!px) /* no such frame, or skipped at import */
        sqlite3_result_null(ctx);
    else
        sqlite3_result_int(ctx, 1);
    free(px);
}

static void fn_version(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_text(ctx, reel_version_string(), -1, SQLITE_STATIC);
}

EXPORT int sqlite3_reel_init(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
    static const struct {
        const char *name;
        int nargs;
        void (*fn)(sqlite3_context *, int, sqlite3_value **);
    } fns[] = {{"reel_pixels", 2, fn_pixels},
               {"reel_png", 2, fn_png},
               {"reel_checksum_ok", 2, fn_checksum_ok},
               {"reel_version", 0, fn_version}};
    size_t i;
    int rc = SQLITE_OK;
    (void)err;
    SQLITE_EXTENSION_INIT2(api);
    for (i = 0; rc == SQLITE_OK && i < sizeof fns / sizeof fns[0]; i++)
        rc = sqlite3_create_function(db, fns[i].name, fns[i].nargs,
                                     SQLITE_UTF8 | (fns[i].nargs ? 0 : SQLITE_DETERMINISTIC),
                                     NULL, fns[i].fn, NULL, NULL);
    return rc;
}
