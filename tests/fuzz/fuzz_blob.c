/*
 * fuzz_blob.c - libFuzzer harness: the one stored-frame decoder (codec/blob.c) on arbitrary
 * rows. The first 18 bytes choose the row's claims (format, size up to 96x96, filter,
 * status, whether a reference frame is at hand, recorded sizes, checksum), the rest is the
 * blob (tests/fuzz/corpus/blob/ holds real rows in this form, made by tests/fuzz/make_seeds.sh,
 * the temporal ones - whole-frame DELTA and block-wise BLOCKS - with a reference at hand, and
 * spatial frames coded by rANS, filter 4).
 * Whatever it is, the decoder must answer with a result code and never read or write out of
 * bounds (ASan and UBSan watch).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "codec/blob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static reel__codec *c;
    reel__stored s;
    uint8_t *dst, *ref = NULL;
    if (size < 18)
        return 0;
    if (!c && !(c = reel__codec_new()))
        abort();
    memset(&s, 0, sizeof s);
    s.seq_name = "fuzz";
    s.index = 1;
    s.geom.fmt = 1 + data[0] % 7;
    s.geom.width = 1 + data[1] % 96;
    s.geom.height = 1 + data[2] % 96;
    if (reel_frame_size(s.geom.fmt, s.geom.width, s.geom.height, &s.frame_size) != REEL_OK)
        return 0;
    s.filter = (int8_t)data[3];
    s.status = data[4] % 5;
    s.present = data[5] & 1;
    /* recorded sizes: right most of the time, else off */
    s.raw_bytes = data[6] & 0x80 ? (int64_t)s.frame_size + (int8_t)data[7] : (int64_t)s.frame_size;
    s.data = data + 18;
    s.len = size - 18;
    s.stored_bytes = data[6] & 0x40 ? (int64_t)s.len - (int8_t)data[8] : (int64_t)s.len;
    /* the checksum: as given (a real row's), or the blob's own (never the pixels') */
    if (data[9] & 1) {
        s.checksum = reel__checksum(s.data, s.len);
    } else {
        int i;
        for (i = 0; i < 8; i++)
            s.checksum |= (uint64_t)data[10 + i] << (8 * i);
    }
    if (!(dst = malloc(s.frame_size)))
        return 0;
    if (data[5] & 2) { /* a temporal frame's reference: the same bytes every time */
        if (!(ref = malloc(s.frame_size))) {
            free(dst);
            return 0;
        }
        memset(ref, data[4], s.frame_size);
        s.ref = ref;
    }
    if (reel__stored_decode(c, &s, dst) != REEL_OK && getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "%s\n", reel_errmsg()); /* is a seed what it should be? */
    free(dst);
    free(ref);
    return 0;
}
