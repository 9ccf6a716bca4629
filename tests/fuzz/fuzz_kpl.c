/*
 * fuzz_kpl.c — libFuzzer harness for the KPL aggregated-record decoder
 * (snapshots/kpl.c). Input: a Kinesis record's data as it is when the
 * first byte is even; when it is odd, the rest is a protobuf that the
 * harness wraps in the magic and its right MD5 (else the fuzzer would never
 * get past the checksum). An aggregate's user records must lie inside the
 * data and number what kpl_open counted.
 */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapshots/kpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *data, size_t size, struct kpl_span s)
{
    return !s.p || (s.p >= data && s.n <= size && s.p + s.n <= data + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t insize)
{
    uint8_t *wrapped = NULL;
    const uint8_t *data = in;
    size_t size = insize;
    if (insize && (in[0] & 1)) {
        size = 4 + (insize - 1) + 16;
        wrapped = malloc(size);
        memcpy(wrapped, "\xF3\x89\x9A\xC2", 4);
        memcpy(wrapped + 4, in + 1, insize - 1);
        unsigned int ml = 0;
        EVP_Digest(in + 1, insize - 1, wrapped + 4 + insize - 1, &ml, EVP_md5(), NULL);
        data = wrapped;
    }
    struct kpl k;
    kpl_init(&k);
    const char *why;
    if (kpl_open(&k, data, size, &why) == KPL_AGGREGATE) {
        size_t n = 0;
        struct kpl_rec r;
        while (kpl_next(&k, &r)) {
            if (!inside(data, size, r.data) || !inside(data, size, r.key) || !inside(data, size, r.ehk))
                abort();
            n++;
        }
        if (n != k.records)
            abort();
    }
    kpl_free(&k);
    free(wrapped);
    return 0;
}
