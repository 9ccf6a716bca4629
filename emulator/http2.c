/*
 * http2.c — HTTP/2 over cleartext with prior knowledge (RFC 9113) for the
 * emulator, framed by nghttp2.
 *
 * The AWS SDK for JavaScript v3 sends every Kinesis call over HTTP/2
 * (NodeHttp2Handler), and over http:// it opens with the client preface
 * directly. Each stream carries one request:
 *
 *   HEADERS (:method, :path, x-amz-target, ...) [DATA ...] END_STREAM
 *     → route_serve → HEADERS (:status, ...) DATA END_STREAM
 *
 * Streams are independent, so a response held for KINESIS_LATENCY delays
 * only its own stream. Bodies are capped per stream (--max-body, answered
 * with 413) and per connection (twice that, refused with RST_STREAM). A
 * stream whose request does not arrive whole in time (route.h) gets a 408.
 *
 * Backpressure (conn.h): answers not yet sent count against the
 * connection's caps, those still in streams as well as those in `out`; a
 * stream that completes while the connection is over them waits in a queue,
 * in order, and the connection is not read until the answers drain. The
 * queue is bounded by the streams a client may open (H2_MAX_STREAMS).
 */
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http2.h"
#include "ktime.h"
#include "log.h"
#include "mem.h"
#include "pool.h"
#include "route.h"
#include "subscribe.h"

#define H2_MAX_STREAMS 128
#define PUMP_AHEAD (256 * 1024) /* frames moved into the output ahead of the socket */
#define H2_WINDOW (16 << 20)
#define H2_CONN_WINDOW (64 << 20)
#define MAX_HEADER_VALUE 16384
#define MAX_HEADER_BLOCK 65536       /* all of a request's headers, kept to check its signature */

struct h2_stream {
    struct h2_session *s;
    struct h2_stream *prev, *next;  /* the session's open streams */
    int32_t id;
    struct kbuf method, path;
    struct kbuf hval[H_COUNT];
    int have[H_COUNT];
    struct kbuf hblock;        /* every header, with --verify-signatures (route.h) */
    struct kbuf body;
    int reject;                /* 413 or 431, or 0 */
    int answered;
    struct kbuf resp;          /* response body, read by the data provider */
    size_t resp_off;
    int status;
    const char *content_type;
    struct http_cors cors;
    struct event *timer;       /* a response held for KINESIS_LATENCY */
    int64_t start_ms;          /* its first headers (monotonic), for the deadline */
    uint64_t declared;         /* its Content-Length */
    int queued;                /* waiting in the session's queue */
    int waiting;               /* its call is out in the pool */
    int submitted;             /* its answer went to nghttp2 */
    struct h2_stream *qnext;
    /* SubscribeToShard: its answer is an event stream, sent as the subscription writes it into resp */
    struct sub *sub;
    int streaming, stream_ended, deferred;
};

struct h2_session {
    nghttp2_session *ng;
    struct conn *c;
    struct h2_stream *streams;
    size_t buffered;           /* request body bytes held across open streams */
    size_t unsent;             /* answer bytes in streams, not yet handed to nghttp2 */
    int deadline_armed;        /* the connection's deadline is the earliest stream's */
    struct h2_stream *q_head, *q_tail; /* whole requests waiting for the caps, or for the long call out */
    int heavy_out;             /* a long call of this session is out in the pool (one at a time) */
};

static void set_unsent(struct h2_session *s, size_t n)
{
    s->unsent = n;
    conn_set_extra(s->c, n);
}

/* When the request of a stream still arriving must be whole (route.h). */
static int64_t stream_deadline(const struct h2_stream *st)
{
    uint64_t body = st->declared > st->body.len ? st->declared : st->body.len;
    return st->start_ms + (int64_t)st->s->c->w->emu->cfg.request_timeout_s * 1000 +
           (int64_t)(body / MIN_BODY_RATE) * 1000;
}

static void stream_free(struct h2_stream *st)
{
    if (st->prev)
        st->prev->next = st->next;
    else
        st->s->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    if (st->timer)
        event_free(st->timer);
    if (st->sub) {
        sub_cancel(st->sub);
        st->s->c->streaming--;
    }
    if (st->queued) {
        struct h2_stream **pp = &st->s->q_head;
        while (*pp != st)
            pp = &(*pp)->qnext;
        *pp = st->qnext;
        if (st->s->q_tail == st) {
            st->s->q_tail = NULL;
            for (struct h2_stream *q = st->s->q_head; q; q = q->qnext)
                st->s->q_tail = q;
        }
    }
    if (st->submitted)
        set_unsent(st->s, st->s->unsent - (st->resp.len - st->resp_off));
    kbuf_free(&st->method);
    kbuf_free(&st->path);
    for (int i = 0; i < H_COUNT; i++)
        kbuf_free(&st->hval[i]);
    kbuf_free(&st->hblock);
    st->s->buffered -= st->body.len;
    kbuf_free(&st->body);
    kbuf_free(&st->resp);
    free(st);
}

/*
 * Moves nghttp2's pending frames into the connection's output, up to
 * PUMP_AHEAD bytes unsent: the rest of a large answer stays in its stream
 * until the socket takes what is there (h2_more), so a 14 MB answer is
 * never copied whole, and a peer that does not read holds it once.
 */
static int pump(struct h2_session *s)
{
    struct conn *c = s->c;
    while (c->out.len - c->out_off < PUMP_AHEAD && !c->segs) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(s->ng, &data);
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        kbuf_append(conn_out(c), data, (size_t)n);
    }
    return 0;
}

/* The output is written: the next frames. */
static int h2_more(struct conn *c)
{
    struct h2_session *s = c->pstate;
    if (!s || c->close_after)
        return 0;
    if (pump(s) != 0) {
        c->close_after = 1;
        return 0;
    }
    return c->out.len > c->out_off;
}

static ssize_t read_body(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *user)
{
    struct h2_stream *st = src->ptr;
    size_t left = st->resp.len - st->resp_off;
    size_t n = left < len ? left : len;
    if (n)
        memcpy(buf, st->resp.p + st->resp_off, n);
    st->resp_off += n;
    set_unsent(st->s, st->s->unsent - n);
    if (st->resp_off == st->resp.len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* An event stream's body: what the subscription has written so far; deferred until it writes more. */
static ssize_t read_stream(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                           nghttp2_data_source *src, void *user)
{
    struct h2_stream *st = src->ptr;
    size_t left = st->resp.len - st->resp_off;
    if (left == 0) {
        if (st->stream_ended) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
            return 0;
        }
        st->deferred = 1;
        if (st->sub)
            sub_kick(st->sub); /* it may have waited for this: at the loop's next turn */
        return NGHTTP2_ERR_DEFERRED;
    }
    size_t n = left < len ? left : len;
    memcpy(buf, st->resp.p + st->resp_off, n);
    st->resp_off += n;
    set_unsent(st->s, st->s->unsent - n);
    if (st->resp_off == st->resp.len) {
        kbuf_reset(&st->resp);
        st->resp_off = 0;
        if (st->stream_ended)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return (ssize_t)n;
}

static void submit(struct h2_stream *st)
{
    struct worker *w = st->s->c->w;
    char status[8], length[24], rid[40], id2[WORKER_ID2_LEN + 1];
    snprintf(status, sizeof status, "%d", st->status);
    snprintf(length, sizeof length, "%zu", st->resp.len);
    worker_request_id(w, rid);
    const char *date = worker_http_date(w);
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
    nghttp2_nv nva[11] = {
        NV(":status", status),
        NV("x-amzn-requestid", rid),
        NV("date", date),
        NV("content-length", length),
    };
    size_t n = st->streaming ? 3 : 4;
    if (st->content_type)
        nva[n++] = (nghttp2_nv)NV("content-type", st->content_type);
    if (st->status >= 400) {
        worker_amz_id2(w, id2);
        nva[n++] = (nghttp2_nv)NV("x-amz-id-2", id2);
    }
    const struct http_cors *cors = &st->cors;
    if (cors->origin[0]) {
        nva[n++] = (nghttp2_nv)NV("access-control-allow-origin", cors->origin);
        if (!cors->preflight) {
            nva[n++] = (nghttp2_nv)NV("access-control-expose-headers", CORS_EXPOSE);
        } else {
            if (cors->methods[0])
                nva[n++] = (nghttp2_nv)NV("access-control-allow-methods", cors->methods);
            if (cors->headers[0])
                nva[n++] = (nghttp2_nv)NV("access-control-allow-headers", cors->headers);
            nva[n++] = (nghttp2_nv)NV("access-control-max-age", CORS_MAX_AGE);
        }
    }
#undef NV
    nghttp2_data_provider prd = {.source = {.ptr = st}, .read_callback = st->streaming ? read_stream : read_body};
    st->submitted = 1;
    set_unsent(st->s, st->s->unsent + st->resp.len);
    nghttp2_submit_response(st->s->ng, st->id, nva, n, &prd);
}

static void held_cb(evutil_socket_t fd, short what, void *arg)
{
    struct h2_stream *st = arg;
    struct conn *c = st->s->c;
    submit(st);
    if (pump(st->s) != 0)
        c->close_after = 1;
    conn_flush(c);
}

/* The stream's answer (its body already in st->resp) goes out now, or after delay_ms (KINESIS_LATENCY). */
static void reply(struct h2_stream *st, const struct http_response *resp)
{
    st->status = resp->status;
    st->content_type = resp->content_type;
    st->cors = resp->cors;
    if (resp->delay_ms > 0) {
        st->timer = evtimer_new(st->s->c->w->base, held_cb, st);
        struct timeval tv = {resp->delay_ms / 1000, (resp->delay_ms % 1000) * 1000};
        evtimer_add(st->timer, &tv);
        return;
    }
    submit(st);
}

/* The stream's request as route.h has it. */
static void stream_request(struct h2_stream *st, struct http_request *req)
{
    *req = (struct http_request){
        .is_get = st->method.len == 3 && memcmp(st->method.p, "GET", 3) == 0,
        .is_post = st->method.len == 4 && memcmp(st->method.p, "POST", 4) == 0,
        .is_options = st->method.len == 7 && memcmp(st->method.p, "OPTIONS", 7) == 0,
        .method = st->method.p ? st->method.p : "(none)",
        .path = st->path.p ? st->path.p : "/",
        .path_len = st->path.len,
        .body = st->body.p,
        .body_len = st->body.len,
        .hblock = st->hblock.len ? st->hblock.p : NULL,
        .hblock_len = st->hblock.len,
    };
    for (int i = 0; i < H_COUNT; i++) {
        req->hval[i] = st->have[i] ? st->hval[i].p : NULL;
        req->hlen[i] = st->hval[i].len;
    }
}

/* 1 when the stream must wait for the session's long call to come back first. */
static int behind_heavy(struct h2_stream *st)
{
    if (!st->s->heavy_out || st->reject)
        return 0;
    struct http_request req;
    stream_request(st, &req);
    return route_is_heavy(&req);
}

/* ---------------------------------------------------- SubscribeToShard */

static void sink_send(void *ctx, const void *p, size_t n)
{
    struct h2_stream *st = ctx;
    kbuf_append(&st->resp, p, n);
    set_unsent(st->s, st->s->unsent + n);
    if (st->deferred) {
        st->deferred = 0;
        nghttp2_session_resume_data(st->s->ng, st->id);
    }
}

static size_t sink_backlog(void *ctx)
{
    struct h2_stream *st = ctx;
    return st->resp.len - st->resp_off;
}

static void sink_flush(void *ctx)
{
    struct h2_stream *st = ctx;
    struct conn *c = st->s->c;
    if (pump(st->s) != 0)
        c->close_after = 1;
    conn_flush(c);
}

/* The subscription is over: the stream ends once what it wrote is sent. */
static void sink_end(void *ctx)
{
    struct h2_stream *st = ctx;
    st->sub = NULL;
    st->s->c->streaming--;
    st->stream_ended = 1;
    if (st->deferred) {
        st->deferred = 0;
        nghttp2_session_resume_data(st->s->ng, st->id);
    }
    sink_flush(st);
}

static const struct sub_sink h2_sink = {sink_send, sink_backlog, sink_flush, sink_end};

static void answer(struct h2_stream *st)
{
    struct worker *w = st->s->c->w;
    struct http_response resp = {.body = &st->resp};
    st->answered = 1;
    if (st->reject == 408) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "The request did not arrive whole in time: headers within %d s (--request-timeout), the body at "
                 "%zu bytes a second after that",
                 w->emu->cfg.request_timeout_s, MIN_BODY_RATE);
        route_error(&resp, 408, "RequestTimeoutException", msg);
        reply(st, &resp);
        return;
    }
    if (st->reject) {
        char msg[160];
        if (st->reject == 413)
            snprintf(msg, sizeof msg, "Request body is larger than the emulator's limit of %zu bytes (--max-body)",
                     w->emu->cfg.max_body);
        else
            snprintf(msg, sizeof msg, "A request header value is longer than %d bytes", MAX_HEADER_VALUE);
        route_error(&resp, st->reject,
                    st->reject == 413 ? "RequestEntityTooLargeException" : "RequestHeaderFieldsTooLargeException",
                    msg);
        reply(st, &resp);
        return;
    }
    struct http_request req;
    stream_request(st, &req);
    if (w->pool && route_is_heavy(&req)) {
        /* A long call: the pool makes it (h2_answer takes the answer); the other streams go on. */
        struct pool_job *j = pool_job_new(w, st->s->c->id, st->id, &req);
        st->waiting = 1;
        st->s->heavy_out = 1;
        pool_submit(w->pool, j);
        return;
    }
    route_serve(w, &req, &resp);
    if (resp.streaming) {
        kbuf_reset(&st->resp);
        st->streaming = 1;
        st->status = 200;
        st->content_type = SUB_CONTENT_TYPE;
        st->cors = resp.cors;
        submit(st);
        st->s->c->streaming++;
        st->sub = sub_start(w, &resp.sub, &h2_sink, st);
        return;
    }
    reply(st, &resp);
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    struct h2_session *s = user;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct h2_stream *st = xcalloc(1, sizeof *st);
    st->s = s;
    st->id = frame->hd.stream_id;
    st->start_ms = kt_mono_ns() / KT_NS_PER_MS;
    if (!s->deadline_armed) {
        conn_deadline(s->c, stream_deadline(st) - st->start_ms);
        s->deadline_armed = 1;
    }
    st->next = s->streams;
    if (s->streams)
        s->streams->prev = st;
    s->streams = st;
    nghttp2_session_set_stream_user_data(ng, st->id, st);
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
    struct h2_session *s = user;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
    if (!st || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    const char *n = (const char *)name;
    if (valuelen > MAX_HEADER_VALUE) {
        st->reject = 431;
        return 0;
    }
    if (s->c->w->emu->cfg.verify_signatures) {
        if (st->hblock.len + namelen + valuelen > MAX_HEADER_BLOCK) {
            st->reject = 431;
            return 0;
        }
        /* nghttp2 has checked the name is lower case and neither holds a NUL. */
        kbuf_append(&st->hblock, name, namelen);
        kbuf_putc(&st->hblock, '\0');
        kbuf_append(&st->hblock, value, valuelen);
        kbuf_putc(&st->hblock, '\0');
    }
    if (namelen == 7 && memcmp(n, ":method", 7) == 0) {
        kbuf_append(&st->method, value, valuelen);
    } else if (namelen == 5 && memcmp(n, ":path", 5) == 0) {
        kbuf_append(&st->path, value, valuelen);
    } else if (namelen == 14 && memcmp(n, "content-length", 14) == 0) {
        char *end;
        char tmp[32];
        size_t l = valuelen < sizeof tmp - 1 ? valuelen : sizeof tmp - 1;
        memcpy(tmp, value, l);
        tmp[l] = '\0';
        unsigned long long cl = strtoull(tmp, &end, 10);
        st->declared = cl;
        if (cl > s->c->w->emu->cfg.max_body)
            st->reject = 413;
    } else {
        enum hdr h = hdr_lookup(n, namelen);
        if (h != H_NONE) {
            kbuf_reset(&st->hval[h]);
            kbuf_append(&st->hval[h], value, valuelen);
            st->have[h] = 1;
        }
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                         void *user)
{
    struct h2_session *s = user;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st || st->reject)
        return 0;
    size_t max = s->c->w->emu->cfg.max_body;
    if (st->body.len + len > max) {
        st->reject = 413;
        s->buffered -= st->body.len;
        kbuf_free(&st->body);
        return 0;
    }
    if (s->buffered + len > 2 * max) {
        nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
        return 0;
    }
    kbuf_append(&st->body, data, len);
    s->buffered += len;
    return 0;
}

static void enqueue(struct h2_session *s, struct h2_stream *st)
{
    st->queued = 1;
    st->qnext = NULL;
    if (s->q_tail)
        s->q_tail->qnext = st;
    else
        s->q_head = st;
    s->q_tail = st;
}

static struct h2_stream *dequeue(struct h2_session *s)
{
    struct h2_stream *st = s->q_head;
    s->q_head = st->qnext;
    if (!s->q_head)
        s->q_tail = NULL;
    st->queued = 0;
    st->qnext = NULL;
    return st;
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    struct h2_session *s = user;
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
        if (!st || st->answered || st->queued)
            return 0;
        /*
         * Over the caps (or behind others that wait): it waits its turn, and
         * the connection is not read while over. A second long call waits for
         * the first to come back; the connection is read meanwhile.
         */
        if (s->q_head || conn_over_cap(s->c) || behind_heavy(st)) {
            enqueue(s, st);
            if (conn_over_cap(s->c))
                conn_block(s->c);
        } else {
            answer(st);
        }
    }
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t error_code, void *user)
{
    struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (st) {
        nghttp2_session_set_stream_user_data(ng, id, NULL);
        stream_free(st);
    }
    return 0;
}

static int h2_start(struct conn *c)
{
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    struct h2_session *s = xcalloc(1, sizeof *s);
    s->c = c;
    c->pstate = s;
    int rc = nghttp2_session_server_new(&s->ng, cb, s);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0) {
        kt_log(KT_LOG_WARN, "HTTP/2 session: %s", nghttp2_strerror(rc));
        return -1;
    }
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW},
    };
    nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, KT_ARRAY_LEN(iv));
    nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW);
    return pump(s);
}

static int h2_feed(struct conn *c, const char *data, size_t n)
{
    struct h2_session *s = c->pstate;
    ssize_t rc = nghttp2_session_mem_recv(s->ng, (const uint8_t *)data, n);
    if (rc < 0) {
        conn_log(c, "protocol error after byte %llu: %s", (unsigned long long)c->fed, nghttp2_strerror((int)rc));
        nghttp2_session_terminate_session(s->ng, NGHTTP2_PROTOCOL_ERROR);
        pump(s);
        return -1;
    }
    c->fed += (uint64_t)rc;
    if (pump(s) != 0)
        return -1;
    if (!nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng))
        return -1;
    return 0;
}

static void h2_free(struct conn *c)
{
    struct h2_session *s = c->pstate;
    if (!s)
        return;
    nghttp2_session_del(s->ng);
    while (s->streams)
        stream_free(s->streams);
    free(s);
    c->pstate = NULL;
}

/* The caps allow again: answer the streams that waited, in order, while they allow. */
static void h2_resume(struct conn *c)
{
    struct h2_session *s = c->pstate;
    if (c->blocked || c->close_after)
        return;
    while (s->q_head && !conn_over_cap(c) && !behind_heavy(s->q_head))
        answer(dequeue(s));
    if (pump(s) != 0)
        c->close_after = 1;
    if (s->q_head && conn_over_cap(c))
        conn_block(c);
    else
        conn_set_reading(c, 1);
    conn_flush(c);
}

/* The pool made a stream's long call: its answer goes out, then the streams that waited for it. */
static void h2_answer(struct conn *c, struct pool_job *j)
{
    struct h2_session *s = c->pstate;
    s->heavy_out = 0;
    struct h2_stream *st = nghttp2_session_get_stream_user_data(s->ng, j->stream);
    if (st && st->waiting) { /* else the peer reset the stream meanwhile */
        st->waiting = 0;
        kbuf_free(&st->resp);
        st->resp = j->body;
        kbuf_init(&j->body);
        reply(st, &j->resp);
    }
    if (c->blocked) {
        if (pump(s) != 0)
            c->close_after = 1;
        conn_flush(c);
        return;
    }
    h2_resume(c);
}

/* Streams whose requests are late get a 408; the deadline moves to the next one still arriving. */
static void h2_timeout(struct conn *c)
{
    struct h2_session *s = c->pstate;
    int64_t now = kt_mono_ns() / KT_NS_PER_MS, next = INT64_MAX;
    for (struct h2_stream *st = s->streams; st; st = st->next) {
        if (st->answered || st->queued)
            continue;
        int64_t due = stream_deadline(st);
        if (due <= now) {
            atomic_fetch_add(&c->w->emu->timeouts, 1);
            conn_log(c, "stream %d: request timed out: answered 408", st->id);
            st->reject = 408;
            answer(st);
        } else if (due < next) {
            next = due;
        }
    }
    s->deadline_armed = next != INT64_MAX;
    if (s->deadline_armed)
        conn_deadline(c, next - now);
    if (pump(s) != 0)
        c->close_after = 1;
    conn_flush(c);
}

const struct conn_proto proto_http2 = {
    .name = "HTTP/2",
    .start = h2_start,
    .feed = h2_feed,
    .resume = h2_resume,
    .timeout = h2_timeout,
    .answer = h2_answer,
    .more = h2_more,
    .free = h2_free,
};
