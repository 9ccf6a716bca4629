/*
 * api.h — the Kinesis Data Streams API, independent of what carried the request.
 *
 * The HTTP layer (server.c) hands a decoded request to api_handle: the
 * X-Amz-Target operation, the Authorization header and the body. api_handle
 * checks authentication, parses and validates the JSON, runs the operation
 * against the store and fills the response: an HTTP status and a JSON body
 * (`{"__type": ..., "message": ...}` for errors). Nothing here touches a
 * socket, so another transport (TLS, HTTP/2, CBOR) can reuse it unchanged.
 */
#ifndef KT_API_H
#define KT_API_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "jread.h"
#include "store.h"

struct emu_config {
    char host[256];
    int port;
    char account[13];
    char default_region[64];
    double error_probability;   /* KINESIS_ERROR_PROBABILITY */
    int latency_ms;             /* KINESIS_LATENCY */
    long shard_limit;           /* KINESIS_SHARD_LIMIT; < 0 means no limit */
    long on_demand_stream_limit;
    int on_demand_shards;       /* shards an ON_DEMAND stream starts with */
    int64_t create_delay_ms;
    int64_t delete_delay_ms;
    int64_t iterator_ttl_ms;    /* 5 minutes, as AWS */
    size_t max_body;            /* larger request bodies get HTTP 413 */
    int workers;
    int idle_timeout_s;
    int max_connections;
    const char *initialize_streams; /* KINESIS_INITIALIZE_STREAMS */
    int quiet;
};

void emu_config_defaults(struct emu_config *cfg);

/* The emulator: configuration and store, shared by every worker thread. */
struct emu {
    struct emu_config cfg;
    struct store store;
    atomic_uint_fast64_t requests;
    atomic_uint_fast64_t errors;
    int64_t started_ms;
    const char *version;
};

/* Per-thread state of the API layer: one per worker, never shared. */
struct api_ctx {
    struct emu *emu;
    uint64_t rng;
    struct kbuf scratch;
    struct jdoc doc;
};

void api_ctx_init(struct api_ctx *ctx, struct emu *emu, uint64_t seed);
void api_ctx_free(struct api_ctx *ctx);

struct api_req {
    const char *target;
    size_t target_len;
    const char *auth;          /* Authorization header, or NULL */
    size_t auth_len;
    int has_date;              /* X-Amz-Date or Date present */
    const char *content_type;  /* or NULL */
    size_t content_type_len;
    char *body;                /* parsed in place: the API layer may modify it */
    size_t body_len;
};

struct api_resp {
    int status;
    struct kbuf *body;         /* caller-owned, empty on entry */
    int delay_ms;              /* hold the response this long (KINESIS_LATENCY) */
};

void api_handle(struct api_ctx *ctx, const struct api_req *req, struct api_resp *resp);

/* Creates the streams of KINESIS_INITIALIZE_STREAMS ("name:shards[:region],...").
 * Returns 0, or -1 with a message in err (of errlen bytes). */
int api_initialize_streams(struct emu *emu, const char *spec, char *err, size_t errlen);

/* ------------------------------------------------------------------------
 * Shared by the operation modules.
 */

/* One call in progress: the parsed input, where it is from and the output. */
struct op_call {
    struct api_ctx *ctx;
    struct emu *emu;
    const struct jdoc *doc;
    const struct jnode *in;    /* the request object */
    const char *region;
    int64_t now_ms;
    struct kbuf *out;
    int status;
};

/* Sets an error response; returns -1 for `return op_fail(...)`. */
int op_fail(struct op_call *c, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define op_invalid(c, ...) op_fail(c, 400, "InvalidArgumentException", __VA_ARGS__)

/*
 * The stream named by StreamName and/or StreamARN. With `active`, a stream
 * that is not ACTIVE counts as not found (as for record operations).
 * Returns NULL after setting the error.
 */
struct stream *op_stream(struct op_call *c, int active);

/* Optional members (the schema has checked their types). */
const char *op_str(struct op_call *c, const char *name, size_t *len);
int op_int(struct op_call *c, const char *name, long long *out);

/* Member `name` of the request, or NULL. */
const struct jnode *op_get(struct op_call *c, const char *name);

/* A timestamp value (epoch seconds number, or text) in ms; -1 if bad. */
int op_timestamp_ms(struct op_call *c, const struct jnode *v, int64_t *ms);

/* Uniform random in [0, 1) from the thread's generator. */
double api_random(struct api_ctx *ctx);

/* Operations: each returns 0 with output written, or -1 after op_fail. */
int op_create_stream(struct op_call *c);
int op_delete_stream(struct op_call *c);
int op_describe_stream(struct op_call *c);
int op_describe_stream_summary(struct op_call *c);
int op_list_streams(struct op_call *c);
int op_list_shards(struct op_call *c);
int op_add_tags(struct op_call *c);
int op_remove_tags(struct op_call *c);
int op_list_tags(struct op_call *c);
int op_increase_retention(struct op_call *c);
int op_decrease_retention(struct op_call *c);
int op_describe_limits(struct op_call *c);
int op_put_record(struct op_call *c);
int op_put_records(struct op_call *c);
int op_get_shard_iterator(struct op_call *c);
int op_get_records(struct op_call *c);

/* CreateStream's work, shared with KINESIS_INITIALIZE_STREAMS (write lock held). */
int op_create_stream_named(struct op_call *c, const char *name, long long shards, int on_demand);

#endif
