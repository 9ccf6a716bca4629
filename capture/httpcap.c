/*
 * httpcap.c — HTTP exchanges from TCP streams (see httpcap.h): the
 * connections, their exchanges, and what could not be read.
 *
 * Per connection (struct hflow, hung on tcp_flow.user):
 *
 *   first bytes ─▶ TLS? another protocol? named (a note), counted
 *   client bytes ─▶ HTTP/1.1 reader (h1cap.c) or HTTP/2 reader (h2cap.c) ─▶ hx created at a
 *                   request's first byte, final when answered (or cut), then to the sink
 *   server bytes ─▶ the same reader ─▶ the answer of its hx
 */
#include "httpcap_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "h2cap.h"
#include "httpsync.h"
#include "mem.h"
#include "packet.h"
#include "tlssni.h"

const char *httpcap_note(const struct httpcap *h, size_t i)
{
    return i < h->nnotes ? h->notes[i] : NULL;
}

void httpcap_flow_note(struct httpcap *h, const struct tcp_flow *f, const char *what)
{
    if (h->nnotes >= HTTPCAP_NOTES)
        return;
    char cli[48], srv[48];
    pkt_addr_text(&f->cli, cli);
    pkt_addr_text(&f->srv, srv);
    snprintf(h->notes[h->nnotes++], sizeof h->notes[0], "connection %s:%u -> %s:%u %.400s", cli, f->cli.port, srv,
             f->srv.port, what);
}

/* A connection seen from its start whose first bytes are no HTTP (nor TLS, nor HTTP/2): said by name. */
static void other_protocol(struct httpcap *h, struct hflow *hf, int dir, const uint8_t *p, size_t n)
{
    char first[64] = "", what[200];
    for (size_t i = 0, k = 0; i < n && i < 8 && k + 4 < sizeof first; i++)
        k += (size_t)snprintf(first + k, sizeof first - k, "%s%02x", i ? " " : "", p[i]);
    h->st.other_connections++;
    snprintf(what, sizeof what,
             "does not start with HTTP/1.1, HTTP/2 or TLS (the %s sent first: %s): what is not HTTP is not read",
             dir == TCP_C2S ? "client" : "server", first);
    httpcap_flow_note(h, hf->f, what);
}

/* A connection whose first bytes are a TLS handshake: said by name, its bytes counted as not readable. */
static void tls_connection(struct httpcap *h, struct hflow *hf, int dir, const uint8_t *p, size_t n)
{
    char sni[256] = "";
    if (dir == TCP_C2S)
        tls_client_hello_sni(p, n, sni, sizeof sni);
    hf->dead = 1;
    h->st.tls_connections++;
    h->st.unparsable++;
    h->st.unparsable_bytes += n;
    size_t used = strlen(h->st.tls_names);
    if (sni[0] && !strstr(h->st.tls_names, sni) && used + strlen(sni) + 3 < sizeof h->st.tls_names)
        snprintf(h->st.tls_names + used, sizeof h->st.tls_names - used, "%s%s", used ? ", " : "", sni);
    char what[400];
    snprintf(what, sizeof what,
             "is TLS%s%s%s: its bytes cannot be read from packets; record it with `kintape proxy` (README, Proxy)",
             sni[0] ? " (server name " : "", sni, sni[0] ? ")" : "");
    httpcap_flow_note(h, hf->f, what);
}

/* Memory held for hf grew (or shrank) from `before` to `after` bytes. */
void hflow_held(struct hflow *hf, size_t before, size_t after)
{
    hf->held += after - before;
    hf->h->st.bytes_held += after - before;
}

size_t hmsg_bytes(const struct hmsg *m)
{
    return m->head.cap + m->body.cap + m->caphdrs * sizeof *m->hdrs;
}

void hmsg_init(struct hmsg *m, int64_t ts)
{
    memset(m, 0, sizeof *m);
    m->method = -1;
    m->ts_ns = ts;
    m->end_ns = ts;
}

void hmsg_free(struct hmsg *m)
{
    kbuf_free(&m->head);
    kbuf_free(&m->body);
    free(m->hdrs);
}

/* Memory of an exchange: its record, its messages, its snapshot view. */
static size_t hx_bytes(const struct hx *x)
{
    size_t n = sizeof *x + hmsg_bytes(&x->req);
    if (x->resp)
        n += sizeof *x->resp + hmsg_bytes(x->resp);
    return n;
}

static void hx_destroy(struct hx *x)
{
    hmsg_free(&x->req);
    if (x->resp) {
        hmsg_free(x->resp);
        free(x->resp);
    }
    free(x->kv);
    free(x->target);
    free(x->reason);
    free(x);
}

/* The exchange writer is done with it. */
static void hx_release(struct xitem *it, void *ctx)
{
    struct httpcap *h = ctx;
    struct hx *x = (struct hx *)it;
    h->st.bytes_held -= x->bytes;
    hx_destroy(x);
}

const char *hmsg_header(const struct hmsg *m, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *found = NULL;
    for (size_t i = 0; i < m->nhdrs; i++) {
        const struct hmsg_header *hd = &m->hdrs[i];
        if (hd->name_len == nl && strncasecmp(m->head.p + hd->name_off, name, nl) == 0) {
            found = m->head.p + hd->value_off;
            *len = hd->value_len;
        }
    }
    return found;
}

/* ----------------------------------------------------------- exchanges */

void hflow_queue_remove(struct hflow *hf, struct hx *x)
{
    for (struct hx **pp = &hf->q_head; *pp; pp = &(*pp)->qnext) {
        if (*pp == x) {
            *pp = x->qnext;
            if (hf->q_tail == x) {
                hf->q_tail = NULL;
                for (struct hx *t = hf->q_head; t; t = t->qnext)
                    hf->q_tail = t;
            }
            x->qnext = NULL;
            return;
        }
    }
}

static void version_text(char *out, size_t cap, const struct hmsg *m)
{
    if (m->vmajor == 2)
        snprintf(out, cap, "HTTP/2");
    else
        snprintf(out, cap, "HTTP/%u.%u", m->vmajor ? m->vmajor : 1u, m->vmajor ? m->vminor : 1u);
}

static size_t fill_kv(struct snap_kv *kv, const struct hmsg *m)
{
    for (size_t i = 0; i < m->nhdrs; i++) {
        const struct hmsg_header *h = &m->hdrs[i];
        kv[i] = (struct snap_kv){m->head.p + h->name_off, h->name_len, m->head.p + h->value_off, h->value_len};
    }
    return m->nhdrs;
}

/* Fills the exchange's snapshot view (x->item.x) from its messages. */
static void describe(struct hx *x)
{
    static char empty[1];
    struct snap_exchange *e = &x->item.x;
    memset(e, 0, sizeof *e);
    e->ts_ns = x->req.ts_ns;
    pkt_addr_text(&x->cli, e->client_ip);
    pkt_addr_text(&x->srv, e->server_ip);
    e->client_port = x->cli.port;
    e->server_port = x->srv.port;
    e->conn = x->conn;
    e->n = x->n;
    e->incomplete = x->incomplete;
    size_t nkv = x->req.nhdrs + (x->resp ? x->resp->nhdrs : 0);
    x->kv = nkv ? xmalloc(nkv * sizeof *x->kv) : NULL;
    /* The target and the reason phrase are the first bytes of `head`: cut them there. */
    x->target = xstrndup(x->req.head.p ? x->req.head.p : "", x->req.first_len);
    struct snap_msg *rq = &e->req;
    version_text(x->req_ver, sizeof x->req_ver, &x->req);
    rq->ts_ns = x->req.ts_ns;
    rq->version = x->req_ver;
    rq->method = x->req.method >= 0 ? http_method_str((enum http_method)x->req.method) : "";
    rq->target = x->target;
    rq->headers = x->kv;
    rq->nheaders = x->kv ? fill_kv(x->kv, &x->req) : 0;
    rq->body = (const uint8_t *)(x->req.body.p ? x->req.body.p : empty);
    rq->body_len = x->req.body.len;
    size_t bytes = nkv * sizeof *x->kv + x->req.first_len + 1;
    if (x->resp) {
        const struct hmsg *m = x->resp;
        struct snap_msg *rs = &x->resp_view;
        x->reason = xstrndup(m->head.p ? m->head.p : "", m->first_len);
        version_text(x->resp_ver, sizeof x->resp_ver, m);
        rs->ts_ns = m->ts_ns;
        rs->version = x->resp_ver;
        rs->status = m->status;
        rs->reason = x->reason;
        rs->headers = x->kv ? x->kv + rq->nheaders : NULL;
        rs->nheaders = x->kv ? fill_kv(x->kv + rq->nheaders, m) : 0;
        rs->body = (const uint8_t *)(m->body.p ? m->body.p : empty);
        rs->body_len = m->body.len;
        e->resp = rs;
        e->end_ns = m->end_ns;
        bytes += m->first_len + 1;
    }
    x->bytes += bytes;
}

void hflow_finalize(struct hflow *hf, struct hx *x)
{
    if (x->final)
        return;
    x->final = 1;
    hflow_queue_remove(hf, x);
    if (x->req.broken)
        x->incomplete = x->req.broken;
    else if (!x->resp)
        x->incomplete = "no response";
    else if (x->resp->broken)
        x->incomplete = x->resp->broken;
    if (hf->d[0].cur_x == x) {
        hf->d[0].cur_x = NULL;
        hf->d[0].cur = NULL;
    }
    if (hf->d[1].cur_x == x)
        hf->d[1].cur_x = NULL;
    x->flow = NULL;
    /* Its memory now counts for the writer, not for the connection. */
    size_t bytes = hx_bytes(x);
    hf->held -= bytes;
    x->bytes = bytes;
    describe(x);
    hf->h->st.bytes_held += x->bytes - bytes;
    hf->h->sink.final(hf->h->sink.ctx, &x->item);
}

/* ------------------------------------------------- for the HTTP/2 reader */

struct hx *hflow_exchange_new(struct hflow *hf, int64_t ts)
{
    struct hx *x = xcalloc(1, sizeof *x);
    hflow_held(hf, 0, sizeof *x);
    x->flow = hf->f;
    if (!hf->conn)
        hf->conn = ++hf->h->conns;
    x->conn = hf->conn;
    x->n = ++hf->nexch;
    x->cli = hf->f->cli;
    x->srv = hf->f->srv;
    hmsg_init(&x->req, ts);
    x->item.start_ns = ts;
    x->item.release = hx_release;
    x->item.ctx = hf->h;
    hf->h->sink.started(hf->h->sink.ctx, &x->item);
    return x;
}

struct hx *httpcap_exchange_start(struct httpcap *h, struct tcp_flow *f, int64_t ts)
{
    (void)h;
    struct hx *x = hflow_exchange_new(f->user, ts);
    x->req.vmajor = 2;
    return x;
}

void httpcap_exchange_final(struct httpcap *h, struct tcp_flow *f, struct hx *x)
{
    (void)h;
    hflow_finalize(f->user, x);
}

void httpcap_held_change(struct httpcap *h, struct tcp_flow *f, size_t before, size_t after)
{
    (void)h;
    hflow_held(f->user, before, after);
}

size_t httpcap_max_body(const struct httpcap *h)
{
    return h->max_body;
}

void httpcap_unparsable(struct httpcap *h, uint64_t bytes, int new_region)
{
    h->st.unparsable_bytes += bytes;
    h->st.unparsable += new_region != 0;
}

static struct hflow *flow_state(struct httpcap *h, struct tcp_flow *f)
{
    struct hflow *hf = f->user;
    if (hf)
        return hf;
    hf = xcalloc(1, sizeof *hf);
    hf->h = h;
    hf->f = f;
    hflow_held(hf, 0, sizeof *hf);
    for (int i = 0; i < 2; i++) {
        hf->d[i].hf = hf;
        hf->d[i].dir = i;
        h1cap_start(&hf->d[i]);
    }
    f->user = hf;
    return hf;
}

void httpcap_data(void *ctx, struct tcp_flow *f, int dir, const uint8_t *p, size_t n, int64_t ts_ns)
{
    struct httpcap *h = ctx;
    struct hflow *hf = flow_state(h, f);
    struct hdir *d = &hf->d[dir];
    if (d->seen == 0 && dir == TCP_C2S && !hf->h2 && n >= 14 && memcmp(p, "PRI * HTTP/2.0", 14) == 0) {
        hf->h2 = h2cap_new(h, f);
        h->st.http2_flows++;
    }
    if (d->seen == 0 && !hf->h2 && !hf->dead && hf->d[!dir].seen == 0 && tls_looks_like_handshake(p, n)) {
        d->seen += n;
        tls_connection(h, hf, dir, p, n);
        return;
    }
    if (d->seen == 0 && hf->d[!dir].seen == 0 && !hf->joined && !hf->h2 && !hf->dead && n >= 4) {
        int more = 0;
        int h2 = dir == TCP_C2S && memcmp(p, "PRI * HTTP/2.0", n < 14 ? n : 14) == 0;
        if (!h2 && httpsync_find_start((const char *)p, n, dir == TCP_S2C, &more) != 0 && !more)
            other_protocol(h, hf, dir, p, n); /* said by name; the bytes go on to be read as far as they are HTTP */
    }
    d->seen += n;
    if (hf->h2) {
        h2cap_data(hf->h2, dir, p, n, ts_ns);
        return;
    }
    if (hf->dead) {
        h->st.unparsable_bytes += n;
        return;
    }
    d->ts = ts_ns;
    h1cap_data(d, p, n);
}

void httpcap_gap(void *ctx, struct tcp_flow *f, int dir, uint64_t missing, int64_t ts_ns)
{
    struct httpcap *h = ctx;
    struct hflow *hf = flow_state(h, f);
    struct hdir *d = &hf->d[dir];
    d->ts = ts_ns;
    if (hf->h2) {
        h2cap_gap(hf->h2, dir, missing, ts_ns);
        return;
    }
    if (missing == 0) {
        /* Joined mid-stream: wait for a message start. */
        hf->joined = 1;
        d->active = 0;
        return;
    }
    h1cap_desync(d, dir == TCP_C2S ? "request cut by a TCP gap" : "response cut by a TCP gap");
}

/* Why a message still open when its direction ends was cut, by the reason the direction ended. */
static const char *cut_text(const struct httpcap *h, enum tcp_end why, int dir)
{
    static const char *const texts[][2] = {
        [TCP_END_CLOSED] = {"connection closed mid-request", "connection closed mid-response"},
        [TCP_END_IDLE] = {"connection idle past --idle-timeout mid-request",
                          "connection idle past --idle-timeout mid-response"},
        [TCP_END_EVICTED] = {"connection evicted by the memory cap mid-request",
                             "connection evicted by the memory cap mid-response"},
    };
    if (why == TCP_END_CAPTURE)
        return h->end_text[dir];
    return texts[why][dir];
}

void httpcap_end(void *ctx, struct tcp_flow *f, int dir, enum tcp_end why, int64_t ts_ns)
{
    struct httpcap *h = ctx;
    struct hflow *hf = flow_state(h, f);
    struct hdir *d = &hf->d[dir];
    d->ts = ts_ns;
    hf->end_why = why;
    if (hf->h2)
        return; /* its streams are cut when the connection goes (httpcap_gone) */
    h1cap_end(d, cut_text(h, why, dir));
}

void httpcap_gone(void *ctx, struct tcp_flow *f)
{
    struct httpcap *h = ctx;
    struct hflow *hf = f->user;
    if (!hf)
        return;
    if (hf->h2) {
        h2cap_free(hf->h2, cut_text(h, hf->end_why, TCP_C2S), cut_text(h, hf->end_why, TCP_S2C));
        hf->h2 = NULL;
    }
    for (int i = 0; i < 2; i++)
        if (hf->d[i].cur)
            h1cap_desync(&hf->d[i], cut_text(h, hf->end_why, i));
    /* What is still waiting will not be answered now. */
    while (hf->q_head) {
        struct hx *x = hf->q_head;
        if (!x->req.complete) {
            x->req.complete = 1;
            x->req.broken = cut_text(h, hf->end_why, TCP_C2S);
        }
        hflow_finalize(hf, x);
    }
    for (int i = 0; i < 2; i++)
        kbuf_free(&hf->d[i].scan);
    /* Every exchange has gone to the writer: what is left is the connection's own. */
    h->st.bytes_held -= hf->held;
    free(hf);
    f->user = NULL;
}

size_t httpcap_held(void *ctx, struct tcp_flow *f)
{
    (void)ctx;
    struct hflow *hf = f->user;
    return hf ? hf->held : 0;
}

void httpcap_set_capture_end(struct httpcap *h, const char *mid_request, const char *mid_response)
{
    h->end_text[TCP_C2S] = mid_request;
    h->end_text[TCP_S2C] = mid_response;
}

struct httpcap *httpcap_new(const struct http_sink *sink, size_t max_body)
{
    struct httpcap *h = xcalloc(1, sizeof *h);
    h->sink = *sink;
    h->max_body = max_body;
    httpcap_set_capture_end(h, "capture ended mid-request", "capture ended mid-response");
    h1cap_settings(&h->settings);
    return h;
}

void httpcap_free(struct httpcap *h)
{
    free(h);
}

const struct httpcap_stats *httpcap_stats(const struct httpcap *h)
{
    return &h->st;
}
