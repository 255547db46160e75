/* cmd_info.c - `reel ls`, `reel info`, `reel verify`, `reel rm`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cli.h"

static const struct option json_options[] = {{"json", no_argument, NULL, 'j'}, CLI_OPT_HELP,
                                              CLI_OPT_END};

/* "STORE [NAME]" operands (want_name: 0 none, 1 required, 2 optional), with --json when json
 * is not NULL. */
static int store_args(const command *cmd, int argc, char **argv, int want_name, const char **store,
                      const char **name, int *json)
{
    int c, rc;
    *store = *name = NULL;
    while ((c = cli_getopt(cmd, argc, argv, "", json ? json_options : json_options + 1)) !=
           -1) {
        if (c == 'j')
            *json = 1;
        else
            return EXIT_USAGE;
    }
    if ((rc = cli_operands(cmd, argc, argv, want_name == 1 ? 2 : 1, want_name ? 2 : 1,
                           want_name == 1 ? "a store and a sequence" : "a store")))
        return rc;
    *store = argv[optind];
    if (optind + 1 < argc)
        *name = argv[optind + 1];
    return EXIT_OK;
}

/* ---- ls ---- */

typedef struct ls_ctx {
    json_t *json; /* the array, with --json */
    int rows;
} ls_ctx;

static int ls_row(void *ctx, int n, const char *const *v, const int *t)
{
    static const char *const keys[] = {"name",         "frames", "width",  "height",
                                       "pix_fmt",      "raw_bytes", "stored_bytes", "ratio",
                                       "source",       "codec",     "annotations"};
    ls_ctx *c = ctx;
    char raw[32], stored[32], dims[32];
    int i;
    if (c->json) {
        json_t *o = json_object();
        for (i = 0; i < n && i < 11; i++)
            cli_json_set(o, keys[i], cli_json_sql(v[i], t[i]));
        cli_json_append(c->json, o);
    } else {
        if (c->rows == 0)
            printf("%-20s %8s %11s %-11s %-8s %10s %6s %8s  %s\n", "SEQUENCE", "FRAMES", "SIZE",
                   "FORMAT", "CODEC", "STORED", "RATIO", "ANNOTS", "SOURCE");
        snprintf(dims, sizeof dims, "%sx%s", v[2] ? v[2] : "?", v[3] ? v[3] : "?");
        human_bytes(v[5] ? atof(v[5]) : 0, raw);
        printf("%-20s %8s %11s %-11s %-8s %10s %6s %8s  %s\n", v[0] ? v[0] : "",
               v[1] ? v[1] : "?", dims, v[4] ? v[4] : "?", v[9] ? v[9] : "?",
               human_bytes(v[6] ? atof(v[6]) : 0, stored), v[7] ? v[7] : "-",
               n > 10 && v[10] ? v[10] : "0", v[8] ? v[8] : "");
    }
    c->rows++;
    return 0;
}

static int ls_run(int argc, char **argv)
{
    const char *path, *name;
    reel_store *s;
    ls_ctx c = {NULL, 0};
    int json = 0, rc = store_args(&cmd_ls, argc, argv, 0, &path, &name, &json);
    if (rc != EXIT_OK)
        return rc;
    if (cli_open(path, CLI_READ_REPAIR, &s) != EXIT_OK) /* puts dropped views back if it may */
        return EXIT_FAIL;
    reel_close(s);
    if (json)
        c.json = json_array();
    rc = cli_query(path,
                   "SELECT name, frames, width, height, pix_fmt, raw_bytes, stored_bytes, ratio, "
                   "source, codec, (SELECT count(*) FROM reel_annotation WHERE seq_id = "
                   "(SELECT id FROM reel_sequence WHERE name = reel_sequences.name)) "
                   "FROM reel_sequences ORDER BY name",
                   NULL, ls_row, &c);
    if (json) {
        if (rc == 0)
            return cli_json_emit(c.json);
        json_decref(c.json);
    } else if (c.rows == 0 && rc == 0) {
        printf("no sequences in %s\n", cli_shown(path));
    }
    return rc ? EXIT_FAIL : EXIT_OK;
}

const command cmd_ls = {"ls", "list the sequences of a store",
                        "ls STORE [--json]\n\n"
                        "One line per sequence: frames, size, format, stored bytes, compression "
                        "ratio, source.\n  --json    a JSON array with one object per sequence",
                        ls_run};

/* ---- info ---- */

/* Rows of "key, value" pairs from SQL, printed as "key: value" or set in a JSON object. */
typedef struct kv_ctx {
    json_t *json;
} kv_ctx;

static int kv_row(void *ctx, int n, const char *const *v, const int *t)
{
    kv_ctx *c = ctx;
    int i;
    for (i = 0; i + 1 < n; i += 2) {
        if (c->json)
            cli_json_set(c->json, v[i], cli_json_sql(v[i + 1], t[i + 1]));
        else
            printf("%-18s %s\n", v[i], v[i + 1] ? v[i + 1] : "-");
    }
    return 0;
}

#define WITH_S "WITH s AS (SELECT * FROM reel_sequence WHERE name = ?1) "
#define WITH_F WITH_S ", f AS (SELECT reel_frame.* FROM reel_frame, s WHERE seq_id = s.id) "

/* Each query gives one row of key, value pairs. */
static const char *const info_sql[] = {
    WITH_S "SELECT 'sequence', s.name, 'frames', s.frames, 'width', s.width, 'height', s.height, "
    "'pix_fmt', s.pix_fmt, 'time_base', s.tb_num || '/' || s.tb_den, 'raw_bytes', s.raw_bytes, "
    "'stored_bytes', s.stored_bytes, 'ratio', "
    "round(CAST(s.raw_bytes AS REAL) / nullif(s.stored_bytes, 0), 3), 'created_at', "
    "s.created_at, 'source', s.source, 'codec', s.codec, 'keyint', s.keyint FROM s",
    WITH_F "SELECT 'first_pts', min(f.pts), 'last_pts', max(f.pts), 'duration_s', "
    "round((max(f.pts + f.duration) - min(f.pts)) * CAST(s.tb_num AS REAL) / s.tb_den, 3), "
    "'frame_duration_min', min(f.duration), 'frame_duration_max', max(f.duration), "
    "'avg_fps', round(count(*) / nullif((max(f.pts + f.duration) - min(f.pts)) * "
    "CAST(s.tb_num AS REAL) / s.tb_den, 0), 3), "
    /* from the gaps between pts (a packet's duration may be what the container guessed) */
    "'variable_rate', (SELECT CASE WHEN max(g) - min(g) > max(1, min(g) / 100) THEN 'yes' "
    "ELSE 'no' END FROM (SELECT pts - lag(pts) OVER (ORDER BY idx) AS g FROM f)), "
    "'keyframes', sum(f.flags & 1), 'status_ok', sum(f.status = 0), 'status_skipped', "
    "sum(f.status = 1), 'status_repeated', sum(f.status = 2), 'status_black', sum(f.status = 3), "
    "'temporal_frames', sum(f.filter IN (2, 3)) FROM f, s",
    WITH_S "SELECT 'accesses', coalesce(sum(count), 0), 'frames_read', count(*) "
    "FROM reel_access, s WHERE reel_access.seq_id = s.id",
    WITH_S "SELECT 'source_path', r.path, 'source_bytes', r.size, 'source_hash', r.hash, "
    "'source_codec', r.codec, 'import_options', r.options, 'rotation', r.rotation, 'rotated', "
    "r.rotated, 'import_complete', CASE r.complete WHEN 1 THEN 'yes' ELSE 'no' END, 'truncated', "
    "CASE r.truncated WHEN 1 THEN 'yes' ELSE 'no' END FROM reel_source AS r, s "
    "WHERE r.seq_id = s.id",
    WITH_S "SELECT 'annotations', count(*), 'annotation_keys', (SELECT group_concat(key || "
    "' (' || n || ')', ', ') FROM (SELECT key, count(*) AS n FROM reel_annotation, s WHERE "
    "seq_id = s.id GROUP BY key ORDER BY key)) FROM reel_annotation, s WHERE seq_id = s.id",
};

static int info_run(int argc, char **argv)
{
    const char *path, *name;
    reel_store *s;
    reel_seq *q;
    reel_seq_info info;
    kv_ctx c = {NULL};
    size_t i;
    int json = 0, rc = store_args(&cmd_info, argc, argv, 1, &path, &name, &json);
    if (rc != EXIT_OK)
        return rc;
    if (cli_open(path, CLI_READ_REPAIR, &s) != EXIT_OK)
        return EXIT_FAIL;
    if ((rc = reel_seq_open(s, name, &q)) != REEL_OK ||
        (rc = reel_seq_get_info(q, &info)) != REEL_OK) {
        rc = cli_fail(path, rc);
        reel_seq_close(q);
        reel_close(s);
        return rc;
    }
    reel_seq_close(q);
    reel_close(s);
    if (json)
        c.json = json_object();
    for (i = 0; rc == 0 && i < sizeof info_sql / sizeof info_sql[0]; i++)
        rc = cli_query(path, info_sql[i], name, kv_row, &c);
    if (json) {
        if (rc == 0)
            return cli_json_emit(c.json);
        json_decref(c.json);
    }
    return rc ? EXIT_FAIL : EXIT_OK;
}

const command cmd_info = {"info", "show a sequence: metadata, timestamps, status counts, source",
                          "info STORE SEQUENCE [--json]\n\n"
                          "  --json    the same as one JSON object",
                          info_run};

/* ---- verify ---- */

typedef struct verify_ctx {
    const char *path;
    reel_store *store;
    reel_seq *seq;
    const char *name;
    int64_t frames, bad, nodata, seq_frames;
    int sequences, damaged, interrupted;
} verify_ctx;

/* One frame row: read it whole (decoded, size and checksum checked). */
static int verify_frame(void *ctx, int n, const char *const *v, const int *t)
{
    verify_ctx *c = ctx;
    reel_frame *f;
    long long idx;
    int rc;
    (void)n;
    if (cli_interrupted()) {
        c->interrupted = 1;
        return 1;
    }
    if (t[0] != SQLITE_INTEGER || cli_int64(v[0], &idx) != 0) {
        cli_error("%s: sequence '%s' has a frame row whose index is not a whole number ('%s')",
                  c->path, c->name, v[0] ? v[0] : "NULL");
        c->bad++;
    } else if ((rc = reel_frame_get(c->seq, idx, REEL_GET_ONCE, &f)) == REEL_NODATA) {
        c->nodata++;
    } else if (rc != REEL_OK) {
        cli_error("%s", reel_errmsg());
        c->bad++;
    } else {
        reel_frame_release(f);
    }
    c->frames++;
    c->seq_frames++;
    return 0;
}

/* The recorded counts of a sequence against its frame rows. */
static int verify_counts(void *ctx, int n, const char *const *v, const int *t)
{
    verify_ctx *c = ctx;
    long long rec, rows, lo, hi;
    (void)n;
    rows = v[1] ? atoll(v[1]) : 0;
    if (t[0] != SQLITE_INTEGER || cli_int64(v[0], &rec) != 0 || rec != rows ||
        (rows > 0 && (!v[2] || !v[3] || cli_int64(v[2], &lo) || cli_int64(v[3], &hi) ||
                      lo != 0 || hi != rows - 1))) {
        cli_error("%s: sequence '%s' records %s frames but has %lld frame rows%s%s%s%s%s", c->path,
                  c->name, v[0] ? v[0] : "NULL", rows, rows ? " (indexes " : "",
                  rows && v[2] ? v[2] : "", rows ? " to " : "", rows && v[3] ? v[3] : "",
                  rows ? ")" : "");
        c->damaged++;
    }
    return 0;
}

static int verify_seq(void *ctx, int n, const char *const *v, const int *t)
{
    verify_ctx *c = ctx;
    int rc;
    (void)n;
    (void)t;
    c->name = v[0] ? v[0] : "";
    c->seq = NULL;
    c->seq_frames = 0;
    c->sequences++;
    if (cli_query(c->path,
                  "SELECT s.frames, count(f.idx), min(f.idx), max(f.idx) FROM reel_sequence s "
                  "LEFT JOIN reel_frame f ON f.seq_id = s.id WHERE s.name = ?1 GROUP BY s.id",
                  c->name, verify_counts, c) != 0)
        c->damaged++;
    if ((rc = reel_seq_open(c->store, c->name, &c->seq)) != REEL_OK) {
        cli_fail(c->path, rc); /* its record cannot be read: none of its frames can */
        c->damaged++;
        return 0;
    }
    rc = cli_query(c->path,
                   "SELECT f.idx FROM reel_frame f JOIN reel_sequence s ON s.id = f.seq_id "
                   "WHERE s.name = ?1 ORDER BY f.idx",
                   c->name, verify_frame, c);
    if (rc < 0)
        c->damaged++;
    reel_seq_close(c->seq);
    return c->interrupted;
}

static int verify_run(int argc, char **argv)
{
    const char *name;
    verify_ctx v;
    int rc;
    memset(&v, 0, sizeof v);
    if ((rc = store_args(&cmd_verify, argc, argv, 2, &v.path, &name, NULL)) != EXIT_OK)
        return rc;
    if (cli_open(v.path, CLI_READ, &v.store) != EXIT_OK)
        return EXIT_FAIL;
    cli_catch_signals();
    rc = cli_query(v.path, "SELECT name FROM reel_sequence WHERE ?1 IS NULL OR name = ?1 "
                           "ORDER BY name",
                   name, verify_seq, &v);
    if (rc < 0)
        v.damaged++;
    else if (name && v.sequences == 0)
        v.damaged += cli_fail(v.path, reel_seq_open(v.store, name, &v.seq)) != 0;
    reel_close(v.store);
    if (v.interrupted) {
        cli_error("%s: interrupted after %lld frame(s): nothing was changed", v.path,
                  (long long)v.frames);
        return EXIT_FAIL;
    }
    printf("%s: %d sequence(s), %lld frame(s) checked: %lld bad, %lld without pixels (skipped "
           "at import)%s\n",
           cli_shown(v.path), v.sequences, (long long)v.frames, (long long)v.bad,
           (long long)v.nodata,
           v.damaged ? "; the store's records are damaged (see above)" : "");
    return v.bad || v.damaged ? EXIT_FAIL : EXIT_OK;
}

const command cmd_verify = {"verify", "check every frame's checksum; name each bad frame",
                            "verify STORE [SEQUENCE]\n\n"
                            "Decodes every frame row of the file and checks sizes and checksums, "
                            "and\nchecks each sequence's recorded frame count against its rows. "
                            "Never writes.\nExit status 1 if any frame or record is bad.",
                            verify_run};

/* ---- rm ---- */

static int rm_run(int argc, char **argv)
{
    const char *path, *name;
    reel_store *s;
    int rc = store_args(&cmd_rm, argc, argv, 1, &path, &name, NULL);
    if (rc != EXIT_OK)
        return rc;
    if (cli_open(path, CLI_WRITE, &s) != EXIT_OK)
        return EXIT_FAIL;
    rc = reel_seq_remove(s, name);
    reel_close(s);
    if (rc != REEL_OK)
        return cli_fail(path, rc);
    printf("removed sequence '%s' from %s\n", name, path);
    return EXIT_OK;
}

const command cmd_rm = {"rm", "remove a sequence and all its frames", "rm STORE SEQUENCE",
                        rm_run};
