/*
 * api_call.h — what the API harnesses (fuzz_api.c, fuzz_cbor.c) share: an
 * emulator whose store persists across inputs (so sequences of calls are
 * explored too), and one input "<Operation>\n<body>" made into a call with
 * the Authorization and date headers fixed, so inputs reach the operations.
 */
#ifndef KT_FUZZ_API_CALL_H
#define KT_FUZZ_API_CALL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emulator/api.h"
#include "emulator/iterator.h"

/* Answers the input into out (caller-owned, empty), as Content-Type ctype (NULL: none); 0, or -1 when skipped. */
static int fuzz_api_call(const uint8_t *data, size_t size, const char *ctype, struct kbuf *out,
                         struct api_resp *resp)
{
    static struct emu emu;
    static struct api_ctx ctx;
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
        return -1;
    char target[96] = "Kinesis_20131202.";
    memcpy(target + strlen(target), data, oplen);
    size_t tlen = strlen("Kinesis_20131202.") + oplen;
    size_t blen = nl ? size - oplen - 1 : 0;
    char *body = malloc(blen + 1);
    if (blen)
        memcpy(body, nl + 1, blen);
    struct api_req req = {
        .target = target,
        .target_len = tlen,
        .auth = auth,
        .auth_len = sizeof auth - 1,
        .has_date = 1,
        .content_type = ctype,
        .content_type_len = ctype ? strlen(ctype) : 0,
        .body = body,
        .body_len = blen,
    };
    *resp = (struct api_resp){.body = out};
    api_handle(&ctx, &req, resp);
    free(body);
    if (resp->status == 0 || (resp->status != 200 && out->len == 0))
        abort(); /* every answer has a status, and every error a body */
    return 0;
}

#endif
