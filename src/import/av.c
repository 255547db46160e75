/* av.c - opening FFmpeg's libraries on first use and filling the call table (see av.h). */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <pthread.h>

#define REEL__AV_IMPL
#include "base/error.h"
#include "import/av.h"

#define SONAME(lib, major) "lib" #lib ".so." AV_STRINGIFY(major)

reel__av_table reel__av;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc = REEL_UNSUPPORTED;
static char load_msg[300];

/* The libraries by soname, with the major versions reel was built against. */
static void *lib_avutil, *lib_avcodec, *lib_avformat, *lib_swscale;

static int open_lib(void **handle, const char *soname)
{
    /* RTLD_NODELETE: the table stays valid for the life of the process. */
    if ((*handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)))
        return 0;
    snprintf(load_msg, sizeof load_msg, "FFmpeg is needed here and could not be loaded: %s",
             dlerror());
    return -1;
}

static void load(void)
{
    if (open_lib(&lib_avutil, SONAME(avutil, LIBAVUTIL_VERSION_MAJOR)) ||
        open_lib(&lib_avcodec, SONAME(avcodec, LIBAVCODEC_VERSION_MAJOR)) ||
        open_lib(&lib_avformat, SONAME(avformat, LIBAVFORMAT_VERSION_MAJOR)) ||
        open_lib(&lib_swscale, SONAME(swscale, LIBSWSCALE_VERSION_MAJOR)))
        return;
#define REEL__AV_RESOLVE(lib, fn)                                                                  \
    if (!(*(void **)&reel__av.fn = dlsym(lib_##lib, #fn))) {                                       \
        snprintf(load_msg, sizeof load_msg, "FFmpeg's lib%s has no %s", #lib, #fn);               \
        return;                                                                                    \
    }
    REEL__AV_FUNCTIONS(REEL__AV_RESOLVE)
#undef REEL__AV_RESOLVE
    load_rc = REEL_OK;
}

int reel__av_load(void)
{
    pthread_once(&once, load);
    return load_rc == REEL_OK ? REEL_OK : reel__err(load_rc, "%s", load_msg);
}
