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
    const char *path;
    seq_stat *seqs;
    int n, cap, rows;
    json_t *hot; /* with --json: the hottest frames */
    seq_stat *current; /* the sequence whose accesses are being binned */
} stats_ctx;

/* A count of the file as a number >= 0, or a message naming it (a store edited by hand). */
static int count_of(const stats_ctx *c, const char *seq, const char *what, const char *v,
                    long long *out)
{
    if (!v) {
        *out = 0;
        return 0;
    }
    if (cli_int64(v, out) == 0 && *out >= 0)
        return 0;
    cli_error("%s: sequence '%s' records %s as '%s', not a count (a damaged or hand-edited "
              "store; reel verify checks it)",
              c->path, seq, what, v);
    return 1;
}

static int seq_row(void *ctx, int n, const char *const *v, const int *t)
{
    stats_ctx *c = ctx;
    seq_stat *s;
    (void)n;
    (void)t;
    if (c->n == c->cap) {
        seq_stat *grown = realloc(c->seqs, (size_t)(c->cap ? 2 * c->cap : 16) * sizeof *grown);
        if (!grown) {
            cli_error("out of memory");
            return 1;
        }
        c->seqs = grown;
        c->cap = c->cap ? 2 * c->cap : 16;
    }
    s = &c->seqs[c->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", v[0] ? v[0] : "");
    if (count_of(c, s->name, "its frames", v[1], &s->frames) ||
        count_of(c, s->name, "its accesses", v[2], &s->accesses) ||
        count_of(c, s->name, "its frames read", v[3], &s->frames_read))
        return 1;
    s->bins = s->frames < BINS ? (int)s->frames : BINS;
    return 0;
}

/* floor(b x frames / bins) without overflowing: frames = q x bins + r */
static long long bin_start(long long b, long long frames, int bins)
{
    return b * (frames / bins) + b * (frames % bins) / bins;
}

static int access_row(void *ctx, int n, const char *const *v, const int *t)
{
    seq_stat *s = ((stats_ctx *)ctx)->current;
    long long idx, b;
    (void)n;
    (void)t;
    if (cli_int64(v[0], &idx) != 0 || idx < 0 || idx >= s->frames || s->bins == 0)
        return 0;
    /* the bin whose range [bin_start(b), bin_start(b + 1)) holds idx */
    b = (long long)((long double)idx * s->bins / (long double)s->frames);
    while (b > 0 && bin_start(b, s->frames, s->bins) > idx)
        b--;
    while (b + 1 < s->bins && bin_start(b + 1, s->frames, s->bins) <= idx)
        b++;
    s->hist[b] += v[1] ? atof(v[1]) : 0;
    return 0;
}

static int hot_row(void *ctx, int n, const char *const *v, const int *t)
{
    stats_ctx *c = ctx;
    (void)n;
    if (c->hot) {
        json_t *o = json_object();
        cli_json_set(o, "sequence", cli_json_sql(v[0], t[0]));
        cli_json_set(o, "idx", cli_json_sql(v[1], t[1]));
        cli_json_set(o, "access_count", cli_json_sql(v[2], t[2]));
        cli_json_set(o, "last_access", cli_json_sql(v[3], t[3]));
        cli_json_append(c->hot, o);
    } else {
        if (c->rows == 0)
            printf("\nhottest frames:\n  %-20s %8s %9s  %s\n", "SEQUENCE", "IDX", "ACCESSES",
                   "LAST ACCESS");
        printf("  %-20s %8s %9s  %s\n", v[0] ? v[0] : "", v[1] ? v[1] : "?",
               v[2] ? v[2] : "?", v[3] ? v[3] : "-");
    }
    c->rows++;
    return 0;
}

/* Turn each bin's sum into the mean accesses per frame of the frames it covers. */
static void bin_means(seq_stat *s)
{
    int b;
    for (b = 0; b < s->bins; b++) {
        long long first = bin_start(b, s->frames, s->bins);
        long long end = bin_start(b + 1, s->frames, s->bins);
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

static const struct option options[] = {{"json", no_argument, NULL, 'j'},
                                        {"top", required_argument, NULL, 't'}, CLI_OPT_HELP,
                                        CLI_OPT_END};

static json_t *seq_json(const seq_stat *s)
{
    json_t *o = json_object(), *hist = json_array();
    int b;
    cli_json_set(o, "sequence", cli_json_text(s->name));
    cli_json_set(o, "frames", json_integer(s->frames));
    cli_json_set(o, "accesses", json_integer(s->accesses));
    cli_json_set(o, "frames_read", json_integer(s->frames_read));
    cli_json_set(o, "never_read",
                 json_integer(s->frames > s->frames_read ? s->frames - s->frames_read : 0));
    cli_json_set(o, "share_read",
                 json_real(s->frames ? (double)s->frames_read / (double)s->frames : 0));
    for (b = 0; b < s->bins; b++)
        cli_json_append(hist, json_real(s->hist[b]));
    cli_json_set(o, "mean_accesses_per_frame", hist);
    return o;
}

/* The options and operands of `reel stats` into *json, *top, c->path and *name. */
static int parse(int argc, char **argv, int *json, long long *top, stats_ctx *c,
                 const char **name)
{
    int opt, rc;
    while ((opt = cli_getopt(&cmd_stats, argc, argv, "", options)) != -1) {
        if (opt == 'j')
            *json = 1;
        else if (opt == 't') {
            if ((rc = cli_number(&cmd_stats, "--top", optarg, 0, 1000000, top)) != EXIT_OK)
                return rc;
        } else
            return EXIT_USAGE;
    }
    if ((rc = cli_operands(&cmd_stats, argc, argv, 1, 2, "a store")))
        return rc;
    c->path = argv[optind];
    *name = optind + 1 < argc ? argv[optind + 1] : NULL;
    return EXIT_OK;
}

/* The sequences (name: one of them, or all when NULL) with their access counts, binned; not 0
 * on a failure (said). */
static int load(stats_ctx *c, const char *name)
{
    int i, rc = cli_query(c->path,
                          "SELECT sequence, frames, accesses, frames_read FROM "
                          "reel_sequence_stats WHERE ?1 IS NULL OR sequence = ?1 ORDER BY sequence",
                          name, seq_row, c);
    if (name && c->n == 0 && rc == 0) {
        cli_error("%s: no sequence named '%s'", c->path, name);
        return 1;
    }
    for (i = 0; i < c->n && rc == 0; i++) {
        c->current = &c->seqs[i];
        rc |= cli_query(c->path,
                        "SELECT a.idx, a.count FROM reel_access AS a JOIN reel_sequence AS s "
                        "ON s.id = a.seq_id WHERE s.name = ?1",
                        c->seqs[i].name, access_row, c);
        bin_means(&c->seqs[i]);
    }
    return rc;
}

/* One line (or with json, a JSON object into seqs) per sequence. */
static void sequences(const stats_ctx *c, int json, json_t *seqs)
{
    int i;
    if (!json)
        printf("%-20s %8s %10s %11s %10s %10s\n", "SEQUENCE", "FRAMES", "ACCESSES", "FRAMES READ",
               "NEVER READ", "SHARE READ");
    for (i = 0; i < c->n; i++) {
        const seq_stat *s = &c->seqs[i];
        double share = s->frames ? 100.0 * (double)s->frames_read / (double)s->frames : 0;
        if (json)
            cli_json_append(seqs, seq_json(s));
        else
            printf("%-20s %8lld %10lld %11lld %10lld %9.1f%%\n", s->name, s->frames, s->accesses,
                   s->frames_read, s->frames > s->frames_read ? s->frames - s->frames_read : 0,
                   share);
    }
}

/* The top hottest frames (into c->hot, or printed by hot_row). */
static int hottest(stats_ctx *c, const char *name, long long top)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT sequence, idx, access_count, last_access FROM reel_hot_frames "
             "WHERE ?1 IS NULL OR sequence = ?1 LIMIT %lld",
             top);
    return cli_query(c->path, sql, name, hot_row, c);
}

static int run(int argc, char **argv)
{
    const char *name = NULL;
    stats_ctx c;
    long long top = 10;
    int i, json = 0, rc = 0;
    reel_store *store;
    json_t *doc = NULL, *seqs = NULL;
    memset(&c, 0, sizeof c);
    if ((rc = parse(argc, argv, &json, &top, &c, &name)) != EXIT_OK)
        return rc;
    /* checks the file and its schema version; puts dropped views back if it may */
    if (cli_open(c.path, CLI_READ_REPAIR, &store) != EXIT_OK)
        return EXIT_FAIL;
    reel_close(store);
    if (load(&c, name) != 0) { /* nothing shown */
        free(c.seqs);
        return EXIT_FAIL;
    }
    if (json) {
        doc = json_object();
        seqs = json_array();
        c.hot = json_array();
    }
    sequences(&c, json, seqs);
    rc = hottest(&c, name, top);
    if (json) {
        cli_json_set(doc, "sequences", seqs);
        cli_json_set(doc, "hottest", c.hot);
        if (rc == 0)
            rc = cli_json_emit(doc);
        else
            json_decref(doc);
    } else if (rc == 0) {
        if (c.rows == 0)
            printf("\nno frame has been read yet\n");
        for (i = 0; i < c.n; i++)
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
