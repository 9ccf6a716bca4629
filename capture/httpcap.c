/*
 * httpcap.c — HTTP/1.1 exchanges from TCP streams (RFC 9112; see httpcap.h).
 *
 * Per connection (struct hflow, hung on tcp_flow.user):
 *
 *   client bytes ─▶ http_parser (requests)  ─▶ hx created at the request's first byte,
 *                                              queued until answered
 *   server bytes ─▶ http_parser (responses) ─▶ paired with the oldest unanswered hx
 *
 * A direction that is not in sync (joined mid-stream, after a gap, after a
 * parse error) scans for the next message start line and counts the bytes
 * it skips as unparsable.
 */
#include "httpcap.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "h2cap.h"
#include "tlssni.h"
#include "httpsync.h"
#include "mem.h"
#include "packet.h"

#define SCAN_KEEP 8192
#define H2_SCAN_KEEP (65536 + 18) /* joined, nothing read yet: room for a frame and the next header */

struct hflow;

struct hdir {
    struct hflow *hf;
    int dir;
    http_parser hp;
    int active;                /* the parser is in sync with the stream */
    int junk;                  /* the bytes being skipped have been counted as an unparsable region */
    struct kbuf scan;          /* bytes held while looking for a message start */
    uint64_t seen;             /* bytes delivered on this direction */
    struct hmsg *cur;          /* message being parsed */
    struct hx *cur_x;          /* requests: the exchange of cur; responses: the request answered */
    int in_value;
    int64_t ts;
};

struct hflow {
    struct httpcap *h;
    struct tcp_flow *f;
    struct hdir d[2];
    struct hx *q_head, *q_tail; /* requests awaiting their response, oldest first */
    uint32_t nexch;
    uint64_t conn;             /* connection number in the snapshot, given at its first request */
    int dead;                  /* upgraded: bytes are not HTTP/1.1 */
    int joined;                /* the capture joined it mid-stream */
    int join_noted;            /* the bytes it could not read at the join have been named */
    struct h2conn *h2;         /* HTTP/2 with prior knowledge: h2cap.c reads it */
    enum tcp_end end_why;      /* why its directions ended */
    size_t held;               /* bytes held for this connection (itself included) */
};

struct httpcap {
    struct http_sink sink;
    uint64_t conns;
    size_t max_body;
    struct httpcap_stats st;
    http_parser_settings settings;
    const char *end_text[2];   /* why exchanges still open when the capture ends are cut */
    char notes[HTTPCAP_NOTES][640];
    size_t nnotes;
};

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
static void held_change(struct hflow *hf, size_t before, size_t after)
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

static void queue_remove(struct hflow *hf, struct hx *x)
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

static void finalize(struct hflow *hf, struct hx *x)
{
    if (x->final)
        return;
    x->final = 1;
    queue_remove(hf, x);
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

struct hx *httpcap_exchange_start(struct httpcap *h, struct tcp_flow *f, int64_t ts)
{
    struct hflow *hf = f->user;
    struct hx *x = xcalloc(1, sizeof *x);
    held_change(hf, 0, sizeof *x);
    x->flow = f;
    if (!hf->conn)
        hf->conn = ++h->conns;
    x->conn = hf->conn;
    x->n = ++hf->nexch;
    x->cli = f->cli;
    x->srv = f->srv;
    hmsg_init(&x->req, ts);
    x->req.vmajor = 2;
    x->item.start_ns = ts;
    x->item.release = hx_release;
    x->item.ctx = h;
    h->sink.started(h->sink.ctx, &x->item);
    return x;
}

void httpcap_exchange_final(struct httpcap *h, struct tcp_flow *f, struct hx *x)
{
    (void)h;
    finalize(f->user, x);
}

void httpcap_held_change(struct httpcap *h, struct tcp_flow *f, size_t before, size_t after)
{
    (void)h;
    held_change(f->user, before, after);
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

/* ----------------------------------------------------------- callbacks */

static struct hdir *dir_of(http_parser *p)
{
    return p->data;
}

static int on_message_begin(http_parser *p)
{
    struct hdir *d = dir_of(p);
    struct hflow *hf = d->hf;
    if (d->dir == TCP_C2S) {
        struct hx *x = xcalloc(1, sizeof *x);
        held_change(hf, 0, sizeof *x);
        x->flow = hf->f;
        if (!hf->conn)
            hf->conn = ++hf->h->conns;
        x->conn = hf->conn;
        x->n = ++hf->nexch;
        x->cli = hf->f->cli;
        x->srv = hf->f->srv;
        hmsg_init(&x->req, d->ts);
        x->item.start_ns = d->ts;
        x->item.release = hx_release;
        x->item.ctx = hf->h;
        if (hf->q_tail)
            hf->q_tail->qnext = x;
        else
            hf->q_head = x;
        hf->q_tail = x;
        d->cur_x = x;
        d->cur = &x->req;
        hf->h->sink.started(hf->h->sink.ctx, &x->item);
    } else {
        d->cur = xmalloc(sizeof *d->cur);
        held_change(hf, 0, sizeof *d->cur);
        hmsg_init(d->cur, d->ts);
        /* The oldest request that has no response yet. */
        d->cur_x = NULL;
        for (struct hx *x = hf->q_head; x; x = x->qnext)
            if (!x->resp) {
                d->cur_x = x;
                break;
            }
    }
    d->in_value = 0;
    return 0;
}

static void head_append(struct hdir *d, const char *at, size_t n)
{
    struct kbuf *h = &d->cur->head;
    size_t before = h->cap;
    kbuf_append(h, at, n);
    held_change(d->hf, before, h->cap);
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct hdir *d = dir_of(p);
    if (d->dir == TCP_C2S)
        d->cur->method = p->method;
    head_append(d, at, n);
    d->cur->first_len += (uint32_t)n;
    return 0;
}

static int on_status(http_parser *p, const char *at, size_t n)
{
    return on_url(p, at, n);
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct hdir *d = dir_of(p);
    struct hmsg *m = d->cur;
    if (d->in_value || m->nhdrs == 0) {
        if (m->nhdrs == m->caphdrs) {
            size_t before = m->caphdrs * sizeof *m->hdrs;
            m->caphdrs = m->caphdrs ? m->caphdrs * 2 : 16;
            m->hdrs = xrealloc(m->hdrs, m->caphdrs * sizeof *m->hdrs);
            held_change(d->hf, before, m->caphdrs * sizeof *m->hdrs);
        }
        struct hmsg_header *hd = &m->hdrs[m->nhdrs++];
        memset(hd, 0, sizeof *hd);
        hd->name_off = (uint32_t)m->head.len;
        d->in_value = 0;
    }
    head_append(d, at, n);
    m->hdrs[m->nhdrs - 1].name_len += (uint32_t)n;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct hdir *d = dir_of(p);
    struct hmsg *m = d->cur;
    struct hmsg_header *hd = &m->hdrs[m->nhdrs - 1];
    if (!d->in_value) {
        d->in_value = 1;
        hd->value_off = (uint32_t)m->head.len;
    }
    head_append(d, at, n);
    hd->value_len += (uint32_t)n;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct hdir *d = dir_of(p);
    struct hmsg *m = d->cur;
    m->vmajor = p->http_major;
    m->vminor = p->http_minor;
    if (d->dir == TCP_C2S) {
        m->method = p->method;
        if ((p->flags & F_CONTENTLENGTH) && p->content_length > 0 && p->content_length <= d->hf->h->max_body) {
            size_t before = m->body.cap;
            kbuf_reserve(&m->body, (size_t)p->content_length);
            held_change(d->hf, before, m->body.cap);
        }
        return 0;
    }
    m->status = p->status_code;
    /* A response to HEAD has no body, whatever its headers say. */
    if (d->cur_x && d->cur_x->req.method == HTTP_HEAD)
        return 1;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct hdir *d = dir_of(p);
    struct hmsg *m = d->cur;
    struct httpcap *h = d->hf->h;
    if (m->body.len + n > h->max_body) {
        m->body_dropped += n;
        m->broken = "body larger than --max-body";
        return 0;
    }
    size_t before = m->body.cap;
    kbuf_append(&m->body, at, n);
    held_change(d->hf, before, m->body.cap);
    return 0;
}

/* The current message of d ends (whole or not). */
static void message_done(struct hdir *d)
{
    struct hflow *hf = d->hf;
    struct hmsg *m = d->cur;
    if (!m)
        return;
    m->complete = 1;
    m->end_ns = d->ts;
    d->cur = NULL;
    if (d->dir == TCP_C2S) {
        struct hx *x = d->cur_x;
        d->cur_x = NULL;
        if (x && x->resp)
            finalize(hf, x);
        return;
    }
    struct hx *x = d->cur_x;
    d->cur_x = NULL;
    if (m->status >= 100 && m->status < 200 && m->status != 101 && !m->broken) {
        /* Interim response (100 Continue): the final one follows. */
        held_change(hf, sizeof *m + hmsg_bytes(m), 0);
        hmsg_free(m);
        free(m);
        return;
    }
    if (!x) {
        hf->h->st.orphan_responses++;
        held_change(hf, sizeof *m + hmsg_bytes(m), 0);
        hmsg_free(m);
        free(m);
        return;
    }
    x->resp = m;
    queue_remove(hf, x);
    /* The request is over when its direction has moved past it. */
    if (x->req.complete)
        finalize(hf, x);
}

static int on_message_complete(http_parser *p)
{
    message_done(dir_of(p));
    return 0;
}

/* ------------------------------------------------------------- feeding */

static void feed_parser(struct hdir *d, const uint8_t *p, size_t n);

static void parser_start(struct hdir *d)
{
    http_parser_init(&d->hp, d->dir == TCP_C2S ? HTTP_REQUEST : HTTP_RESPONSE);
    d->hp.data = d;
    d->active = 1;
    d->junk = 0;
    d->in_value = 0;
}

/* d is in a stretch that is not HTTP: counted once, however many segments it spans. */
static void count_region(struct hdir *d)
{
    if (!d->junk) {
        d->hf->h->st.unparsable++;
        d->junk = 1;
    }
}

/* n bytes of d are not HTTP. */
static void skipped(struct hdir *d, uint64_t n)
{
    d->hf->h->st.unparsable_bytes += n;
    if (n)
        count_region(d);
}

/*
 * A connection joined mid-stream that has given no HTTP/1.1 message yet
 * and whose held bytes on d are HTTP/2 frames: read as HTTP/2 from here on,
 * both directions' held bytes handed over. Returns 1 when it was.
 */
static int joined_http2(struct hdir *d)
{
    struct hflow *hf = d->hf;
    int more;
    if (!hf->joined || hf->nexch || hf->dead ||
        h2cap_find_frames((const uint8_t *)d->scan.p, d->scan.len, d->dir, &more) < 0 || more)
        return 0;
    hf->h2 = h2cap_new_joined(hf->h, hf->f);
    hf->h->st.http2_flows++;
    httpcap_flow_note(hf->h, hf->f, "was already open when the capture started: read as HTTP/2 from its first "
                                    "whole frame on (what came before is not read; header fields that refer to it "
                                    "are not decodable and their exchanges are marked incomplete)");
    hf->join_noted = 1;
    for (int i = 0; i < 2; i++) {
        struct kbuf held = hf->d[i].scan;
        kbuf_init(&hf->d[i].scan);
        held_change(hf, held.cap, 0);
        if (held.len)
            h2cap_data(hf->h2, i, (const uint8_t *)held.p, held.len, hf->d[i].ts);
        kbuf_free(&held);
    }
    return 1;
}

/* Looks for a message start in the held bytes plus p; feeds from there when found. */
static void resync(struct hdir *d, const uint8_t *p, size_t n)
{
    size_t before = d->scan.cap;
    kbuf_append(&d->scan, p, n);
    held_change(d->hf, before, d->scan.cap);
    if (joined_http2(d))
        return;
    int need_more;
    long at = httpsync_find_start(d->scan.p, d->scan.len, d->dir == TCP_S2C, &need_more);
    if (at >= 0) {
        skipped(d, (uint64_t)at);
        if (d->hf->joined && !d->hf->join_noted && (at > 0 || d->junk)) {
            d->hf->join_noted = 1;
            httpcap_flow_note(d->hf->h, d->hf->f,
                              d->dir == TCP_C2S
                                  ? "was already open when the capture started: the rest of the request under way "
                                    "then could not be read"
                                  : "was already open when the capture started: the rest of the response under way "
                                    "then could not be read");
        }
        struct kbuf rest = d->scan;
        kbuf_init(&d->scan);
        held_change(d->hf, rest.cap, 0);
        parser_start(d);
        feed_parser(d, (const uint8_t *)rest.p + at, rest.len - (size_t)at);
        kbuf_free(&rest);
        return;
    }
    /* Keep a tail that may hold the start of a start line (or of HTTP/2 frames); the rest is not HTTP. */
    size_t keep = d->hf->joined && !d->hf->nexch ? H2_SCAN_KEEP : SCAN_KEEP;
    if (d->scan.len > keep) {
        size_t drop = d->scan.len - keep;
        skipped(d, drop);
        kbuf_consume(&d->scan, drop);
    }
}

/* Ends the message in progress on d as broken, and looks for the next start. */
static void desync(struct hdir *d, const char *why)
{
    if (d->cur) {
        if (!d->cur->broken)
            d->cur->broken = why;
        message_done(d);
    }
    d->active = 0;
}

static void feed_parser(struct hdir *d, const uint8_t *p, size_t n)
{
    struct hflow *hf = d->hf;
    size_t done = http_parser_execute(&d->hp, &hf->h->settings, (const char *)p, n);
    enum http_errno err = HTTP_PARSER_ERRNO(&d->hp);
    if (err == HPE_OK && !d->hp.upgrade)
        return;
    if (d->hp.upgrade) {
        /* 101 Switching Protocols or CONNECT: what follows is not HTTP/1.1. */
        hf->dead = 1;
        hf->h->st.unparsable_bytes += n - done;
        return;
    }
    desync(d, d->dir == TCP_C2S ? "request is not valid HTTP" : "response is not valid HTTP");
    /* Rescan from just after where the parser gave up; what follows until a message start is the same region. */
    size_t from = done < n ? done + 1 : n;
    hf->h->st.unparsable_bytes += from;
    count_region(d);
    resync(d, p + from, n - from);
}

static struct hflow *flow_state(struct httpcap *h, struct tcp_flow *f)
{
    struct hflow *hf = f->user;
    if (hf)
        return hf;
    hf = xcalloc(1, sizeof *hf);
    hf->h = h;
    hf->f = f;
    held_change(hf, 0, sizeof *hf);
    for (int i = 0; i < 2; i++) {
        hf->d[i].hf = hf;
        hf->d[i].dir = i;
        parser_start(&hf->d[i]);
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
    if (d->active)
        feed_parser(d, p, n);
    else
        resync(d, p, n);
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
    desync(d, dir == TCP_C2S ? "request cut by a TCP gap" : "response cut by a TCP gap");
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
    if (d->active && !hf->dead)
        http_parser_execute(&d->hp, &h->settings, NULL, 0); /* ends a body that runs to the close */
    if (d->cur)
        desync(d, cut_text(h, why, dir));
    if (d->scan.len) {
        count_region(d);
        h->st.unparsable_bytes += d->scan.len;
    }
    held_change(hf, d->scan.cap, 0);
    kbuf_free(&d->scan);
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
            desync(&hf->d[i], cut_text(h, hf->end_why, i));
    /* What is still waiting will not be answered now. */
    while (hf->q_head) {
        struct hx *x = hf->q_head;
        if (!x->req.complete) {
            x->req.complete = 1;
            x->req.broken = cut_text(h, hf->end_why, TCP_C2S);
        }
        finalize(hf, x);
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
    h->settings = (http_parser_settings){
        .on_message_begin = on_message_begin,
        .on_url = on_url,
        .on_status = on_status,
        .on_header_field = on_header_field,
        .on_header_value = on_header_value,
        .on_headers_complete = on_headers_complete,
        .on_body = on_body,
        .on_message_complete = on_message_complete,
    };
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
