/*
 * route.h — what a request asks for, whatever protocol carried it, and who
 * answers it: GET /health, the Kinesis API (POST /), or an error.
 *
 * HTTP/1.1 and HTTP/2 (http1.c, http2.c) each build a struct http_request
 * from their framing and send back the struct http_response route_serve
 * fills.
 */
#ifndef KT_ROUTE_H
#define KT_ROUTE_H

#include <stddef.h>

#include "buf.h"
#include "subreq.h"
#include "worker.h"

/*
 * A request must arrive whole in time: its headers within --request-timeout
 * of its first byte, its body within that plus a second per MIN_BODY_RATE
 * bytes (of its Content-Length, or of what has come). Past it: 408.
 */
#define MIN_BODY_RATE ((size_t)16 << 10)

enum hdr { H_NONE = -1, H_TARGET, H_AUTH, H_CTYPE, H_AMZDATE, H_DATE, H_EXPECT, H_ORIGIN, H_ACRM, H_ACRH, H_COUNT };

/* The headers the API needs, by index (lower case); others are not kept. */
extern const char *const hdr_names[H_COUNT];
enum hdr hdr_lookup(const char *name, size_t len);

struct http_request {
    int is_get;
    int is_post;
    int is_options;
    const char *method;        /* for messages */
    const char *path;
    size_t path_len;
    const char *hval[H_COUNT]; /* NULL when absent */
    size_t hlen[H_COUNT];
    /*
     * With --verify-signatures, every header as "name\0value\0" pairs, names
     * in lower case (HTTP/2's :authority among them), for the canonical
     * request; NULL otherwise.
     */
    const char *hblock;
    size_t hblock_len;
    char *body;                /* the API decodes it in place */
    size_t body_len;
};

/*
 * The CORS headers of an answer to a browser (its request had an Origin
 * that --cors-origins allows); all "" when none.
 */
struct http_cors {
    char origin[256];          /* Access-Control-Allow-Origin */
    char methods[64];          /* a preflight's Access-Control-Allow-Methods (what it asked for) */
    char headers[512];         /* a preflight's Access-Control-Allow-Headers (what it asked for) */
    int preflight;             /* OPTIONS: Access-Control-Max-Age; otherwise Access-Control-Expose-Headers */
};

struct http_response {
    int status;
    struct kbuf *body;         /* the caller's buffer, empty on entry */
    const char *content_type;  /* NULL: no Content-Type header */
    int delay_ms;              /* hold the answer this long (KINESIS_LATENCY) */
    struct http_cors cors;
    int streaming;             /* SubscribeToShard: a 200 whose body is the event stream that starts at `sub` */
    struct sub_req sub;
};

/* The CORS headers for req into out (origins: --cors-origins, "*" or a comma-separated list, "none"). */
void route_cors(const char *origins, const struct http_request *req, struct http_cors *out);
/* What a non-preflight answer exposes to the browser's script. */
#define CORS_EXPOSE "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date"
#define CORS_MAX_AGE "172800"
/* The CORS header lines of c ("Name: value\r\n" each) appended to b. */
void route_cors_lines(const struct http_cors *c, struct kbuf *b);

/* Answers one request into resp. */
void route_serve(struct worker *w, struct http_request *req, struct http_response *resp);

/* An error of the HTTP layer itself (413, malformed request...): status and a JSON error body. */
void route_error(struct http_response *resp, int status, const char *type, const char *msg);

/* POST / with the Kinesis API: the call answered into resp, with ctx's API state (any thread). */
void route_api(struct api_ctx *ctx, const struct http_request *req, struct http_response *resp);

/* 1 for a call whose answer may take long to build (GetRecords): made by the pool (pool.h). */
int route_is_heavy(const struct http_request *req);

#endif
