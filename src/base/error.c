/* error.c - result codes, their text, and the thread-local detailed message. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"

static _Thread_local char errmsg[512];

const char *reel_errstr(int code)
{
    switch (code) {
    case REEL_OK: return "not an error";
    case REEL_ERROR: return "error";
    case REEL_NOTFOUND: return "not found";
    case REEL_CORRUPT: return "corrupt data";
    case REEL_NOMEM: return "out of memory";
    case REEL_IO: return "input/output error";
    case REEL_MISUSE: return "library misuse";
    case REEL_INVALID: return "invalid argument";
    case REEL_UNSUPPORTED: return "not supported";
    case REEL_READONLY: return "store is read-only";
    case REEL_EXISTS: return "already exists";
    case REEL_BUSY: return "store is locked";
    case REEL_FULL: return "no room";
    case REEL_NODATA: return "frame has no pixels";
    case REEL_INTERRUPTED: return "interrupted";
    case REEL_DONE: return "nothing to do";
    case REEL_DENIED: return "access denied";
    default: return "unknown error code";
    }
}

const char *reel_errmsg(void) { return errmsg; }

int reel__err(int code, const char *fmt, ...)
{
    char msg[sizeof errmsg]; /* the arguments may include the message being replaced */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(errmsg, msg, sizeof msg);
    return code;
}

int reel__null_arg(const char *fn) { return reel__err(REEL_MISUSE, "%s: NULL argument", fn); }

int reel_version_number(void) { return REEL_VERSION_NUMBER; }

const char *reel_version_string(void) { return REEL_VERSION_STRING; }
