/*
 * replay.c - runs a libFuzzer harness without libFuzzer: each file named on the command line
 * (or each file in a directory named there) is given to LLVMFuzzerTestOneInput once. `make
 * check` replays the seed corpus and every input that once crashed (tests/fuzz/corpus/) through
 * the harnesses built with the compiler and sanitizers of the build, so a fixed crash stays
 * fixed in the plain, ASan+UBSan and TSan builds alike.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        if (f)
            fclose(f);
        free(buf);
        return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int i, failed = 0, count = 0;
    for (i = 1; i < argc; i++) {
        struct stat st;
        DIR *d;
        struct dirent *e;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
            failed = 1;
        } else if (!S_ISDIR(st.st_mode)) {
            failed |= replay_file(argv[i]);
            count++;
        } else if ((d = opendir(argv[i]))) {
            while ((e = readdir(d))) {
                char path[4096];
                if (e->d_name[0] == '.')
                    continue;
                snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
                failed |= replay_file(path);
                count++;
            }
            closedir(d);
        }
    }
    printf("replay: %d input(s) replayed\n", count);
    return failed;
}
