/* cmd_stats.c - `reel stats`: access counts per sequence, the hottest frames, never-read frames,
 * and a text histogram of accesses along each sequence. Reads the documented views. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define BINS 60
#define ROWS 8

typedef struct seq_stat {
    char name[256];
    long long frames, accesses, frames_read;
    double hist[BINS];
    int bins;
} seq_stat;

typedef struct stats_ctx {
    seq_stat *seqs;
    int n, cap, json, rows;
    seq_stat *current; /* the sequence whose accesses are being binned */
} stats_ctx;

static void seq_row(void *ctx, int n, const char *const *v)
{
    stats_ctx *c = ctx;
    seq_stat *s;
    (void)n;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->seqs = realloc(c->seqs, (size_t)c->cap * sizeof *c->seqs);
        if (!c->seqs) {
            cli_error("out of memory");
            exit(EXIT_FAIL);
        }
    }
    s = &c->seqs[c->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", v[0] ? v[0] : "");
    s->frames = v[1] ? atoll(v[1]) : 0;
    s->accesses = v[2] ? atoll(v[2]) : 0;
    s->frames_read = v[3] ? atoll(v[3]) : 0;
    s->bins = s->frames < BINS ? (int)s->frames : BINS;
}

static void access_row(void *ctx, int n, const char *const *v)
{
    seq_stat *s = ((stats_ctx *)ctx)->current;
    long long idx = v[0] ? atoll(v[0]) : -1;
    (void)n;
    if (idx >= 0 && idx < s->frames && s->bins > 0)
        s->hist[idx * s->bins / s->frames] += v[1] ? atof(v[1]) : 0;
}

static void hot_row(void *ctx, int n, const char *const *v)
{
    stats_ctx *c = ctx;
    (void)n;
    if (c->json) {
        printf("%s\n    {\"sequence\": ", c->rows ? "," : "");
        json_string(stdout, v[0]);
        printf(", \"idx\": %s, \"access_count\": %s, \"last_access\": ", v[1], v[2]);
        if (v[3])
            json_string(stdout, v[3]);
        else
            printf("null");
        printf("}");
    } else {
        if (c->rows == 0)
            printf("\nhottest frames:\n  %-20s %8s %9s  %s\n", "SEQUENCE", "IDX", "ACCESSES",
                   "LAST ACCESS");
        printf("  %-20s %8s %9s  %s\n", v[0], v[1], v[2], v[3] ? v[3] : "-");
    }
    c->rows++;
}

/* Turn each bin's sum into the mean accesses per frame of the frames it covers. */
static void bin_means(seq_stat *s)
{
    int b;
    for (b = 0; b < s->bins; b++) {
        long long first = (b * s->frames + s->bins - 1) / s->bins;
        long long end = ((b + 1) * s->frames + s->bins - 1) / s->bins;
        s->hist[b] /= (double)(end > first ? end - first : 1);
    }
}

static void histogram(const seq_stat *s)
{
    double max = 0;
    int b, r;
    for (b = 0; b < s->bins; b++)
        max = s->hist[b] > max ? s->hist[b] : max;
    printf("\nmean accesses per frame along '%s' (%lld frames in %d columns):\n", s->name,
           s->frames, s->bins);
    if (max == 0) {
        printf("  (never read)\n");
        return;
    }
    for (r = ROWS; r >= 1; r--) {
        printf(r == ROWS ? "%8.1f |" : "         |", max);
        for (b = 0; b < s->bins; b++) {
            double level = s->hist[b] / max * ROWS;
            putchar(level >= r ? '#' : (level > r - 1 && s->hist[b] > 0 ? '.' : ' '));
        }
        putchar('\n');
    }
    printf("         +");
    for (b = 0; b < s->bins; b++)
        putchar('-');
    printf("\n          0%*lld\n", s->bins > 1 ? s->bins - 1 : 1, s->frames - 1);
}

static int run(int argc, char **argv)
{
    const char *path = NULL, *name = NULL;
    stats_ctx c;
    long long top = 10;
    char sql[512];
    int i, rc = 0;
    reel_store *store;
    memset(&c, 0, sizeof c);
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            c.json = 1;
        else if (!strcmp(argv[i], "--top")) {
            if (i + 1 >= argc || cli_int64(argv[++i], &top))
                return cli_usage_error(&cmd_stats, "--top wants a number >= 0");
        } else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error(&cmd_stats, "unknown option %s", argv[i]);
        else if (!path)
            path = argv[i];
        else if (!name)
            name = argv[i];
        else
            return cli_usage_error(&cmd_stats, "unexpected argument '%s'", argv[i]);
    }
    if (!path)
        return cli_usage_error(&cmd_stats, "give a store");
    if (cli_open(path, 0, &store) != EXIT_OK) /* checks the file and its schema version */
        return EXIT_FAIL;
    reel_close(store);
    rc |= cli_query(path,
                    "SELECT sequence, frames, accesses, frames_read FROM reel_sequence_stats "
                    "WHERE ?1 IS NULL OR sequence = ?1 ORDER BY sequence",
                    name, seq_row, &c);
    if (name && c.n == 0 && rc == 0) {
        cli_error("%s: no sequence named '%s'", path, name);
        free(c.seqs);
        return EXIT_FAIL;
    }
    for (i = 0; i < c.n && rc == 0; i++) {
        c.current = &c.seqs[i];
        rc |= cli_query(path,
                        "SELECT a.idx, a.count FROM reel_access AS a JOIN reel_sequence AS s "
                        "ON s.id = a.seq_id WHERE s.name = ?1",
                        c.seqs[i].name, access_row, &c);
        bin_means(&c.seqs[i]);
    }
    if (c.json)
        printf("{\n  \"sequences\": [");
    else
        printf("%-20s %8s %10s %11s %10s %10s\n", "SEQUENCE", "FRAMES", "ACCESSES", "FRAMES READ",
               "NEVER READ", "SHARE READ");
    for (i = 0; i < c.n; i++) {
        seq_stat *s = &c.seqs[i];
        double share = s->frames ? 100.0 * (double)s->frames_read / (double)s->frames : 0;
        int b;
        if (c.json) {
            printf("%s\n    {\"sequence\": ", i ? "," : "");
            json_string(stdout, s->name);
            printf(", \"frames\": %lld, \"accesses\": %lld, \"frames_read\": %lld, "
                   "\"never_read\": %lld, \"share_read\": %.4f, \"mean_accesses_per_frame\": [",
                   s->frames, s->accesses, s->frames_read, s->frames - s->frames_read,
                   share / 100);
            for (b = 0; b < s->bins; b++)
                printf("%s%.2f", b ? ", " : "", s->hist[b]);
            printf("]}");
        } else {
            printf("%-20s %8lld %10lld %11lld %10lld %9.1f%%\n", s->name, s->frames, s->accesses,
                   s->frames_read, s->frames - s->frames_read, share);
        }
    }
    if (c.json)
        printf("\n  ],\n  \"hottest\": [");
    snprintf(sql, sizeof sql,
             "SELECT sequence, idx, access_count, last_access FROM reel_hot_frames "
             "WHERE ?1 IS NULL OR sequence = ?1 LIMIT %lld",
             top);
    if (rc == 0)
        rc |= cli_query(path, sql, name, hot_row, &c);
    if (c.json) {
        printf("\n  ]\n}\n");
    } else {
        if (c.rows == 0 && rc == 0)
            printf("\nno frame has been read yet\n");
        for (i = 0; i < c.n && rc == 0; i++)
            histogram(&c.seqs[i]);
    }
    free(c.seqs);
    return rc ? EXIT_FAIL : EXIT_OK;
}

const command cmd_stats = {"stats", "access counts: hottest frames, frames never read, histogram",
                           "stats STORE [SEQUENCE] [--top N] [--json]\n\n"
                           "  --top N   how many of the most read frames to list (default 10)\n"
                           "  --json    the same as a JSON object\n\n"
                           "The histogram shows how the accesses spread along each sequence.",
                           run};
