/* reel.c - the `reel` command-line tool: dispatch and shared helpers. */
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const command *const commands[] = {&cmd_import, &cmd_ls,  &cmd_info,  &cmd_cat,
                                          &cmd_export, &cmd_verify, &cmd_rm, &cmd_stats,
                                          &cmd_bench};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("reel: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_fail(const char *what, int rc)
{
    const char *msg = reel_errmsg();
    if (msg[0])
        cli_error("%s: %s", what, msg);
    else
        cli_error("%s: %s", what, reel_errstr(rc));
    return EXIT_FAIL;
}

void cli_usage(const command *cmd, FILE *f)
{
    fprintf(f, "usage: reel %s\n\n%s\n", cmd->usage, cmd->summary);
}

int cli_usage_error(const command *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("reel: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: reel %s\n(see reel %s --help)\n", cmd->usage, cmd->name);
    return EXIT_USAGE;
}

int cli_open(const char *path, int write, reel_store **store)
{
    int rc = reel_open(path, write ? REEL_OPEN_CREATE : REEL_OPEN_READONLY, NULL, store);
    if (rc != REEL_OK) {
        cli_error("%s", reel_errmsg());
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int cli_open_seq(const char *path, const char *name, int counted, reel_store **store,
                 reel_seq **seq, reel_seq_info *info)
{
    int rc;
    *seq = NULL;
    if (!counted || reel_open(path, 0, NULL, store) != REEL_OK) {
        if (cli_open(path, 0, store) != EXIT_OK)
            return EXIT_FAIL;
    }
    if ((rc = reel_seq_open(*store, name, seq)) != REEL_OK ||
        (rc = reel_seq_info_get(*seq, info)) != REEL_OK) {
        rc = cli_fail(path, rc);
        reel_seq_close(*seq);
        reel_close(*store);
        return rc;
    }
    return EXIT_OK;
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
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
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

int cli_query(const char *path, const char *sql, const char *bind,
              void (*row)(void *ctx, int n, const char *const *values), void *ctx)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && bind)
        sqlite3_bind_text(st, 1, bind, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        const char *v[32];
        int n, i;
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        n = sqlite3_column_count(st);
        if (n > 32)
            n = 32;
        for (i = 0; i < n; i++)
            v[i] = (const char *)sqlite3_column_text(st, i);
        row(ctx, n, v);
    }
    if (rc != SQLITE_DONE)
        cli_error("%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void help(FILE *f)
{
    size_t i;
    fprintf(f, "usage: reel COMMAND STORE [ARGS...]\n\n"
               "reel keeps decoded video frames in a SQLite store file, compressed losslessly,\n"
               "for fast random access.\n\ncommands:\n");
    for (i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\n'reel COMMAND --help' describes a command; 'man reel' has the details.\n"
               "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    size_t i;
    int a;
    if (argc < 2) {
        help(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        help(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("reel %s\n", reel_version_string());
        return EXIT_OK;
    }
    for (i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i]->name) != 0)
            continue;
        for (a = 2; a < argc; a++) {
            if (!strcmp(argv[a], "--"))
                break;
            if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
                cli_usage(commands[i], stdout);
                return EXIT_OK;
            }
        }
        return commands[i]->run(argc - 1, argv + 1);
    }
    cli_error("unknown command '%s'", argv[1]);
    help(stderr);
    return EXIT_USAGE;
}
