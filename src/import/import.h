/* import.h - what the bench uses of the import (import.c). */
#ifndef REEL_IMPORT_IMPORT_H
#define REEL_IMPORT_IMPORT_H

#include "base/common.h"

/*
 * Decode and convert every frame of path as reel_import() would, on the same threads, without
 * compressing or storing anything (the baseline an import is measured against).
 */
REEL__HIDDEN int reel__decode_only(const char *path, const reel_import_options *opts,
                                   int64_t *frames, double *seconds);

#endif
