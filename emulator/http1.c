/*
 * http1.c — HTTP/1.1 for the emulator (RFC 9112), parsed with http-parser 2.9.
 *
 *   bytes → http_parser_execute → on_* callbacks collect target, headers and
 *   body → on_message_complete → worker_serve → response appended to c->out
 *
 * Keep-alive, pipelining, chunked bodies and Expect: 100-continue work as
 * clients expect. Malformed HTTP gets a 400 with a JSON body naming the
 * problem and its byte offset, and the connection is closed; a body over
 * --max-body gets a 413 before the body is read. A response held back for
 * KINESIS_LATENCY pauses the parser, so pipelined requests stay in order.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conn.h"
#include "log.h"

#define MAX_URL 8192
#define MAX_HEADER_VALUE 16384
#define KEEP_BUFFER ((size_t)1 << 20)

static http_parser_settings settings;

static struct conn *conn_of(http_parser *p)
{
    return p->data;
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
static void respond(struct conn *c, int status, const char *body, size_t len, int close)
{
    char rid[40];
    worker_request_id(c->w, rid);
    struct kbuf *o = &c->out;
    kbuf_reserve(o, len + 256);
    kbuf_appendf(o,
                 "HTTP/1.1 %d %s\r\nx-amzn-RequestId: %s\r\nContent-Type: application/x-amz-json-1.1\r\n"
                 "Content-Length: %zu\r\nDate: %s\r\n%s\r\n",
                 status, reason(status), rid, len, worker_http_date(c->w), close ? "Connection: close\r\n" : "");
    kbuf_append(o, body, len);
    if (close)
        c->close_after = 1;
}

static void respond_error(struct conn *c, int status, const char *type, const char *msg)
{
    struct kbuf b = KBUF_INIT;
    error_json(&b, type, msg);
    respond(c, status, b.p, b.len, 1);
    kbuf_free(&b);
}

static void reset_request(struct h1_state *h)
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
    reset_request(&conn_of(p)->h1);
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct h1_state *h = &conn_of(p)->h1;
    if (h->url.len + n > MAX_URL) {
        h->reject = 414;
        return -1;
    }
    kbuf_append(&h->url, at, n);
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct h1_state *h = &conn_of(p)->h1;
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
    struct h1_state *h = &conn_of(p)->h1;
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
    struct conn *c = conn_of(p);
    struct h1_state *h = &c->h1;
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
    struct conn *c = conn_of(p);
    if (c->h1.body.len + n > c->w->emu->cfg.max_body) {
        c->h1.reject = 413;
        return -1;
    }
    kbuf_append(&c->h1.body, at, n);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct conn *c = conn_of(p);
    struct h1_state *h = &c->h1;
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
    worker_serve(w, &req, &resp);
    respond(c, resp.status, w->resp.p ? w->resp.p : "", w->resp.len, !keep);
    if (w->resp.cap > KEEP_BUFFER)
        kbuf_free(&w->resp);
    if (!keep || resp.delay_ms > 0) {
        /* Stop parsing: either the connection ends here, or the answer is held. */
        http_parser_pause(p, 1);
        if (resp.delay_ms > 0) {
            c->paused = 1;
            struct timeval tv = {resp.delay_ms / 1000, (resp.delay_ms % 1000) * 1000};
            evtimer_add(c->tev, &tv);
        }
    }
    return 0;
}

void h1_settings_init(void)
{
    settings = (http_parser_settings){
        .on_message_begin = on_message_begin,
        .on_url = on_url,
        .on_header_field = on_header_field,
        .on_header_value = on_header_value,
        .on_headers_complete = on_headers_complete,
        .on_body = on_body,
        .on_message_complete = on_message_complete,
    };
}

void h1_init(struct conn *c)
{
    http_parser_init(&c->h1.hp, HTTP_REQUEST);
    c->h1.hp.data = c;
    c->h1.cur = H_NONE;
}

void h1_free(struct conn *c)
{
    struct h1_state *h = &c->h1;
    kbuf_free(&h->url);
    kbuf_free(&h->body);
    for (int i = 0; i < H_COUNT; i++)
        kbuf_free(&h->hval[i]);
}

static const char *reject_type(int status)
{
    switch (status) {
    case 413: return "RequestEntityTooLargeException";
    case 414: return "RequestURITooLongException";
    default: return "RequestHeaderFieldsTooLargeException";
    }
}

void h1_feed(struct conn *c, const char *data, size_t n)
{
    struct h1_state *h = &c->h1;
    size_t done = http_parser_execute(&h->hp, &settings, data, n);
    enum http_errno err = HTTP_PARSER_ERRNO(&h->hp);
    c->fed += done;
    if (err == HPE_PAUSED) {
        conn_set_reading(c, 0);
        if (c->close_after)
            return;
        /* Held for latency: keep what follows for when the response has gone. */
        kbuf_append(&c->pending, data + done, n - done);
        return;
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
        conn_set_reading(c, 0);
        return;
    }
    if (h->hp.upgrade) {
        respond_error(c, 400, "MalformedHttpRequestException",
                      "HTTP Upgrade is not supported: speak HTTP/1.1, or HTTP/2 with prior knowledge");
        conn_set_reading(c, 0);
    }
}

void h1_resume(struct conn *c)
{
    c->paused = 0;
    if (c->close_after) {
        conn_flush(c);
        return;
    }
    http_parser_pause(&c->h1.hp, 0);
    if (conn_flush(c) != 0)
        return;
    if (c->pending.len) {
        struct kbuf in = c->pending;
        kbuf_init(&c->pending);
        h1_feed(c, in.p, in.len);
        kbuf_free(&in);
        if (conn_flush(c) != 0)
            return;
    }
    if (!c->paused && !c->close_after && c->out.len == 0)
        conn_set_reading(c, 1);
}
