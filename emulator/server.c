/*
 * server.c — the emulator's listener, worker threads and connection I/O
 * (see server.h and conn.h).
 *
 * The acceptor (the thread that called server_run) hands each connection to
 * a worker round-robin through a pipe; a worker runs its own libevent loop
 * and owns its connections and API scratch state, so workers share nothing
 * but the store. A connection's first bytes decide its protocol: the HTTP/2
 * client preface selects HTTP/2 (http2.c), anything else HTTP/1.1 (http1.c).
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "jsonw.h"
#include "ktime.h"
#include "log.h"
#include "mem.h"
#include "rng.h"

#define READ_CHUNK 65536
#define OUT_HIGH_WATER ((size_t)64 << 20)
#define KEEP_BUFFER ((size_t)1 << 20)

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

const char *const hdr_names[H_COUNT] = {"x-amz-target", "authorization", "content-type",
                                        "x-amz-date", "date", "expect"};

static atomic_int live_conns;

enum hdr hdr_lookup(const char *name, size_t len)
{
    for (int i = 0; i < H_COUNT; i++)
        if (strlen(hdr_names[i]) == len && strncasecmp(hdr_names[i], name, len) == 0)
            return (enum hdr)i;
    return H_NONE;
}

void worker_request_id(struct worker *w, char *out)
{
    uint64_t a = kt_rand64(&w->rng), b = kt_rand64(&w->rng);
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
             (unsigned)a & 0xfff, (unsigned)((b >> 48) & 0x3fff) | 0x8000,
             (unsigned long long)(b & 0xffffffffffffULL));
}

const char *worker_http_date(struct worker *w)
{
    int64_t now = kt_now_ns() / KT_NS_PER_SEC;
    if (now != w->date_sec) {
        kt_fmt_http_date(w->date, now);
        w->date_sec = now;
    }
    return w->date;
}

void error_json(struct kbuf *out, const char *type, const char *msg)
{
    kbuf_puts(out, "{\"__type\":");
    jw_cstr(out, type);
    kbuf_puts(out, ",\"message\":");
    jw_cstr(out, msg);
    kbuf_putc(out, '}');
}

/* --------------------------------------------------------------- requests */

static void health(struct worker *w, struct kbuf *b)
{
    struct emu *emu = w->emu;
    uint64_t bytes, records, shards, streams;
    int64_t now = kt_now_ms();
    store_rdlock(&emu->store);
    store_totals(&emu->store, now, &bytes, &records, &shards, &streams);
    store_unlock(&emu->store);
    kbuf_appendf(b,
                 "{\"status\":\"running\",\"service\":\"kinesis\",\"version\":\"%s\",\"uptime_seconds\":%lld,"
                 "\"streams\":%llu,\"shards\":%llu,\"records\":%llu,\"bytes\":%llu,\"requests\":%llu,"
                 "\"connections\":%d}",
                 emu->version, (long long)((now - emu->started_ms) / 1000), (unsigned long long)streams,
                 (unsigned long long)shards, (unsigned long long)records, (unsigned long long)bytes,
                 (unsigned long long)atomic_load(&emu->requests), atomic_load(&live_conns));
}

static int path_is(const struct http_request *req, const char *path)
{
    size_t n = strlen(path);
    return req->path_len >= n && memcmp(req->path, path, n) == 0 &&
           (req->path_len == n || req->path[n] == '?');
}

void worker_serve(struct worker *w, struct http_request *req, struct http_response *resp)
{
    resp->status = 200;
    resp->delay_ms = 0;
    if (req->is_get) {
        if (path_is(req, "/health") || path_is(req, "/_health")) {
            health(w, resp->body);
        } else {
            resp->status = 404;
            error_json(resp->body, "NotFoundException",
                       "Not found: the Kinesis API is served by POST /; GET /health reports status");
        }
        return;
    }
    if (!req->is_post) {
        char msg[128];
        snprintf(msg, sizeof msg, "Method %s is not allowed: the Kinesis API is served by POST /", req->method);
        resp->status = 405;
        error_json(resp->body, "MethodNotAllowedException", msg);
        return;
    }
    struct api_req areq = {
        .target = req->hval[H_TARGET],
        .target_len = req->hlen[H_TARGET],
        .auth = req->hval[H_AUTH],
        .auth_len = req->hlen[H_AUTH],
        .has_date = req->hval[H_AMZDATE] || req->hval[H_DATE],
        .content_type = req->hval[H_CTYPE],
        .content_type_len = req->hlen[H_CTYPE],
        .body = req->body,
        .body_len = req->body_len,
    };
    struct api_resp aresp = {.body = resp->body};
    api_handle(&w->api, &areq, &aresp);
    resp->status = aresp.status;
    resp->delay_ms = aresp.delay_ms;
}

/* ----------------------------------------------------------- connections */

static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void conn_write_cb(evutil_socket_t fd, short what, void *arg);
static void conn_timer_cb(evutil_socket_t fd, short what, void *arg);

void conn_close(struct conn *c)
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
    h1_free(c);
    h2_free(c);
    kbuf_free(&c->out);
    kbuf_free(&c->pending);
    free(c);
    atomic_fetch_sub(&live_conns, 1);
}

void conn_set_reading(struct conn *c, int on)
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

int conn_flush(struct conn *c)
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
            /* A client that sends without reading must not grow our buffer without end. */
            if (c->out.len - c->out_off > OUT_HIGH_WATER)
                conn_set_reading(c, 0);
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
        conn_set_reading(c, 1);
    return 0;
}

/* Decides the protocol from the first bytes; returns -1 if the connection was closed. */
static int conn_detect(struct conn *c, const char *data, size_t n)
{
    kbuf_append(&c->pending, data, n);
    size_t have = c->pending.len < sizeof h2_preface - 1 ? c->pending.len : sizeof h2_preface - 1;
    if (memcmp(c->pending.p, h2_preface, have) != 0) {
        c->proto = CONN_H1;
    } else if (have == sizeof h2_preface - 1) {
        c->proto = CONN_H2;
    } else {
        return 0; /* a prefix of the preface: wait for more */
    }
    struct kbuf in = c->pending;
    kbuf_init(&c->pending);
    int rc = 0;
    if (c->proto == CONN_H1) {
        h1_feed(c, in.p, in.len);
    } else if (h2_start(c) != 0 || h2_feed(c, in.p, in.len) != 0) {
        rc = -1;
    }
    kbuf_free(&in);
    return rc;
}

static void conn_input(struct conn *c, const char *data, size_t n)
{
    switch (c->proto) {
    case CONN_DETECT:
        if (conn_detect(c, data, n) != 0)
            c->close_after = 1;
        break;
    case CONN_H1:
        h1_feed(c, data, n);
        break;
    case CONN_H2:
        if (h2_feed(c, data, n) != 0) {
            c->close_after = 1;
            conn_set_reading(c, 0);
        }
        break;
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
            conn_input(c, buf, (size_t)n);
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
            conn_set_reading(c, 0);
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

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    if (c->proto == CONN_H1)
        h1_resume(c);
}

static void conn_new(struct worker *w, int fd)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->w = w;
    c->fd = fd;
    c->proto = CONN_DETECT;
    h1_init(c);
    c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
    c->wev = event_new(w->base, fd, EV_WRITE, conn_write_cb, c);
    c->tev = evtimer_new(w->base, conn_timer_cb, c);
    if (w->nconns == w->capconns) {
        w->capconns = w->capconns ? w->capconns * 2 : 64;
        w->conns = xrealloc(w->conns, w->capconns * sizeof *w->conns);
    }
    w->conns[w->nconns++] = c;
    conn_set_reading(c, 1);
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
    h1_settings_init();
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
