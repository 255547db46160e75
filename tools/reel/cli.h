/* cli.h - shared pieces of the `reel` command-line tool. */
#ifndef REEL_CLI_H
#define REEL_CLI_H

#include <getopt.h>
#include <jansson.h>
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
    cmd_stats, cmd_publish, cmd_bench, cmd_annotate;


/* "reel: " + message on stderr; any URL in it is shown without its userinfo (user:password@),
 * as everywhere the CLI names a location. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* name (a store's path or location) as messages and listings show it: without a URL's
 * userinfo. Returns a static buffer, valid until the next call. */
const char *cli_shown(const char *name);
/* Report a failed library call: "reel: what: detailed message", and return EXIT_FAIL. */
int cli_fail(const char *what, int rc);
/* Print the usage of cmd to f (stderr for a usage error, stdout for --help). */
void cli_usage(const command *cmd, FILE *f);
/* A usage error: one line on stderr, the message and "(try 'reel CMD --help')" (the whole
 * usage is for --help); returns EXIT_USAGE. */
int cli_usage_error(const command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* How cli_open opens a store. */
enum {
    CLI_READ,        /* read-only: never writes, never creates */
    CLI_READ_REPAIR, /* read-write when the file allows it (puts dropped views back), else
                      * read-only; never creates */
    CLI_WRITE,       /* read-write; never creates */
    CLI_CREATE       /* read-write, created if missing */
};
/* Open a store (mode: CLI_READ...) or report why not. */
int cli_open(const char *path, int mode, reel_store **store);
/* Open a store and one of its sequences with its info, or report why not. With counted, the
 * store is opened read-write when the file allows it, so that reads are counted. */
int cli_open_seq(const char *path, const char *name, int counted, reel_store **store,
                 reel_seq **seq, reel_seq_info *info);
/* Close a store opened by cli_open_seq(counted): its access counts written first, with a
 * warning (not an error) when they cannot be (a full disk). */
void cli_close_counted(reel_store *store);
/* Read frame idx into dst through the cache, counting the access (once: a one-pass read). */
int cli_read_counted(reel_seq *seq, int64_t idx, int once, void *dst, size_t size);
/* A whole decimal integer (optional '-', digits, nothing else: no spaces, no '+', no junk
 * after it) that fits a long long; 0 on success, -1 otherwise. */
int cli_int64(const char *s, long long *out);
/* A number for what (an option or operand name) in [lo, hi], or a usage error naming what,
 * the value and the range: EXIT_OK or EXIT_USAGE. */
int cli_number(const command *cmd, const char *what, const char *s, long long lo, long long hi,
               long long *out);

/* --help and its -h, in every command's option table. */
#define CLI_OPT_HELP {"help", no_argument, NULL, 'h'}
#define CLI_OPT_END {NULL, 0, NULL, 0}
/* cli_getopt's answer for a usage error (it was shown). */
#define CLI_BAD (-3)

/* The next option of a command's arguments (argv[0] is the command's name), through
 * getopt_long: options may come before, between or after operands, "--" ends them, long
 * options may be abbreviated while unambiguous. --help prints the usage and exits 0. Returns
 * the option's val, -1 when there are no more (then argv[optind..argc-1] are the operands), or
 * CLI_BAD. */
int cli_getopt(const command *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts);
/* After cli_getopt: check that the operands number between lo and hi, or a usage error (what:
 * what to give, for the message). EXIT_OK or EXIT_USAGE. */
int cli_operands(const command *cmd, int argc, char **argv, int lo, int hi, const char *what);

/* Stop cleanly on the first SIGINT or SIGTERM (a second kills): the long loops ask
 * cli_interrupted() between steps, and remote transfers end at once (reel_interrupt). cli_open
 * and cli_query call it for a published store. */
void cli_catch_signals(void);
int cli_interrupted(void);

/* JSON through jansson: every string escaped, every document valid. A string of any bytes
 * (invalid UTF-8 becomes U+FFFD; NULL becomes null). */
json_t *cli_json_text(const char *s);
/* A value of a cli_query row as JSON, by its SQL type (SQLITE_INTEGER, ...). */
json_t *cli_json_sql(const char *text, int type);
/* obj[key] = v (taking v); a failure (out of memory) is remembered for cli_json_emit. */
void cli_json_set(json_t *obj, const char *key, json_t *v);
void cli_json_append(json_t *array, json_t *v);
/* Print doc (indented) and a newline on stdout and release it: EXIT_OK, or EXIT_FAIL with a
 * message if any part of the document could not be made or written. */
int cli_json_emit(json_t *doc);
/* Human size: "12.3 MB". buf must hold 32 bytes. */
const char *human_bytes(double bytes, char *buf);

/* A row of cli_query: n columns as text (NULL for SQL NULL) and their SQL types. Returns 0 to
 * go on, anything else to stop the query with that status. */
typedef int (*cli_row_fn)(void *ctx, int n, const char *const *values, const int *types);
/* Run a read-only SQL query on the store file (?1 bound to bind when not NULL) and call row per
 * row. Returns 0, row's nonzero status, or -1 (error shown). */
int cli_query(const char *path, const char *sql, const char *bind, cli_row_fn row, void *ctx);

/* ---- `reel annotate`'s two files (cmd_annotate.c, annotate_coco.c) share these ---- */

enum { ANN_FMT_AUTO, ANN_FMT_COCO, ANN_FMT_JSON, ANN_FMT_CSV };

typedef struct ann_opts {
    const char *in, *out, *key, *producer;
    int format, by_id, multi, quiet;
} ann_opts;

/* Rows to write, with the memory they own. */
typedef struct ann_rows {
    reel_annot *a;
    char **keys; /* each row's key (CSV and reel JSON: any; COCO: the one --key) */
    size_t n, cap;
    int64_t frames; /* of the sequence: indexes past it are refused */
    const char *file;
} ann_rows;

/* Take value (malloc'd) as a new row; -1 (message shown) when out of memory or out of range. */
int ann_rows_add(ann_rows *r, const char *key, int64_t index, reel_annot *a, void *value);
/* The place of a dtype in the table of numpy's names, or -1 (NULL too). */
int ann_dtype(const char *name);
/* Its kind: 'f' float, 'h' float16, 'i' signed, 'u' unsigned, 'b' bool. */
int ann_dtype_kind(int t);
/* Element i of an array of dtype t as a double (little-endian hosts, as the store's bytes). */
double ann_element(const unsigned char *p, int t, size_t i);

/* COCO keypoints JSON (doc) as rows: annotate_coco.c. 0, or -1 with the error shown. */
int ann_read_coco(const ann_opts *o, json_t *doc, ann_rows *r);
/* The sequence's annotations under o->key (default "keypoints") as a COCO keypoints
 * document, or NULL with the error shown. */
json_t *ann_coco_doc(reel_seq *q, const ann_opts *o, const reel_seq_info *info);

#endif
