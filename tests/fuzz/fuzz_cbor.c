/*
 * fuzz_cbor.c — libFuzzer harness for the emulator's CBOR path: the CBOR
 * request reader (reqin_cbor.c), schema validation and every operation
 * answered by the CBOR response writer, against a store that persists
 * across inputs.
 *
 * Input: "<Operation>\n<CBOR body>". Every answer must have a status, and
 * its body must be one well-formed CBOR item (checked with libcbor) whose
 * Content-Type is CBOR.
 */
#include <cbor.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/api.h"
#include "emulator/iterator.h"

static struct emu emu;
static struct api_ctx ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static const char auth[] =
        "AWS4-HMAC-SHA256 Credential=f/20261124/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00";
    static const char ctype[] = "application/x-amz-cbor-1.1";
    if (!ready) {
        emu_config_defaults(&emu.cfg);
        emu.cfg.shard_limit = 64;
        iter_init();
        store_init(&emu.store);
        api_ctx_init(&ctx, &emu, 42);
        struct kt_err err;
        api_initialize_streams(&emu, "fuzz:3,other:1", &err);
        ready = 1;
    }
    const uint8_t *nl = memchr(data, '\n', size);
    size_t oplen = nl ? (size_t)(nl - data) : size;
    if (oplen > 64)
        return 0;
    char target[96] = "Kinesis_20131202.";
    memcpy(target + strlen(target), data, oplen);
    size_t tlen = strlen("Kinesis_20131202.") + oplen;
    size_t blen = nl ? size - oplen - 1 : 0;
    char *body = malloc(blen + 1);
    if (blen)
        memcpy(body, nl + 1, blen);
    struct kbuf out = KBUF_INIT;
    struct api_req req = {
        .target = target,
        .target_len = tlen,
        .auth = auth,
        .auth_len = sizeof auth - 1,
        .has_date = 1,
        .content_type = ctype,
        .content_type_len = sizeof ctype - 1,
        .body = body,
        .body_len = blen,
    };
    struct api_resp resp = {.body = &out};
    api_handle(&ctx, &req, &resp);
    if (resp.status == 0 || (resp.status != 200 && out.len == 0))
        abort(); /* every answer has a status, and every error a body */
    if (strcmp(resp.content_type, ctype) != 0)
        abort();
    if (out.len) {
        struct cbor_load_result r;
        cbor_item_t *item = cbor_load((cbor_data)out.p, out.len, &r);
        if (!item || r.read != out.len)
            abort(); /* the answer is one well-formed CBOR item, and nothing after it */
        cbor_decref(&item);
    }
    kbuf_free(&out);
    free(body);
    return 0;
}
