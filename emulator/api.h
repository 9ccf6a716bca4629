/*
 * api.h — the Kinesis Data Streams API, independent of what carried the request.
 *
 * The routing layer (route.c) hands a decoded request to api_handle: the
 * X-Amz-Target operation, the Authorization header, the Content-Type and
 * the body. api_handle checks authentication, decodes and validates the
 * input, runs the operation against the store and fills the response: an
 * HTTP status, a body and its Content-Type (`{"__type": ..., "message": ...}`
 * for errors). Nothing here touches a socket.
 */
#ifndef KT_API_H
#define KT_API_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "emu.h"
#include "errbuf.h"
#include "jread.h"
#include "subreq.h"

/* Per-thread state of the API layer: one per worker, never shared. */
struct api_ctx {
    struct emu *emu;
    uint64_t rng;
    struct kbuf scratch;
    struct kbuf cbor_text;     /* strings and numbers of a CBOR request (reqin_parse_cbor) */
    struct jdoc doc;
};

void api_ctx_init(struct api_ctx *ctx, struct emu *emu, uint64_t seed);
void api_ctx_free(struct api_ctx *ctx);

struct api_req {
    const char *method;        /* "POST"; with path and hblock, what a signature check needs */
    const char *path;
    size_t path_len;
    const char *hblock;        /* every header (route.h), with --verify-signatures; else NULL */
    size_t hblock_len;
    const char *target;
    size_t target_len;
    const char *auth;          /* Authorization header, or NULL */
    size_t auth_len;
    int has_date;              /* X-Amz-Date or Date present */
    const char *content_type;  /* or NULL */
    size_t content_type_len;
    char *body;                /* decoded in place: the API layer may modify it */
    size_t body_len;
};

struct api_resp {
    int status;
    struct kbuf *body;         /* caller-owned, empty on entry */
    const char *content_type;  /* of the body (static text) */
    int delay_ms;              /* hold the response this long (KINESIS_LATENCY) */
    struct sub_req *sub;       /* where a SubscribeToShard stream would start; NULL: none can be sent */
    int streaming;             /* set: the answer is that event stream (status 200, no body yet) */
};

void api_handle(struct api_ctx *ctx, const struct api_req *req, struct api_resp *resp);

/* Creates the streams of KINESIS_INITIALIZE_STREAMS ("name:shards[:region],..."). 0, or -1 with err set. */
int api_initialize_streams(struct emu *emu, const char *spec, struct kt_err *err);

#endif
