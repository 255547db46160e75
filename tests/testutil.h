/* testutil.h - helpers shared by the libcheck suites. */
#ifndef REEL_TESTUTIL_H
#define REEL_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "reel.h"

/* A fresh empty directory under /tmp for this process; removed by tu_cleanup(). */
const char *tu_dir(void);
/* tu_dir()/name, in a static buffer (valid until the next call). */
const char *tu_path(const char *name);
/* Remove tu_dir() and everything in it. */
void tu_cleanup(void);

/*
 * Deterministic test pixels for frame number seed: a moving gradient with an edge and noise,
 * so that prediction has real work to do. 16-bit formats get values below 1024 for 10-bit.
 */
void tu_fill(uint8_t *buf, int fmt, int width, int height, uint32_t seed);

/* Create a store at tu_path(name) and a sequence "s" in it with n frames from tu_fill. */
void tu_make_store(const char *name, int fmt, int width, int height, int n, reel_store **store,
                   reel_seq **seq);

/* Run one SQL statement on the store file through a separate sqlite3 connection. */
void tu_sql(const char *path, const char *sql);

/* Open sequence name of store s (a fixture of an earlier version), check its frame count,
 * codec and keyint, and read every frame, the last first: each must decode to its checksum. */
void tu_read_fixture_seq(reel_store *s, const char *name, int64_t frames, int codec, int keyint);
/* The first column of the first row of sql as an integer (or -1 when there is none). */
long long tu_sql_int(const char *path, const char *sql);

/* dir/name in one of two static buffers that alternate (two may be used in one call). */
const char *tu_join(const char *dir, const char *name);
/* Run a shell command (printf-style); its exit status. */
int tu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a shell command and return all of its stdout (malloc'd, NUL-terminated; *len bytes). */
char *tu_slurp(size_t *len, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A test case whose tests each get a fresh tu_dir(), removed afterwards; timeout in seconds. */
TCase *tu_tcase(const char *name, int timeout);
/* Run the case as a suite of the same name; the process exit status (0 when all passed). */
int tu_run(const char *name, TCase *tc);

#endif
