/*
 * fuzz_cbor.c — libFuzzer harness for the emulator's CBOR path: the CBOR
 * reader (common/jcbor.c), schema validation and every operation
 * answered by the CBOR response writer (api_call.h).
 *
 * Input: "<Operation>\n<CBOR body>". Every answer must have a status, and
 * its body must be one well-formed CBOR item (checked with libcbor) whose
 * Content-Type is CBOR.
 */
#include <cbor.h>

#include "api_call.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char ctype[] = "application/x-amz-cbor-1.1";
    struct kbuf out = KBUF_INIT;
    struct api_resp resp;
    if (fuzz_api_call(data, size, ctype, &out, &resp) == 0) {
        if (strcmp(resp.content_type, ctype) != 0)
            abort();
        if (out.len) {
            struct cbor_load_result r;
            cbor_item_t *item = cbor_load((cbor_data)out.p, out.len, &r);
            if (!item || r.read != out.len)
                abort(); /* the answer is one well-formed CBOR item, and nothing after it */
            cbor_decref(&item);
        }
    }
    kbuf_free(&out);
    return 0;
}
