/*
 * proxy_up.c — the proxy's upstream connections (see proxy_int.h).
 *
 * One request at a time per connection, HTTP/1.1, over TLS that verifies
 * the upstream's certificate and name. The answer is parsed as it arrives
 * and handed on piece by piece (head, body chunks, end), so nothing is held
 * whole; a connection whose answer ended with keep-alive waits in the pool
 * for the next request to the same host.
 */
#include <errno.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "mem.h"
#include "proxy_int.h"

struct pup {
    struct proxy *p;
    struct pup *next;          /* in the idle pool */
    struct bufferevent *bev;
    SSL *ssl;
    struct hostport hp;
    int tls;
    const struct pup_ops *ops; /* NULL while idle */
    void *ctx;
    http_parser parser;
    struct kbuf hname, hvalue;
    int hstate;                /* 0 none, 1 in a name, 2 in a value */
    struct kbuf reason;
    int connected, reused, started, complete, interim, head_request;
    int64_t idle_since;
};

static void free_up(struct pup *u)
{
    if (u->bev)
        bufferevent_free(u->bev); /* frees u->ssl with it */
    kbuf_free(&u->hname);
    kbuf_free(&u->hvalue);
    kbuf_free(&u->reason);
    free(u);
}

static void unlink_idle(struct pup *u)
{
    struct proxy *p = u->p;
    for (struct pup **pp = &p->idle; *pp; pp = &(*pp)->next) {
        if (*pp == u) {
            *pp = u->next;
            p->nidle--;
            break;
        }
    }
    u->next = NULL;
}

static void flush_header(struct pup *u)
{
    if (u->hstate == 2 && !u->interim && u->ops)
        u->ops->header(u->ctx, u->hname.p ? u->hname.p : "", u->hname.len, u->hvalue.p ? u->hvalue.p : "",
                       u->hvalue.len);
    kbuf_reset(&u->hname);
    kbuf_reset(&u->hvalue);
    u->hstate = 0;
}

static int on_status(http_parser *hp, const char *at, size_t n)
{
    struct pup *u = hp->data;
    u->started = 1;
    if (u->reason.len + n < 256)
        kbuf_append(&u->reason, at, n);
    return 0;
}

static int on_hfield(http_parser *hp, const char *at, size_t n)
{
    struct pup *u = hp->data;
    u->interim = hp->status_code < 200 && hp->status_code != 101;
    if (u->hstate == 2)
        flush_header(u);
    u->hstate = 1;
    kbuf_append(&u->hname, at, n);
    return 0;
}

static int on_hvalue(http_parser *hp, const char *at, size_t n)
{
    struct pup *u = hp->data;
    u->hstate = 2;
    kbuf_append(&u->hvalue, at, n);
    return 0;
}

static int on_headers_complete(http_parser *hp)
{
    struct pup *u = hp->data;
    u->started = 1;
    flush_header(u);
    u->interim = hp->status_code < 200 && hp->status_code != 101;
    if (u->interim) {
        kbuf_reset(&u->reason);
        return 0;
    }
    int skip = u->ops->head(u->ctx, hp->status_code, u->reason.p ? u->reason.p : "", u->reason.len, hp);
    return skip || u->head_request ? 1 : 0;
}

static int on_body(http_parser *hp, const char *at, size_t n)
{
    struct pup *u = hp->data;
    u->ops->body(u->ctx, (const uint8_t *)at, n);
    return 0;
}

static int on_message_complete(http_parser *hp)
{
    struct pup *u = hp->data;
    if (!u->interim)
        u->complete = 1;
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_status = on_status,
    .on_header_field = on_hfield,
    .on_header_value = on_hvalue,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* The connection is lost: its owner is told, and it is freed. */
static void fail(struct pup *u, const char *why)
{
    const struct pup_ops *ops = u->ops;
    if (ops) {
        u->ops = NULL;
        ops->fail(u->ctx, u->started ? 2 : u->connected ? 1 : 0, u->reused, why);
    } else {
        unlink_idle(u);
    }
    free_up(u);
}

/* The answer is whole: the owner is told (and calls pup_release). */
static void finish(struct pup *u)
{
    int keep = http_should_keep_alive(&u->parser) && evbuffer_get_length(bufferevent_get_input(u->bev)) == 0;
    const struct pup_ops *ops = u->ops;
    u->ops = NULL;
    ops->end(u->ctx, keep);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct pup *u = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (!u->ops) { /* idle: the server has nothing to say now */
        unlink_idle(u);
        free_up(u);
        return;
    }
    while (u->ops && evbuffer_get_length(in)) {
        size_t n = evbuffer_get_contiguous_space(in);
        const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
        size_t used = http_parser_execute(&u->parser, &settings, data, n);
        enum http_errno e = HTTP_PARSER_ERRNO(&u->parser);
        if (e == HPE_PAUSED) {
            evbuffer_drain(in, used);
            if (u->complete) {
                finish(u);
                return;
            }
            /* an interim (1xx) answer: the real one follows */
            http_parser_init(&u->parser, HTTP_RESPONSE);
            u->parser.data = u;
            u->interim = 0;
            continue;
        }
        if (e != HPE_OK) {
            char why[200];
            snprintf(why, sizeof why, "the upstream sent malformed HTTP (%s)", http_errno_description(e));
            fail(u, why);
            return;
        }
        evbuffer_drain(in, used);
        if (!u->ops)
            return; /* a callback released u's owner */
    }
}

static void describe(struct pup *u, short what, char *why, size_t n)
{
    struct proxy *p = u->p;
    const char *host = u->hp.host;
    if (what & BEV_EVENT_TIMEOUT) {
        if (!u->connected)
            snprintf(why, n, "could not connect to %s:%u within %d ms", host, u->hp.port, p->cfg.connect_timeout_ms);
        else
            snprintf(why, n, "the upstream %s:%u did not answer within %d ms", host, u->hp.port,
                     p->cfg.upstream_timeout_ms);
        return;
    }
    int dns = bufferevent_socket_get_dns_error(u->bev);
    if (dns) {
        snprintf(why, n, "cannot resolve %s: %s", host, evutil_gai_strerror(dns));
        return;
    }
    if (what & BEV_EVENT_EOF) {
        snprintf(why, n, "the upstream %s:%u closed the connection %s", host, u->hp.port,
                 u->started ? "in the middle of its answer" : "before answering");
        return;
    }
    unsigned long ssl_err = u->tls ? bufferevent_get_openssl_error(u->bev) : 0;
    if (u->tls && (!u->connected || ssl_err)) {
        char t[300];
        ptls_why(u->ssl, ssl_err, t, sizeof t);
        if (!ssl_err && EVUTIL_SOCKET_ERROR() && !u->connected && SSL_get_verify_result(u->ssl) == X509_V_OK)
            snprintf(t, sizeof t, "%s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        snprintf(why, n, "TLS to %.200s:%u failed: %.250s", host, u->hp.port, t);
        while (bufferevent_get_openssl_error(u->bev))
            ;
        return;
    }
    snprintf(why, n, "%s %s:%u: %s", u->connected ? "connection to" : "cannot connect to", host, u->hp.port,
             evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct pup *u = arg;
    if (what & BEV_EVENT_CONNECTED) {
        u->connected = 1;
        struct timeval t = {u->p->cfg.upstream_timeout_ms / 1000, (u->p->cfg.upstream_timeout_ms % 1000) * 1000};
        bufferevent_set_timeouts(bev, &t, &t);
        evutil_make_socket_closeonexec(bufferevent_getfd(bev));
        int one = 1;
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return;
    }
    if ((what & BEV_EVENT_EOF) && u->ops && u->started && !u->complete) {
        /* An answer delimited by the connection's end is whole now. */
        http_parser_execute(&u->parser, &settings, NULL, 0);
        if (u->complete) {
            const struct pup_ops *ops = u->ops;
            u->ops = NULL;
            ops->end(u->ctx, 0);
            return;
        }
    }
    char why[512];
    describe(u, what, why, sizeof why);
    fail(u, why);
}

static void attach(struct pup *u, const struct pup_ops *ops, void *ctx, int head_request)
{
    u->ops = ops;
    u->ctx = ctx;
    u->started = u->complete = u->interim = 0;
    u->head_request = head_request;
    u->hstate = 0;
    kbuf_reset(&u->reason);
    http_parser_init(&u->parser, HTTP_RESPONSE);
    u->parser.data = u;
}

struct pup *pup_open(struct proxy *p, const struct hostport *hp, int tls, const struct pup_ops *ops, void *ctx,
                     int head_request, struct kt_err *err)
{
    for (struct pup *u = p->idle; u; u = u->next) {
        if (u->tls == tls && u->hp.port == hp->port && strcasecmp(u->hp.host, hp->host) == 0) {
            unlink_idle(u);
            attach(u, ops, ctx, head_request);
            u->reused = 1;
            struct timeval t = {p->cfg.upstream_timeout_ms / 1000, (p->cfg.upstream_timeout_ms % 1000) * 1000};
            bufferevent_set_timeouts(u->bev, &t, &t);
            return u;
        }
    }
    struct pup *u = xcalloc(1, sizeof *u);
    u->p = p;
    u->hp = *hp;
    u->tls = tls;
    attach(u, ops, ctx, head_request);
    if (tls) {
        u->ssl = ptls_connect(p->tls, hp->host, err);
        if (!u->ssl) {
            free(u);
            return NULL;
        }
        u->bev = bufferevent_openssl_socket_new(p->base, -1, u->ssl, BUFFEREVENT_SSL_CONNECTING,
                                                BEV_OPT_CLOSE_ON_FREE);
        if (u->bev)
            bufferevent_openssl_set_allow_dirty_shutdown(u->bev, 1);
    } else {
        u->bev = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!u->bev) {
        kt_err_set(err, "cannot make a connection: out of resources");
        if (u->ssl)
            SSL_free(u->ssl);
        free(u);
        return NULL;
    }
    bufferevent_setcb(u->bev, on_read, NULL, on_event, u);
    struct timeval ct = {p->cfg.connect_timeout_ms / 1000, (p->cfg.connect_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(u->bev, NULL, &ct);
    bufferevent_enable(u->bev, EV_READ | EV_WRITE);
    struct hostport to;
    proxy_route(p, hp, &to);
    if (bufferevent_socket_connect_hostname(u->bev, p->dns, AF_UNSPEC, to.host, to.port) != 0) {
        kt_err_set(err, "cannot connect to %s:%u", to.host, to.port);
        free_up(u);
        return NULL;
    }
    return u;
}

void pup_send(struct pup *u, const void *data, size_t n)
{
    bufferevent_write(u->bev, data, n);
}

void pup_pause(struct pup *u, int pause)
{
    if (pause)
        bufferevent_disable(u->bev, EV_READ);
    else
        bufferevent_enable(u->bev, EV_READ);
}

void pup_release(struct pup *u, int reusable)
{
    struct proxy *p = u->p;
    u->ops = NULL;
    if (!reusable || p->stopping || !u->complete) {
        free_up(u);
        return;
    }
    if (p->nidle >= PROXY_IDLE_MAX) {
        struct pup **pp = &p->idle;
        while ((*pp)->next)
            pp = &(*pp)->next;
        struct pup *old = *pp;
        *pp = NULL;
        p->nidle--;
        free_up(old);
    }
    u->idle_since = proxy_now_ns();
    bufferevent_enable(u->bev, EV_READ);
    bufferevent_set_timeouts(u->bev, NULL, NULL);
    u->next = p->idle;
    p->idle = u;
    p->nidle++;
}

void pup_peer(const struct pup *u, char *ip, size_t n, uint16_t *port)
{
    ip[0] = '\0';
    *port = u->hp.port;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = bufferevent_getfd(u->bev);
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(ip, n, "%s", u->hp.host);
        return;
    }
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, (socklen_t)n);
        *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, (socklen_t)n);
        *port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
}

void pup_close_idle(struct proxy *p, int64_t now_ns, int all)
{
    for (struct pup **pp = &p->idle; *pp;) {
        struct pup *u = *pp;
        if (all || now_ns - u->idle_since > PROXY_IDLE_NS) {
            *pp = u->next;
            p->nidle--;
            free_up(u);
        } else {
            pp = &u->next;
        }
    }
}
