/*
 * fuzz_api.c — libFuzzer harness for the emulator's request handler: the
 * JSON reader, schema validation and every operation, against a store that
 * persists across inputs (so sequences of calls are explored too).
 *
 * Input: "<Operation>\n<body>". The Authorization and date headers are
 * fixed, so inputs reach the operations.
 */
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
        .body = body,
        .body_len = blen,
    };
    struct api_resp resp = {.body = &out};
    api_handle(&ctx, &req, &resp);
    if (resp.status == 0 || (resp.status != 200 && out.len == 0))
        abort(); /* every answer has a status, and every error a body */
    kbuf_free(&out);
    free(body);
    return 0;
}
