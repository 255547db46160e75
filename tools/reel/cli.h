/* cli.h - shared pieces of the `reel` command-line tool. */
#ifndef REEL_CLI_H
#define REEL_CLI_H

#include <stdio.h>

#include "reel.h"

/* Exit codes: the CLI contract. */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* One subcommand: name, one-line summary, usage text (NULL: it answers --help itself), and
 * its main. */
typedef struct command {
    const char *name;
    const char *summary;
    const char *usage;
    int (*run)(int argc, char **argv);
} command;

extern const command cmd_import, cmd_ls, cmd_info, cmd_cat, cmd_export, cmd_verify, cmd_rm,
    cmd_stats, cmd_bench;


/* "reel: " + message on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report a failed library call: "reel: what: detailed message", and return EXIT_FAIL. */
int cli_fail(const char *what, int rc);
/* Print the usage of cmd to f (stderr for a usage error, stdout for --help). */
void cli_usage(const command *cmd, FILE *f);
/* A usage error: message, then usage on stderr; returns EXIT_USAGE. */
int cli_usage_error(const command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Open a store (read-only unless write) or report why not. */
int cli_open(const char *path, int write, reel_store **store);
/* Open a store and one of its sequences with its info, or report why not. With counted, the
 * store is opened read-write when the file allows it, so that reads are counted. */
int cli_open_seq(const char *path, const char *name, int counted, reel_store **store,
                 reel_seq **seq, reel_seq_info *info);
/* Read frame idx into dst through the cache, counting the access (once: a one-pass read). */
int cli_read_counted(reel_seq *seq, int64_t idx, int once, void *dst, size_t size);
/* Parse a whole non-negative integer; 0 on success. */
int cli_int64(const char *s, long long *out);
/* Write s as a JSON string literal. */
void json_string(FILE *f, const char *s);
/* Human size: "12.3 MB". buf must hold 32 bytes. */
const char *human_bytes(double bytes, char *buf);

/*
 * Run a read-only SQL query on the store file with one text/number result per column and call
 * row(ctx, ncols, values) per row (values[i] NULL for SQL NULL). Returns 0 or -1 (error shown).
 */
int cli_query(const char *path, const char *sql, const char *bind,
              void (*row)(void *ctx, int n, const char *const *values), void *ctx);

#endif
