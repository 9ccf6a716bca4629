/*
 * api.c — the Kinesis API's dispatcher: operation lookup, authentication,
 * choice of encoding, decoding, validation and locking (see api.h). The
 * operations themselves are in ops_*.c, their helpers in opcall.c.
 *
 * Follows the Amazon Kinesis Data Streams API Reference ("Common Errors",
 * "Common Parameters") and the AWS JSON 1.1 protocol: POST / with
 * X-Amz-Target: Kinesis_20131202.<Operation>; errors are
 * {"__type": "<Exception>", "message": "..."}. A request whose
 * Content-Type is application/x-amz-cbor-1.1 is read and answered in CBOR
 * (the AWS SDKs for Java), errors included: same operations, same checks.
 */
#include "api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "args.h"
#include "auth.h"
#include "jcbor.h"
#include "ktime.h"
#include "mem.h"
#include "ops.h"
#include "reqin.h"
#include "rw.h"
#include "schema.h"
#include "sigv4.h"

#define TARGET_PREFIX "Kinesis_20131202."

enum op_lock { LOCK_NONE, LOCK_READ, LOCK_WRITE };

struct op_def {
    const char *name;
    int (*fn)(struct op_call *);
    const struct schema_shape *shape;
    enum op_lock lock;
};

/* Every operation of the API model (39), each with its handler, input shape and lock. */
static const struct op_def ops[] = {
    {"AddTagsToStream", op_add_tags, &shape_AddTagsToStream, LOCK_WRITE},
    {"CreateStream", op_create_stream, &shape_CreateStream, LOCK_WRITE},
    {"DecreaseStreamRetentionPeriod", op_decrease_retention, &shape_DecreaseStreamRetentionPeriod, LOCK_WRITE},
    {"DeleteResourcePolicy", op_delete_resource_policy, &shape_DeleteResourcePolicy, LOCK_WRITE},
    {"DeleteStream", op_delete_stream, &shape_DeleteStream, LOCK_WRITE},
    {"DeregisterStreamConsumer", op_deregister_consumer, &shape_DeregisterStreamConsumer, LOCK_WRITE},
    {"DescribeAccountSettings", op_describe_account_settings, &shape_DescribeAccountSettings, LOCK_WRITE},
    {"DescribeLimits", op_describe_limits, &shape_DescribeLimits, LOCK_READ},
    {"DescribeStream", op_describe_stream, &shape_DescribeStream, LOCK_READ},
    {"DescribeStreamConsumer", op_describe_consumer, &shape_DescribeStreamConsumer, LOCK_READ},
    {"DescribeStreamSummary", op_describe_stream_summary, &shape_DescribeStreamSummary, LOCK_READ},
    {"DisableEnhancedMonitoring", op_disable_monitoring, &shape_DisableEnhancedMonitoring, LOCK_WRITE},
    {"EnableEnhancedMonitoring", op_enable_monitoring, &shape_EnableEnhancedMonitoring, LOCK_WRITE},
    {"GetRecords", op_get_records, &shape_GetRecords, LOCK_READ},
    {"GetResourcePolicy", op_get_resource_policy, &shape_GetResourcePolicy, LOCK_READ},
    {"GetShardIterator", op_get_shard_iterator, &shape_GetShardIterator, LOCK_READ},
    {"IncreaseStreamRetentionPeriod", op_increase_retention, &shape_IncreaseStreamRetentionPeriod, LOCK_WRITE},
    {"ListShards", op_list_shards, &shape_ListShards, LOCK_READ},
    {"ListStreamConsumers", op_list_consumers, &shape_ListStreamConsumers, LOCK_READ},
    {"ListStreams", op_list_streams, &shape_ListStreams, LOCK_READ},
    {"ListTagsForResource", op_list_tags_for_resource, &shape_ListTagsForResource, LOCK_READ},
    {"ListTagsForStream", op_list_tags, &shape_ListTagsForStream, LOCK_READ},
    {"MergeShards", op_merge_shards, &shape_MergeShards, LOCK_WRITE},
    {"PutRecord", op_put_record, &shape_PutRecord, LOCK_READ},
    {"PutRecords", op_put_records, &shape_PutRecords, LOCK_READ},
    {"PutResourcePolicy", op_put_resource_policy, &shape_PutResourcePolicy, LOCK_WRITE},
    {"RegisterStreamConsumer", op_register_consumer, &shape_RegisterStreamConsumer, LOCK_WRITE},
    {"RemoveTagsFromStream", op_remove_tags, &shape_RemoveTagsFromStream, LOCK_WRITE},
    {"SplitShard", op_split_shard, &shape_SplitShard, LOCK_WRITE},
    {"StartStreamEncryption", op_start_encryption, &shape_StartStreamEncryption, LOCK_WRITE},
    {"StopStreamEncryption", op_stop_encryption, &shape_StopStreamEncryption, LOCK_WRITE},
    {"SubscribeToShard", op_subscribe_to_shard, &shape_SubscribeToShard, LOCK_READ},
    {"TagResource", op_tag_resource, &shape_TagResource, LOCK_WRITE},
    {"UntagResource", op_untag_resource, &shape_UntagResource, LOCK_WRITE},
    {"UpdateAccountSettings", op_update_account_settings, &shape_UpdateAccountSettings, LOCK_WRITE},
    {"UpdateMaxRecordSize", op_update_max_record_size, &shape_UpdateMaxRecordSize, LOCK_WRITE},
    {"UpdateShardCount", op_update_shard_count, &shape_UpdateShardCount, LOCK_WRITE},
    {"UpdateStreamMode", op_update_stream_mode, &shape_UpdateStreamMode, LOCK_WRITE},
    {"UpdateStreamWarmThroughput", op_update_warm_throughput, &shape_UpdateStreamWarmThroughput, LOCK_WRITE},
};

void api_ctx_init(struct api_ctx *ctx, struct emu *emu, uint64_t seed)
{
    ctx->emu = emu;
    ctx->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
    kbuf_init(&ctx->scratch);
    kbuf_init(&ctx->cbor_text);
    jdoc_init(&ctx->doc);
}

void api_ctx_free(struct api_ctx *ctx)
{
    kbuf_free(&ctx->scratch);
    kbuf_free(&ctx->cbor_text);
    jdoc_free(&ctx->doc);
}

static const struct op_def *find_op(const char *name, size_t n)
{
    for (size_t i = 0; i < KT_ARRAY_LEN(ops); i++)
        if (strlen(ops[i].name) == n && memcmp(ops[i].name, name, n) == 0)
            return &ops[i];
    return NULL;
}

static void fail(struct api_resp *resp, int cbor, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The error answer, in the request's encoding (a CBOR client parses CBOR errors). */
static void fail_text(struct api_resp *resp, int cbor, int status, const char *type, const char *msg)
{
    struct rw w;
    if (cbor)
        rw_cbor_init(&w, resp->body);
    else
        rw_json_init(&w, resp->body);
    rw_error(&w, type, msg);
    resp->status = status;
    resp->content_type = rw_content_type(&w);
}

static void fail(struct api_resp *resp, int cbor, int status, const char *type, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fail_text(resp, cbor, status, type, msg);
}

static int has_prefix(const char *s, size_t n, const char *prefix)
{
    size_t pl = strlen(prefix);
    return n >= pl && memcmp(s, prefix, pl) == 0;
}

/* The media type of the request (before any ';', spaces trimmed) is `type`, case aside. */
static int ctype_is(const struct api_req *req, const char *type)
{
    const char *p = req->content_type;
    size_t n = req->content_type_len, tl = strlen(type);
    if (!p)
        return 0;
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    size_t end = 0;
    while (end < n && p[end] != ';')
        end++;
    while (end && (p[end - 1] == ' ' || p[end - 1] == '\t'))
        end--;
    return end == tl && strncasecmp(p, type, tl) == 0;
}

/* X-Amz-Target names a service and an operation ("Service.Operation"), known or not. */
static int target_has_operation(const struct api_req *req)
{
    const char *dot = req->target ? memchr(req->target, '.', req->target_len) : NULL;
    return dot && dot > req->target && dot + 1 < req->target + req->target_len;
}

/*
 * What AWS answers before it looks at the operation or the signature, in
 * its order: an empty body (a bare SerializationException, or
 * UnknownOperationException for an unknown operation, in JSON for the JSON
 * content type and in CBOR otherwise); a content type that is neither JSON
 * nor CBOR (403 AccessDeniedException XML when the target names no
 * operation, else a 404 <UnknownOperationException/>); application/json (a
 * 200 with an "Output" wrapper). Returns 1 when it answered.
 */
static int surface_answered(struct api_ctx *ctx, const struct api_req *req, struct api_resp *resp, int cbor)
{
    int json = ctype_is(req, "application/x-amz-json-1.1"), plain = ctype_is(req, "application/json");
    if (req->body_len == 0) {
        int known = req->target && has_prefix(req->target, req->target_len, TARGET_PREFIX) &&
                    find_op(req->target + strlen(TARGET_PREFIX), req->target_len - strlen(TARGET_PREFIX));
        fail_text(resp, !json, 400, known ? "SerializationException" : "UnknownOperationException", NULL);
        return 1;
    }
    if (!json && !plain && !cbor) {
        resp->content_type = NULL;
        if (!target_has_operation(req)) {
            resp->status = 403;
            kbuf_puts(resp->body, "<AccessDeniedException>\n  <Message>Unable to determine service/operation name "
                                  "to be authorized</Message>\n</AccessDeniedException>\n");
        } else {
            resp->status = 404;
            kbuf_puts(resp->body, "<UnknownOperationException/>\n");
        }
        return 1;
    }
    if (plain) {
        struct reqin in;
        struct kt_err err;
        int object = reqin_parse_json(&in, &ctx->doc, req->body, req->body_len, &err) == 0 &&
                     in_type(&in, in_root(&in)) == IN_MAP;
        resp->status = 200;
        resp->content_type = "application/json";
        kbuf_puts(resp->body, object ? "{\"Output\":{\"__type\":\"com.amazon.coral.service#UnknownOperationException\","
                                       "\"message\":null},\"Version\":\"1.0\"}"
                                     : "{\"Output\":{\"__type\":\"com.amazon.coral.service#SerializationException\","
                                       "\"Message\":null},\"Version\":\"1.0\"}");
        return 1;
    }
    return 0;
}

void api_handle(struct api_ctx *ctx, const struct api_req *req, struct api_resp *resp)
{
    struct emu *emu = ctx->emu;
    resp->status = 200;
    resp->content_type = "application/x-amz-json-1.1";
    resp->delay_ms = emu->cfg.latency_ms;
    atomic_fetch_add_explicit(&emu->requests, 1, memory_order_relaxed);
    int cbor = jcbor_content_type(req->content_type, req->content_type_len);

    if (surface_answered(ctx, req, resp, cbor))
        goto done;
    if (!req->target || !has_prefix(req->target, req->target_len, TARGET_PREFIX)) {
        fail_text(resp, cbor, 400, "UnknownOperationException", NULL); /* AWS's answer: the type alone */
        goto done;
    }
    const char *opname = req->target + strlen(TARGET_PREFIX);
    size_t oplen = req->target_len - strlen(TARGET_PREFIX);
    const struct op_def *op = find_op(opname, oplen);
    if (!op) {
        fail_text(resp, cbor, 400, "UnknownOperationException", NULL); /* AWS's answer: the type alone */
        goto done;
    }
    struct sigv4_auth auth;
    struct kt_err autherr;
    struct auth_input ai = {
        .method = req->method ? req->method : "POST",
        .path = req->path ? req->path : "/",
        .path_len = req->path ? req->path_len : 1,
        .hblock = req->hblock,
        .hblock_len = req->hblock_len,
        .body = req->body,
        .body_len = req->body_len,
        .auth = &auth,
    };
    /* The signature: in the Authorization header, or in the query string (presigned), not both. */
    const char *qm = req->path ? memchr(req->path, '?', req->path_len) : NULL;
    struct kbuf qmsg = KBUF_INIT;
    int query_auth = qm ? auth_from_query(qm + 1, req->path_len - (size_t)(qm + 1 - req->path), &auth, &ai, &qmsg)
                        : 0;
    if (req->auth && query_auth) {
        kbuf_free(&qmsg);
        fail(resp, cbor, 400, "InvalidSignatureException",
             "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.");
        goto done;
    }
    if (query_auth < 0) {
        fail_text(resp, cbor, 400, "IncompleteSignatureException", qmsg.p);
        kbuf_free(&qmsg);
        goto done;
    }
    kbuf_free(&qmsg);
    if (!req->auth && !query_auth) {
        fail(resp, cbor, 400, "MissingAuthenticationTokenException", "Missing Authentication Token");
        goto done;
    }
    if (req->auth && sigv4_parse_authorization(req->auth, req->auth_len, &auth, &autherr) != 0) {
        fail(resp, cbor, 400, "IncompleteSignatureException", "%s", autherr.msg);
        goto done;
    }
    if (req->auth && !req->has_date) {
        fail(resp, cbor, 400, "IncompleteSignatureException",
             "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
             "Authorization=%.*s",
             (int)KT_MIN(req->auth_len, 200), req->auth);
        goto done;
    }

    if (emu->cfg.verify_signatures) {
        const char *type = NULL;
        struct kbuf m = KBUF_INIT;
        if (auth_verify(emu->cfg.keys, &ai, kt_now_ms() / 1000, &type, &m) != 0) {
            fail_text(resp, cbor, 400, type, m.p ? m.p : "");
            kbuf_free(&m);
            atomic_fetch_add_explicit(&emu->auth_failures, 1, memory_order_relaxed);
            goto done;
        }
        kbuf_free(&m);
    }

    struct reqin in;
    struct kt_err derr;
    int rc = cbor ? reqin_parse_cbor(&in, &ctx->doc, &ctx->cbor_text, (const uint8_t *)req->body, req->body_len,
                                     &derr)
                  : reqin_parse_json(&in, &ctx->doc, req->body, req->body_len, &derr);
    if (rc != 0) {
        fail(resp, cbor, 400, "SerializationException", "%s", derr.msg);
        goto done;
    }
    const struct in_val *root = in_root(&in);
    if (in_type(&in, root) != IN_MAP) {
        fail(resp, cbor, 400, "SerializationException", "The request body must be a %s, not %s",
             cbor ? "CBOR map" : "JSON object", in_type_name(&in, root));
        goto done;
    }

    struct kbuf msg = KBUF_INIT;
    enum schema_result r = schema_check(op->shape, &in, root, &msg);
    if (r != SCHEMA_OK) {
        /* Whole, however long: up to 10 violations, each naming its member and value. */
        fail_text(resp, cbor, 400, r == SCHEMA_SERIALIZATION ? "SerializationException" : "ValidationException",
                  msg.p);
        kbuf_free(&msg);
        goto done;
    }
    kbuf_free(&msg);

    struct rw w;
    if (cbor)
        rw_cbor_init(&w, resp->body);
    else
        rw_json_init(&w, resp->body);
    struct op_call call = {
        .emu = emu,
        .in = &in,
        .root = root,
        .account = emu_account_of(&emu->cfg, auth.access_key),
        .region = auth.region,
        .now_ms = emu_now_ms(emu),
        .w = &w,
        .scratch = &ctx->scratch,
        .rng = &ctx->rng,
        .status = 200,
        .sub = resp->sub,
    };
    if (op->lock == LOCK_READ)
        store_rdlock(&emu->store);
    else if (op->lock == LOCK_WRITE)
        store_wrlock(&emu->store);
    op->fn(&call);
    if (op->lock != LOCK_NONE)
        store_unlock(&emu->store);
    resp->status = call.status;
    resp->content_type = rw_content_type(&w);
    if (call.streaming && call.status == 200) {
        resp->streaming = 1;
        resp->content_type = SUB_CONTENT_TYPE;
    }

done:
    if (resp->status != 200)
        atomic_fetch_add_explicit(&emu->errors, 1, memory_order_relaxed);
}

int api_initialize_streams(struct emu *emu, const char *spec, struct kt_err *err)
{
    /* name:shards[:region], comma separated */
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char item[256];
        if (n >= sizeof item) {
            kt_err_set(err, "stream entry too long in '%s'", spec);
            return -1;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        char *name = item, *shards = strchr(item, ':'), *region = NULL;
        if (!shards) {
            kt_err_set(err, "'%s': expected name:shards[:region]", item);
            return -1;
        }
        *shards++ = '\0';
        region = strchr(shards, ':');
        if (region)
            *region++ = '\0';
        long long count;
        if (kt_parse_int(shards, 1, 100000, &count) != 0) {
            kt_err_set(err, "'%s': shard count '%s' is not a positive number", name, shards);
            return -1;
        }
        if (!schema_pattern_ok(PAT_NAME, name, strlen(name)) || strlen(name) > 128) {
            kt_err_set(err, "'%s' is not a valid stream name ([a-zA-Z0-9_.-]{1,128})", name);
            return -1;
        }
        struct kbuf out = KBUF_INIT;
        struct rw w;
        rw_json_init(&w, &out);
        uint64_t rng = 1;
        struct kbuf scratch = KBUF_INIT;
        struct op_call call = {
            .emu = emu,
            .account = emu->cfg.account,
            .region = region && *region ? region : emu->cfg.default_region,
            .now_ms = emu_now_ms(emu),
            .w = &w,
            .scratch = &scratch,
            .rng = &rng,
            .status = 200,
        };
        store_wrlock(&emu->store);
        int rc = op_create_stream_named(&call, name, count, 0);
        store_unlock(&emu->store);
        if (rc != 0)
            kt_err_set(err, "cannot create stream '%s': %s", name, out.p);
        kbuf_free(&out);
        kbuf_free(&scratch);
        if (rc != 0)
            return -1;
        p += n;
    }
    return 0;
}
