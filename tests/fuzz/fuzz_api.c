/*
 * fuzz_api.c — libFuzzer harness for the emulator's request handler: the
 * JSON reader, schema validation and every operation (api_call.h).
 *
 * Input: "<Operation>\n<body>".
 */
#include "api_call.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kbuf out = KBUF_INIT;
    struct api_resp resp;
    fuzz_api_call(data, size, NULL, &out, &resp);
    kbuf_free(&out);
    return 0;
}
