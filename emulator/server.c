/*
 * server.c — HTTP/1.1 transport of the emulator (see server.h).
 *
 * Parses requests per RFC 9112 with http-parser (nodejs/http-parser 2.9)
 * and writes responses itself. A connection's life:
 *
 *   read → http_parser_execute → on_* callbacks collect target, headers,
 *   body → on_message_complete → api_handle → response appended to `out`
 *   → write; repeat while keep-alive.
 *
 * Malformed HTTP gets a 400 with a JSON body naming the problem and its byte
 * offset, and the connection is closed; a body over the cap gets a 413. A
 * response held back for KINESIS_LATENCY pauses the parser, so pipelined
 * requests are still answered in order.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <http_parser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "jsonw.h"
#include "ktime.h"
#include "log.h"
#include "mem.h"

#define READ_CHUNK 65536
#define MAX_URL 8192
#define MAX_HEADER_VALUE 16384
#define OUT_HIGH_WATER ((size_t)64 << 20)
#define KEEP_BUFFER ((size_t)1 << 20)

enum hdr { H_NONE = -1, H_TARGET, H_AUTH, H_CTYPE, H_AMZDATE, H_DATE, H_EXPECT, H_COUNT };

static const char *const hdr_names[H_COUNT] = {"x-amz-target", "authorization", "content-type",
                                               "x-amz-date", "date", "expect"};

struct worker;

struct conn {
    struct worker *w;
    int fd;
    struct event *rev, *wev, *tev;
    http_parser hp;
    /* the request being parsed */
    struct kbuf url;
    struct kbuf body;
    struct kbuf hval[H_COUNT];
    int have[H_COUNT];
    char hname[32];
    size_t hname_len;
    int hname_long;
    enum hdr cur;
    int in_value;
    int reject;            /* status of a request refused before its body (413), or 0 */
    uint64_t fed;          /* bytes fed to the parser on this connection */
    /* output */
    struct kbuf out;
    size_t out_off;
    struct kbuf pending;   /* input not yet parsed while paused */
    int paused;            /* a response is held for KINESIS_LATENCY */
    int close_after;       /* close once `out` is written */
    int reading;
};

struct worker {
    pthread_t tid;
    int index;
    struct emu *emu;
    struct event_base *base;
    int pipe_fd[2];
    struct event *pipe_ev;
    struct api_ctx api;
    struct kbuf resp;      /* response body scratch */
    uint64_t rng;
    int64_t date_sec;
    char date[40];
    struct conn **conns;
    size_t nconns, capconns;
};

static atomic_int live_conns;
static http_parser_settings parser_settings;

/* ------------------------------------------------------------- responses */

static const char *reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

static uint64_t worker_rand(struct worker *w)
{
    uint64_t x = w->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    w->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static const char *http_date(struct worker *w)
{
    int64_t now = kt_now_ns() / KT_NS_PER_SEC;
    if (now != w->date_sec) {
        kt_fmt_http_date(w->date, now);
        w->date_sec = now;
    }
    return w->date;
}

/* Appends a complete response to the connection's output. */
static void respond(struct conn *c, int status, const char *body, size_t len, int close)
{
    struct worker *w = c->w;
    uint64_t a = worker_rand(w), b = worker_rand(w);
    struct kbuf *o = &c->out;
    kbuf_reserve(o, len + 256);
    kbuf_appendf(o,
                 "HTTP/1.1 %d %s\r\nx-amzn-RequestId: %08x-%04x-4%03x-%04x-%012llx\r\n"
                 "Content-Type: application/x-amz-json-1.1\r\nContent-Length: %zu\r\nDate: %s\r\n%s\r\n",
                 status, reason(status), (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
                 (unsigned)a & 0xfff, (unsigned)((b >> 48) & 0x3fff) | 0x8000,
                 (unsigned long long)(b & 0xffffffffffffULL), len, http_date(w),
                 close ? "Connection: close\r\n" : "");
    kbuf_append(o, body, len);
    if (close)
        c->close_after = 1;
}

static void respond_error(struct conn *c, int status, const char *type, const char *msg, int close)
{
    struct kbuf b = KBUF_INIT;
    kbuf_puts(&b, "{\"__type\":");
    jw_cstr(&b, type);
    kbuf_puts(&b, ",\"message\":");
    jw_cstr(&b, msg);
    kbuf_putc(&b, '}');
    respond(c, status, b.p, b.len, close);
    kbuf_free(&b);
}

/* ----------------------------------------------------------- connections */

static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void conn_write_cb(evutil_socket_t fd, short what, void *arg);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);
static void conn_feed(struct conn *c, const char *data, size_t n);

static void conn_reset_request(struct conn *c)
{
    kbuf_reset(&c->url);
    if (c->body.cap > KEEP_BUFFER)
        kbuf_free(&c->body);
    kbuf_reset(&c->body);
    for (int i = 0; i < H_COUNT; i++) {
        kbuf_reset(&c->hval[i]);
        c->have[i] = 0;
    }
    c->hname_len = 0;
    c->hname_long = 0;
    c->cur = H_NONE;
    c->in_value = 0;
    c->reject = 0;
}

static void conn_close(struct conn *c)
{
    struct worker *w = c->w;
    for (size_t i = 0; i < w->nconns; i++) {
        if (w->conns[i] == c) {
            w->conns[i] = w->conns[--w->nconns];
            break;
        }
    }
    event_free(c->rev);
    event_free(c->wev);
    event_free(c->tev);
    close(c->fd);
    kbuf_free(&c->url);
    kbuf_free(&c->body);
    for (int i = 0; i < H_COUNT; i++)
        kbuf_free(&c->hval[i]);
    kbuf_free(&c->out);
    kbuf_free(&c->pending);
    free(c);
    atomic_fetch_sub(&live_conns, 1);
}

static void set_reading(struct conn *c, int on)
{
    if (on == c->reading)
        return;
    c->reading = on;
    if (on) {
        struct timeval tv = {c->w->emu->cfg.idle_timeout_s, 0};
        event_add(c->rev, &tv);
    } else {
        event_del(c->rev);
    }
}

/*
 * Writes what it can of `out`. Returns 0 while the connection lives, -1 once
 * it has been closed (the caller must not touch it again).
 */
static int conn_flush(struct conn *c)
{
    if (c->paused)
        return 0;
    while (c->out_off < c->out.len) {
        ssize_t n = write(c->fd, c->out.p + c->out_off, c->out.len - c->out_off);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct timeval tv = {c->w->emu->cfg.idle_timeout_s, 0};
            event_add(c->wev, &tv);
            if (c->out.len - c->out_off > OUT_HIGH_WATER)
                set_reading(c, 0);
            return 0;
        }
        conn_close(c);
        return -1;
    }
    if (c->out.cap > KEEP_BUFFER)
        kbuf_free(&c->out);
    kbuf_reset(&c->out);
    c->out_off = 0;
    if (c->close_after) {
        conn_close(c);
        return -1;
    }
    if (!c->reading && !c->paused)
        set_reading(c, 1);
    return 0;
}

/* --------------------------------------------------- http-parser callbacks */

static struct conn *conn_of(http_parser *p)
{
    return p->data;
}

static int on_message_begin(http_parser *p)
{
    conn_reset_request(conn_of(p));
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct conn *c = conn_of(p);
    if (c->url.len + n > MAX_URL) {
        c->reject = 414;
        return -1;
    }
    kbuf_append(&c->url, at, n);
    return 0;
}

static void header_identify(struct conn *c)
{
    c->cur = H_NONE;
    if (c->hname_long)
        return;
    for (int i = 0; i < H_COUNT; i++)
        if (strlen(hdr_names[i]) == c->hname_len && strncasecmp(hdr_names[i], c->hname, c->hname_len) == 0)
            c->cur = (enum hdr)i;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct conn *c = conn_of(p);
    if (c->in_value) {
        c->in_value = 0;
        c->hname_len = 0;
        c->hname_long = 0;
    }
    if (c->hname_len + n >= sizeof c->hname) {
        c->hname_long = 1;
        return 0;
    }
    memcpy(c->hname + c->hname_len, at, n);
    c->hname_len += n;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct conn *c = conn_of(p);
    if (!c->in_value) {
        c->in_value = 1;
        header_identify(c);
        if (c->cur != H_NONE) {
            /* A repeated header: the last one wins. */
            kbuf_reset(&c->hval[c->cur]);
            c->have[c->cur] = 1;
        }
    }
    if (c->cur == H_NONE)
        return 0;
    if (c->hval[c->cur].len + n > MAX_HEADER_VALUE) {
        c->reject = 431;
        return -1;
    }
    kbuf_append(&c->hval[c->cur], at, n);
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct conn *c = conn_of(p);
    size_t max = c->w->emu->cfg.max_body;
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > max) {
        c->reject = 413;
        return -1;
    }
    if (c->have[H_EXPECT]) {
        if (strcasecmp(c->hval[H_EXPECT].p, "100-continue") == 0)
            kbuf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
    }
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > 0)
        kbuf_reserve(&c->body, (size_t)p->content_length);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct conn *c = conn_of(p);
    if (c->body.len + n > c->w->emu->cfg.max_body) {
        c->reject = 413;
        return -1;
    }
    kbuf_append(&c->body, at, n);
    return 0;
}

static void health(struct conn *c)
{
    struct emu *emu = c->w->emu;
    uint64_t bytes, records, shards, streams;
    int64_t now = kt_now_ms();
    store_rdlock(&emu->store);
    store_totals(&emu->store, now, &bytes, &records, &shards, &streams);
    store_unlock(&emu->store);
    struct kbuf b = KBUF_INIT;
    kbuf_appendf(&b,
                 "{\"status\":\"running\",\"service\":\"kinesis\",\"uptime_seconds\":%lld,\"streams\":%llu,"
                 "\"shards\":%llu,\"records\":%llu,\"bytes\":%llu,\"requests\":%llu,\"connections\":%d}",
                 (long long)((now - emu->started_ms) / 1000), (unsigned long long)streams,
                 (unsigned long long)shards, (unsigned long long)records, (unsigned long long)bytes,
                 (unsigned long long)atomic_load(&emu->requests), atomic_load(&live_conns));
    respond(c, 200, b.p, b.len, !http_should_keep_alive(&c->hp));
    kbuf_free(&b);
}

static int url_path_is(const struct kbuf *url, const char *path)
{
    size_t n = strlen(path);
    return url->len >= n && memcmp(url->p, path, n) == 0 &&
           (url->len == n || url->p[n] == '?');
}

static int on_message_complete(http_parser *p)
{
    struct conn *c = conn_of(p);
    struct worker *w = c->w;
    int keep = http_should_keep_alive(p);
    int delay = 0;
    if (p->method == HTTP_GET) {
        if (url_path_is(&c->url, "/health") || url_path_is(&c->url, "/_health"))
            health(c);
        else
            respond_error(c, 404, "NotFoundException",
                          "Not found: the Kinesis API is served by POST /; GET /health reports status", !keep);
    } else if (p->method != HTTP_POST) {
        char msg[128];
        snprintf(msg, sizeof msg, "Method %s is not allowed: the Kinesis API is served by POST /",
                 http_method_str((enum http_method)p->method));
        respond_error(c, 405, "MethodNotAllowedException", msg, !keep);
    } else {
        struct api_req req = {
            .target = c->have[H_TARGET] ? c->hval[H_TARGET].p : NULL,
            .target_len = c->hval[H_TARGET].len,
            .auth = c->have[H_AUTH] ? c->hval[H_AUTH].p : NULL,
            .auth_len = c->hval[H_AUTH].len,
            .has_date = c->have[H_AMZDATE] || c->have[H_DATE],
            .content_type = c->have[H_CTYPE] ? c->hval[H_CTYPE].p : NULL,
            .content_type_len = c->hval[H_CTYPE].len,
            .body = c->body.p,
            .body_len = c->body.len,
        };
        struct api_resp resp = {.body = &w->resp};
        kbuf_reset(&w->resp);
        api_handle(&w->api, &req, &resp);
        respond(c, resp.status, w->resp.p ? w->resp.p : "", w->resp.len, !keep);
        if (w->resp.cap > KEEP_BUFFER)
            kbuf_free(&w->resp);
        delay = resp.delay_ms;
    }
    if (!keep || delay > 0) {
        /* Stop parsing: either the connection ends here, or the answer is held. */
        http_parser_pause(p, 1);
        if (delay > 0) {
            c->paused = 1;
            struct timeval tv = {delay / 1000, (delay % 1000) * 1000};
            evtimer_add(c->tev, &tv);
        }
    }
    return 0;
}

/* ----------------------------------------------------------------- input */

static const char *reject_type(int status)
{
    switch (status) {
    case 413: return "RequestEntityTooLargeException";
    case 414: return "RequestURITooLongException";
    default: return "RequestHeaderFieldsTooLargeException";
    }
}

/* Feeds bytes to the parser; saves what a pause leaves unparsed. */
static void conn_feed(struct conn *c, const char *data, size_t n)
{
    size_t done = http_parser_execute(&c->hp, &parser_settings, data, n);
    enum http_errno err = HTTP_PARSER_ERRNO(&c->hp);
    c->fed += done;
    if (err == HPE_PAUSED) {
        if (c->close_after) {
            set_reading(c, 0);
            return;
        }
        kbuf_append(&c->pending, data + done, n - done);
        set_reading(c, 0);
        if (!c->paused) {
            /* Paused for keep-alive = false: nothing further is read. */
            c->close_after = 1;
        }
        return;
    }
    if (err != HPE_OK) {
        char msg[512];
        if (c->reject) {
            if (c->reject == 413)
                snprintf(msg, sizeof msg,
                         "Request body is larger than the emulator's limit of %zu bytes (--max-body)",
                         c->w->emu->cfg.max_body);
            else if (c->reject == 414)
                snprintf(msg, sizeof msg, "Request target is longer than %d bytes", MAX_URL);
            else
                snprintf(msg, sizeof msg, "A request header value is longer than %d bytes", MAX_HEADER_VALUE);
            respond_error(c, c->reject, reject_type(c->reject), msg, 1);
        } else {
            snprintf(msg, sizeof msg, "Malformed HTTP request at byte %llu of the connection: %s (%s)",
                     (unsigned long long)c->fed, http_errno_description(err), http_errno_name(err));
            respond_error(c, 400, "MalformedHttpRequestException", msg, 1);
        }
        set_reading(c, 0);
        return;
    }
    if (c->hp.upgrade) {
        respond_error(c, 400, "MalformedHttpRequestException",
                      "Protocol upgrade (HTTP/2 or WebSocket) is not implemented yet: use HTTP/1.1", 1);
        set_reading(c, 0);
    }
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    if (what & EV_TIMEOUT) {
        conn_close(c);
        return;
    }
    char buf[READ_CHUNK];
    for (int rounds = 0; rounds < 16 && c->reading && !c->close_after; rounds++) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            conn_feed(c, buf, (size_t)n);
            if ((size_t)n < sizeof buf)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        /* EOF or error: answer what is complete, then close. */
        if (c->out.len > c->out_off && !c->paused) {
            c->close_after = 1;
            set_reading(c, 0);
            break;
        }
        conn_close(c);
        return;
    }
    conn_flush(c);
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    if (what & EV_TIMEOUT) {
        conn_close(c);
        return;
    }
    conn_flush(c);
}

/* The held response's delay is over: send it and go on with pipelined input. */
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    c->paused = 0;
    if (c->close_after) {
        conn_flush(c);
        return;
    }
    http_parser_pause(&c->hp, 0);
    if (conn_flush(c) != 0)
        return;
    if (c->pending.len) {
        struct kbuf in = c->pending;
        kbuf_init(&c->pending);
        conn_feed(c, in.p, in.len);
        kbuf_free(&in);
        if (conn_flush(c) != 0)
            return;
    }
    if (!c->paused && !c->close_after && c->out.len == 0)
        set_reading(c, 1);
}

static void conn_new(struct worker *w, int fd)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->w = w;
    c->fd = fd;
    http_parser_init(&c->hp, HTTP_REQUEST);
    c->hp.data = c;
    c->cur = H_NONE;
    c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
    c->wev = event_new(w->base, fd, EV_WRITE, conn_write_cb, c);
    c->tev = evtimer_new(w->base, conn_timer_cb, c);
    if (w->nconns == w->capconns) {
        w->capconns = w->capconns ? w->capconns * 2 : 64;
        w->conns = xrealloc(w->conns, w->capconns * sizeof *w->conns);
    }
    w->conns[w->nconns++] = c;
    set_reading(c, 1);
}

/* ---------------------------------------------------------------- workers */

static void worker_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    int fds[64];
    ssize_t n = read(fd, fds, sizeof fds);
    if (n <= 0)
        return;
    for (size_t i = 0; i < (size_t)n / sizeof(int); i++) {
        if (fds[i] < 0) {
            event_base_loopbreak(w->base);
            return;
        }
        conn_new(w, fds[i]);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    event_base_dispatch(w->base);
    while (w->nconns)
        conn_close(w->conns[0]);
    return NULL;
}

/* --------------------------------------------------------------- acceptor */

struct acceptor {
    struct emu *emu;
    struct event_base *base;
    struct worker *workers;
    int nworkers;
    int next;
    int listen_fd;
    uint64_t refused;
};

static void accept_cb(evutil_socket_t fd, short what, void *arg)
{
    struct acceptor *a = arg;
    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
                kt_log(KT_LOG_WARN, "accept: %s", strerror(errno));
            return;
        }
        if (atomic_load(&live_conns) >= a->emu->cfg.max_connections) {
            a->refused++;
            close(cfd);
            continue;
        }
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        atomic_fetch_add(&live_conns, 1);
        struct worker *w = &a->workers[a->next++ % a->nworkers];
        if (write(w->pipe_fd[1], &cfd, sizeof cfd) != (ssize_t)sizeof cfd) {
            atomic_fetch_sub(&live_conns, 1);
            close(cfd);
        }
    }
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct acceptor *a = arg;
    kt_log(KT_LOG_INFO, "%s received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopbreak(a->base);
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
    struct acceptor *a = arg;
    store_wrlock(&a->emu->store);
    store_reap(&a->emu->store, kt_now_ms());
    store_unlock(&a->emu->store);
}

static int listen_on(const char *host, int port, char *bound, size_t boundlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        kt_log(KT_LOG_ERROR, "cannot resolve --host %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    int last_errno = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4096) == 0)
            break;
        last_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        kt_log(KT_LOG_ERROR, "cannot listen on %s:%d: %s", host, port, strerror(last_errno));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    char ip[INET6_ADDRSTRLEN] = "?";
    int p = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
        p = ntohs(sin->sin_port);
        snprintf(bound, boundlen, "%s:%d", ip, p);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
        p = ntohs(sin6->sin6_port);
        snprintf(bound, boundlen, "[%s]:%d", ip, p);
    }
    return fd;
}

int server_run(struct emu *emu)
{
    parser_settings = (http_parser_settings){
        .on_message_begin = on_message_begin,
        .on_url = on_url,
        .on_header_field = on_header_field,
        .on_header_value = on_header_value,
        .on_headers_complete = on_headers_complete,
        .on_body = on_body,
        .on_message_complete = on_message_complete,
    };
    signal(SIGPIPE, SIG_IGN);
    char bound[300];
    int lfd = listen_on(emu->cfg.host, emu->cfg.port, bound, sizeof bound);
    if (lfd < 0)
        return 1;

    struct acceptor a = {.emu = emu, .listen_fd = lfd};
    a.nworkers = emu->cfg.workers > 0 ? emu->cfg.workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (a.nworkers < 1)
        a.nworkers = 1;
    a.workers = xcalloc((size_t)a.nworkers, sizeof *a.workers);
    for (int i = 0; i < a.nworkers; i++) {
        struct worker *w = &a.workers[i];
        w->index = i;
        w->emu = emu;
        w->base = event_base_new();
        w->rng = (uint64_t)kt_now_ns() ^ ((uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL);
        api_ctx_init(&w->api, emu, w->rng * 31 + 7);
        if (!w->base || pipe2(w->pipe_fd, O_CLOEXEC) != 0) {
            kt_log(KT_LOG_ERROR, "cannot start worker %d: %s", i, strerror(errno));
            return 1;
        }
        w->pipe_ev = event_new(w->base, w->pipe_fd[0], EV_READ | EV_PERSIST, worker_pipe_cb, w);
        event_add(w->pipe_ev, NULL);
        pthread_create(&w->tid, NULL, worker_main, w);
    }

    a.base = event_base_new();
    struct event *lev = event_new(a.base, lfd, EV_READ | EV_PERSIST, accept_cb, &a);
    struct event *sigint = evsignal_new(a.base, SIGINT, signal_cb, &a);
    struct event *sigterm = evsignal_new(a.base, SIGTERM, signal_cb, &a);
    struct event *reaper = event_new(a.base, -1, EV_PERSIST, reap_cb, &a);
    struct timeval second = {1, 0};
    event_add(lev, NULL);
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    if (emu->cfg.delete_delay_ms > 0)
        event_add(reaper, &second);

    printf("kintape emulator listening on http://%s (%d workers)\n", bound, a.nworkers);
    fflush(stdout);
    event_base_dispatch(a.base);

    for (int i = 0; i < a.nworkers; i++) {
        int stop = -1;
        if (write(a.workers[i].pipe_fd[1], &stop, sizeof stop) < 0)
            event_base_loopbreak(a.workers[i].base);
    }
    for (int i = 0; i < a.nworkers; i++) {
        struct worker *w = &a.workers[i];
        pthread_join(w->tid, NULL);
        event_free(w->pipe_ev);
        event_base_free(w->base);
        close(w->pipe_fd[0]);
        close(w->pipe_fd[1]);
        api_ctx_free(&w->api);
        kbuf_free(&w->resp);
        free(w->conns);
    }
    free(a.workers);
    event_free(lev);
    event_free(sigint);
    event_free(sigterm);
    event_free(reaper);
    event_base_free(a.base);
    close(lfd);
    return 0;
}
