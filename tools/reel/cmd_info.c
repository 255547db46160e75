/* cmd_info.c - `reel ls`, `reel info`, `reel verify`, `reel rm`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Parse "STORE [NAME] [--json]" style arguments. */
static int store_args(const command *cmd, int argc, char **argv, int want_name, int name_optional,
                      const char **store, const char **name, int *json)
{
    int i, n = 0;
    *store = *name = NULL;
    if (json)
        *json = 0;
    for (i = 1; i < argc; i++) {
        if (json && !strcmp(argv[i], "--json"))
            *json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error(cmd, "unknown option %s", argv[i]);
        else if (n == 0 && ++n)
            *store = argv[i];
        else if (n == 1 && want_name && ++n)
            *name = argv[i];
        else
            return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
    }
    if (!*store || (want_name && !name_optional && !*name))
        return cli_usage_error(cmd, "missing arguments");
    return EXIT_OK;
}

/* ---- ls ---- */

typedef struct ls_ctx {
    int json, rows;
} ls_ctx;

static void ls_row(void *ctx, int n, const char *const *v)
{
    ls_ctx *c = ctx;
    char raw[32], stored[32];
    (void)n;
    if (c->json) {
        printf("%s\n  {\"name\": ", c->rows ? "," : "");
        json_string(stdout, v[0]);
        printf(", \"frames\": %s, \"width\": %s, \"height\": %s, \"pix_fmt\": ", v[1], v[2], v[3]);
        json_string(stdout, v[4]);
        printf(", \"raw_bytes\": %s, \"stored_bytes\": %s, \"ratio\": %s, \"source\": ", v[5],
               v[6], v[7] ? v[7] : "null");
        if (v[8])
            json_string(stdout, v[8]);
        else
            printf("null");
        printf("}");
    } else {
        if (c->rows == 0)
            printf("%-20s %8s %11s %-11s %10s %6s  %s\n", "SEQUENCE", "FRAMES", "SIZE", "FORMAT",
                   "STORED", "RATIO", "SOURCE");
        char dims[32];
        snprintf(dims, sizeof dims, "%sx%s", v[2], v[3]);
        human_bytes(atof(v[5]), raw);
        printf("%-20s %8s %11s %-11s %10s %6s  %s\n", v[0], v[1], dims, v[4],
               human_bytes(atof(v[6]), stored), v[7] ? v[7] : "-", v[8] ? v[8] : "");
    }
    c->rows++;
}

static int ls_run(int argc, char **argv)
{
    const char *path, *name;
    reel_store *s;
    ls_ctx c = {0, 0};
    int rc = store_args(&cmd_ls, argc, argv, 0, 0, &path, &name, &c.json);
    if (rc != EXIT_OK)
        return rc;
    if (cli_open(path, 0, &s) != EXIT_OK)
        return EXIT_FAIL;
    reel_close(s);
    if (c.json)
        printf("[");
    rc = cli_query(path,
                   "SELECT name, frames, width, height, pix_fmt, raw_bytes, stored_bytes, ratio, "
                   "source FROM reel_sequences ORDER BY name",
                   NULL, ls_row, &c);
    if (c.json)
        printf("\n]\n");
    else if (c.rows == 0 && rc == 0)
        printf("no sequences in %s\n", path);
    return rc ? EXIT_FAIL : EXIT_OK;
}

const command cmd_ls = {"ls", "list the sequences of a store",
                        "ls STORE [--json]\n\n"
                        "One line per sequence: frames, size, format, stored bytes, compression "
                        "ratio, source.",
                        ls_run};

/* ---- info ---- */

/* Rows of "key, value" pairs from SQL, printed as "key: value" or JSON members. */
typedef struct kv_ctx {
    int json, rows;
} kv_ctx;

static void kv_row(void *ctx, int n, const char *const *v)
{
    kv_ctx *c = ctx;
    int i;
    for (i = 0; i + 1 < n; i += 2) {
        if (c->json) {
            printf("%s\n  ", c->rows++ ? "," : "");
            json_string(stdout, v[i]);
            printf(": ");
            if (!v[i + 1])
                printf("null");
            else if (strspn(v[i + 1], "-0123456789.") == strlen(v[i + 1]) && v[i + 1][0])
                printf("%s", v[i + 1]);
            else
                json_string(stdout, v[i + 1]);
        } else {
            printf("%-18s %s\n", v[i], v[i + 1] ? v[i + 1] : "-");
        }
    }
}

#define WITH_S "WITH s AS (SELECT * FROM reel_sequence WHERE name = ?1) "
#define WITH_F WITH_S ", f AS (SELECT reel_frame.* FROM reel_frame, s WHERE seq_id = s.id) "

/* Each query gives one row of key, value pairs. */
static const char *const info_sql[] = {
    WITH_S "SELECT 'sequence', s.name, 'frames', s.frames, 'width', s.width, 'height', s.height, "
    "'pix_fmt', s.pix_fmt, 'time_base', s.tb_num || '/' || s.tb_den, 'raw_bytes', s.raw_bytes, "
    "'stored_bytes', s.stored_bytes, 'ratio', "
    "round(CAST(s.raw_bytes AS REAL) / nullif(s.stored_bytes, 0), 3), 'created_at', "
    "s.created_at, 'source', s.source FROM s",
    WITH_F "SELECT 'first_pts', min(f.pts), 'last_pts', max(f.pts), 'duration_s', "
    "round((max(f.pts + f.duration) - min(f.pts)) * CAST(s.tb_num AS REAL) / s.tb_den, 3), "
    "'frame_duration_min', min(f.duration), 'frame_duration_max', max(f.duration), "
    "'variable_rate', CASE WHEN min(f.duration) = max(f.duration) THEN 'no' ELSE 'yes' END, "
    "'keyframes', sum(f.flags & 1), 'status_ok', sum(f.status = 0), 'status_skipped', "
    "sum(f.status = 1), 'status_repeated', sum(f.status = 2), 'status_black', sum(f.status = 3) "
    "FROM f, s",
    WITH_S "SELECT 'accesses', coalesce(sum(count), 0), 'frames_read', count(*) "
    "FROM reel_access, s WHERE reel_access.seq_id = s.id",
    WITH_S "SELECT 'source_path', path, 'source_bytes', size, 'source_hash', hash, "
    "'source_codec', codec, 'import_options', options, 'rotation', rotation, 'rotated', "
    "rotated, 'import_complete', CASE complete WHEN 1 THEN 'yes' ELSE 'no' END, 'truncated', "
    "CASE truncated WHEN 1 THEN 'yes' ELSE 'no' END FROM reel_source, s WHERE seq_id = s.id",
};

static int info_run(int argc, char **argv)
{
    const char *path, *name;
    reel_store *s;
    reel_seq *q;
    reel_seq_info info;
    kv_ctx c = {0, 0};
    int rc = store_args(&cmd_info, argc, argv, 1, 0, &path, &name, &c.json);
    if (rc != EXIT_OK)
        return rc;
    if (cli_open_seq(path, name, 0, &s, &q, &info) != EXIT_OK)
        return EXIT_FAIL;
    reel_seq_close(q);
    reel_close(s);
    if (c.json)
        printf("{");
    {
        size_t i;
        for (i = 0; rc == 0 && i < sizeof info_sql / sizeof info_sql[0]; i++)
            rc = cli_query(path, info_sql[i], name, kv_row, &c);
    }
    if (c.json)
        printf("\n}\n");
    return rc ? EXIT_FAIL : EXIT_OK;
}

const command cmd_info = {"info", "show a sequence: metadata, timestamps, status counts, source",
                          "info STORE SEQUENCE [--json]", info_run};

/* ---- verify ---- */

typedef struct verify_ctx {
    reel_store *store;
    int64_t frames, bad, nodata;
    int sequences, failed;
} verify_ctx;

static int verify_seq(void *ctx, const char *name)
{
    verify_ctx *v = ctx;
    reel_seq *q = NULL;
    reel_seq_info info;
    uint8_t *buf;
    int64_t i;
    int rc = reel_seq_open(v->store, name, &q);
    if (rc == REEL_OK)
        rc = reel_seq_info_get(q, &info);
    if (rc != REEL_OK) {
        cli_fail(name, rc);
        reel_seq_close(q);
        v->failed = 1;
        return 0;
    }
    buf = malloc(info.frame_size);
    for (i = 0; buf && i < info.frame_count; i++) {
        rc = reel_frame_read(q, i, buf, info.frame_size, NULL);
        if (rc == REEL_NODATA) {
            v->nodata++;
        } else if (rc != REEL_OK) {
            cli_error("%s", reel_errmsg());
            v->bad++;
        }
        v->frames++;
    }
    v->sequences++;
    free(buf);
    reel_seq_close(q);
    return 0;
}

static int verify_run(int argc, char **argv)
{
    const char *path, *name;
    verify_ctx v;
    int rc = store_args(&cmd_verify, argc, argv, 1, 1, &path, &name, NULL);
    if (rc != EXIT_OK)
        return rc;
    memset(&v, 0, sizeof v);
    if (cli_open(path, 0, &v.store) != EXIT_OK)
        return EXIT_FAIL;
    if (name)
        verify_seq(&v, name);
    else if ((rc = reel_seq_list(v.store, verify_seq, &v)) != REEL_OK)
        v.failed = cli_fail(path, rc);
    reel_close(v.store);
    printf("%s: %d sequence(s), %lld frame(s) checked: %lld bad, %lld without pixels (skipped "
           "at import)\n",
           path, v.sequences, (long long)v.frames, (long long)v.bad, (long long)v.nodata);
    return v.bad || v.failed ? EXIT_FAIL : EXIT_OK;
}

const command cmd_verify = {"verify", "check every frame's checksum; name each bad frame",
                            "verify STORE [SEQUENCE]\n\n"
                            "Decodes every frame and checks sizes and checksums. Exit status 1 "
                            "if any frame is bad.",
                            verify_run};

/* ---- rm ---- */

static int rm_run(int argc, char **argv)
{
    const char *path, *name;
    reel_store *s;
    int rc = store_args(&cmd_rm, argc, argv, 1, 0, &path, &name, NULL);
    if (rc != EXIT_OK)
        return rc;
    if (reel_open(path, 0, NULL, &s) != REEL_OK) {
        cli_error("%s", reel_errmsg());
        return EXIT_FAIL;
    }
    rc = reel_seq_remove(s, name);
    reel_close(s);
    if (rc != REEL_OK)
        return cli_fail(path, rc);
    printf("removed sequence '%s' from %s\n", name, path);
    return EXIT_OK;
}

const command cmd_rm = {"rm", "remove a sequence and all its frames", "rm STORE SEQUENCE",
                        rm_run};
