/*
 * annot.c - annotations in the file: rows of reel_annotation (schema/010_annotations.sql),
 * checked before they are written and again after they are read (a store file may be hostile:
 * its CHECK constraints held when the row was written by SQLite, not necessarily by whoever
 * wrote the file).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "base/db.h"
#include "base/error.h"
#include "store/annot.h"

#define MAX_PRODUCER 4096
#define MAX_DIM ((int64_t)1 << 40)

static const struct {
    const char *name;
    size_t size;
} dtypes[] = {{"bool", 1},    {"int8", 1},    {"uint8", 1},   {"int16", 2},
              {"uint16", 2},  {"int32", 4},   {"uint32", 4},  {"int64", 8},
              {"uint64", 8},  {"float16", 2}, {"float32", 4}, {"float64", 8}};

/* The bytes of one element of dtype name (0: not a dtype reel knows). */
static size_t dtype_size(const char *name)
{
    size_t i;
    for (i = 0; name && i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (!strcmp(dtypes[i].name, name))
            return dtypes[i].size;
    return 0;
}

/* The bytes an array of itemsize in shape takes (0 on overflow past REEL_ANNOT_MAX_BYTES, with
 * *big set). */
static size_t array_bytes(size_t itemsize, const int64_t *shape, int ndim, int *big)
{
    size_t n = itemsize;
    int i;
    *big = 0;
    for (i = 0; i < ndim; i++) {
        if (shape[i] != 0 && n > (size_t)REEL_ANNOT_MAX_BYTES / (size_t)shape[i]) {
            *big = 1;
            return 0;
        }
        n *= (size_t)shape[i];
    }
    return n;
}

static int check_key(const char *key)
{
    if (!key || reel__seq_check_name(key) != REEL_OK || strlen(key) > REEL_ANNOT_MAX_KEY)
        return reel__err(REEL_INVALID, "an annotation key must be 1..%d bytes of valid UTF-8",
                         REEL_ANNOT_MAX_KEY);
    return REEL_OK;
}

static int check_blob(const char *key, const reel_annot *a, size_t i)
{
    size_t item = dtype_size(a->dtype), want;
    int d, big;
    if (!item)
        return reel__err(REEL_INVALID,
                         "annotation '%s' (item %zu, frame %lld): dtype %s%s%s is not one of "
                         "bool, int8..uint64, float16, float32, float64",
                         key, i, (long long)a->index, a->dtype ? "'" : "",
                         a->dtype ? a->dtype : "NULL", a->dtype ? "'" : "");
    if (a->ndim < 0 || a->ndim > REEL_ANNOT_MAX_DIMS)
        return reel__err(REEL_INVALID, "annotation '%s' (item %zu): ndim %d is outside 0..%d",
                         key, i, a->ndim, REEL_ANNOT_MAX_DIMS);
    for (d = 0; d < a->ndim; d++)
        if (a->shape[d] < 0 || a->shape[d] > MAX_DIM)
            return reel__err(REEL_INVALID,
                             "annotation '%s' (item %zu): shape[%d] = %lld is outside 0..2^40",
                             key, i, d, (long long)a->shape[d]);
    want = array_bytes(item, a->shape, a->ndim, &big);
    if (big || want != a->size)
        return reel__err(REEL_INVALID,
                         "annotation '%s' (item %zu, frame %lld): %zu bytes given, but a %s "
                         "array of that shape has %s%zu",
                         key, i, (long long)a->index, a->size, a->dtype, big ? "more than " : "",
                         big ? (size_t)REEL_ANNOT_MAX_BYTES : want);
    return REEL_OK;
}

static int check_one(const char *key, const reel_annot *a, size_t i)
{
    if (a->index < 0)
        return reel__err(REEL_INVALID, "annotation '%s' (item %zu): frame index %lld < 0", key,
                         i, (long long)a->index);
    if (a->size > REEL_ANNOT_MAX_BYTES)
        return reel__err(REEL_INVALID,
                         "annotation '%s' (item %zu, frame %lld): %zu bytes, more than the %d "
                         "a value may have",
                         key, i, (long long)a->index, a->size, REEL_ANNOT_MAX_BYTES);
    if (a->size && !a->value)
        return reel__err(REEL_MISUSE, "annotation '%s' (item %zu): value is NULL, size %zu",
                         key, i, a->size);
    if (a->producer && strlen(a->producer) > MAX_PRODUCER)
        return reel__err(REEL_INVALID, "annotation '%s' (item %zu): producer longer than %d bytes",
                         key, i, MAX_PRODUCER);
    if (a->kind == REEL_ANNOT_BLOB)
        return check_blob(key, a, i);
    if (a->kind != REEL_ANNOT_JSON)
        return reel__err(REEL_INVALID,
                         "annotation '%s' (item %zu): kind %d is neither REEL_ANNOT_JSON nor "
                         "REEL_ANNOT_BLOB",
                         key, i, a->kind);
    if (a->dtype || a->ndim)
        return reel__err(REEL_INVALID, "annotation '%s' (item %zu): JSON has no dtype or shape",
                         key, i);
    if (a->size && memchr(a->value, 0, a->size))
        return reel__err(REEL_INVALID,
                         "annotation '%s' (item %zu, frame %lld): JSON text with a NUL byte in "
                         "it",
                         key, i, (long long)a->index);
    return REEL_OK;
}

int reel__annot_check(const char *key, const reel_annot *a, size_t n)
{
    size_t i;
    int rc = check_key(key);
    for (i = 0; rc == REEL_OK && i < n; i++)
        rc = check_one(key, &a[i], i);
    return rc;
}

/* "[d0,d1,...]" of a's shape into buf (at least 8 * 21 + 3 bytes). */
static void shape_text(const reel_annot *a, char *buf, size_t cap)
{
    size_t len = 1;
    int d;
    buf[0] = '[';
    for (d = 0; d < a->ndim; d++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", d ? "," : "",
                                (long long)a->shape[d]);
    snprintf(buf + len, cap - len, "]");
}

static void bind_one(sqlite3_stmt *st, const reel_annot *a, char *shape, size_t cap)
{
    sqlite3_bind_int64(st, 2, a->index);
    if (a->kind == REEL_ANNOT_JSON) {
        sqlite3_bind_text(st, 4, "json", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, a->size ? a->value : "", (int)a->size, SQLITE_STATIC);
        sqlite3_bind_null(st, 6);
        sqlite3_bind_null(st, 7);
    } else {
        sqlite3_bind_text(st, 4, "blob", -1, SQLITE_STATIC);
        if (a->size)
            sqlite3_bind_blob(st, 5, a->value, (int)a->size, SQLITE_STATIC);
        else
            sqlite3_bind_zeroblob(st, 5, 0);
        sqlite3_bind_text(st, 6, a->dtype, -1, SQLITE_STATIC);
        shape_text(a, shape, cap);
        sqlite3_bind_text(st, 7, shape, -1, SQLITE_STATIC);
    }
    if (a->producer)
        sqlite3_bind_text(st, 8, a->producer, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 8);
}

int reel__annot_put(sqlite3 *db, const reel__seqrec *q, const char *key, const reel_annot *a,
                    size_t n)
{
    sqlite3_stmt *st = NULL;
    char shape[8 * 21 + 3];
    size_t i;
    int rc = sqlite3_prepare_v2(
        db,
        "INSERT INTO reel_annotation(seq_id, idx, key, kind, value, dtype, shape, producer) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(seq_id, idx, key) DO UPDATE SET "
        "kind = excluded.kind, value = excluded.value, dtype = excluded.dtype, "
        "shape = excluded.shape, producer = excluded.producer, created_at = excluded.created_at",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return reel__sqlerr(db, rc, "writing annotations");
    sqlite3_bind_int64(st, 1, q->id);
    sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
    for (i = 0, rc = SQLITE_DONE; rc == SQLITE_DONE && i < n; i++) {
        bind_one(st, &a[i], shape, sizeof shape);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return REEL_OK;
    i--;
    if (rc == SQLITE_CONSTRAINT_TRIGGER)
        return reel__err(REEL_NOTFOUND, "sequence '%s' was removed: its annotations cannot be set",
                         q->name);
    if (rc == SQLITE_CONSTRAINT_CHECK && a[i].kind == REEL_ANNOT_JSON)
        return reel__err(REEL_INVALID,
                         "annotation '%s' (item %zu, frame %lld) of sequence '%s': the value is "
                         "not valid JSON",
                         key, i, (long long)a[i].index, q->name);
    return reel__sqlerr(db, rc, "writing annotations");
}

int reel__annot_delete(sqlite3 *db, const reel__seqrec *q, const char *key, int64_t index,
                       int *gone)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        db, "DELETE FROM reel_annotation WHERE seq_id = ?1 AND key = ?2 AND idx = ?3", -1, &st,
        NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, q->id);
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, index);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return reel__sqlerr(db, rc, "removing an annotation");
    *gone = sqlite3_changes(db) > 0;
    return REEL_OK;
}

/* Parse "[d0, d1, ...]" (0..REEL_ANNOT_MAX_DIMS integers in 0..2^40) into a; 0 if it is not. */
static int parse_shape(const char *s, reel_annot *a)
{
    a->ndim = 0;
    while (*s == ' ')
        s++;
    if (*s++ != '[')
        return 0;
    while (*s == ' ')
        s++;
    while (*s != ']') {
        int64_t v = 0;
        if (a->ndim == REEL_ANNOT_MAX_DIMS || (a->ndim && *s++ != ','))
            return 0;
        while (*s == ' ')
            s++;
        if (*s < '0' || *s > '9')
            return 0;
        for (; *s >= '0' && *s <= '9'; s++)
            if ((v = v * 10 + (*s - '0')) > MAX_DIM)
                return 0;
        a->shape[a->ndim++] = v;
        while (*s == ' ')
            s++;
    }
    for (s++; *s == ' '; s++)
        ;
    return *s == '\0';
}

/* One row of each_sql's columns into *a (pointers into the row), or REEL_CORRUPT naming it. */
static int read_row(sqlite3_stmt *st, const reel__seqrec *q, reel_annot *a)
{
    const char *key = (const char *)sqlite3_column_text(st, 1);
    const char *kind = (const char *)sqlite3_column_text(st, 2);
    const char *shape = (const char *)sqlite3_column_text(st, 5);
    const char *what = NULL;
    int big = 0, vt = sqlite3_column_type(st, 3);
    memset(a, 0, sizeof *a);
    a->index = sqlite3_column_int64(st, 0);
    a->dtype = (const char *)sqlite3_column_text(st, 4);
    a->producer = (const char *)sqlite3_column_text(st, 6);
    if (!key || !kind || sqlite3_column_type(st, 0) != SQLITE_INTEGER || a->index < 0)
        what = "no key, kind or valid frame index";
    else if (!strcmp(kind, "json") && vt == SQLITE_TEXT) {
        a->kind = REEL_ANNOT_JSON;
        a->value = sqlite3_column_text(st, 3);
        a->size = (size_t)sqlite3_column_bytes(st, 3);
        a->dtype = NULL;
    } else if (!strcmp(kind, "blob") && vt == SQLITE_BLOB) {
        a->kind = REEL_ANNOT_BLOB;
        a->value = sqlite3_column_blob(st, 3);
        a->size = (size_t)sqlite3_column_bytes(st, 3);
        if (!dtype_size(a->dtype))
            what = "an unknown dtype";
        else if (!shape || !parse_shape(shape, a))
            what = "no valid shape";
        else if (array_bytes(dtype_size(a->dtype), a->shape, a->ndim, &big) != a->size || big)
            what = "a size that does not match its dtype and shape";
    } else {
        what = "a kind and value that do not agree";
    }
    if (what)
        return reel__err(REEL_CORRUPT, "sequence '%s' frame %lld annotation '%s': %s", q->name,
                         (long long)a->index, key ? key : "?", what);
    return REEL_OK;
}

/* A store of schema 9 opened read-only (REEL__SCHEMA_READ_OLDEST) has no annotation table: it
 * has no annotations. */
static int predates_annotations(sqlite3 *db)
{
    return sqlite3_table_column_metadata(db, NULL, "reel_annotation", NULL, NULL, NULL, NULL, NULL,
                                         NULL) != SQLITE_OK;
}

int reel__annot_each(sqlite3 *db, const reel__seqrec *q, const char *key, int64_t index,
                     reel__annot_fn fn, void *ctx)
{
    static const char *const where[4] = {
        "seq_id = ?1 ORDER BY idx, key", "seq_id = ?1 AND key = ?2 ORDER BY idx",
        "seq_id = ?1 AND idx = ?3 ORDER BY key", "seq_id = ?1 AND key = ?2 AND idx = ?3"};
    sqlite3_stmt *st = NULL;
    char sql[256];
    int rc, stop = 0;
    snprintf(sql, sizeof sql,
             "SELECT idx, key, kind, value, dtype, shape, producer FROM reel_annotation WHERE %s",
             where[(key != NULL) + 2 * (index >= 0)]);
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_ERROR && predates_annotations(db))
        return REEL_OK;
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, q->id);
        if (key)
            sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        if (index >= 0)
            sqlite3_bind_int64(st, 3, index);
    }
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        reel_annot a;
        rc = SQLITE_OK;
        if ((stop = read_row(st, q, &a)) != REEL_OK ||
            (stop = fn(ctx, (const char *)sqlite3_column_text(st, 1), &a)) != 0)
            break;
    }
    if (!stop && rc != SQLITE_DONE)
        stop = reel__sqlerr(db, rc, "reading annotations");
    sqlite3_finalize(st);
    return stop;
}

int reel__annot_count(sqlite3 *db, const reel__seqrec *q, const char *key, int64_t *count)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                key ? "SELECT count(*) FROM reel_annotation WHERE seq_id = ?1 "
                                      "AND key = ?2"
                                    : "SELECT count(*) FROM reel_annotation WHERE seq_id = ?1",
                                -1, &st, NULL);
    if (rc == SQLITE_ERROR && predates_annotations(db)) {
        *count = 0;
        return REEL_OK;
    }
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, q->id);
        if (key)
            sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) == SQLITE_ROW)
            *count = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? REEL_OK : reel__sqlerr(db, rc, "counting annotations");
}
