/*
 * http1.c — HTTP/1.1 for the emulator (RFC 9112), parsed with http-parser 2.9.
 *
 *   bytes → http_parser_execute → on_* callbacks collect target, headers and
 *   body → on_message_complete → route_serve → response queued on the connection (conn_out_take)
 *
 * Keep-alive, pipelining, chunked bodies and Expect: 100-continue work as
 * clients expect. Malformed HTTP gets a 400 with a JSON body naming the
 * problem and its byte offset, and the connection is closed; a body over
 * --max-body gets a 413 before the body is read; a version other than 1.x a
 * 505. A request must arrive whole in time: its headers within
 * --request-timeout of its first byte, its body within that plus a second
 * per MIN_BODY_RATE bytes; past it, a 408 and the connection closes.
 *
 * The parser pauses after a request (and keeps what follows for later) when
 * its answer is held for KINESIS_LATENCY, when the connection is over its
 * output caps (conn.h: it waits for the answers to drain), and after
 * PIPELINE_TURN pipelined requests (it lets the worker serve others), so
 * pipelined requests stay in order and one connection cannot take a worker
 * or the memory for itself.
 */
#include <http_parser.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http1.h"
#include "ktime.h"
#include "mem.h"
#include "pool.h"
#include "route.h"
#include "rw.h"
#include "subscribe.h"

#define MAX_URL 8192
#define MAX_HEADER_VALUE 16384
#define KEEP_BUFFER ((size_t)1 << 20)
#define PIPELINE_TURN 32                /* pipelined requests answered before others get a turn */

/* The HTTP/1.1 state of a connection. */
struct h1 {
    struct conn *c;
    http_parser hp;
    struct kbuf url;
    struct kbuf body;
    struct kbuf hval[H_COUNT];
    int have[H_COUNT];
    char hname[32];
    size_t hname_len;
    int hname_long;
    enum hdr cur;
    int in_value;
    struct kbuf hblock;        /* every header, with --verify-signatures (route.h) */
    int hb_state;              /* 0: between headers, 1: in a name, 2: in a value */
    int reject;                /* status of a request refused before its body (413...), or 0 */
    int in_request;            /* a request has begun and is not whole yet */
    int64_t body_start_ms;     /* when its headers were whole (chunked bodies' deadline) */
    unsigned turn;             /* requests answered since the last yield */
    struct kbuf pending;       /* input read while paused, fed when it may go on */
    struct sub *sub;           /* a SubscribeToShard stream being sent: requests after it wait for its end */
    int sub_close;             /* ... and the connection ends with it (Connection: close) */
};

static struct h1 *h1_of(http_parser *p)
{
    return p->data;
}

static struct h1 *state(struct conn *c)
{
    return c->pstate;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* Queues a response whose body is *body (taken, left empty) on the connection's output. */
static void respond(struct conn *c, int status, const char *ctype, const struct http_cors *cors, struct kbuf *body,
                    int close)
{
    char rid[40], id2[WORKER_ID2_LEN + 1] = "";
    worker_request_id(c->w, rid);
    if (status >= 400)
        worker_amz_id2(c->w, id2);
    kbuf_appendf(conn_out(c),
                 "HTTP/1.1 %d %s\r\nx-amzn-RequestId: %s\r\n%s%s%s%s%s%s"
                 "Content-Length: %zu\r\nDate: %s\r\n%s",
                 status, reason(status), rid, id2[0] ? "x-amz-id-2: " : "", id2, id2[0] ? "\r\n" : "",
                 ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "", body->len,
                 worker_http_date(c->w), close ? "Connection: close\r\n" : "");
    route_cors_lines(cors, conn_out(c));
    kbuf_puts(conn_out(c), "\r\n");
    conn_out_take(c, body);
    if (close)
        c->close_after = 1;
}

static void respond_error(struct conn *c, int status, const char *type, const char *msg)
{
    struct kbuf b = KBUF_INIT;
    struct http_response r = {.body = &b};
    route_error(&r, status, type, msg);
    respond(c, r.status, r.content_type, NULL, &b, 1);
    kbuf_free(&b);
}

static void reset_request(struct h1 *h)
{
    kbuf_reset(&h->url);
    if (h->body.cap > KEEP_BUFFER)
        kbuf_free(&h->body);
    kbuf_reset(&h->body);
    for (int i = 0; i < H_COUNT; i++) {
        kbuf_reset(&h->hval[i]);
        h->have[i] = 0;
    }
    h->hname_len = 0;
    h->hname_long = 0;
    h->cur = H_NONE;
    h->in_value = 0;
    h->reject = 0;
    kbuf_reset(&h->hblock);
    h->hb_state = 0;
}

/* Keeps every header's bytes in h->hblock when signatures are verified: a name's pieces, then its value's. */
static void keep_header(struct h1 *h, int value, const char *at, size_t n)
{
    if (!h->c->w->emu->cfg.verify_signatures)
        return;
    int want = value ? 2 : 1;
    if (h->hb_state != want) {
        if (h->hb_state == 1 || h->hb_state == 2)
            kbuf_putc(&h->hblock, '\0'); /* the name, or the value before this name, ends */
        h->hb_state = want;
    }
    if (value) {
        kbuf_append(&h->hblock, at, n);
        return;
    }
    kbuf_reserve(&h->hblock, n);
    for (size_t i = 0; i < n; i++)
        h->hblock.p[h->hblock.len + i] = (char)(at[i] >= 'A' && at[i] <= 'Z' ? at[i] - 'A' + 'a' : at[i]);
    h->hblock.len += n;
    h->hblock.p[h->hblock.len] = '\0';
}

static int64_t request_timeout_ms(const struct h1 *h)
{
    return (int64_t)h->c->w->emu->cfg.request_timeout_s * 1000;
}

static int on_message_begin(http_parser *p)
{
    struct h1 *h = h1_of(p);
    reset_request(h);
    h->in_request = 1;
    conn_deadline(h->c, request_timeout_ms(h)); /* the headers must come in time */
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct h1 *h = h1_of(p);
    if (h->url.len + n > MAX_URL) {
        h->reject = 414;
        return -1;
    }
    kbuf_append(&h->url, at, n);
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct h1 *h = h1_of(p);
    keep_header(h, 0, at, n);
    if (h->in_value) {
        h->in_value = 0;
        h->hname_len = 0;
        h->hname_long = 0;
    }
    if (h->hname_len + n >= sizeof h->hname) {
        h->hname_long = 1;
        return 0;
    }
    memcpy(h->hname + h->hname_len, at, n);
    h->hname_len += n;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct h1 *h = h1_of(p);
    keep_header(h, 1, at, n);
    if (!h->in_value) {
        h->in_value = 1;
        h->cur = h->hname_long ? H_NONE : hdr_lookup(h->hname, h->hname_len);
        if (h->cur != H_NONE) {
            /* A repeated header: the last one wins. */
            kbuf_reset(&h->hval[h->cur]);
            h->have[h->cur] = 1;
        }
    }
    if (h->cur == H_NONE)
        return 0;
    if (h->hval[h->cur].len + n > MAX_HEADER_VALUE) {
        h->reject = 431;
        return -1;
    }
    kbuf_append(&h->hval[h->cur], at, n);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct h1 *h = h1_of(p);
    struct conn *c = h->c;
    size_t max = c->w->emu->cfg.max_body;
    if (h->hb_state == 1)
        kbuf_putc(&h->hblock, '\0'); /* a name without a value: an empty one */
    if (h->hb_state)
        kbuf_putc(&h->hblock, '\0');
    h->hb_state = 0;
    if (p->http_major != 1) {
        h->reject = 505;
        return -1;
    }
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > max) {
        h->reject = 413;
        return -1;
    }
    /* The body: the request timeout again, and a second per MIN_BODY_RATE bytes. */
    h->body_start_ms = kt_mono_ns() / KT_NS_PER_MS;
    uint64_t len = (p->flags & F_CONTENTLENGTH) ? p->content_length : 0;
    conn_deadline(c, request_timeout_ms(h) + (int64_t)(len / MIN_BODY_RATE) * 1000);
    if (h->have[H_EXPECT] && strcasecmp(h->hval[H_EXPECT].p, "100-continue") == 0)
        kbuf_puts(conn_out(c), "HTTP/1.1 100 Continue\r\n\r\n");
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > 0)
        kbuf_reserve(&h->body, (size_t)p->content_length);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct h1 *h = h1_of(p);
    if (h->body.len + n > h->c->w->emu->cfg.max_body) {
        h->reject = 413;
        return -1;
    }
    kbuf_append(&h->body, at, n);
    if (!(p->flags & F_CONTENTLENGTH)) {
        /* Chunked: the deadline moves with what has come, at MIN_BODY_RATE. */
        int64_t due = h->body_start_ms + request_timeout_ms(h) + (int64_t)(h->body.len / MIN_BODY_RATE) * 1000;
        conn_deadline(h->c, due - kt_mono_ns() / KT_NS_PER_MS);
    }
    return 0;
}

/*
 * What an answer just queued means for the requests after it: none when
 * the connection ends; none before a held answer (KINESIS_LATENCY) is
 * sent; none while the unsent answers are over the caps. Returns 1 when
 * parsing must stop (what follows waits in `pending`).
 */
static int after_answer(struct conn *c, int keep, int delay_ms)
{
    if (!keep)
        return 1;
    if (delay_ms > 0) {
        conn_hold(c, delay_ms);
        return 1;
    }
    if (conn_over_cap(c)) {
        conn_block(c);
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------- SubscribeToShard */

/* Each event is one chunk of a chunked body. */
static void sink_send(void *ctx, const void *p, size_t n)
{
    struct conn *c = ctx;
    kbuf_appendf(conn_out(c), "%zx\r\n", n);
    kbuf_append(conn_out(c), p, n);
    kbuf_puts(conn_out(c), "\r\n");
}

static size_t sink_backlog(void *ctx)
{
    return conn_unsent(ctx);
}

static void sink_flush(void *ctx)
{
    conn_flush(ctx);
}

static void h1_resume(struct conn *c);

/* The stream is over: the last chunk, and the requests that waited behind it go on. */
static void sink_end(void *ctx)
{
    struct conn *c = ctx;
    struct h1 *h = state(c);
    h->sub = NULL;
    c->streaming--;
    c->waiting = 0;
    kbuf_puts(conn_out(c), "0\r\n\r\n");
    if (h->sub_close)
        c->close_after = 1;
    h1_resume(c);
}

static const struct sub_sink h1_sink = {sink_send, sink_backlog, sink_flush, sink_end};

/* The 200 of a SubscribeToShard, and its subscription: parsing waits until it ends. */
static void start_stream(struct conn *c, const struct http_response *resp, int keep)
{
    struct h1 *h = state(c);
    h->sub_close = !keep;
    char rid[40];
    worker_request_id(c->w, rid);
    kbuf_appendf(conn_out(c),
                 "HTTP/1.1 200 OK\r\nx-amzn-RequestId: %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n"
                 "Date: %s\r\n",
                 rid, SUB_CONTENT_TYPE, worker_http_date(c->w));
    route_cors_lines(&resp->cors, conn_out(c));
    kbuf_puts(conn_out(c), "\r\n");
    c->waiting = 1;
    c->streaming++;
    h->sub = sub_start(c->w, &resp->sub, &h1_sink, c);
    http_parser_pause(&h->hp, 1);
    h->turn = 0;
}

static int on_message_complete(http_parser *p)
{
    struct h1 *h = h1_of(p);
    struct conn *c = h->c;
    struct worker *w = c->w;
    int keep = http_should_keep_alive(p);
    h->in_request = 0;
    conn_deadline(c, 0);
    struct http_request req = {
        .is_get = p->method == HTTP_GET,
        .is_post = p->method == HTTP_POST,
        .is_options = p->method == HTTP_OPTIONS,
        .method = http_method_str((enum http_method)p->method),
        .path = h->url.p ? h->url.p : "/",
        .path_len = h->url.len,
        .body = h->body.p,
        .body_len = h->body.len,
        .hblock = h->hblock.len ? h->hblock.p : NULL,
        .hblock_len = h->hblock.len,
    };
    for (int i = 0; i < H_COUNT; i++) {
        req.hval[i] = h->have[i] ? h->hval[i].p : NULL;
        req.hlen[i] = h->hval[i].len;
    }
    if (w->pool && route_is_heavy(&req)) {
        /* A long call: the pool makes it; parsing waits for its answer (h1_answer), the worker does not. */
        struct pool_job *j = pool_job_new(w, c->id, 0, &req);
        j->keep = keep;
        http_parser_pause(p, 1);
        h->turn = 0;
        c->waiting = 1;
        pool_submit(w->pool, j);
        return 0;
    }
    struct http_response resp = {.body = &w->resp};
    kbuf_reset(&w->resp);
    route_serve(w, &req, &resp);
    if (resp.streaming) {
        kbuf_reset(&w->resp);
        start_stream(c, &resp, keep);
        return 0;
    }
    respond(c, resp.status, resp.content_type, &resp.cors, &w->resp, !keep);
    if (w->resp.cap > KEEP_BUFFER)
        kbuf_free(&w->resp);
    if (after_answer(c, keep, resp.delay_ms) || ++h->turn >= PIPELINE_TURN) {
        http_parser_pause(p, 1);
        if (h->turn >= PIPELINE_TURN && !c->held && !c->blocked)
            conn_yield(c);
        h->turn = 0;
    }
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static int h1_start(struct conn *c)
{
    struct h1 *h = xcalloc(1, sizeof *h);
    h->c = c;
    http_parser_init(&h->hp, HTTP_REQUEST);
    h->hp.data = h;
    h->cur = H_NONE;
    c->pstate = h;
    return 0;
}

static void h1_free(struct conn *c)
{
    struct h1 *h = state(c);
    if (!h)
        return;
    if (h->sub)
        sub_cancel(h->sub);
    kbuf_free(&h->url);
    kbuf_free(&h->body);
    kbuf_free(&h->hblock);
    for (int i = 0; i < H_COUNT; i++)
        kbuf_free(&h->hval[i]);
    kbuf_free(&h->pending);
    free(h);
    c->pstate = NULL;
}

static const char *reject_type(int status)
{
    switch (status) {
    case 413: return "RequestEntityTooLargeException";
    case 414: return "RequestURITooLongException";
    case 505: return "HttpVersionNotSupportedException";
    default: return "RequestHeaderFieldsTooLargeException";
    }
}

static int h1_feed(struct conn *c, const char *data, size_t n)
{
    struct h1 *h = state(c);
    h->turn = 0;
    size_t done = http_parser_execute(&h->hp, &settings, data, n);
    enum http_errno err = HTTP_PARSER_ERRNO(&h->hp);
    c->fed += done;
    if (err == HPE_PAUSED) {
        conn_set_reading(c, 0);
        if (c->close_after)
            return -1;
        /* Held, waiting or yielding: keep what follows for when it may go on. */
        kbuf_append(&h->pending, data + done, n - done);
        return 0;
    }
    if (err != HPE_OK) {
        char msg[512];
        if (h->reject == 413)
            snprintf(msg, sizeof msg, "Request body is larger than the emulator's limit of %zu bytes (--max-body)",
                     c->w->emu->cfg.max_body);
        else if (h->reject == 414)
            snprintf(msg, sizeof msg, "Request target is longer than %d bytes", MAX_URL);
        else if (h->reject == 505)
            snprintf(msg, sizeof msg, "HTTP/%u.%u is not supported: the Kinesis API is served over HTTP/1.1 and HTTP/2",
                     h->hp.http_major, h->hp.http_minor);
        else if (h->reject)
            snprintf(msg, sizeof msg, "A request header value is longer than %d bytes", MAX_HEADER_VALUE);
        else
            snprintf(msg, sizeof msg, "Malformed HTTP request at byte %llu of the connection: %s (%s)",
                     (unsigned long long)c->fed, http_errno_description(err), http_errno_name(err));
        conn_log(c, "%s", msg);
        if (h->reject)
            respond_error(c, h->reject, reject_type(h->reject), msg);
        else
            respond_error(c, 400, "MalformedHttpRequestException", msg);
        return -1;
    }
    if (h->hp.upgrade) {
        conn_log(c, "HTTP Upgrade refused");
        respond_error(c, 400, "MalformedHttpRequestException",
                      "HTTP Upgrade is not supported: speak HTTP/1.1, or HTTP/2 with prior knowledge");
        return -1;
    }
    return 0;
}

/* A hold or a wait is over: send what was held, then go on with the requests that came meanwhile. */
static void h1_resume(struct conn *c)
{
    struct h1 *h = state(c);
    if (c->held || c->blocked)
        return;
    if (c->close_after) {
        conn_flush(c);
        return;
    }
    if (conn_flush(c) != 0)
        return;
    if (c->blocked || c->waiting)
        return; /* flushing left it over the caps, or a call of it is still in the pool */
    http_parser_pause(&h->hp, 0);
    if (h->pending.len) {
        struct kbuf in = h->pending;
        kbuf_init(&h->pending);
        int rc = h1_feed(c, in.p, in.len);
        kbuf_free(&in);
        if (rc != 0) {
            c->close_after = 1;
            conn_set_reading(c, 0);
        }
        if (conn_flush(c) != 0)
            return;
    }
    if (!c->held && !c->blocked && !c->close_after && !h->pending.len && HTTP_PARSER_ERRNO(&h->hp) == HPE_OK)
        conn_set_reading(c, 1);
}

/* The request did not arrive whole in time: 408, and the connection ends. */
static void h1_timeout(struct conn *c)
{
    struct h1 *h = state(c);
    if (!h->in_request || c->close_after)
        return;
    atomic_fetch_add(&c->w->emu->timeouts, 1);
    char msg[200];
    snprintf(msg, sizeof msg,
             "The request did not arrive whole in time: headers within %d s (--request-timeout), the body at "
             "%zu bytes a second after that",
             c->w->emu->cfg.request_timeout_s, MIN_BODY_RATE);
    conn_log(c, "request timed out after %llu bytes: answered 408", (unsigned long long)c->fed);
    respond_error(c, 408, "RequestTimeoutException", msg);
    conn_set_reading(c, 0);
    conn_flush(c);
}

/* The pool made the call this connection waits for: answer it, then go on as after any answer. */
static void h1_answer(struct conn *c, struct pool_job *j)
{
    c->waiting = 0;
    respond(c, j->resp.status, j->resp.content_type, &j->resp.cors, &j->body, !j->keep);
    if (after_answer(c, j->keep, j->resp.delay_ms)) {
        conn_flush(c); /* unless held: a connection that waits still writes (and so learns its peer has gone) */
        return;
    }
    h1_resume(c);
}

/* All output is written: a subscription that waited for its peer goes on. */
static int h1_more(struct conn *c)
{
    struct h1 *h = state(c);
    if (h && h->sub)
        sub_kick(h->sub);
    return 0;
}

const struct conn_proto proto_http1 = {
    .name = "HTTP/1.1",
    .start = h1_start,
    .feed = h1_feed,
    .resume = h1_resume,
    .timeout = h1_timeout,
    .answer = h1_answer,
    .more = h1_more,
    .free = h1_free,
};
