/*
 * tcp.h — TCP stream reassembly for capture.
 *
 * Turns segments, in capture order, into the in-order byte stream of each
 * direction of each connection (RFC 9293 sequence space, with wrap-around):
 *
 *   segment ─▶ flow table (4-tuple) ─▶ half (one direction)
 *                 in order: delivered at once, no copy
 *                 ahead of next_seq: held (copied) until the hole fills
 *                 behind next_seq: a retransmission (or the new tail of an overlap)
 *
 * A hole that does not fill (the peer acknowledges bytes held beyond it, the
 * out-of-order bytes of a direction pass their cap, the flow ends or goes
 * idle) becomes a gap: the consumer is told
 * how many bytes are missing and the stream goes on after them. A direction
 * first seen without its SYN starts with a gap of 0 bytes, so the consumer
 * knows it joined mid-stream.
 *
 * Memory is bounded per direction (out-of-order bytes) and in total: the
 * flows themselves, their out-of-order bytes and what the consumer says it
 * holds for each (its `held` callback) count against one cap; past it, the
 * biggest flow (see tcp_table_evict) is ended.
 */
#ifndef KT_TCP_H
#define KT_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

struct tcp_seg_held;

struct tcp_half {
    int started;               /* next_seq is known */
    int closed;                /* FIN delivered, or RST */
    int fin_seen;
    uint32_t next_seq;
    uint32_t fin_seq;
    struct tcp_seg_held *held; /* out-of-order segments, by sequence */
    size_t held_bytes;
    uint64_t delivered;
};

struct tcp_flow {
    struct tcp_addr cli, srv;  /* cli opened the connection (or sent requests) */
    uint64_t id;               /* 1, 2, ... in order of appearance */
    struct tcp_half half[2];   /* 0: client to server, 1: server to client */
    int64_t first_ts, last_ts;
    void *user;                /* the consumer's state for this flow */
    struct tcp_flow *hnext;    /* hash chain */
    struct tcp_flow *prev, *next; /* by last activity, oldest first */
};

enum tcp_dir { TCP_C2S = 0, TCP_S2C = 1 };

/* Why a direction ended. */
enum tcp_end {
    TCP_END_CLOSED,            /* FIN reached, RST, or a new connection on the same addresses */
    TCP_END_IDLE,              /* no packet for the idle timeout */
    TCP_END_EVICTED,           /* ended to keep within the memory cap */
    TCP_END_CAPTURE,           /* the capture itself ended (tcp_table_flush) */
};

/* What the reassembler calls; ctx is the consumer's. */
struct tcp_sink {
    void *ctx;
    void (*data)(void *ctx, struct tcp_flow *f, int dir, const uint8_t *p, size_t n, int64_t ts_ns);
    /* `missing` bytes will never come (0: the direction was joined mid-stream). */
    void (*gap)(void *ctx, struct tcp_flow *f, int dir, uint64_t missing, int64_t ts_ns);
    /* The direction ended, for the reason given. */
    void (*end)(void *ctx, struct tcp_flow *f, int dir, enum tcp_end why, int64_t ts_ns);
    /* The flow is about to be freed. */
    void (*gone)(void *ctx, struct tcp_flow *f);
    /* Bytes the consumer holds for the flow, for the memory cap (NULL: none). */
    size_t (*held)(void *ctx, struct tcp_flow *f);
};

struct tcp_stats {
    uint64_t segments, flows;
    uint64_t retransmissions, out_of_order, gaps, gap_bytes, truncated;
    uint64_t evicted_idle, evicted_memory, evicted_bytes;
};

struct tcp_table;

/*
 * server_ports (n of them, may be 0) tell which side serves when a
 * connection is joined without its handshake. held_cap bounds the
 * out-of-order bytes of one direction, total_cap those of all flows with
 * the flows themselves (the consumer's own bytes are its caller's to weigh:
 * see tcp_table_evict).
 */
struct tcp_table *tcp_table_new(const struct tcp_sink *sink, const uint16_t *server_ports, size_t n,
                                size_t held_cap, size_t total_cap);
void tcp_table_free(struct tcp_table *t);

/* Feeds one segment (segments must come in capture order). */
void tcp_table_segment(struct tcp_table *t, const struct tcp_segment *seg);

/* Flushes flows idle for more than idle_ns before now_ns. */
void tcp_table_expire(struct tcp_table *t, int64_t now_ns, int64_t idle_ns);

/*
 * Ends the flow holding the most bytes (its own and the consumer's) among
 * the EVICT_SAMPLE least recently active and the most recently active one,
 * counting it as evicted by the memory cap. Returns 0 when there is no flow.
 */
int tcp_table_evict(struct tcp_table *t, int64_t now_ns);

/* Flushes every flow (end of capture). */
void tcp_table_flush(struct tcp_table *t, int64_t now_ns);

const struct tcp_stats *tcp_table_stats(const struct tcp_table *t);
/* Out-of-order bytes and flow records held. */
size_t tcp_table_held_bytes(const struct tcp_table *t);
size_t tcp_table_flows(const struct tcp_table *t);

#endif
