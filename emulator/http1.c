/*
 * http1.c — HTTP/1.1 for the emulator (RFC 9112), parsed with http-parser 2.9.
 *
 *   bytes → http_parser_execute → on_* callbacks collect target, headers and
 *   body → on_message_complete → route_serve → response appended to c->out
 *
 * Keep-alive, pipelining, chunked bodies and Expect: 100-continue work as
 * clients expect. Malformed HTTP gets a 400 with a JSON body naming the
 * problem and its byte offset, and the connection is closed; a body over
 * --max-body gets a 413 before the body is read. A response held back for
 * KINESIS_LATENCY pauses the parser, so pipelined requests stay in order.
 */
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http1.h"
#include "mem.h"
#include "route.h"
#include "rw.h"

#define MAX_URL 8192
#define MAX_HEADER_VALUE 16384
#define KEEP_BUFFER ((size_t)1 << 20)

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
    int reject;                /* status of a request refused before its body (413...), or 0 */
    struct kbuf pending;       /* input after a held response, fed when it has gone */
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
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    default: return "Unknown";
    }
}

/* Appends a complete response to the connection's output. */
static void respond(struct conn *c, int status, const char *ctype, const char *body, size_t len, int close)
{
    char rid[40];
    worker_request_id(c->w, rid);
    struct kbuf *o = &c->out;
    kbuf_reserve(o, len + 256);
    kbuf_appendf(o,
                 "HTTP/1.1 %d %s\r\nx-amzn-RequestId: %s\r\nContent-Type: %s\r\n"
                 "Content-Length: %zu\r\nDate: %s\r\n%s\r\n",
                 status, reason(status), rid, ctype, len, worker_http_date(c->w),
                 close ? "Connection: close\r\n" : "");
    kbuf_append(o, body, len);
    if (close)
        c->close_after = 1;
}

static void respond_error(struct conn *c, int status, const char *type, const char *msg)
{
    struct kbuf b = KBUF_INIT;
    struct http_response r = {.body = &b};
    route_error(&r, status, type, msg);
    respond(c, r.status, r.content_type, b.p, b.len, 1);
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
}

static int on_message_begin(http_parser *p)
{
    reset_request(h1_of(p));
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
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > max) {
        h->reject = 413;
        return -1;
    }
    if (h->have[H_EXPECT] && strcasecmp(h->hval[H_EXPECT].p, "100-continue") == 0)
        kbuf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
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
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct h1 *h = h1_of(p);
    struct conn *c = h->c;
    struct worker *w = c->w;
    int keep = http_should_keep_alive(p);
    struct http_request req = {
        .is_get = p->method == HTTP_GET,
        .is_post = p->method == HTTP_POST,
        .method = http_method_str((enum http_method)p->method),
        .path = h->url.p ? h->url.p : "/",
        .path_len = h->url.len,
        .body = h->body.p,
        .body_len = h->body.len,
    };
    for (int i = 0; i < H_COUNT; i++) {
        req.hval[i] = h->have[i] ? h->hval[i].p : NULL;
        req.hlen[i] = h->hval[i].len;
    }
    struct http_response resp = {.body = &w->resp};
    kbuf_reset(&w->resp);
    route_serve(w, &req, &resp);
    respond(c, resp.status, resp.content_type, w->resp.p ? w->resp.p : "", w->resp.len, !keep);
    if (w->resp.cap > KEEP_BUFFER)
        kbuf_free(&w->resp);
    if (!keep || resp.delay_ms > 0) {
        /* Stop parsing: either the connection ends here, or the answer is held. */
        http_parser_pause(p, 1);
        if (resp.delay_ms > 0)
            conn_hold(c, resp.delay_ms);
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
    kbuf_free(&h->url);
    kbuf_free(&h->body);
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
    default: return "RequestHeaderFieldsTooLargeException";
    }
}

static int h1_feed(struct conn *c, const char *data, size_t n)
{
    struct h1 *h = state(c);
    size_t done = http_parser_execute(&h->hp, &settings, data, n);
    enum http_errno err = HTTP_PARSER_ERRNO(&h->hp);
    c->fed += done;
    if (err == HPE_PAUSED) {
        conn_set_reading(c, 0);
        if (c->close_after)
            return -1;
        /* Held for latency: keep what follows for when the response has gone. */
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
        else if (h->reject)
            snprintf(msg, sizeof msg, "A request header value is longer than %d bytes", MAX_HEADER_VALUE);
        else
            snprintf(msg, sizeof msg, "Malformed HTTP request at byte %llu of the connection: %s (%s)",
                     (unsigned long long)c->fed, http_errno_description(err), http_errno_name(err));
        if (h->reject)
            respond_error(c, h->reject, reject_type(h->reject), msg);
        else
            respond_error(c, 400, "MalformedHttpRequestException", msg);
        return -1;
    }
    if (h->hp.upgrade) {
        respond_error(c, 400, "MalformedHttpRequestException",
                      "HTTP Upgrade is not supported: speak HTTP/1.1, or HTTP/2 with prior knowledge");
        return -1;
    }
    return 0;
}

static void h1_resume(struct conn *c)
{
    struct h1 *h = state(c);
    if (c->close_after) {
        conn_flush(c);
        return;
    }
    http_parser_pause(&h->hp, 0);
    if (conn_flush(c) != 0)
        return;
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
    if (!c->held && !c->close_after && c->out.len == 0)
        conn_set_reading(c, 1);
}

const struct conn_proto proto_http1 = {
    .name = "HTTP/1.1",
    .start = h1_start,
    .feed = h1_feed,
    .resume = h1_resume,
    .free = h1_free,
};
