/*
 * h2cap.h — HTTP/2 exchanges from a reassembled TCP connection that starts
 * with the client preface (h2c with prior knowledge: what the AWS SDK for
 * JavaScript v3 sends to an http:// endpoint).
 *
 * Follows RFC 9113 (frames, streams) and RFC 7541 (HPACK, with nghttp2's
 * inflater, one per direction): every stream is one exchange, its request
 * from the client's HEADERS (CONTINUATION, padding and priority taken off)
 * and DATA, its response from the server's, however many streams run at
 * once. A stream reset (RST_STREAM) is final and marked incomplete. Bytes
 * lost in a TCP gap lose the header compression state: every open stream
 * is cut (marked so) and the rest of the connection is counted as not
 * parsable, never decoded wrongly.
 */
#ifndef KT_H2CAP_H
#define KT_H2CAP_H

#include <stddef.h>
#include <stdint.h>

#include "tcp.h"

struct httpcap;
struct h2conn;

struct h2conn *h2cap_new(struct httpcap *h, struct tcp_flow *f);
void h2cap_data(struct h2conn *c, int dir, const uint8_t *p, size_t n, int64_t ts_ns);
void h2cap_gap(struct h2conn *c, int dir, uint64_t missing, int64_t ts_ns);
/* The connection is gone: open streams are made final, cut with these reasons (client side, server side). */
void h2cap_free(struct h2conn *c, const char *cut_request, const char *cut_response);

#endif
