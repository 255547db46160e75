/* reel.c - the `reel` command-line tool: dispatch to the commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const command *const commands[] = {&cmd_import, &cmd_ls,  &cmd_info,  &cmd_cat,
                                          &cmd_export, &cmd_verify, &cmd_rm, &cmd_stats,
                                          &cmd_publish, &cmd_bench, &cmd_annotate};
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

static const command *find(const char *name)
{
    size_t i;
    for (i = 0; i < NCOMMANDS; i++)
        if (!strcmp(name, commands[i]->name))
            return commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const command *cmd;
    if (argc < 2) {
        help(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        if (argc > 2 && strcmp(argv[1], "help") == 0) { /* reel help COMMAND */
            if (!(cmd = find(argv[2])) || !cmd->usage) {
                cli_error(cmd ? "run 'reel %s --help'" : "unknown command '%s'", argv[2]);
                return EXIT_USAGE;
            }
            cli_usage(cmd, stdout);
            return EXIT_OK;
        }
        help(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("reel %s\n", reel_version_string());
        return EXIT_OK;
    }
    if (!(cmd = find(argv[1]))) {
        cli_error("unknown command '%s'", argv[1]);
        help(stderr);
        return EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1); /* each command parses its options (and --help) */
}
