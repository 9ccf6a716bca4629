/*
 * proxy_x.c — one exchange through the proxy (see proxy_int.h): the request
 * as the client sent it is recorded and forwarded (to the target its
 * connection or URL names, or the reverse mode's upstream; signed again
 * with the proxy's credentials when asked), the answer is handed back to
 * the client side piece by piece and recorded up to max_body, and the
 * whole is given to the exchange writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ktime.h"
#include "mem.h"
#include "proxy_int.h"
#include "sigv4.h"

struct prec {
    struct xitem it;
    struct proxy *p;
    struct pmsg req, resp;
    struct kbuf target;
    char method[32];
    char version[16], resp_version[16];
    char reason[64];
    int status, has_resp;
    char incomplete[300];
    struct snap_kv *kv;
    struct snap_msg resp_msg;
    int announced;
};

static void pmsg_free(struct pmsg *m)
{
    kbuf_free(&m->text);
    kbuf_free(&m->body);
    free(m->h);
}

static void pmsg_header(struct pmsg *m, const char *name, size_t nl, const char *value, size_t vl)
{
    if (m->nh == m->caph) {
        m->caph = m->caph ? m->caph * 2 : 16;
        m->h = xrealloc(m->h, m->caph * sizeof *m->h);
    }
    struct phdr *h = &m->h[m->nh++];
    h->no = (uint32_t)m->text.len;
    h->nl = (uint32_t)nl;
    kbuf_append(&m->text, name, nl);
    h->vo = (uint32_t)m->text.len;
    h->vl = (uint32_t)vl;
    kbuf_append(&m->text, value, vl);
}

const char *pex_text(const struct pmsg *m, uint32_t off)
{
    return m->text.p ? m->text.p + off : "";
}

static const char *pmsg_find(const struct pmsg *m, const char *name, size_t *len)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < m->nh; i++) {
        if (m->h[i].nl == n && strncasecmp(pex_text(m, m->h[i].no), name, n) == 0) {
            *len = m->h[i].vl;
            return pex_text(m, m->h[i].vo);
        }
    }
    return NULL;
}

static void release_rec(struct xitem *it, void *ctx)
{
    struct prec *r = ctx;
    (void)it;
    pmsg_free(&r->req);
    pmsg_free(&r->resp);
    kbuf_free(&r->target);
    free(r->kv);
    free(r);
}

struct pex *pex_new(struct pconn *c, const struct pex_ops *ops, void *owner, int64_t start_ns)
{
    struct pex *x = xcalloc(1, sizeof *x);
    x->c = c;
    x->ops = ops;
    x->owner = owner;
    x->resp_length = -1;
    struct prec *r = xcalloc(1, sizeof *r);
    r->p = c->p;
    r->req.ts_ns = start_ns;
    r->it.start_ns = start_ns;
    r->it.release = release_rec;
    r->it.ctx = r;
    snprintf(r->version, sizeof r->version, "HTTP/1.1");
    x->rec = r;
    return x;
}

void pex_method(struct pex *x, const char *m, size_t n)
{
    snprintf(x->rec->method, sizeof x->rec->method, "%.*s", (int)n, m);
    x->head_request = strcmp(x->rec->method, "HEAD") == 0;
}

void pex_target(struct pex *x, const char *t, size_t n)
{
    kbuf_append(&x->rec->target, t, n);
}

void pex_version(struct pex *x, const char *v)
{
    snprintf(x->rec->version, sizeof x->rec->version, "%s", v);
}

void pex_header(struct pex *x, const char *name, size_t nl, const char *value, size_t vl)
{
    pmsg_header(&x->rec->req, name, nl, value, vl);
}

int pex_body(struct pex *x, const uint8_t *p, size_t n)
{
    struct pmsg *m = &x->rec->req;
    m->body_total += n;
    if (m->body.len + n > x->c->p->cfg.max_body)
        return -1;
    kbuf_append(&m->body, p, n);
    return 0;
}

const char *pex_req_header(const struct pex *x, const char *name, size_t *len)
{
    return pmsg_find(&x->rec->req, name, len);
}

const struct pmsg *pex_resp(const struct pex *x)
{
    return &x->rec->resp;
}

/* Hop-by-hop headers and those the proxy writes itself are not forwarded. */
static int hop_header(const char *n, size_t l)
{
    static const char *const hop[] = {"connection",    "keep-alive", "proxy-connection", "proxy-authorization",
                                      "te",            "trailer",    "transfer-encoding", "upgrade",
                                      "content-length", "host",      "expect",           "http2-settings"};
    if (l && n[0] == ':')
        return 1;
    for (size_t i = 0; i < sizeof hop / sizeof *hop; i++)
        if (strlen(hop[i]) == l && strncasecmp(hop[i], n, l) == 0)
            return 1;
    return 0;
}

/* Headers the proxy replaces when it signs again. */
static int auth_header(const char *n, size_t l)
{
    static const char *const a[] = {"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"};
    for (size_t i = 0; i < sizeof a / sizeof *a; i++)
        if (strlen(a[i]) == l && strncasecmp(a[i], n, l) == 0)
            return 1;
    return 0;
}

static int signed_header(const char *n, size_t l)
{
    return (l == 12 && strncasecmp(n, "content-type", 12) == 0) || (l > 6 && strncasecmp(n, "x-amz-", 6) == 0);
}

/* Authorization and the headers it covers, for the request in wire so far (reverse mode with --resign). */
static int resign(struct pex *x, const char *path, size_t pl, const char *host, struct kbuf *wire, struct kt_err *err)
{
    const struct creds *cr = x->c->p->cfg.resign;
    const struct pmsg *m = &x->rec->req;
    char date[17], hash[65], auth[2048];
    sigv4_amz_date(date, kt_now_ns() / KT_NS_PER_SEC);
    sigv4_sha256_hex(m->body.p ? m->body.p : "", m->body.len, hash);
    struct sigv4_header hs[40];
    size_t n = 0;
    struct kbuf names = KBUF_INIT; /* NUL-terminated copies */
    size_t offs[40][2];
    for (size_t i = 0; i < m->nh && n < 36; i++) {
        const char *nm = pex_text(m, m->h[i].no);
        if (!signed_header(nm, m->h[i].nl) || auth_header(nm, m->h[i].nl))
            continue;
        offs[n][0] = names.len;
        kbuf_append(&names, nm, m->h[i].nl);
        kbuf_putc(&names, '\0');
        offs[n][1] = names.len;
        kbuf_append(&names, pex_text(m, m->h[i].vo), m->h[i].vl);
        kbuf_putc(&names, '\0');
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        hs[i].name = names.p + offs[i][0];
        hs[i].value = names.p + offs[i][1];
    }
    hs[n++] = (struct sigv4_header){"host", host};
    hs[n++] = (struct sigv4_header){"x-amz-date", date};
    if (cr->token[0])
        hs[n++] = (struct sigv4_header){"x-amz-security-token", cr->token};
    char pathz[4096], query[4096] = "";
    const char *q = memchr(path, '?', pl);
    size_t plen = q ? (size_t)(q - path) : pl;
    if (plen >= sizeof pathz || (q && pl - plen - 1 >= sizeof query)) {
        kbuf_free(&names);
        kt_err_set(err, "the request target is too long to sign");
        return -1;
    }
    memcpy(pathz, path, plen);
    pathz[plen] = '\0';
    if (q) {
        memcpy(query, q + 1, pl - plen - 1);
        query[pl - plen - 1] = '\0';
    }
    struct sigv4_request rq = {x->rec->method, plen ? pathz : "/", query, hs, n, hash, date, cr->region,
                               "kinesis", cr->access_key, cr->secret_key};
    int rc = sigv4_sign(&rq, auth, sizeof auth, NULL);
    kbuf_free(&names);
    if (rc != 0) {
        kt_err_set(err, "cannot sign the request again: too many headers");
        return -1;
    }
    kbuf_appendf(wire, "X-Amz-Date: %s\r\n", date);
    if (cr->token[0])
        kbuf_appendf(wire, "X-Amz-Security-Token: %s\r\n", cr->token);
    kbuf_appendf(wire, "Authorization: %s\r\n", auth);
    return 0;
}

/* Where the request goes and the path it is sent with; 0, or an HTTP status for the client with why. */
static int route(struct pex *x, const char **path, size_t *pl, char *hosthdr, size_t hn, char *why, size_t wn)
{
    struct proxy *p = x->c->p;
    const char *t = x->rec->target.p ? x->rec->target.p : "";
    size_t tl = x->rec->target.len;
    *path = t;
    *pl = tl;
    hosthdr[0] = '\0';
    int absolute = tl > 7 && (strncasecmp(t, "http://", 7) == 0 || strncasecmp(t, "https://", 8) == 0);
    const char *auth = NULL;
    size_t al = 0;
    if (absolute) {
        int https = strncasecmp(t, "https://", 8) == 0;
        auth = t + (https ? 8 : 7);
        const char *slash = memchr(auth, '/', tl - (size_t)(auth - t));
        al = slash ? (size_t)(slash - auth) : tl - (size_t)(auth - t);
        *path = slash ? slash : "/";
        *pl = slash ? tl - (size_t)(slash - t) : 1;
        if (https && !p->reverse && !x->c->have_origin) {
            snprintf(why, wn, "an https:// URL cannot be sent to a proxy in the clear: use CONNECT");
            return 400;
        }
        if (!p->reverse && !x->c->have_origin) {
            if (hp_parse(auth, al, &x->target) != 0) {
                snprintf(why, wn, "bad host in the request target");
                return 400;
            }
            if (!x->target.port)
                x->target.port = 80;
            x->tls = 0;
            if (!proxy_http_allowed(p, &x->target)) {
                snprintf(why, wn, "the proxy may not reach %s:%u (see --allow)", x->target.host, x->target.port);
                return 403;
            }
            snprintf(hosthdr, hn, "%.*s", (int)al, auth);
            return 0;
        }
    }
    if (p->reverse) {
        x->target = p->up;
        x->tls = p->up_tls;
    } else if (x->c->have_origin) {
        x->target = x->c->origin;
        x->tls = x->c->origin_tls;
    } else {
        snprintf(why, wn, "this is a forward proxy: send requests with an absolute http:// target or CONNECT "
                          "(HTTPS_PROXY=http://this-host:port), or start kintape proxy with --upstream URL");
        return 400;
    }
    if (p->cfg.resign) {
        snprintf(hosthdr, hn, "%s", p->up_hostheader);
        return 0;
    }
    size_t vl;
    const char *h = pex_req_header(x, "host", &vl);
    if (!h)
        h = pex_req_header(x, ":authority", &vl);
    if (h)
        snprintf(hosthdr, hn, "%.*s", (int)vl, h);
    else if (absolute)
        snprintf(hosthdr, hn, "%.*s", (int)al, auth);
    else
        snprintf(hosthdr, hn, "%s", p->reverse ? p->up_hostheader : x->target.host);
    return 0;
}

static const struct pup_ops up_ops;

static int connect_up(struct pex *x, struct kt_err *err)
{
    x->up = pup_open(x->c->p, &x->target, x->tls, &up_ops, x, x->head_request, err);
    if (!x->up)
        return -1;
    pup_send(x->up, x->wire.p, x->wire.len);
    if (x->rec->req.body.len)
        pup_send(x->up, x->rec->req.body.p, x->rec->req.body.len);
    return 0;
}

void pex_send(struct pex *x)
{
    struct proxy *p = x->c->p;
    struct prec *r = x->rec;
    const struct pmsg *m = &r->req;
    const char *path;
    size_t pl;
    char host[300], why[512];
    int status = route(x, &path, &pl, host, sizeof host, why, sizeof why);
    if (status) {
        p->n.refused++;
        plog(p, PROXY_LOG_WARN, "refused %s %.*s from %s:%u: %s", r->method, (int)KT_MIN(r->target.len, 200),
             r->target.p ? r->target.p : "", x->c->ip, x->c->port, why);
        x->ops->fail(x, status, why);
        return;
    }
    struct kbuf *w = &x->wire;
    kbuf_appendf(w, "%s %.*s HTTP/1.1\r\nHost: %s\r\n", r->method, (int)pl, path, host);
    for (size_t i = 0; i < m->nh; i++) {
        const char *nm = pex_text(m, m->h[i].no);
        if (hop_header(nm, m->h[i].nl) || (p->cfg.resign && auth_header(nm, m->h[i].nl)))
            continue;
        kbuf_append(w, nm, m->h[i].nl);
        kbuf_puts(w, ": ");
        kbuf_append(w, pex_text(m, m->h[i].vo), m->h[i].vl);
        kbuf_puts(w, "\r\n");
    }
    if (m->body.len || strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0)
        kbuf_appendf(w, "Content-Length: %zu\r\n", m->body.len);
    struct kt_err err;
    if (p->cfg.resign && resign(x, path, pl, host, w, &err) != 0) {
        x->ops->fail(x, 500, err.msg);
        return;
    }
    kbuf_puts(w, "\r\n"); /* the body is sent from the record: no second copy */
    xw_start(p->xw, &r->it);
    r->announced = 1;
    x->c->n++;
    if (connect_up(x, &err) != 0) {
        p->n.upstream_failures++;
        plog(p, PROXY_LOG_WARN, "%s %.*s: %s", r->method, (int)KT_MIN(pl, 200), path, err.msg);
        r->it.skip = 1;
        x->ops->fail(x, 502, err.msg);
    }
}

static int up_head(void *ctx, int status, const char *reason, size_t rl, const struct http_parser *hp)
{
    struct pex *x = ctx;
    struct prec *r = x->rec;
    x->status = r->status = status;
    snprintf(x->reason, sizeof x->reason, "%.*s", (int)KT_MIN(rl, 63), reason);
    snprintf(r->reason, sizeof r->reason, "%s", x->reason);
    snprintf(r->resp_version, sizeof r->resp_version, "%s", x->c->h2 ? "HTTP/2" : "HTTP/1.1");
    r->has_resp = 1;
    r->resp.ts_ns = proxy_now_ns();
    pup_peer(x->up, r->it.x.server_ip, sizeof r->it.x.server_ip, &r->it.x.server_port);
    x->resp_length = (hp->flags & F_CONTENTLENGTH) ? (int64_t)hp->content_length : -1;
    x->resp_chunked = (hp->flags & F_CHUNKED) != 0;
    x->resp_started = 1;
    x->ops->head(x);
    return 0;
}

static void up_header(void *ctx, const char *name, size_t nl, const char *value, size_t vl)
{
    struct pex *x = ctx;
    pmsg_header(&x->rec->resp, name, nl, value, vl);
}

static void up_body(void *ctx, const uint8_t *d, size_t n)
{
    struct pex *x = ctx;
    struct pmsg *m = &x->rec->resp;
    size_t room = x->c->p->cfg.max_body - KT_MIN(m->body.len, x->c->p->cfg.max_body);
    kbuf_append(&m->body, d, KT_MIN(n, room));
    m->body_total += n;
    x->ops->body(x, d, n);
}

static void up_end(void *ctx, int keepalive)
{
    struct pex *x = ctx;
    struct pup *u = x->up;
    x->up = NULL;
    pup_release(u, keepalive);
    x->resp_done = 1;
    x->rec->it.x.end_ns = proxy_now_ns();
    x->ops->end(x);
}

static void up_fail(void *ctx, int stage, int reused, const char *why)
{
    struct pex *x = ctx;
    struct proxy *p = x->c->p;
    struct kt_err err;
    x->up = NULL;
    if (stage < 2 && reused && x->retried < 2) {
        /* An idle connection the upstream had closed: the request goes again on a new one. */
        x->retried++;
        if (connect_up(x, &err) == 0)
            return;
        why = err.msg;
        stage = 0;
    }
    p->n.upstream_failures++;
    plog(p, PROXY_LOG_WARN, "%s from %s:%u to %s:%u: %s", x->rec->method, x->c->ip, x->c->port, x->target.host,
         x->target.port, why);
    if (stage == 0)
        x->rec->it.skip = 1; /* never reached the upstream: nothing happened */
    else
        snprintf(x->rec->incomplete, sizeof x->rec->incomplete, "%.299s", why);
    x->ops->fail(x, strstr(why, "did not answer") || strstr(why, "within") ? 504 : 502, why);
}

static const struct pup_ops up_ops = {up_head, up_header, up_body, up_end, up_fail};

void pex_pause(struct pex *x, int pause)
{
    if (x->paused == pause)
        return;
    x->paused = pause;
    if (x->up)
        pup_pause(x->up, pause);
}

/* The record as the snapshot writer takes it. */
static void fill(struct pex *x)
{
    struct prec *r = x->rec;
    struct snap_exchange *e = &r->it.x;
    struct pconn *c = x->c;
    e->ts_ns = r->req.ts_ns;
    snprintf(e->client_ip, sizeof e->client_ip, "%s", c->ip);
    e->client_port = c->port;
    if (!e->server_ip[0]) {
        snprintf(e->server_ip, sizeof e->server_ip, "%.47s", x->target.host);
        e->server_port = x->target.port;
    }
    e->conn = c->id;
    e->n = c->n - 1;
    size_t nk = r->req.nh + r->resp.nh;
    r->kv = xcalloc(nk ? nk : 1, sizeof *r->kv);
    struct pmsg *ms[2] = {&r->req, &r->resp};
    size_t k = 0;
    for (int i = 0; i < 2; i++) {
        for (size_t j = 0; j < ms[i]->nh; j++) {
            const struct phdr *h = &ms[i]->h[j];
            r->kv[k++] = (struct snap_kv){pex_text(ms[i], h->no), h->nl, pex_text(ms[i], h->vo), h->vl};
        }
    }
    kbuf_putc(&r->target, '\0');
    e->req = (struct snap_msg){r->req.ts_ns, r->method, r->target.p, 0, NULL, r->version, r->kv, r->req.nh,
                               (const uint8_t *)r->req.body.p, r->req.body.len};
    if (r->has_resp) {
        r->resp_msg = (struct snap_msg){r->resp.ts_ns, NULL, NULL, r->status, r->reason, r->resp_version,
                                        r->kv + r->req.nh, r->resp.nh, (const uint8_t *)r->resp.body.p,
                                        r->resp.body.len};
        e->resp = &r->resp_msg;
        if (r->resp.body_total > r->resp.body.len && !r->incomplete[0])
            snprintf(r->incomplete, sizeof r->incomplete,
                     "response body larger than --max-body: %zu of %llu bytes kept (all forwarded)",
                     r->resp.body.len, (unsigned long long)r->resp.body_total);
    }
    e->incomplete = r->incomplete[0] ? r->incomplete : NULL;
}

void pex_close(struct pex *x, const char *why)
{
    struct prec *r = x->rec;
    struct proxy *p = x->c->p;
    if (x->up) {
        pup_release(x->up, 0);
        x->up = NULL;
        if (!r->incomplete[0])
            snprintf(r->incomplete, sizeof r->incomplete, "%.299s", why ? why : "the exchange was cut short");
    }
    if (why && !r->incomplete[0] && !x->resp_done)
        snprintf(r->incomplete, sizeof r->incomplete, "%.299s", why);
    if (r->announced) {
        if (!r->it.skip)
            fill(x);
        struct kt_err err;
        if (xw_final(p->xw, &r->it, &err) != 0)
            proxy_fail(p, &err);
    } else {
        release_rec(&r->it, r);
    }
    kbuf_free(&x->wire);
    free(x);
}
