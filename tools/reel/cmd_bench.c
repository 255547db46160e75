/*
 * cmd_bench.c - `reel bench` runs reel-bench, a program of its own: it measures reel's
 * internals (the codec alone, decoding without storing) against FFmpeg, which the CLI, a
 * program on the public API like any other, does not reach. It is looked for in $REEL_BENCH,
 * beside this program (a build tree: tools/reel and tools/bench), and where `make install`
 * puts it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef PKGLIBEXECDIR
#define PKGLIBEXECDIR "/usr/local/libexec/reel"
#endif

/* The first executable of the candidates, in path (PATH_MAX bytes); 0 when one is found. */
static int find_bench(char *path)
{
    static const char *const rel[] = {"/reel-bench", "/../bench/reel-bench",
                                      "/../../bench/reel-bench"};
    char self[PATH_MAX], *slash;
    const char *env = getenv("REEL_BENCH");
    ssize_t n;
    size_t i;
    if (env && *env) {
        snprintf(path, PATH_MAX, "%s", env);
        return access(path, X_OK);
    }
    if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
        self[n] = 0;
        if ((slash = strrchr(self, '/')))
            *slash = 0;
        for (i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            snprintf(path, PATH_MAX, "%.*s%s", (int)(PATH_MAX - 32), self, rel[i]);
            if (access(path, X_OK) == 0)
                return 0;
        }
    }
    snprintf(path, PATH_MAX, "%s/reel-bench", PKGLIBEXECDIR);
    return access(path, X_OK);
}

static int bench_run(int argc, char **argv)
{
    char path[PATH_MAX];
    (void)argc;
    if (find_bench(path) != 0) {
        cli_error("bench: reel-bench is not installed (looked for %s: %s)", path,
                  strerror(errno));
        return EXIT_FAIL;
    }
    argv[0] = (char *)"reel bench";
    execv(path, argv);
    cli_error("bench: cannot run %s: %s", path, strerror(errno));
    return EXIT_FAIL;
}

const command cmd_bench = {
    "bench", "measure reel against FFmpeg, zstd, FFV1 and pread on one video, in one run",
    NULL, bench_run};
