/*
 * proxy.c — the recording proxy's lifecycle (see proxy.h): the listener,
 * what a new connection speaks (TLS, HTTP/2 with prior knowledge, or
 * HTTP/1.1), the periodic work (the snapshot's reorder window, idle
 * upstream connections, --count and --duration) and the end.
 */
#include <errno.h>
#include <event2/dns.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mem.h"
#include "proxy_int.h"

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

void proxy_config_defaults(struct proxy_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen_host = "127.0.0.1";
    cfg->listen_port = 4140;
    cfg->max_body = (size_t)64 << 20;
    cfg->reorder_ns = 2000000000LL;
    cfg->connect_timeout_ms = 10000;
    cfg->upstream_timeout_ms = 60000;
    cfg->client_timeout_ms = 120000;
}

/* ------------------------------------------------------- a new client */

static void sniff(evutil_socket_t fd, short what, void *arg);

static void sniff_again(evutil_socket_t fd, short what, void *arg)
{
    struct pconn *c = arg;
    (void)fd;
    (void)what;
    sniff(bufferevent_getfd(c->bev), EV_READ, c);
}

/* The first bytes say what the client speaks; they are peeked at, so a TLS handshake starts on the bare socket. */
static void sniff(evutil_socket_t fd, short what, void *arg)
{
    struct pconn *c = arg;
    struct proxy *p = c->p;
    unsigned char head[24];
    ssize_t n = (what & EV_TIMEOUT) ? 0 : recv(fd, head, sizeof head, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        event_add(c->linger, NULL);
        return;
    }
    event_free(c->linger);
    c->linger = NULL;
    if (n <= 0) {
        pconn_free(c, NULL);
        return;
    }
    size_t k = (size_t)n;
    if (head[0] == 0x16) {
        if (!p->reverse) {
            plog(p, PROXY_LOG_WARN,
                 "client %s:%u speaks TLS to the proxy's port: the proxy's own address is plain HTTP "
                 "(HTTPS_PROXY=http://%s:%d, not https://)",
                 c->ip, c->port, p->cfg.listen_host, p->port);
            pconn_free(c, NULL);
            return;
        }
        if (!ptls_has_ca(p->tls)) {
            plog(p, PROXY_LOG_WARN, "client %s:%u speaks TLS, and the proxy has no CA (kintape proxy init-ca)", c->ip,
                 c->port);
            pconn_free(c, NULL);
            return;
        }
        pconn_tls_accept(c, c->local_ip[0] && strcmp(c->local_ip, "0.0.0.0") ? c->local_ip : "localhost");
        return;
    }
    if (p->reverse && memcmp(head, preface, k) == 0) {
        if (k < 3) { /* "P" may yet be POST: look again shortly */
            c->linger = evtimer_new(p->base, sniff_again, c);
            struct timeval t = {0, 2000};
            event_add(c->linger, &t);
            return;
        }
        h2_start(c); /* nghttp2 reads the rest of the preface as it comes */
        return;
    }
    h1_start(c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    struct proxy *p = arg;
    (void)l;
    evutil_make_socket_closeonexec(fd);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* answers go out in pieces: no Nagle delay */
    struct pconn *c = pconn_new(p, fd, sa, salen);
    if (!c->bev) {
        pconn_free(c, NULL);
        return;
    }
    c->linger = event_new(p->base, fd, EV_READ, sniff, c);
    struct timeval t = {p->cfg.client_timeout_ms / 1000, (p->cfg.client_timeout_ms % 1000) * 1000};
    event_add(c->linger, &t);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
    struct proxy *p = arg;
    (void)l;
    plog(p, PROXY_LOG_ERROR, "accept: %s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* -------------------------------------------------------- periodic work */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct proxy *p = arg;
    (void)fd;
    (void)what;
    int64_t now = proxy_now_ns();
    struct kt_err err;
    if (xw_drain(p->xw, now, 0, &err) != 0) {
        proxy_fail(p, &err);
        return;
    }
    pup_close_idle(p, now, 0);
    if (p->cfg.tick && p->cfg.tick(p->cfg.ctx) != 0) {
        event_base_loopbreak(p->base);
        return;
    }
    struct xw_counts n;
    xw_counts(p->xw, &n);
    if ((p->cfg.count && n.exchanges >= p->cfg.count) ||
        (p->cfg.duration_ns && now - p->started_ns >= p->cfg.duration_ns))
        event_base_loopbreak(p->base);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct proxy *p = arg;
    char b[16];
    (void)what;
    while (read(fd, b, sizeof b) > 0)
        ;
    event_base_loopbreak(p->base);
}

void proxy_stop(struct proxy *p)
{
    int saved = errno;
    if (write(p->wake_fd[1], "x", 1) < 0) {
        /* the pipe is full: a wake-up is already pending */
    }
    errno = saved;
}

/* ----------------------------------------------------------- lifecycle */

static int parse_rules(const char *const *in, size_t n, struct rule **out, size_t *nout, const char *what,
                       struct kt_err *err)
{
    *out = xcalloc(n ? n : 1, sizeof **out);
    *nout = n;
    for (size_t i = 0; i < n; i++) {
        struct hostport hp;
        if (hp_parse(in[i], strlen(in[i]), &hp) != 0) {
            kt_err_set(err, "%s %s: not HOST or HOST:PORT (HOST may hold '*')", what, in[i]);
            return -1;
        }
        snprintf((*out)[i].host, sizeof (*out)[i].host, "%s", hp.host);
        (*out)[i].port = hp.port;
    }
    return 0;
}

static int parse_upstream(struct proxy *p, const char *url, struct kt_err *err)
{
    int tls;
    const char *rest;
    if (strncasecmp(url, "https://", 8) == 0)
        tls = 1, rest = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        tls = 0, rest = url + 7;
    else {
        kt_err_set(err, "--upstream %s: not an http:// or https:// URL", url);
        return -1;
    }
    size_t n = strcspn(rest, "/?#");
    if (rest[n] && strcmp(rest + n, "/") != 0) {
        kt_err_set(err, "--upstream %s: a URL with no path (the client's paths are kept)", url);
        return -1;
    }
    if (hp_parse(rest, n, &p->up) != 0 || strchr(p->up.host, '*')) {
        kt_err_set(err, "--upstream %s: bad host or port", url);
        return -1;
    }
    p->up_tls = tls;
    if (p->up.port)
        snprintf(p->up_hostheader, sizeof p->up_hostheader, strchr(p->up.host, ':') ? "[%s]:%u" : "%s:%u",
                 p->up.host, p->up.port);
    else
        snprintf(p->up_hostheader, sizeof p->up_hostheader, strchr(p->up.host, ':') ? "[%s]" : "%s", p->up.host);
    if (!p->up.port)
        p->up.port = tls ? 443 : 80;
    p->reverse = 1;
    return 0;
}

static int parse_remaps(struct proxy *p, struct kt_err *err)
{
    p->remap = xcalloc(p->cfg.nconnect_to ? p->cfg.nconnect_to : 1, sizeof *p->remap);
    for (size_t i = 0; i < p->cfg.nconnect_to; i++) {
        const char *s = p->cfg.connect_to[i];
        const char *eq = strchr(s, '=');
        struct remap *r = &p->remap[p->nremap];
        if (!eq || hp_parse(s, (size_t)(eq - s), &r->from) != 0 || hp_parse(eq + 1, strlen(eq + 1), &r->to) != 0 ||
            !r->from.port || !r->to.port) {
            kt_err_set(err, "--connect-to %s: not HOST:PORT=ADDRESS:PORT", s);
            return -1;
        }
        p->nremap++;
    }
    return 0;
}

static int listen_on(struct proxy *p, struct kt_err *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    char port[16];
    snprintf(port, sizeof port, "%d", p->cfg.listen_port);
    int rc = getaddrinfo(p->cfg.listen_host, port, &hints, &ai);
    if (rc != 0) {
        kt_err_set(err, "--listen %s: %s", p->cfg.listen_host, gai_strerror(rc));
        return -1;
    }
    p->lis = evconnlistener_new_bind(p->base, on_accept, p, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                     512, ai->ai_addr, (int)ai->ai_addrlen);
    freeaddrinfo(ai);
    if (!p->lis) {
        kt_err_set(err, "cannot listen on %s:%d: %s", p->cfg.listen_host, p->cfg.listen_port,
                   evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return -1;
    }
    evconnlistener_set_error_cb(p->lis, on_accept_error);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(evconnlistener_get_fd(p->lis), (struct sockaddr *)&ss, &sl);
    p->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

struct proxy *proxy_new(const struct proxy_config *cfg, struct xwriter *xw, struct kt_err *err)
{
    struct proxy *p = xcalloc(1, sizeof *p);
    p->cfg = *cfg;
    p->xw = xw;
    p->wake_fd[0] = p->wake_fd[1] = -1;
    if (cfg->upstream && parse_upstream(p, cfg->upstream, err) != 0)
        goto fail;
    if (!cfg->upstream && cfg->resign) {
        kt_err_set(err, "--resign needs --upstream (the reverse mode): forwarded requests keep the client's signature");
        goto fail;
    }
    if (parse_rules(cfg->intercept, cfg->nintercept, &p->intercept, &p->nintercept, "--intercept", err) != 0 ||
        parse_rules(cfg->allow, cfg->nallow, &p->allow, &p->nallow, "--allow", err) != 0 || parse_remaps(p, err) != 0)
        goto fail;
    p->tls = ptls_new(cfg->ca_dir, cfg->upstream_ca, err);
    if (!p->tls)
        goto fail;
    p->base = event_base_new();
    p->dns = p->base ? evdns_base_new(p->base, EVDNS_BASE_INITIALIZE_NAMESERVERS) : NULL;
    if (!p->dns && p->base)
        p->dns = evdns_base_new(p->base, 0); /* no resolv.conf: names resolve through the hosts file only */
    if (!p->base || !p->dns) {
        kt_err_set(err, "cannot start the event loop");
        goto fail;
    }
    evdns_base_load_hosts(p->dns, NULL);
    if (listen_on(p, err) != 0)
        goto fail;
    if (pipe2(p->wake_fd, O_NONBLOCK | O_CLOEXEC) != 0) {
        kt_err_set(err, "pipe: %s", strerror(errno));
        goto fail;
    }
    p->wake = event_new(p->base, p->wake_fd[0], EV_READ | EV_PERSIST, on_wake, p);
    p->tick = event_new(p->base, -1, EV_PERSIST, on_tick, p);
    struct timeval t = {0, 100000};
    event_add(p->wake, NULL);
    event_add(p->tick, &t);
    return p;
fail:
    proxy_free(p);
    return NULL;
}

int proxy_port(const struct proxy *p)
{
    return p->port;
}

int proxy_run(struct proxy *p, struct kt_err *err)
{
    p->started_ns = proxy_now_ns();
    event_base_dispatch(p->base);
    if (p->failed) {
        *err = p->err;
        return -1;
    }
    return 0;
}

int proxy_finish(struct proxy *p, struct snap_stats *st, struct kt_err *err)
{
    p->stopping = 1;
    if (p->lis) {
        evconnlistener_free(p->lis);
        p->lis = NULL;
    }
    while (p->conns)
        pconn_free(p->conns, "the proxy was stopped");
    pup_close_idle(p, 0, 1);
    int rc = xw_drain(p->xw, proxy_now_ns(), 1, err);
    if (rc == 0 && p->failed) {
        *err = p->err;
        rc = -1;
    }
    memset(st, 0, sizeof *st);
    struct xw_counts n;
    xw_counts(p->xw, &n);
    st->ended_ns = proxy_now_ns();
    st->exchanges = n.exchanges;
    st->complete = n.complete;
    st->incomplete = n.incomplete;
    st->proxy = 1;
    st->handshake_failures = p->n.handshake_failures;
    st->upstream_failures = p->n.upstream_failures;
    st->refused = p->n.refused;
    return rc;
}

void proxy_free(struct proxy *p)
{
    if (!p)
        return;
    p->stopping = 1;
    while (p->conns)
        pconn_free(p->conns, "the proxy was stopped");
    pup_close_idle(p, 0, 1);
    if (p->lis)
        evconnlistener_free(p->lis);
    if (p->tick)
        event_free(p->tick);
    if (p->wake)
        event_free(p->wake);
    if (p->wake_fd[0] >= 0)
        close(p->wake_fd[0]);
    if (p->wake_fd[1] >= 0)
        close(p->wake_fd[1]);
    if (p->dns)
        evdns_base_free(p->dns, 0);
    if (p->base)
        event_base_free(p->base);
    ptls_free(p->tls);
    free(p->intercept);
    free(p->allow);
    free(p->remap);
    free(p);
}
