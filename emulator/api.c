/*
 * api.c — Kinesis JSON 1.1 protocol: operation dispatch, authentication,
 * parsing, validation, errors (see api.h).
 *
 * Follows the Amazon Kinesis Data Streams API Reference ("Common Errors",
 * "Common Parameters") and the AWS JSON 1.1 protocol: POST / with
 * X-Amz-Target: Kinesis_20131202.<Operation>; errors are
 * {"__type": "<Exception>", "message": "..."}.
 */
#include "api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iterator.h"
#include "jsonw.h"
#include "ktime.h"
#include "log.h"
#include "mem.h"
#include "rng.h"
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

/* Every operation of the API model; those without a handler answer "not implemented yet". */
static const struct op_def ops[] = {
    {"AddTagsToStream", op_add_tags, &shape_AddTagsToStream, LOCK_WRITE},
    {"CreateStream", op_create_stream, &shape_CreateStream, LOCK_WRITE},
    {"DecreaseStreamRetentionPeriod", op_decrease_retention, &shape_DecreaseStreamRetentionPeriod, LOCK_WRITE},
    {"DeleteResourcePolicy", NULL, NULL, LOCK_NONE},
    {"DeleteStream", op_delete_stream, &shape_DeleteStream, LOCK_WRITE},
    {"DeregisterStreamConsumer", NULL, NULL, LOCK_NONE},
    {"DescribeAccountSettings", NULL, NULL, LOCK_NONE},
    {"DescribeLimits", op_describe_limits, &shape_DescribeLimits, LOCK_READ},
    {"DescribeStream", op_describe_stream, &shape_DescribeStream, LOCK_READ},
    {"DescribeStreamConsumer", NULL, NULL, LOCK_NONE},
    {"DescribeStreamSummary", op_describe_stream_summary, &shape_DescribeStreamSummary, LOCK_READ},
    {"DisableEnhancedMonitoring", NULL, NULL, LOCK_NONE},
    {"EnableEnhancedMonitoring", NULL, NULL, LOCK_NONE},
    {"GetRecords", op_get_records, &shape_GetRecords, LOCK_READ},
    {"GetResourcePolicy", NULL, NULL, LOCK_NONE},
    {"GetShardIterator", op_get_shard_iterator, &shape_GetShardIterator, LOCK_READ},
    {"IncreaseStreamRetentionPeriod", op_increase_retention, &shape_IncreaseStreamRetentionPeriod, LOCK_WRITE},
    {"ListShards", op_list_shards, &shape_ListShards, LOCK_READ},
    {"ListStreamConsumers", NULL, NULL, LOCK_NONE},
    {"ListStreams", op_list_streams, &shape_ListStreams, LOCK_READ},
    {"ListTagsForResource", NULL, NULL, LOCK_NONE},
    {"ListTagsForStream", op_list_tags, &shape_ListTagsForStream, LOCK_READ},
    {"MergeShards", NULL, NULL, LOCK_NONE},
    {"PutRecord", op_put_record, &shape_PutRecord, LOCK_READ},
    {"PutRecords", op_put_records, &shape_PutRecords, LOCK_READ},
    {"PutResourcePolicy", NULL, NULL, LOCK_NONE},
    {"RegisterStreamConsumer", NULL, NULL, LOCK_NONE},
    {"RemoveTagsFromStream", op_remove_tags, &shape_RemoveTagsFromStream, LOCK_WRITE},
    {"SplitShard", NULL, NULL, LOCK_NONE},
    {"StartStreamEncryption", NULL, NULL, LOCK_NONE},
    {"StopStreamEncryption", NULL, NULL, LOCK_NONE},
    {"SubscribeToShard", NULL, NULL, LOCK_NONE},
    {"TagResource", NULL, NULL, LOCK_NONE},
    {"UntagResource", NULL, NULL, LOCK_NONE},
    {"UpdateAccountSettings", NULL, NULL, LOCK_NONE},
    {"UpdateMaxRecordSize", NULL, NULL, LOCK_NONE},
    {"UpdateShardCount", NULL, NULL, LOCK_NONE},
    {"UpdateStreamMode", NULL, NULL, LOCK_NONE},
    {"UpdateStreamWarmThroughput", NULL, NULL, LOCK_NONE},
};

void emu_config_defaults(struct emu_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 4566;
    snprintf(cfg->account, sizeof cfg->account, "000000000000");
    snprintf(cfg->default_region, sizeof cfg->default_region, "us-east-1");
    cfg->shard_limit = 100;
    cfg->on_demand_stream_limit = 50;
    cfg->on_demand_shards = 4;
    cfg->iterator_ttl_ms = ITER_TTL_MS;
    cfg->max_body = (size_t)32 << 20;
    cfg->workers = 0;
    cfg->idle_timeout_s = 300;
    cfg->max_connections = 10000;
}

void api_ctx_init(struct api_ctx *ctx, struct emu *emu, uint64_t seed)
{
    ctx->emu = emu;
    ctx->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
    kbuf_init(&ctx->scratch);
    jdoc_init(&ctx->doc);
}

void api_ctx_free(struct api_ctx *ctx)
{
    kbuf_free(&ctx->scratch);
    jdoc_free(&ctx->doc);
}

double api_random(struct api_ctx *ctx)
{
    /* Per-thread state, so no locking. */
    return (double)(kt_rand64(&ctx->rng) >> 11) / 9007199254740992.0;
}

static void error_body(struct kbuf *out, const char *type, const char *msg)
{
    kbuf_reset(out);
    kbuf_puts(out, "{\"__type\":");
    jw_cstr(out, type);
    kbuf_puts(out, ",\"message\":");
    jw_cstr(out, msg);
    kbuf_putc(out, '}');
}

int op_fail(struct op_call *c, int status, const char *type, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->status = status;
    error_body(c->out, type, msg);
    return -1;
}

const struct jnode *op_get(struct op_call *c, const char *name)
{
    return c->in ? jget(c->doc, c->in, name) : NULL;
}

const char *op_str(struct op_call *c, const char *name, size_t *len)
{
    const struct jnode *v = op_get(c, name);
    if (!v || v->type != J_STR)
        return NULL;
    if (len)
        *len = v->len;
    return jstr(c->doc, v);
}

int op_int(struct op_call *c, const char *name, long long *out)
{
    const struct jnode *v = op_get(c, name);
    return v && jint(c->doc, v, out) == 0;
}

int op_timestamp_ms(struct op_call *c, const struct jnode *v, int64_t *ms)
{
    if (v->type == J_NUM) {
        double sec = jnum(c->doc, v);
        if (!(sec > -1e12 && sec < 1e12))
            return -1;
        *ms = (int64_t)(sec * 1000.0 + (sec >= 0 ? 0.5 : -0.5));
        return 0;
    }
    if (v->type == J_STR) {
        const char *s = jstr(c->doc, v);
        size_t n = v->len;
        char *end;
        double sec = strtod(s, &end);
        if (n && end == s + n && sec > -1e12 && sec < 1e12) {
            *ms = (int64_t)(sec * 1000.0);
            return 0;
        }
        int64_t ns;
        if (kt_parse_rfc3339(s, n, &ns, NULL) == 0) {
            *ms = ns / KT_NS_PER_MS;
            return 0;
        }
    }
    return -1;
}

/* arn:<partition>:kinesis:<region>:<account>:stream/<name> */
static int parse_stream_arn(const char *arn, size_t n, char *region, size_t rcap, char *account,
                            char *name, size_t ncap)
{
    const char *f[6];
    size_t fl[6];
    size_t nf = 0, s = 0;
    for (size_t i = 0; i <= n && nf < 6; i++) {
        if (i == n || (arn[i] == ':' && nf < 5)) {
            f[nf] = arn + s;
            fl[nf++] = i - s;
            s = i + 1;
        }
    }
    if (nf != 6 || fl[0] != 3 || memcmp(f[0], "arn", 3) != 0 || fl[2] != 7 ||
        memcmp(f[2], "kinesis", 7) != 0 || fl[3] == 0 || fl[3] >= rcap || fl[4] != 12 ||
        fl[5] < 8 || memcmp(f[5], "stream/", 7) != 0 || fl[5] - 7 >= ncap)
        return -1;
    memcpy(region, f[3], fl[3]);
    region[fl[3]] = '\0';
    memcpy(account, f[4], 12);
    account[12] = '\0';
    memcpy(name, f[5] + 7, fl[5] - 7);
    name[fl[5] - 7] = '\0';
    if (!schema_pattern_ok(PAT_NAME, name, fl[5] - 7))
        return -1;
    return 0;
}

struct stream *op_stream(struct op_call *c, int active)
{
    size_t nl = 0, al = 0;
    const char *name = op_str(c, "StreamName", &nl);
    const char *arn = op_str(c, "StreamARN", &al);
    char region[64], account[13], aname[129];
    const char *want_region = c->region;
    const char *want_name = name;
    if (arn) {
        if (parse_stream_arn(arn, al, region, sizeof region, account, aname, sizeof aname) != 0) {
            op_invalid(c, "Invalid StreamARN %s: expected arn:aws:kinesis:<region>:<account>:stream/<name>", arn);
            return NULL;
        }
        if (name && strcmp(name, aname) != 0) {
            op_invalid(c, "StreamARN %s and StreamName %s do not name the same stream.", arn, name);
            return NULL;
        }
        if (strcmp(account, c->emu->cfg.account) != 0) {
            op_fail(c, 400, "ResourceNotFoundException", "Stream %s under account %s not found.", aname, account);
            return NULL;
        }
        want_region = region;
        want_name = aname;
    } else if (!name) {
        op_invalid(c, "Either StreamName or StreamARN must be provided.");
        return NULL;
    }
    struct stream *s = store_find(&c->emu->store, want_region, want_name, c->now_ms);
    enum stream_status st = s ? stream_status(s, c->now_ms) : ST_GONE;
    if (!s || (active && st != ST_ACTIVE && st != ST_UPDATING)) {
        op_fail(c, 400, "ResourceNotFoundException", "Stream %s under account %s not found.", want_name,
                c->emu->cfg.account);
        return NULL;
    }
    return s;
}

static const struct op_def *find_op(const char *name, size_t n)
{
    for (size_t i = 0; i < KT_ARRAY_LEN(ops); i++)
        if (strlen(ops[i].name) == n && memcmp(ops[i].name, name, n) == 0)
            return &ops[i];
    return NULL;
}

static void fail(struct api_resp *resp, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(struct api_resp *resp, int status, const char *type, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    resp->status = status;
    error_body(resp->body, type, msg);
}

static int has_prefix(const char *s, size_t n, const char *prefix)
{
    size_t pl = strlen(prefix);
    return n >= pl && memcmp(s, prefix, pl) == 0;
}

void api_handle(struct api_ctx *ctx, const struct api_req *req, struct api_resp *resp)
{
    struct emu *emu = ctx->emu;
    resp->status = 200;
    resp->delay_ms = emu->cfg.latency_ms;
    atomic_fetch_add_explicit(&emu->requests, 1, memory_order_relaxed);

    if (!req->target || !has_prefix(req->target, req->target_len, TARGET_PREFIX)) {
        if (!req->target)
            fail(resp, 400, "UnknownOperationException",
                 "Missing X-Amz-Target header: expected " TARGET_PREFIX "<Operation>");
        else
            fail(resp, 400, "UnknownOperationException",
                 "Unknown X-Amz-Target '%.*s': expected " TARGET_PREFIX "<Operation>",
                 (int)KT_MIN(req->target_len, 200), req->target);
        goto done;
    }
    const char *opname = req->target + strlen(TARGET_PREFIX);
    size_t oplen = req->target_len - strlen(TARGET_PREFIX);
    const struct op_def *op = find_op(opname, oplen);
    if (!op) {
        fail(resp, 400, "UnknownOperationException", "Operation '%.*s' is not a Kinesis Data Streams operation",
             (int)KT_MIN(oplen, 200), opname);
        goto done;
    }
    if (req->content_type && has_prefix(req->content_type, req->content_type_len, "application/x-amz-cbor")) {
        fail(resp, 400, "SerializationException",
             "The CBOR protocol (application/x-amz-cbor-1.1) is not implemented yet by the kintape "
             "emulator; use the JSON protocol (application/x-amz-json-1.1)");
        goto done;
    }

    struct sigv4_auth auth;
    char autherr[512];
    if (!req->auth) {
        fail(resp, 400, "MissingAuthenticationTokenException", "Missing Authentication Token");
        goto done;
    }
    if (sigv4_parse_authorization(req->auth, req->auth_len, &auth, autherr, sizeof autherr) != 0) {
        fail(resp, 400, "IncompleteSignatureException", "%s", autherr);
        goto done;
    }
    if (!req->has_date) {
        fail(resp, 400, "IncompleteSignatureException",
             "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
             "Authorization=%.*s",
             (int)KT_MIN(req->auth_len, 200), req->auth);
        goto done;
    }

    if (!op->fn) {
        fail(resp, 501, "NotImplementedException",
             "Operation %s is not implemented yet by the kintape emulator", op->name);
        goto done;
    }

    /* An empty body stands for {}, as the SDKs treat operations without input. */
    char empty[] = "{}";
    char *body = req->body_len ? req->body : empty;
    size_t body_len = req->body_len ? req->body_len : 2;
    char jerr[256];
    size_t jerr_at;
    if (jdoc_parse(&ctx->doc, body, body_len, jerr, sizeof jerr, &jerr_at) != 0) {
        fail(resp, 400, "SerializationException", "%s", jerr);
        goto done;
    }
    const struct jnode *in = jroot(&ctx->doc);
    if (in->type != J_OBJ) {
        fail(resp, 400, "SerializationException",
             "The request body must be a JSON object, not %s", jtype_name((enum jtype)in->type));
        goto done;
    }

    struct kbuf msg = KBUF_INIT;
    enum schema_result r = schema_check(op->shape, &ctx->doc, in, &msg);
    if (r != SCHEMA_OK) {
        fail(resp, 400, r == SCHEMA_SERIALIZATION ? "SerializationException" : "ValidationException", "%s",
             msg.p);
        kbuf_free(&msg);
        goto done;
    }
    kbuf_free(&msg);

    struct op_call call = {
        .ctx = ctx,
        .emu = emu,
        .doc = &ctx->doc,
        .in = in,
        .region = auth.region,
        .now_ms = kt_now_ms(),
        .out = resp->body,
        .status = 200,
    };
    if (op->lock == LOCK_READ)
        store_rdlock(&emu->store);
    else if (op->lock == LOCK_WRITE)
        store_wrlock(&emu->store);
    op->fn(&call);
    if (op->lock != LOCK_NONE)
        store_unlock(&emu->store);
    resp->status = call.status;

done:
    if (resp->status != 200)
        atomic_fetch_add_explicit(&emu->errors, 1, memory_order_relaxed);
}

int api_initialize_streams(struct emu *emu, const char *spec, char *err, size_t errlen)
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
            snprintf(err, errlen, "stream entry too long in '%s'", spec);
            return -1;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        char *name = item, *shards = strchr(item, ':'), *region = NULL;
        if (!shards) {
            snprintf(err, errlen, "'%s': expected name:shards[:region]", item);
            return -1;
        }
        *shards++ = '\0';
        region = strchr(shards, ':');
        if (region)
            *region++ = '\0';
        char *e;
        long count = strtol(shards, &e, 10);
        if (*e || count < 1 || count > 100000) {
            snprintf(err, errlen, "'%s': shard count '%s' is not a positive number", name, shards);
            return -1;
        }
        if (!schema_pattern_ok(PAT_NAME, name, strlen(name)) || strlen(name) > 128) {
            snprintf(err, errlen, "'%s' is not a valid stream name ([a-zA-Z0-9_.-]{1,128})", name);
            return -1;
        }
        struct kbuf out = KBUF_INIT;
        struct api_ctx ctx;
        api_ctx_init(&ctx, emu, 1);
        struct op_call call = {
            .ctx = &ctx,
            .emu = emu,
            .doc = NULL,
            .in = NULL,
            .region = region && *region ? region : emu->cfg.default_region,
            .now_ms = kt_now_ms(),
            .out = &out,
            .status = 200,
        };
        store_wrlock(&emu->store);
        int rc = op_create_stream_named(&call, name, count, 0);
        store_unlock(&emu->store);
        if (rc != 0)
            snprintf(err, errlen, "cannot create stream '%s': %s", name, out.p);
        kbuf_free(&out);
        api_ctx_free(&ctx);
        if (rc != 0)
            return -1;
        p += n;
    }
    return 0;
}
