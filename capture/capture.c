/* capture.c — the capture engine (see capture.h). */
#include "capture.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpcap.h"
#include "jread.h"
#include "mem.h"
#include "packet.h"
#include "tcp.h"

struct capture {
    struct capture_config cfg;
    struct snap_writer *w;
    struct tcp_table *tcp;
    struct httpcap *http;
    struct hx *head, *tail;    /* exchanges in request start order, written from the head */
    size_t listed;
    int failed;                /* a write failed; the error is in err */
    struct kt_err err;
    int64_t last_tick;
    uint64_t packets, bytes, bad_packets, fragments;
    uint64_t exchanges, complete, incomplete;
};

void capture_config_defaults(struct capture_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_body = (size_t)64 << 20;
    cfg->max_memory = (size_t)1 << 30;
    cfg->held_cap = (size_t)16 << 20;
    cfg->idle_ns = 300 * 1000000000LL;
    cfg->reorder_ns = 10 * 1000000000LL;
}

/* ---------------------------------------------------------------- writing */

static void version_text(char *out, const struct hmsg *m)
{
    snprintf(out, 24, "HTTP/%u.%u", m->vmajor ? m->vmajor : 1u, m->vmajor ? m->vminor : 1u);
}

static size_t to_kv(const struct hmsg *m, struct snap_kv **kv)
{
    *kv = m->nhdrs ? xmalloc(m->nhdrs * sizeof **kv) : NULL;
    for (size_t i = 0; i < m->nhdrs; i++) {
        const struct hmsg_header *h = &m->hdrs[i];
        (*kv)[i] = (struct snap_kv){m->head.p + h->name_off, h->name_len, m->head.p + h->value_off, h->value_len};
    }
    return m->nhdrs;
}

/* Operation from X-Amz-Target ("Kinesis_20131202.PutRecords"), stream from the body. */
static void decode_kinesis(const struct hx *x, struct snap_exchange *e)
{
    size_t tl;
    const char *t = hmsg_header(&x->req, "X-Amz-Target", &tl);
    if (t) {
        const char *dot = memchr(t, '.', tl);
        e->operation = dot ? dot + 1 : t;
        e->operation_len = dot ? tl - (size_t)(dot + 1 - t) : tl;
    }
    const char *body = x->req.body.p;
    size_t blen = x->req.body.len;
    const char *v;
    size_t vl;
    if (!body || !blen)
        return;
    if (jscan_top_string(body, blen, "StreamName", &v, &vl) == 1) {
        e->stream = v;
        e->stream_len = vl;
    } else if (jscan_top_string(body, blen, "StreamARN", &v, &vl) == 1) {
        /* arn:aws:kinesis:region:account:stream/NAME */
        for (size_t i = 0; i + 7 <= vl; i++) {
            if (memcmp(v + i, ":stream/", 8) == 0 && i + 8 <= vl) {
                e->stream = v + i + 8;
                e->stream_len = vl - i - 8;
                break;
            }
        }
    }
}

static void fill_msg(struct snap_msg *out, const struct hmsg *m, struct snap_kv *kv, size_t nkv, char *version,
                     int request)
{
    version_text(version, m);
    memset(out, 0, sizeof *out);
    out->ts_ns = m->ts_ns;
    out->version = version;
    out->headers = kv;
    out->nheaders = nkv;
    out->body = (const uint8_t *)(m->body.p ? m->body.p : "");
    out->body_len = m->body.len;
    static char empty[1];
    if (request) {
        out->method = m->method >= 0 ? http_method_str((enum http_method)m->method) : "";
        out->target = m->head.p ? m->head.p : empty;
    } else {
        out->status = m->status;
        out->reason = m->head.p ? m->head.p : empty;
    }
}

static int write_exchange(struct capture *c, struct hx *x)
{
    struct snap_exchange e;
    memset(&e, 0, sizeof e);
    e.ts_ns = x->req.ts_ns;
    pkt_addr_text(&x->cli, e.client_ip);
    pkt_addr_text(&x->srv, e.server_ip);
    e.client_port = x->cli.port;
    e.server_port = x->srv.port;
    e.conn = x->conn;
    e.n = x->n;
    struct snap_kv *rq_kv, *rs_kv = NULL;
    char rq_ver[24], rs_ver[24];
    /* The target and reason phrases are the first bytes of `head`; cut them there for the writer. */
    char *target = xstrndup(x->req.head.p ? x->req.head.p : "", x->req.first_len);
    size_t nrq = to_kv(&x->req, &rq_kv);
    fill_msg(&e.req, &x->req, rq_kv, nrq, rq_ver, 1);
    e.req.target = target;
    struct snap_msg resp;
    char *reason = NULL;
    if (x->resp) {
        size_t nrs = to_kv(x->resp, &rs_kv);
        fill_msg(&resp, x->resp, rs_kv, nrs, rs_ver, 0);
        reason = xstrndup(x->resp->head.p ? x->resp->head.p : "", x->resp->first_len);
        resp.reason = reason;
        e.resp = &resp;
        e.end_ns = x->resp->end_ns;
    }
    e.incomplete = x->incomplete;
    decode_kinesis(x, &e);
    int rc = snap_writer_add(c->w, &e, &c->err);
    free(rq_kv);
    free(rs_kv);
    free(target);
    free(reason);
    c->exchanges++;
    if (x->incomplete)
        c->incomplete++;
    else
        c->complete++;
    return rc;
}

static void unlist(struct capture *c, struct hx *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        c->head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    else
        c->tail = x->prev;
    c->listed--;
}

static void write_and_free(struct capture *c, struct hx *x)
{
    unlist(c, x);
    if (!c->failed && write_exchange(c, x) != 0)
        c->failed = 1;
    hx_free(c->http, x);
}

/* Writes final exchanges from the head; past the reorder window, also those behind a waiting one. */
static void drain(struct capture *c, int64_t now_ns, int force)
{
    while (c->head && c->head->final)
        write_and_free(c, c->head);
    if (!c->head)
        return;
    if (force || now_ns - c->head->req.ts_ns > c->cfg.reorder_ns ||
        httpcap_stats(c->http)->bytes_held > c->cfg.max_memory) {
        struct hx *x = c->head;
        while (x) {
            struct hx *next = x->next;
            if (x->final)
                write_and_free(c, x);
            x = next;
        }
    }
}

static void on_started(void *ctx, struct hx *x)
{
    struct capture *c = ctx;
    x->prev = c->tail;
    x->next = NULL;
    if (c->tail)
        c->tail->next = x;
    else
        c->head = x;
    c->tail = x;
    c->listed++;
}

static void on_final(void *ctx, struct hx *x)
{
    struct capture *c = ctx;
    if (x == c->head)
        drain(c, x->req.ts_ns, 0);
}

/* ------------------------------------------------------------------- api */

struct capture *capture_new(const struct capture_config *cfg, struct snap_writer *w)
{
    struct capture *c = xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    c->w = w;
    struct http_sink hs = {c, on_started, on_final};
    c->http = httpcap_new(&hs, cfg->max_body);
    struct tcp_sink ts = {c->http, httpcap_data, httpcap_gap, httpcap_end, httpcap_gone};
    c->tcp = tcp_table_new(&ts, cfg->server_ports, cfg->nports, cfg->held_cap, cfg->max_memory);
    return c;
}

void capture_free(struct capture *c)
{
    if (!c)
        return;
    tcp_table_free(c->tcp);
    while (c->head) {
        struct hx *x = c->head;
        unlist(c, x);
        hx_free(c->http, x);
    }
    httpcap_free(c->http);
    free(c);
}

static int check(struct capture *c, struct kt_err *err)
{
    if (c->failed) {
        if (err)
            *err = c->err;
        return -1;
    }
    return 0;
}

int capture_frame(struct capture *c, int linktype, int64_t ts_ns, const uint8_t *data, uint32_t caplen,
                  uint32_t len, struct kt_err *err)
{
    struct tcp_segment seg;
    const char *why;
    c->packets++;
    c->bytes += len;
    enum pkt_result r = pkt_decode(linktype, data, caplen, len, &seg, &why);
    if (r == PKT_TCP) {
        seg.ts_ns = ts_ns;
        tcp_table_segment(c->tcp, &seg);
    } else if (r == PKT_FRAGMENT) {
        c->fragments++;
    } else if (r != PKT_OTHER) {
        c->bad_packets++;
    }
    /* Memory held by unfinished HTTP messages: evict the connection holding most. */
    while (httpcap_stats(c->http)->bytes_held + tcp_table_held_bytes(c->tcp) > c->cfg.max_memory &&
           tcp_table_evict_largest(c->tcp, ts_ns))
        ;
    if (ts_ns - c->last_tick > 1000000000LL) {
        c->last_tick = ts_ns;
        capture_tick(c, ts_ns, NULL);
    }
    return check(c, err);
}

int capture_tick(struct capture *c, int64_t now_ns, struct kt_err *err)
{
    tcp_table_expire(c->tcp, now_ns, c->cfg.idle_ns);
    drain(c, now_ns, 0);
    return check(c, err);
}

void capture_stats(const struct capture *c, struct snap_stats *st)
{
    const struct tcp_stats *ts = tcp_table_stats(c->tcp);
    const struct httpcap_stats *hs = httpcap_stats(c->http);
    memset(st, 0, sizeof *st);
    st->exchanges = c->exchanges;
    st->complete = c->complete;
    st->incomplete = c->incomplete;
    st->packets = c->packets;
    st->bytes = c->bytes;
    st->tcp_gaps = ts->gaps;
    st->tcp_gap_bytes = ts->gap_bytes;
    st->retransmissions = ts->retransmissions;
    st->out_of_order = ts->out_of_order;
    st->truncated_packets = ts->truncated + c->bad_packets + c->fragments;
    st->unparsable = hs->unparsable + hs->http2_flows;
    st->unparsable_bytes = hs->unparsable_bytes;
    st->evicted_idle = ts->evicted_idle;
    st->evicted_memory = ts->evicted_memory;
    st->orphan_responses = hs->orphan_responses;
}

int capture_finish(struct capture *c, int64_t now_ns, struct snap_stats *st, struct kt_err *err)
{
    tcp_table_flush(c->tcp, now_ns);
    drain(c, now_ns, 1);
    capture_stats(c, st);
    st->ended_ns = now_ns;
    return check(c, err);
}
