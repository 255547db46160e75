/* publish.c - reel_publish(): a snapshot of chosen sequences (src/store) published as parts
 * and a manifest (src/remote); and the statistics of a published store opened for reading. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "base/error.h"
#include "remote/remote.h"
#include "store/schema.h"

/* The manifest's record of each sequence published (names: the chosen ones, or all). */
typedef struct listing {
    reel_store *s;
    reel__pubseq *v;
    reel_seq **q; /* held open until the manifest is written: their names and info live there */
    size_t n, cap;
    int rc;
} listing;

static int add(void *ctx, const char *name)
{
    listing *l = ctx;
    reel_seq_info info;
    reel_seq *q;
    int rc;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        reel__pubseq *v = reel__realloc(l->v, cap * sizeof *v);
        reel_seq **qs = v ? reel__realloc(l->q, cap * sizeof *qs) : NULL;
        if (v)
            l->v = v;
        if (!v || !qs)
            return l->rc = reel__err(REEL_NOMEM, "out of memory");
        l->q = qs;
        l->cap = cap;
    }
    if ((rc = reel_seq_open(l->s, name, &q)) != REEL_OK ||
        (rc = reel_seq_get_info(q, &info)) != REEL_OK) {
        reel_seq_close(q);
        return l->rc = rc;
    }
    l->q[l->n] = q;
    l->v[l->n++] = (reel__pubseq){info.name,        reel_pix_fmt_name(info.pix_fmt),
                                  info.codec == REEL_CODEC_TEMPORAL ? "temporal" : "intra",
                                  info.frame_count, info.stored_bytes,
                                  info.width,       info.height,
                                  info.keyint,      NULL,
                                  0};
    return 0;
}

/* ---- which part holds which frames -------------------------------------------------------- */

typedef struct ranger {
    listing *l;
    const int64_t *starts; /* where each part begins */
    size_t nparts, cur;    /* cur: the sequence last seen */
} ranger;

static size_t part_at(const ranger *g, int64_t off)
{
    return reel__last_at_most(g->starts, g->nparts, off);
}

/* Frame idx has bytes in part: extend that part's range when the frame follows it (one of
 * the last two ranges: a frame spanning two parts alternates them), else begin one. */
static int add_range(reel__pubseq *q, int64_t part, int64_t idx)
{
    size_t n = q->nranges, j;
    for (j = n; j > 0 && j + 2 > n; j--)
        if (q->ranges[j - 1][0] == part && q->ranges[j - 1][2] >= idx - 1) {
            if (idx > q->ranges[j - 1][2])
                q->ranges[j - 1][2] = idx;
            return REEL_OK;
        }
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) { /* room for 4, then doubling */
        int64_t(*g)[3] = reel__realloc(q->ranges, (n ? 2 * n : 4) * sizeof *g);
        if (!g)
            return reel__err(REEL_NOMEM, "out of memory");
        q->ranges = g;
    }
    q->ranges[n][0] = part;
    q->ranges[n][1] = q->ranges[n][2] = idx;
    q->nranges = n + 1;
    return REEL_OK;
}

static int on_span(void *ctx, const char *seq, int64_t idx, int64_t first, int64_t last)
{
    ranger *g = ctx;
    size_t p, end;
    int rc = REEL_OK;
    if (!seq)
        return REEL_OK;
    if (g->cur >= g->l->n || strcmp(g->l->v[g->cur].name, seq)) {
        for (g->cur = 0; g->cur < g->l->n && strcmp(g->l->v[g->cur].name, seq); g->cur++)
            ;
        if (g->cur == g->l->n) /* not published (the snapshot holds only those that are) */
            return REEL_OK;
    }
    for (p = part_at(g, first), end = part_at(g, last); rc == REEL_OK && p <= end; p++)
        rc = add_range(&g->l->v[g->cur], (int64_t)p, idx);
    return rc;
}

/* Each published sequence's frames by part (the snapshot cut as c says), for the manifest. */
static int frame_ranges(listing *l, const char *snapshot, const reel__cuts *c)
{
    ranger g = {l, c->starts, c->n, 0};
    size_t i;
    int rc = c->n ? reel__snapshot_spans(snapshot, on_span, &g) : REEL_OK;
    for (i = 0; rc == REEL_OK && i < l->n; i++)
        if (!l->v[i].ranges && !(l->v[i].ranges = reel__malloc(sizeof *l->v[i].ranges)))
            rc = reel__err(REEL_NOMEM, "out of memory"); /* a sequence without pixels: [] */
    return rc;
}

/* In folder dir: the snapshots (and their journals) named before<pid>.tmp of publishes that
 * were killed (their process is gone) removed. */
static void clean_snapshots(const char *dir, const char *before)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char file[8300];
    if (!d)
        return;
    while ((e = readdir(d)))
        if (reel__pid_dead(e->d_name, before, ".tmp") ||
            reel__pid_dead(e->d_name, before, ".tmp-journal")) {
            snprintf(file, sizeof file, "%.4000s/%.255s", dir, e->d_name);
            unlink(file);
        }
    closedir(d);
}

/* Where the snapshot of the store at path goes (into out, cap bytes): beside it,
 * "<store>.publish-<pid>.tmp", where a rerun after a kill finds it and removes it (as this
 * does with those of killed publishes); in $TMPDIR (or /tmp) as "reel-publish-<pid>.tmp" when
 * the store's folder is not writable. */
static void snapshot_path(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/'), *tmpdir = getenv("TMPDIR");
    char dir[4200], before[300];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (!dir[0])
        snprintf(dir, sizeof dir, "/");
    snprintf(before, sizeof before, "%.255s.publish-", slash ? slash + 1 : path);
    if (access(dir, W_OK) != 0) {
        snprintf(dir, sizeof dir, "%.4000s", tmpdir && *tmpdir ? tmpdir : "/tmp");
        snprintf(before, sizeof before, "reel-publish-");
    }
    clean_snapshots(dir, before);
    snprintf(out, cap, "%s/%s%d.tmp", dir, before, (int)getpid());
}

/* Make the snapshot's file, empty, ours alone (VACUUM INTO takes an empty one): in a shared
 * TMPDIR a name another user made first (a link to a file of theirs) is refused, not
 * followed. */
static int claim_snapshot(const char *tmp)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return reel__err(REEL_IO, "reel_publish: cannot make the snapshot %s: %s", tmp,
                         strerror(errno));
    close(fd);
    return REEL_OK;
}

static int check_options(const reel_publish_options *opts)
{
    size_t i;
    for (i = 0; i < sizeof opts->reserved / sizeof opts->reserved[0]; i++)
        if (opts->reserved[i])
            return reel__err(REEL_INVALID, "reel_publish_options.reserved must be zero");
    if (opts->verify_existing != 0 && opts->verify_existing != 1)
        return reel__err(REEL_INVALID, "reel_publish_options.verify_existing is 0 or 1, not %d",
                         opts->verify_existing);
    if (opts->part_bytes < 0 || opts->part_bytes > REEL__PART_MAX)
        return reel__err(REEL_INVALID, "reel_publish: part size %lld is not from 0 to 1 GiB",
                         (long long)opts->part_bytes);
    if (opts->nsequences > SIZE_MAX / sizeof *opts->sequences) /* no array holds that many */
        return reel__err(REEL_INVALID, "reel_publish: nsequences %zu is more than an array holds",
                         opts->nsequences);
    if (opts->nsequences && !opts->sequences)
        return reel__err(REEL_INVALID, "reel_publish: %zu sequences but no list",
                         opts->nsequences);
    return REEL_OK;
}

int reel_publish(reel_store *s, const char *dest, const reel_publish_options *opts,
                 reel_publish_result *result)
{
    listing l;
    reel__pubstat st;
    reel__cuts cuts = {0, 0, NULL, 0};
    char tmp[4600], journal[4700];
    size_t i;
    int rc;
    if (result)
        memset(result, 0, sizeof *result);
    if (reel__store_check(s, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!dest)
        return reel__null_arg(__func__);
    if (opts && (rc = check_options(opts)) != REEL_OK)
        return rc;
    if (s->remote)
        return reel__err(REEL_UNSUPPORTED, "reel_publish: this store is itself a published one");
    memset(&l, 0, sizeof l);
    l.s = s;
    if (opts && opts->sequences) {
        for (i = 0; i < opts->nsequences && l.rc == REEL_OK; i++)
            add(&l, opts->sequences[i]);
        rc = l.rc;
    } else {
        rc = reel_seq_list(s, add, &l);
        if (rc == REEL_OK)
            rc = l.rc;
    }
    if (rc == REEL_OK) {
        snapshot_path(s->db->path, tmp, sizeof tmp);
        snprintf(journal, sizeof journal, "%s-journal", tmp);
        unlink(tmp); /* VACUUM INTO wants a new file (one of an earlier process of this pid) */
        unlink(journal);
        memset(&st, 0, sizeof st);
        st.verify = opts ? opts->verify_existing : 0;
        if ((rc = claim_snapshot(tmp)) == REEL_OK)
            rc = reel__sdb_snapshot(s->db, tmp, opts && opts->sequences ? opts->sequences : NULL,
                                    opts && opts->sequences ? opts->nsequences : 0);
        if (rc == REEL_OK &&
            (rc = reel__publish_cut(tmp, opts ? opts->part_bytes : 0, &cuts)) == REEL_OK &&
            (rc = frame_ranges(&l, tmp, &cuts)) == REEL_OK)
            rc = reel__publish_file(tmp, reel__schema_latest(), &cuts, dest, l.v, l.n, &st);
        reel__publish_cuts_free(&cuts);
        unlink(tmp);
        unlink(journal);
        if (rc == REEL_OK && result)
            *result = (reel_publish_result){st.bytes, st.parts, st.uploaded_parts,
                                            st.uploaded_bytes};
    }
    for (i = 0; i < l.n; i++) {
        reel_seq_close(l.q[i]);
        free(l.v[i].ranges);
    }
    free(l.q);
    free(l.v);
    return rc;
}

int reel_store_get_remote_stats(reel_store *s, reel_remote_stats *stats)
{
    if (reel__store_check(s, __func__) != REEL_OK)
        return REEL_MISUSE;
    if (!stats)
        return reel__null_arg(__func__);
    memset(stats, 0, sizeof *stats);
    if (!s->remote)
        return reel__err(REEL_INVALID, "reel_store_get_remote_stats: not a published store");
    reel__remote_stats(s->remote, &stats->block_hits, &stats->blocks_fetched,
                       &stats->bytes_fetched);
    return REEL_OK;
}
