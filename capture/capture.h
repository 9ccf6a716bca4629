/*
 * capture.h — the capture engine: frames in, snapshot exchanges out.
 *
 *   frame ─▶ pkt_decode ─▶ tcp_table (reassembly) ─▶ httpcap (HTTP/1.1 exchanges)
 *         ─▶ ordering (request start order) ─▶ snap_writer
 *
 * Where frames come from (live interface, pcap file, a fuzzer) is the
 * caller's business (capture_cmd.c); how exchanges are written is the
 * snapshot writer's. Exchanges are written as they become final, in the
 * order their requests started; an unanswered request holds later exchanges
 * back for at most `reorder_ns` of capture time, after which they are
 * written without it.
 */
#ifndef KT_CAPTURE_H
#define KT_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"
#include "snapshots/snap.h"

struct capture_config {
    const uint16_t *server_ports;   /* which side serves, for connections joined mid-stream */
    size_t nports;
    size_t max_body;                /* per HTTP message */
    size_t max_memory;              /* bytes held for all connections */
    size_t held_cap;                /* out-of-order bytes per direction */
    int64_t idle_ns;                /* a connection idle this long is flushed */
    int64_t reorder_ns;
};

void capture_config_defaults(struct capture_config *cfg);

struct capture;

/* The engine writes exchanges to w (not owned). */
struct capture *capture_new(const struct capture_config *cfg, struct snap_writer *w);
void capture_free(struct capture *c);

/*
 * One frame of link type `linktype`, captured at ts_ns with caplen of len
 * bytes. Returns 0, or -1 when writing the snapshot failed (err set).
 */
int capture_frame(struct capture *c, int linktype, int64_t ts_ns, const uint8_t *data, uint32_t caplen,
                  uint32_t len, struct kt_err *err);

/* Periodic work between frames (idle connections, held exchanges); now_ns is capture time. */
int capture_tick(struct capture *c, int64_t now_ns, struct kt_err *err);

/* Ends every connection, writes what is left and fills the counters (kernel drops are the caller's). */
int capture_finish(struct capture *c, int64_t now_ns, struct snap_stats *st, struct kt_err *err);

/* Counters so far. */
void capture_stats(const struct capture *c, struct snap_stats *st);

#endif
