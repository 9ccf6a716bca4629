/*
 * proxy_h1.c — the proxy's client side in HTTP/1.1 (see proxy_int.h):
 * requests parsed with http-parser one at a time (a pipelined request
 * waits for the answer before it), answers written as they arrive (with
 * the upstream's Content-Length, or chunked), CONNECT answered by TLS
 * interception or a tunnel, and the TLS handshake that picks HTTP/1.1 or
 * HTTP/2 by ALPN.
 */
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "proxy_int.h"

static const struct pex_ops h1_ops;

static void set_timeout(struct pconn *c, int ms)
{
    struct timeval t = {ms / 1000, (ms % 1000) * 1000};
    bufferevent_set_timeouts(c->bev, ms ? &t : NULL, &t);
}

/* No more reading: the connection closes once what is queued for the client is written. */
static void close_soon(struct pconn *c)
{
    c->want_close = 2;
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    bufferevent_trigger(c->bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

static void simple_response(struct pconn *c, int status, const char *why)
{
    const char *reason = status == 400   ? "Bad Request"
                         : status == 403 ? "Forbidden"
                         : status == 405 ? "Method Not Allowed"
                         : status == 413 ? "Payload Too Large"
                         : status == 501 ? "Not Implemented"
                         : status == 504 ? "Gateway Timeout"
                         : status == 500 ? "Internal Server Error"
                                         : "Bad Gateway";
    char body[700];
    int n = snprintf(body, sizeof body, "kintape proxy: %s\n", why);
    if (n < 0 || (size_t)n >= sizeof body)
        n = (int)sizeof body - 1;
    evbuffer_add_printf(bufferevent_get_output(c->bev),
                        "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n"
                        "X-Kintape-Proxy-Error: %d\r\nConnection: close\r\n\r\n%s",
                        status, reason, n, status, body);
    close_soon(c);
}

/* ------------------------------------------------------------ requests */

static void flush_header(struct pconn *c)
{
    if (c->hstate == 2 && c->cur)
        pex_header(c->cur, c->hname.p ? c->hname.p : "", c->hname.len, c->hvalue.p ? c->hvalue.p : "", c->hvalue.len);
    kbuf_reset(&c->hname);
    kbuf_reset(&c->hvalue);
    c->hstate = 0;
}

static int on_begin(http_parser *hp)
{
    struct pconn *c = hp->data;
    c->cur = pex_new(c, &h1_ops, c, proxy_now_ns());
    c->hstate = 0;
    c->connect_req = 0;
    kbuf_reset(&c->target_buf);
    return 0;
}

static int on_url(http_parser *hp, const char *at, size_t n)
{
    struct pconn *c = hp->data;
    if (c->target_buf.len + n > 65536)
        return -1;
    kbuf_append(&c->target_buf, at, n);
    return 0;
}

static int on_hfield(http_parser *hp, const char *at, size_t n)
{
    struct pconn *c = hp->data;
    if (c->hstate == 2)
        flush_header(c);
    c->hstate = 1;
    kbuf_append(&c->hname, at, n);
    return 0;
}

static int on_hvalue(http_parser *hp, const char *at, size_t n)
{
    struct pconn *c = hp->data;
    c->hstate = 2;
    kbuf_append(&c->hvalue, at, n);
    return 0;
}

static int on_headers_complete(http_parser *hp)
{
    struct pconn *c = hp->data;
    flush_header(c);
    const char *m = http_method_str((enum http_method)hp->method);
    pex_method(c->cur, m, strlen(m));
    pex_target(c->cur, c->target_buf.p ? c->target_buf.p : "", c->target_buf.len);
    char v[32];
    snprintf(v, sizeof v, "HTTP/%u.%u", hp->http_major, hp->http_minor);
    pex_version(c->cur, v);
    c->connect_req = hp->method == HTTP_CONNECT;
    if (!c->connect_req && (hp->flags & F_CONTENTLENGTH) && hp->content_length > c->p->cfg.max_body)
        return -1; /* answered with 413 below */
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t n)
{
    struct pconn *c = hp->data;
    return pex_body(c->cur, (const uint8_t *)at, n) == 0 ? 0 : -1;
}

static int on_complete(http_parser *hp)
{
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_begin,
    .on_url = on_url,
    .on_header_field = on_hfield,
    .on_header_value = on_hvalue,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_complete,
};

/* -------------------------------------------------------------- tunnels */

static void tunnel_read(struct bufferevent *from, void *arg)
{
    struct pconn *c = arg;
    struct bufferevent *to = from == c->bev ? c->peer : c->bev;
    evbuffer_add_buffer(bufferevent_get_output(to), bufferevent_get_input(from));
    if (evbuffer_get_length(bufferevent_get_output(to)) > PROXY_OUT_HIGH)
        bufferevent_disable(from, EV_READ);
}

static void tunnel_write(struct bufferevent *to, void *arg)
{
    struct pconn *c = arg;
    struct bufferevent *from = to == c->bev ? c->peer : c->bev;
    if (c->want_close && evbuffer_get_length(bufferevent_get_output(to)) == 0) {
        pconn_free_drained(c);
        return;
    }
    bufferevent_enable(from, EV_READ);
}

static void tunnel_event(struct bufferevent *bev, short what, void *arg)
{
    struct pconn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        evbuffer_add_printf(bufferevent_get_output(c->bev), "HTTP/1.1 200 Connection Established\r\n\r\n");
        bufferevent_setcb(c->bev, tunnel_read, tunnel_write, tunnel_event, c);
        bufferevent_enable(c->bev, EV_READ | EV_WRITE);
        bufferevent_set_timeouts(c->bev, NULL, NULL);
        bufferevent_set_timeouts(c->peer, NULL, NULL);
        tunnel_read(c->bev, c); /* what the client sent after CONNECT */
        return;
    }
    /* One end is gone: the other gets what is left, then the tunnel closes. */
    struct bufferevent *other = bev == c->bev ? c->peer : c->bev;
    evbuffer_add_buffer(bufferevent_get_output(other), bufferevent_get_input(bev));
    if (evbuffer_get_length(bufferevent_get_output(other))) {
        c->want_close = 1;
        bufferevent_disable(bev, EV_READ | EV_WRITE);
        bufferevent_disable(other, EV_READ);
        bufferevent_setwatermark(other, EV_WRITE, 0, 0);
        return;
    }
    pconn_free(c, NULL);
}

static void h1_read(struct bufferevent *bev, void *arg);
static void h1_write(struct bufferevent *bev, void *arg);
static void h1_event(struct bufferevent *bev, short what, void *arg);

static void tunnel_fail(struct bufferevent *bev, short what, void *arg)
{
    struct pconn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        bufferevent_setcb(c->peer, tunnel_read, tunnel_write, tunnel_event, c);
        tunnel_event(bev, what, arg);
        return;
    }
    char why[300];
    int dns = bufferevent_socket_get_dns_error(bev);
    if (what & BEV_EVENT_TIMEOUT)
        snprintf(why, sizeof why, "could not connect within %d ms", c->p->cfg.connect_timeout_ms);
    else
        snprintf(why, sizeof why, "cannot connect: %s",
                 dns ? evutil_gai_strerror(dns) : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    c->p->n.upstream_failures++;
    plog(c->p, PROXY_LOG_WARN, "CONNECT from %s:%u: %s", c->ip, c->port, why);
    bufferevent_free(c->peer);
    c->peer = NULL;
    bufferevent_setcb(c->bev, h1_read, h1_write, h1_event, c);
    bufferevent_enable(c->bev, EV_WRITE);
    simple_response(c, 502, why);
}

static void start_tunnel(struct pconn *c, const struct hostport *hp)
{
    struct proxy *p = c->p;
    struct hostport to;
    proxy_route(p, hp, &to);
    c->peer = bufferevent_socket_new(p->base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(c->peer, tunnel_read, tunnel_write, tunnel_fail, c);
    struct timeval t = {p->cfg.connect_timeout_ms / 1000, (p->cfg.connect_timeout_ms % 1000) * 1000};
    bufferevent_set_timeouts(c->peer, NULL, &t);
    bufferevent_enable(c->peer, EV_READ | EV_WRITE);
    bufferevent_disable(c->bev, EV_READ);
    p->n.tunnels++;
    if (bufferevent_socket_connect_hostname(c->peer, p->dns, AF_UNSPEC, to.host, to.port) != 0)
        tunnel_fail(c->peer, BEV_EVENT_ERROR, c);
}

/* A CONNECT request was read: intercept, tunnel or refuse. */
static void on_connect(struct pconn *c)
{
    struct proxy *p = c->p;
    struct hostport hp;
    const char *t = c->target_buf.p ? c->target_buf.p : "";
    int bad = hp_parse(t, c->target_buf.len, &hp) != 0 || strchr(hp.host, '*') || !hp.port;
    pex_close(c->cur, NULL); /* a CONNECT is not an exchange of the snapshot */
    c->cur = NULL;
    if (bad) {
        simple_response(c, 400, "CONNECT needs a host:port target");
        return;
    }
    if (p->reverse) {
        simple_response(c, 405, "this proxy forwards to its --upstream only; CONNECT is for the forward mode");
        return;
    }
    int policy = proxy_connect_policy(p, &hp);
    if (policy == 0) {
        char why[400];
        snprintf(why, sizeof why, "CONNECT to %s:%u is not allowed (port 443 and the ports --intercept or --allow "
                 "name%s)", hp.host, hp.port, p->nallow ? ", to hosts --allow matches" : "");
        p->n.refused++;
        plog(p, PROXY_LOG_WARN, "refused CONNECT from %s:%u: %s", c->ip, c->port, why);
        simple_response(c, 403, why);
        return;
    }
    c->hstate = 0;
    if (policy == 2) {
        start_tunnel(c, &hp);
        return;
    }
    c->origin = hp;
    c->origin_tls = 1;
    c->have_origin = 1;
    evbuffer_add_printf(bufferevent_get_output(c->bev), "HTTP/1.1 200 Connection Established\r\n\r\n");
    pconn_tls_accept(c, hp.host);
}

/* ---------------------------------------------------------- the reader */

static void h1_read(struct bufferevent *bev, void *arg)
{
    struct pconn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (!c->paused && !c->want_close && evbuffer_get_length(in)) {
        size_t n = evbuffer_get_contiguous_space(in);
        const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
        size_t used = http_parser_execute(&c->parser, &settings, data, n);
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        evbuffer_drain(in, used);
        if (c->connect_req && (c->parser.upgrade || e == HPE_PAUSED)) {
            c->connect_req = 0;
            on_connect(c);
            return;
        }
        if (e == HPE_PAUSED) {
            c->paused = 1;
            if (c->parser.upgrade) {
                simple_response(c, 501, "protocol upgrades (Upgrade:) are not supported");
                return;
            }
            c->want_close = !http_should_keep_alive(&c->parser);
            kbuf_reset(&c->target_buf);
            struct pex *x = c->cur;
            set_timeout(c, 0);
            pex_send(x);
            return;
        }
        if (e != HPE_OK) {
            char why[300];
            int status = 400;
            if (e == HPE_CB_headers_complete || e == HPE_CB_body) {
                status = 413;
                snprintf(why, sizeof why, "the request body is larger than --max-body (%zu bytes)",
                         c->p->cfg.max_body);
            } else {
                snprintf(why, sizeof why, "malformed HTTP request at byte %zu: %s", used,
                         http_errno_description(e));
            }
            plog(c->p, PROXY_LOG_WARN, "client %s:%u: %s", c->ip, c->port, why);
            if (c->cur) {
                pex_close(c->cur, NULL);
                c->cur = NULL;
            }
            simple_response(c, status, why);
            return;
        }
        if (c->parser.upgrade) { /* an upgrade whose headers ended the parse */
            simple_response(c, 501, "protocol upgrades (Upgrade:) are not supported");
            return;
        }
    }
    if (c->paused && evbuffer_get_length(in) > PROXY_OUT_HIGH)
        bufferevent_disable(bev, EV_READ); /* pipelined requests wait for the answer */
}

static void h1_write(struct bufferevent *bev, void *arg)
{
    struct pconn *c = arg;
    size_t out = evbuffer_get_length(bufferevent_get_output(bev));
    if (c->want_close == 2 && out == 0) {
        pconn_free_drained(c);
        return;
    }
    if (c->cur && c->cur->paused && out < PROXY_OUT_HIGH)
        pex_pause(c->cur, 0);
}

static void h1_event(struct bufferevent *bev, short what, void *arg)
{
    struct pconn *c = arg;
    (void)bev;
    const char *why = (what & BEV_EVENT_TIMEOUT) ? "the client was idle too long"
                      : (what & BEV_EVENT_EOF)   ? "the client closed the connection"
                                                 : "the client connection failed";
    pconn_free(c, c->cur && c->cur->resp_started ? "the client closed the connection during the answer" : why);
}

static void h1_free(struct pconn *c, const char *why)
{
    if (c->cur) {
        pex_close(c->cur, why ? why : "the connection closed");
        c->cur = NULL;
    }
}

void h1_start(struct pconn *c)
{
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->paused = 0;
    c->want_close = 0;
    c->proto_free = h1_free;
    bufferevent_setcb(c->bev, h1_read, h1_write, h1_event, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, PROXY_OUT_HIGH / 4, 0);
    set_timeout(c, c->p->cfg.client_timeout_ms);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (evbuffer_get_length(bufferevent_get_input(c->bev)))
        bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* ----------------------------------------------------------- answers */

static void x_head(struct pex *x)
{
    struct pconn *c = x->c;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    const struct pmsg *m = pex_resp(x);
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", x->status, x->reason);
    for (size_t i = 0; i < m->nh; i++) {
        const char *n = pex_text(m, m->h[i].no);
        if (proxy_hop_header(n, m->h[i].nl))
            continue;
        evbuffer_add(out, n, m->h[i].nl);
        evbuffer_add(out, ": ", 2);
        evbuffer_add(out, pex_text(m, m->h[i].vo), m->h[i].vl);
        evbuffer_add(out, "\r\n", 2);
    }
    int bodyless = x->head_request || x->status == 204 || x->status == 304;
    c->resp_chunked = 0;
    if (x->resp_length < 0 && !bodyless) {
        if (c->parser.http_major == 1 && c->parser.http_minor == 0)
            c->want_close = 1; /* an HTTP/1.0 client: the end of the connection ends the body */
        else
            c->resp_chunked = 1, evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n");
    }
    if (c->want_close)
        evbuffer_add_printf(out, "Connection: close\r\n");
    evbuffer_add(out, "\r\n", 2);
}

static void x_body(struct pex *x, const uint8_t *p, size_t n)
{
    struct pconn *c = x->c;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (c->resp_chunked)
        evbuffer_add_printf(out, "%zx\r\n", n);
    evbuffer_add(out, p, n);
    if (c->resp_chunked)
        evbuffer_add(out, "\r\n", 2);
    if (evbuffer_get_length(out) > PROXY_OUT_HIGH)
        pex_pause(x, 1);
}

static void x_end(struct pex *x)
{
    struct pconn *c = x->c;
    if (c->resp_chunked)
        evbuffer_add(bufferevent_get_output(c->bev), "0\r\n\r\n", 5);
    pex_close(x, NULL);
    c->cur = NULL;
    if (c->want_close) {
        close_soon(c);
        return;
    }
    /* the next request, if one is waiting */
    c->paused = 0;
    http_parser_pause(&c->parser, 0);
    set_timeout(c, c->p->cfg.client_timeout_ms);
    bufferevent_enable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_input(c->bev)))
        bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

static void x_fail(struct pex *x, int status, const char *why)
{
    struct pconn *c = x->c;
    int started = x->resp_started;
    pex_close(x, why);
    c->cur = NULL;
    if (!started)
        simple_response(c, status, why);
    else
        close_soon(c); /* the client sees the answer cut short */
}

static const struct pex_ops h1_ops = {x_head, x_body, x_end, x_fail};

/* ----------------------------------------------------------------- TLS */

static void tls_event(struct bufferevent *bev, short what, void *arg)
{
    struct pconn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        const unsigned char *alpn = NULL;
        unsigned int al = 0;
        SSL_get0_alpn_selected(ssl, &alpn, &al);
        const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        if (sni)
            snprintf(c->sni, sizeof c->sni, "%s", sni);
        if (al == 2 && memcmp(alpn, "h2", 2) == 0)
            h2_start(c);
        else
            h1_start(c);
        return;
    }
    struct proxy *p = c->p;
    unsigned long e = bufferevent_get_openssl_error(bev);
    char why[300];
    if (e)
        ERR_error_string_n(e, why, sizeof why);
    else
        snprintf(why, sizeof why, "%s", (what & BEV_EVENT_TIMEOUT) ? "timed out" : "the connection closed");
    while (bufferevent_get_openssl_error(bev))
        ;
    p->n.handshake_failures++;
    const char *host = c->have_origin ? c->origin.host : c->sni[0] ? c->sni : "the proxy";
    if (strstr(why, "unknown ca") || strstr(why, "certificate unknown") || strstr(why, "bad certificate"))
        plog(p, PROXY_LOG_WARN,
             "client %s:%u refused the proxy's certificate for %s (%s): it does not trust the proxy's CA; trust it "
             "with AWS_CA_BUNDLE=%s (boto3, AWS CLI), NODE_EXTRA_CA_CERTS=%s (Node.js), curl --cacert %s, or keytool "
             "-importcert -file %s (Java)",
             c->ip, c->port, host, why, ptls_ca_path(p->tls), ptls_ca_path(p->tls), ptls_ca_path(p->tls),
             ptls_ca_path(p->tls));
    else
        plog(p, PROXY_LOG_WARN, "TLS handshake with client %s:%u for %s failed: %s", c->ip, c->port, host, why);
    pconn_free(c, NULL);
}

void pconn_tls_accept(struct pconn *c, const char *host)
{
    struct proxy *p = c->p;
    struct kt_err err;
    SSL *ssl = ptls_accept(p->tls, host, &err);
    if (!ssl) {
        plog(p, PROXY_LOG_ERROR, "client %s:%u: %s", c->ip, c->port, err.msg);
        close_soon(c);
        return;
    }
    bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
    struct bufferevent *b;
    if (!bufferevent_get_underlying(c->bev) && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0 &&
        evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
        /* Nothing buffered: TLS straight on the socket (cheaper than a filter over the plain connection). */
        int fd = bufferevent_getfd(c->bev);
        b = bufferevent_openssl_socket_new(p->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
        if (b) {
            bufferevent_setfd(c->bev, -1);
            bufferevent_free(c->bev);
        }
    } else {
        b = bufferevent_openssl_filter_new(p->base, c->bev, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!b) {
        SSL_free(ssl);
        plog(p, PROXY_LOG_ERROR, "client %s:%u: cannot start TLS", c->ip, c->port);
        pconn_free(c, NULL);
        return;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(b, 1);
    c->bev = b;
    c->tls = 1;
    bufferevent_setcb(b, NULL, NULL, tls_event, c);
    set_timeout(c, c->p->cfg.client_timeout_ms);
    bufferevent_enable(b, EV_READ | EV_WRITE);
}
