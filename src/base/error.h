/* error.h - the calling thread's detailed error message (error.c). */
#ifndef REEL_BASE_ERROR_H
#define REEL_BASE_ERROR_H

#include "base/common.h"

/* Record a detailed message for this thread and return code. */
REEL__HIDDEN int reel__err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* REEL_MISUSE: "fn: NULL argument" (a required pointer was NULL). */
REEL__HIDDEN int reel__null_arg(const char *fn);

#endif
