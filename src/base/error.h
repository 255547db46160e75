/* error.h - the calling thread's detailed error message (error.c). */
#ifndef REEL_BASE_ERROR_H
#define REEL_BASE_ERROR_H

#include "base/common.h"

/* Record a detailed message for this thread and return code. */
REEL__HIDDEN int reel__err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
