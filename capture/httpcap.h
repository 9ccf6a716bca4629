/*
 * httpcap.h — HTTP/1.1 exchanges from reassembled TCP streams (and, handed
 * to h2cap.h when a connection starts with the HTTP/2 preface, HTTP/2).
 *
 * Each direction of a connection is parsed with http-parser: requests from
 * the client, responses from the server. Responses answer requests in order
 * (RFC 9112 section 9.3, pipelining included), interim 1xx responses are
 * passed over, and a response to HEAD has no body. When a stream is joined
 * mid-way or loses bytes (a TCP gap), parsing stops and resumes at the next
 * request line (or status line), and the message that was cut is kept and
 * marked incomplete.
 *
 * An exchange (struct hx) is announced when its request starts and handed
 * over when it is final (answered, or known never to be), as the xitem the
 * exchange writer takes (xwriter.h), its snapshot view filled in.
 *
 * Memory: every byte held for a connection (its parsers, messages being
 * parsed, requests awaiting their answer) is counted per connection
 * (httpcap_held, the TCP table's `held` callback) so the memory cap can
 * end the connection holding most; exchanges handed over count in the
 * total until the writer releases them.
 */
#ifndef KT_HTTPCAP_H
#define KT_HTTPCAP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "tcp.h"
#include "xwriter.h"

struct hmsg_header {
    uint32_t name_off, name_len, value_off, value_len;
};

/* One HTTP message. Header names and values live in `head`; the body is de-chunked. */
struct hmsg {
    int64_t ts_ns, end_ns;
    int method;                /* enum http_method of a request; -1 until known */
    int status;                /* responses */
    uint16_t vmajor, vminor;
    struct kbuf head;          /* target or reason phrase first (head_len0 bytes), then header text */
    uint32_t first_len;
    struct hmsg_header *hdrs;
    size_t nhdrs, caphdrs;
    struct kbuf body;
    uint64_t body_dropped;     /* bytes over the body cap */
    int complete;
    const char *broken;        /* why the message is not whole, or NULL */
};

/* An exchange: a request and, once seen, its response. */
struct hx {
    struct xitem item;         /* what the exchange writer sees */
    struct hx *qnext;          /* the connection's requests awaiting a response */
    struct tcp_flow *flow;     /* NULL once final */
    uint64_t conn;
    uint32_t n;
    struct tcp_addr cli, srv;
    struct hmsg req;
    struct hmsg *resp;
    int final;
    const char *incomplete;
    struct snap_kv *kv;        /* the headers of item.x, request's then response's */
    struct snap_msg resp_view; /* item.x.resp points here */
    char req_ver[24], resp_ver[24];
    char *target, *reason;
    size_t bytes;              /* counted in bytes_held */
};

/* Where the exchanges go: started at the request's first byte, final once whole. */
struct http_sink {
    void *ctx;
    void (*started)(void *ctx, struct xitem *it);
    void (*final)(void *ctx, struct xitem *it);
};

struct httpcap_stats {
    uint64_t unparsable;       /* regions of bytes that are not HTTP/1.1, each counted once */
    uint64_t unparsable_bytes;
    uint64_t orphan_responses, http2_flows;
    uint64_t tls_connections;  /* connections whose first bytes were a TLS handshake: not readable */
    uint64_t other_connections; /* connections seen from their start whose first bytes are not HTTP */
    char tls_names[256];       /* the first server names they asked for, comma-separated */
    uint64_t bytes_held;       /* everything held: per connection and handed over */
};

struct httpcap;

/* Exchanges go to sink; bodies over max_body are cut (and marked so). */
struct httpcap *httpcap_new(const struct http_sink *sink, size_t max_body);
void httpcap_free(struct httpcap *h);

/* What an exchange cut by the end of the capture says (default "the capture ended"). */
void httpcap_set_capture_end(struct httpcap *h, const char *mid_request, const char *mid_response);

/*
 * What the capture could not read, one sentence per connection ("10.0.0.5:51234
 * -> 10.0.0.9:443 is TLS (server name ...): ..."), at most HTTPCAP_NOTES of them;
 * NULL past the last.
 */
#define HTTPCAP_NOTES 16
const char *httpcap_note(const struct httpcap *h, size_t i);
/* Adds a note "connection CLI -> SRV <what>" (the HTTP/2 reader's too). */
void httpcap_flow_note(struct httpcap *h, const struct tcp_flow *f, const char *what);

/* The tcp_sink functions, with ctx = the httpcap. */
void httpcap_data(void *ctx, struct tcp_flow *f, int dir, const uint8_t *p, size_t n, int64_t ts_ns);
void httpcap_gap(void *ctx, struct tcp_flow *f, int dir, uint64_t missing, int64_t ts_ns);
void httpcap_end(void *ctx, struct tcp_flow *f, int dir, enum tcp_end why, int64_t ts_ns);
void httpcap_gone(void *ctx, struct tcp_flow *f);
size_t httpcap_held(void *ctx, struct tcp_flow *f);

const struct httpcap_stats *httpcap_stats(const struct httpcap *h);

/* For the HTTP/2 reader (h2cap.h), on connection f: an exchange announced
 * to the sink (its request message started), one made final, memory held
 * for the connection growing from before to after bytes, bytes that are not
 * HTTP (a new region of them, or more of the one counted). */
struct hx *httpcap_exchange_start(struct httpcap *h, struct tcp_flow *f, int64_t ts);
void httpcap_exchange_final(struct httpcap *h, struct tcp_flow *f, struct hx *x);
void httpcap_held_change(struct httpcap *h, struct tcp_flow *f, size_t before, size_t after);
size_t httpcap_max_body(const struct httpcap *h);
void httpcap_unparsable(struct httpcap *h, uint64_t bytes, int new_region);

void hmsg_init(struct hmsg *m, int64_t ts);
void hmsg_free(struct hmsg *m);
size_t hmsg_bytes(const struct hmsg *m);

/* The value of header `name` (case-insensitive) of m, or NULL; *len is set. */
const char *hmsg_header(const struct hmsg *m, const char *name, size_t *len);

#endif
