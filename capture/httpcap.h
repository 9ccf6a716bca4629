/*
 * httpcap.h — HTTP/1.1 exchanges from reassembled TCP streams.
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
 * over when it is final: answered, or known never to be.
 */
#ifndef KT_HTTPCAP_H
#define KT_HTTPCAP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "tcp.h"

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
    struct hx *prev, *next;    /* the capture's list, in request start order */
    struct hx *qnext;          /* the connection's requests awaiting a response */
    struct tcp_flow *flow;     /* NULL once the flow is gone */
    uint64_t conn;
    uint32_t n;
    struct tcp_addr cli, srv;
    struct hmsg req;
    struct hmsg *resp;
    int final;
    const char *incomplete;
};

struct http_sink {
    void *ctx;
    void (*started)(void *ctx, struct hx *x);
    void (*final)(void *ctx, struct hx *x);
};

struct httpcap_stats {
    uint64_t unparsable, unparsable_bytes, orphan_responses, http2_flows, bytes_held;
};

struct httpcap;

struct httpcap *httpcap_new(const struct http_sink *sink, size_t max_body);
void httpcap_free(struct httpcap *h);

/* The tcp_sink functions, with ctx = the httpcap. */
void httpcap_data(void *ctx, struct tcp_flow *f, int dir, const uint8_t *p, size_t n, int64_t ts_ns);
void httpcap_gap(void *ctx, struct tcp_flow *f, int dir, uint64_t missing, int64_t ts_ns);
void httpcap_end(void *ctx, struct tcp_flow *f, int dir, int64_t ts_ns);
void httpcap_gone(void *ctx, struct tcp_flow *f);

const struct httpcap_stats *httpcap_stats(const struct httpcap *h);

/* Frees an exchange the sink has finished with. */
void hx_free(struct httpcap *h, struct hx *x);

/* The value of header `name` (case-insensitive) of m, or NULL; *len is set. */
const char *hmsg_header(const struct hmsg *m, const char *name, size_t *len);

#endif
