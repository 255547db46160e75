/* cmd_publish.c - `reel publish`: sequences of a store to a directory, an HTTP server or an
 * S3 bucket, for reading from any machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* "64M", "512k", "1G" or plain bytes: a size in bytes from 64 KiB to 64 GiB. */
static int parse_size(const char *s, long long *out)
{
    char num[32];
    size_t n = strlen(s);
    long long v, mul = 1;
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, s, n + 1);
    switch (num[n - 1]) {
    case 'k': case 'K': mul = 1LL << 10; num[--n] = 0; break;
    case 'm': case 'M': mul = 1LL << 20; num[--n] = 0; break;
    case 'g': case 'G': mul = 1LL << 30; num[--n] = 0; break;
    default: break;
    }
    if (cli_int64(num, &v) != 0 || v <= 0 || v > (1LL << 30) / mul || v * mul < 65536)
        return -1;
    *out = v * mul;
    return 0;
}

static int run(int argc, char **argv)
{
    static const struct option options[] = {{"sequence", required_argument, NULL, 's'},
                                            {"part-size", required_argument, NULL, 'p'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"quiet", no_argument, NULL, 'q'},
                                            {"verify-existing", no_argument, NULL, 'v'},
                                            CLI_OPT_HELP,
                                            CLI_OPT_END};
    const char **names = calloc((size_t)argc, sizeof *names);
    reel_publish_options o;
    reel_publish_result r;
    reel_store *s;
    long long part = 0;
    int c, rc, json = 0, quiet = 0, verify = 0;
    size_t n = 0;
    char a[32], b[32];
    if (!names)
        return cli_fail("publish", REEL_NOMEM);
    while ((c = cli_getopt(&cmd_publish, argc, argv, "q", options)) != -1) {
        switch (c) {
        case 's': names[n++] = optarg; break;
        case 'j': json = 1; break;
        case 'q': quiet = 1; break;
        case 'v': verify = 1; break;
        case 'p':
            if (parse_size(optarg, &part) == 0)
                break;
            free(names);
            return cli_usage_error(&cmd_publish,
                                   "--part-size wants a size from 64k to 1G (e.g. 64M), not '%s'",
                                   optarg);
        default: free(names); return EXIT_USAGE;
        }
    }
    if ((rc = cli_operands(&cmd_publish, argc, argv, 2, 2, "a store and a destination"))) {
        free(names);
        return rc;
    }
    if (cli_open(argv[optind], CLI_READ, &s) != EXIT_OK) {
        free(names);
        return EXIT_FAIL;
    }
    memset(&o, 0, sizeof o);
    o.sequences = n ? names : NULL;
    o.nsequences = n;
    o.part_bytes = part;
    o.verify_existing = verify;
    cli_catch_signals(); /* a transfer in progress ends at once; the snapshot is removed */
    rc = reel_publish(s, argv[optind + 1], &o, &r);
    reel_close(s);
    free(names);
    if (rc != REEL_OK) /* the message names the destination */
        return cli_fail(argv[optind], rc);
    if (json) {
        json_t *d = json_object();
        cli_json_set(d, "destination", cli_json_text(cli_shown(argv[optind + 1])));
        cli_json_set(d, "bytes", json_integer(r.bytes));
        cli_json_set(d, "parts", json_integer(r.parts));
        cli_json_set(d, "uploaded_parts", json_integer(r.uploaded_parts));
        cli_json_set(d, "uploaded_bytes", json_integer(r.uploaded_bytes));
        return cli_json_emit(d);
    }
    if (!quiet)
        fprintf(stderr, "published %s to %s: %s in %lld part(s), %lld sent (%s), %lld there "
                        "already\n",
                argv[optind], cli_shown(argv[optind + 1]), human_bytes((double)r.bytes, a),
                (long long)r.parts, (long long)r.uploaded_parts,
                human_bytes((double)r.uploaded_bytes, b),
                (long long)(r.parts - r.uploaded_parts));
    return EXIT_OK;
}

const command cmd_publish = {
    "publish", "publish sequences for reading from any machine (directory, HTTP, S3)",
    "publish STORE DEST [--sequence NAME]... [--part-size SIZE] [--verify-existing]\n"
    "        [--json] [--quiet]\n\n"
    "  DEST               a directory, http(s)://HOST/PATH (a server taking PUT), or\n"
    "                     s3://BUCKET/PREFIX (endpoint and keys from AWS_ENDPOINT_URL,\n"
    "                     AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)\n"
    "  --sequence NAME    publish this sequence (repeat for more; default: all)\n"
    "  --part-size SIZE   bytes per part object, 64k to 1G (default 64M); S3 gets\n"
    "                     parts over 16M in pieces of 8M (multipart upload)\n"
    "  --verify-existing  read back the parts already at an HTTP or S3 destination and\n"
    "                     send again those whose blocks do not match (a directory's\n"
    "                     parts are always checked; otherwise only their size is)\n\n"
    "Parts are named by the SHA-256 of their content: publishing again sends only what\n"
    "changed or is damaged, and the manifest last. The snapshot (a copy of the chosen\n"
    "sequences) is written beside STORE as STORE.publish-PID.tmp, and removed; one left\n"
    "by a killed publish is removed by the next, as are the destination's unfinished\n"
    "temporary files and S3 multipart uploads. Read it back with any command: reel ls\n"
    "DEST, reel cat DEST SEQUENCE, or reel_open(DEST, REEL_OPEN_READONLY, ...).",
    run};
