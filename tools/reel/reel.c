/* reel.c - the `reel` command-line tool: dispatch to the commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const command *const commands[] = {&cmd_import, &cmd_ls,  &cmd_info,  &cmd_cat,
                                          &cmd_export, &cmd_verify, &cmd_rm, &cmd_stats,
                                          &cmd_bench};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

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
        for (a = 2; commands[i]->usage && a < argc; a++) { /* no usage: the command's own */
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
