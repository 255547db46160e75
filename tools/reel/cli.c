/* cli.c - what the commands of `reel` share (and reel-bench with them): messages, options and
 * numbers, signals, opening, JSON, sizes, read-only queries on the store file. */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* text with the userinfo of every URL in it removed ("http://user:pw@host" as "http://host"),
 * in place. */
static char *scrub(char *text)
{
    char *p = text, *auth, *end, *at;
    while ((auth = strstr(p, "://"))) {
        auth += 3;
        end = auth + strcspn(auth, "/?# \t\n'\"");
        for (at = end; at > auth && at[-1] != '@'; at--)
            ;
        if (at > auth)
            memmove(auth, at, strlen(at) + 1);
        p = auth;
    }
    return text;
}

/* "reel: " + the message (without any URL's userinfo) + "\n" on stderr. */
static void print_error(const char *fmt, va_list ap)
{
    char small[1024], *big = NULL, *msg = small;
    va_list again;
    int n;
    va_copy(again, ap);
    n = vsnprintf(small, sizeof small, fmt, ap);
    if (n >= (int)sizeof small && (big = malloc((size_t)n + 1))) {
        vsnprintf(big, (size_t)n + 1, fmt, again);
        msg = big;
    }
    va_end(again);
    fprintf(stderr, "reel: %s\n", n < 0 ? fmt : scrub(msg));
    free(big);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error(fmt, ap);
    va_end(ap);
}

const char *cli_shown(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s", name);
    return scrub(buf);
}

int cli_fail(const char *what, int rc)
{
    const char *msg = reel_errmsg();
    size_t n = strlen(what);
    if (!strncmp(msg, what, n) && msg[n] == ':') /* it names what already */
        cli_error("%s", msg);
    else if (msg[0])
        cli_error("%s: %s", what, msg);
    else
        cli_error("%s: %s", what, reel_errstr(rc));
    return EXIT_FAIL;
}

void cli_usage(const command *cmd, FILE *f)
{
    fprintf(f, "usage: reel %s\n\n%s\n", cmd->usage, cmd->summary);
}

/* One line: "reel: MESSAGE (try 'reel CMD --help')"; the whole usage only with --help. */
int cli_usage_error(const command *cmd, const char *fmt, ...)
{
    char msg[2048], line[2300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "%s (try 'reel %s --help')", msg, cmd->name);
    cli_error("%s", line);
    return EXIT_USAGE;
}

/* Whether path names a published store (read over the network, or a directory of parts). */
static int remote_name(const char *path)
{
    struct stat st;
    return !strncmp(path, "s3://", 5) || !strncmp(path, "http://", 7) ||
           !strncmp(path, "https://", 8) || (stat(path, &st) == 0 && S_ISDIR(st.st_mode));
}

int cli_open(const char *path, int mode, reel_store **store)
{
    static const int flags[] = {REEL_OPEN_READONLY, REEL_OPEN_READONLY, 0, REEL_OPEN_CREATE};
    char unsaved[1024] = ""; /* why a read to count cannot be written down (a full disk) */
    int rc;
    if (remote_name(path)) /* a read that waits on a server ends at SIGINT / SIGTERM */
        cli_catch_signals();
    if (mode == CLI_READ_REPAIR) {
        if ((rc = reel_open(path, 0, NULL, store)) == REEL_OK)
            return EXIT_OK;
        if (rc == REEL_IO) /* a full disk: read it all the same, and say what is not saved */
            snprintf(unsaved, sizeof unsaved, "%s", reel_errmsg());
    }
    rc = reel_open(path, flags[mode], NULL, store);
    if (rc != REEL_OK) {
        const char *msg = reel_errmsg(), *hint = strstr(msg, " (pass REEL_OPEN_CREATE");
        /* the library's hint is for C callers: `reel import` is how the tool makes a store */
        if (rc == REEL_NOTFOUND && hint)
            cli_error("%.*s (`reel import` makes one)", (int)(hint - msg), msg);
        else
            cli_error("%s", msg);
        return EXIT_FAIL;
    }
    if (unsaved[0])
        fprintf(stderr, "reel: warning: %s; reading it read-only: nothing is written (access "
                        "counts, views put back)\n",
                unsaved);
    return EXIT_OK;
}

int cli_open_seq(const char *path, const char *name, int counted, reel_store **store,
                 reel_seq **seq, reel_seq_info *info)
{
    int rc;
    *seq = NULL;
    if (cli_open(path, counted ? CLI_READ_REPAIR : CLI_READ, store) != EXIT_OK)
        return EXIT_FAIL;
    if ((rc = reel_seq_open(*store, name, seq)) != REEL_OK ||
        (rc = reel_seq_get_info(*seq, info)) != REEL_OK) {
        rc = cli_fail(path, rc);
        reel_seq_close(*seq);
        reel_close(*store);
        return rc;
    }
    return EXIT_OK;
}

void cli_close_counted(reel_store *store)
{
    if (reel_flush(store) == REEL_IO) /* a read-only open answers REEL_READONLY: nothing kept */
        fprintf(stderr, "reel: warning: %s\n", reel_errmsg());
    reel_close(store);
}

int cli_read_counted(reel_seq *seq, int64_t idx, int once, void *dst, size_t size)
{
    reel_frame *f;
    const void *px;
    size_t n;
    int rc = reel_frame_get(seq, idx, once ? REEL_GET_ONCE : 0, &f);
    if (rc != REEL_OK)
        return rc;
    if ((rc = reel_frame_pixels(f, &px, &n)) == REEL_OK)
        memcpy(dst, px, n < size ? n : size);
    reel_frame_release(f);
    return rc;
}

int cli_int64(const char *s, long long *out)
{
    char *end;
    long long v;
    if (!s || (!(s[0] >= '0' && s[0] <= '9') && !(s[0] == '-' && s[1] >= '0' && s[1] <= '9')))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int cli_number(const command *cmd, const char *what, const char *s, long long lo, long long hi,
               long long *out)
{
    if (cli_int64(s, out) == 0 && *out >= lo && *out <= hi)
        return EXIT_OK;
    return cli_usage_error(cmd, "%s wants a whole number from %lld to %lld, not '%s'", what, lo,
                           hi, s);
}

int cli_getopt(const command *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
    char spec[64];
    int c;
    snprintf(spec, sizeof spec, ":h%s", shortopts); /* ':' first: a missing value gives ':' */
    opterr = 0;
    c = getopt_long(argc, argv, spec, longopts, NULL);
    switch (c) {
    case 'h': /* options are parsed before anything is opened: nothing to close */
        cli_usage(cmd, stdout);
        exit(fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL);
    case ':':
        return cli_usage_error(cmd, "%s needs a value", argv[optind - 1]), CLI_BAD;
    case '?':
        if (optopt)
            return cli_usage_error(cmd, "unknown option -%c", optopt), CLI_BAD;
        return cli_usage_error(cmd, "unknown or ambiguous option %s", argv[optind - 1]), CLI_BAD;
    default:
        return c;
    }
}

int cli_operands(const command *cmd, int argc, char **argv, int lo, int hi, const char *what)
{
    int n = argc - optind;
    if (n < lo)
        return cli_usage_error(cmd, "give %s", what);
    if (n > hi)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + hi]);
    return EXIT_OK;
}

static volatile sig_atomic_t interrupted;

/* The first SIGINT or SIGTERM: the loops stop between steps, and a remote transfer (or the
 * wait before a retry) in progress ends at once with REEL_INTERRUPTED. A second one kills. */
static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
    reel_interrupt(1);
}

void cli_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* no SA_RESTART: a blocked open() or read() returns EINTR */
    if (interrupted)
        return; /* the default action is back: a second signal must kill */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_interrupted(void)
{
    return interrupted;
}

/* ---- JSON ---- */

static int json_failed;

json_t *cli_json_text(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    json_t *v;
    char *clean;
    size_t n, i, o = 0;
    if (!s)
        return json_null();
    if ((v = json_string(s)))
        return v;
    /* not valid UTF-8: keep the valid sequences, each bad byte becomes U+FFFD */
    n = strlen(s);
    if (!(clean = malloc(3 * n + 1)))
        return NULL;
    for (i = 0; i < n;) {
        int len = p[i] < 0x80 ? 1 : (p[i] >> 5) == 6 ? 2 : (p[i] >> 4) == 14 ? 3
                                : (p[i] >> 3) == 30 ? 4 : 0;
        json_t *one = NULL;
        if (len && i + (size_t)len <= n && (one = json_stringn(s + i, (size_t)len))) {
            memcpy(clean + o, s + i, (size_t)len);
            o += (size_t)len;
            i += (size_t)len;
            json_decref(one);
        } else {
            memcpy(clean + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    v = json_stringn(clean, o);
    free(clean);
    return v;
}

json_t *cli_json_sql(const char *text, int type)
{
    long long i;
    if (!text || type == SQLITE_NULL)
        return json_null();
    if (type == SQLITE_INTEGER && cli_int64(text, &i) == 0)
        return json_integer(i);
    if (type == SQLITE_FLOAT)
        return json_real(strtod(text, NULL));
    return cli_json_text(text);
}

void cli_json_set(json_t *obj, const char *key, json_t *v)
{
    if (!obj || !v || json_object_set_new(obj, key, v) != 0)
        json_failed = 1;
}

void cli_json_append(json_t *array, json_t *v)
{
    if (!array || !v || json_array_append_new(array, v) != 0)
        json_failed = 1;
}

int cli_json_emit(json_t *doc)
{
    int bad = json_failed || !doc ||
              json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
              fputc('\n', stdout) == EOF || fflush(stdout) != 0;
    json_decref(doc);
    if (bad)
        cli_error("cannot write the JSON document (out of memory, or stdout closed)");
    return bad ? EXIT_FAIL : EXIT_OK;
}

const char *human_bytes(double b, char *buf)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    int u = 0;
    while (b >= 1000 && u < 4) {
        b /= 1000;
        u++;
    }
    snprintf(buf, 32, u ? "%.1f %s" : "%.0f %s", b, units[u]);
    return buf;
}

int cli_query(const char *path, const char *sql, const char *bind, cli_row_fn row, void *ctx)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    reel_store *store = NULL;
    int status = 0, rc;
    /* through the library: a store file, or a published store read over the network */
    if (remote_name(path))
        cli_catch_signals();
    if (reel_open(path, REEL_OPEN_READONLY, NULL, &store) != REEL_OK ||
        reel_store_sql(store, &db) != REEL_OK) {
        cli_error("%s", reel_errmsg());
        reel_close(store);
        return -1;
    }
    rc = SQLITE_OK;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && bind)
        sqlite3_bind_text(st, 1, bind, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        const char *v[32];
        int t[32], n, i;
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        n = sqlite3_column_count(st);
        if (n > 32)
            n = 32;
        for (i = 0; i < n; i++) {
            t[i] = sqlite3_column_type(st, i);
            v[i] = (const char *)sqlite3_column_text(st, i);
        }
        if ((status = row(ctx, n, v, t)) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE && interrupted)
        cli_error("%s: interrupted", path);
    else if (rc != SQLITE_DONE && remote_name(path) &&
             ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CORRUPT) && *reel_errmsg())
        cli_error("%s", reel_errmsg()); /* the remote VFS's account: the object, the reason */
    else if (rc != SQLITE_DONE)
        cli_error("%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_finalize(st);
    sqlite3_close(db);
    reel_close(store);
    return rc != SQLITE_DONE ? -1 : status;
}
