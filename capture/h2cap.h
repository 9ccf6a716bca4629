/*
 * h2cap.h — HTTP/2 exchanges from a reassembled TCP connection that starts
 * with the client preface (h2c with prior knowledge: what the AWS SDK for
 * JavaScript v3 sends to an http:// endpoint).
 *
 * Follows RFC 9113 (frames, streams) and RFC 7541 (HPACK, with nghttp2's
 * inflater, one per direction): every stream is one exchange, its request
 * from the client's HEADERS (CONTINUATION, padding and priority taken off)
 * and DATA, its response from the server's, however many streams run at
 * once. A stream reset (RST_STREAM) is final and marked incomplete.
 *
 * A connection joined mid-stream, or a side that lost bytes in a TCP gap,
 * is read on from its next frame boundary (two frame headers that chain);
 * what came before is counted as not read, and the messages the gap cut
 * are marked so. The peer's HPACK table then holds entries never seen:
 * header fields that refer to them are not decodable, and their messages
 * are recorded with the rest and marked incomplete, never decoded wrongly.
 */
#ifndef KT_H2CAP_H
#define KT_H2CAP_H

#include <stddef.h>
#include <stdint.h>

#include "tcp.h"

struct httpcap;
struct h2conn;

struct h2conn *h2cap_new(struct httpcap *h, struct tcp_flow *f);
/* A connection already open when the capture joined it: no preface, both sides looking for frames. */
struct h2conn *h2cap_new_joined(struct httpcap *h, struct tcp_flow *f);
/*
 * Where whole HTTP/2 frames sent by side dir start in p (a frame header whose
 * next header, right after its payload, checks too): the offset, or -1.
 * *need_more is set when the candidate returned waits for its next header.
 */
long h2cap_find_frames(const uint8_t *p, size_t n, int dir, int *need_more);
void h2cap_data(struct h2conn *c, int dir, const uint8_t *p, size_t n, int64_t ts_ns);
void h2cap_gap(struct h2conn *c, int dir, uint64_t missing, int64_t ts_ns);
/* The connection is gone: open streams are made final, cut with these reasons (client side, server side). */
void h2cap_free(struct h2conn *c, const char *cut_request, const char *cut_response);

#endif
