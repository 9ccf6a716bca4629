/* capture.c — the frame engine (see capture.h). */
#include "capture.h"

#include <stdlib.h>
#include <string.h>

#include "httpcap.h"
#include "mem.h"
#include "packet.h"
#include "tcp.h"

struct capture {
    struct capture_config cfg;
    struct xwriter *xw;
    struct tcp_table *tcp;
    struct httpcap *http;
    int failed;                /* a write failed; the error is in err */
    struct kt_err err;
    int64_t last_tick;
    uint64_t packets, bytes, bad_packets, fragments;
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

static void on_started(void *ctx, struct xitem *it)
{
    struct capture *c = ctx;
    xw_start(c->xw, it);
}

static void on_final(void *ctx, struct xitem *it)
{
    struct capture *c = ctx;
    if (xw_final(c->xw, it, &c->err) != 0)
        c->failed = 1;
}

struct capture *capture_new(const struct capture_config *cfg, struct xwriter *xw)
{
    struct capture *c = xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    c->xw = xw;
    struct http_sink hs = {c, on_started, on_final};
    c->http = httpcap_new(&hs, cfg->max_body);
    struct tcp_sink ts = {c->http, httpcap_data, httpcap_gap, httpcap_end, httpcap_gone, httpcap_held};
    c->tcp = tcp_table_new(&ts, cfg->server_ports, cfg->nports, cfg->held_cap, cfg->max_memory);
    return c;
}

void capture_free(struct capture *c)
{
    if (!c)
        return;
    /* Connections still open end here; their exchanges go to the writer, which releases them. */
    tcp_table_free(c->tcp);
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

static size_t held(const struct capture *c)
{
    return httpcap_stats(c->http)->bytes_held + tcp_table_held_bytes(c->tcp);
}

/* Keeps what is held within max_memory: waiting exchanges go out first, then the biggest connections. */
static void within_memory(struct capture *c, int64_t now_ns)
{
    if (held(c) <= c->cfg.max_memory)
        return;
    if (xw_drain(c->xw, now_ns, 1, &c->err) != 0)
        c->failed = 1;
    while (held(c) > c->cfg.max_memory && tcp_table_evict(c->tcp, now_ns))
        ;
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
    within_memory(c, ts_ns);
    if (ts_ns - c->last_tick > 1000000000LL) {
        c->last_tick = ts_ns;
        capture_tick(c, ts_ns, NULL);
    }
    return check(c, err);
}

int capture_tick(struct capture *c, int64_t now_ns, struct kt_err *err)
{
    tcp_table_expire(c->tcp, now_ns, c->cfg.idle_ns);
    if (xw_drain(c->xw, now_ns, 0, &c->err) != 0)
        c->failed = 1;
    return check(c, err);
}

void capture_stats(const struct capture *c, struct snap_stats *st)
{
    const struct tcp_stats *ts = tcp_table_stats(c->tcp);
    const struct httpcap_stats *hs = httpcap_stats(c->http);
    struct xw_counts n;
    xw_counts(c->xw, &n);
    memset(st, 0, sizeof *st);
    st->exchanges = n.exchanges;
    st->complete = n.complete;
    st->incomplete = n.incomplete;
    st->packets = c->packets;
    st->bytes = c->bytes;
    st->tcp_gaps = ts->gaps;
    st->tcp_gap_bytes = ts->gap_bytes;
    st->retransmissions = ts->retransmissions;
    st->out_of_order = ts->out_of_order;
    st->truncated_packets = ts->truncated + c->bad_packets + c->fragments;
    st->unparsable = hs->unparsable;
    st->unparsable_bytes = hs->unparsable_bytes;
    st->evicted_idle = ts->evicted_idle;
    st->evicted_memory = ts->evicted_memory;
    st->evicted_bytes = ts->evicted_bytes;
    st->orphan_responses = hs->orphan_responses;
    st->tls_connections = hs->tls_connections;
    st->other_connections = hs->other_connections;
    memcpy(st->tls_names, hs->tls_names, sizeof st->tls_names);
}

int capture_finish(struct capture *c, int64_t now_ns, enum capture_end why, struct snap_stats *st,
                   struct kt_err *err)
{
    if (why == CAPTURE_END_FILE)
        httpcap_set_capture_end(c->http, "the capture file ended mid-request", "the capture file ended mid-response");
    else
        httpcap_set_capture_end(c->http, "the capture stopped mid-request", "the capture stopped mid-response");
    tcp_table_flush(c->tcp, now_ns);
    if (xw_drain(c->xw, now_ns, 1, &c->err) != 0)
        c->failed = 1;
    capture_stats(c, st);
    st->ended_ns = now_ns;
    return check(c, err);
}

const char *capture_note(const struct capture *c, size_t i)
{
    return httpcap_note(c->http, i);
}
