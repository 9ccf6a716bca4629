/*
 * capture.h — the frame engine: captured frames in, HTTP exchanges out.
 *
 *   frame ─▶ pkt_decode ─▶ tcp_table (reassembly) ─▶ httpcap (HTTP/1.1 exchanges) ─▶ xwriter
 *
 * Where frames come from (a live interface or a pcap file, pcapsrc.c; a
 * fuzzer) is the caller's business; how an exchange becomes a snapshot line
 * is the exchange writer's (xwriter.h). The engine holds at most
 * max_memory bytes for everything unfinished: the connections (their
 * out-of-order segments, messages being parsed, requests awaiting their
 * answer) and the exchanges waiting for their turn to be written; past it,
 * waiting exchanges are written out of order first, then the connection
 * holding most is ended (counted as evicted by the memory cap).
 */
#ifndef KT_CAPTURE_H
#define KT_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"
#include "snapshots/snap.h"
#include "xwriter.h"

struct capture_config {
    const uint16_t *server_ports;   /* which side serves, for connections joined mid-stream */
    size_t nports;
    size_t max_body;                /* per HTTP message */
    size_t max_memory;              /* bytes held for all connections and waiting exchanges */
    size_t held_cap;                /* out-of-order bytes per direction */
    int64_t idle_ns;                /* a connection idle this long is flushed */
    int64_t reorder_ns;
};

void capture_config_defaults(struct capture_config *cfg);

/* Why the capture ends: what exchanges cut by the end say. */
enum capture_end { CAPTURE_END_FILE, CAPTURE_END_STOPPED };

struct capture;

/* The engine hands its exchanges to xw (not owned). */
struct capture *capture_new(const struct capture_config *cfg, struct xwriter *xw);
void capture_free(struct capture *c);

/*
 * One frame of link type `linktype`, captured at ts_ns with caplen of len
 * bytes. Returns 0, or -1 when writing the snapshot failed (err set).
 */
int capture_frame(struct capture *c, int linktype, int64_t ts_ns, const uint8_t *data, uint32_t caplen,
                  uint32_t len, struct kt_err *err);

/* Periodic work between frames (idle connections, held exchanges); now_ns is capture time. */
int capture_tick(struct capture *c, int64_t now_ns, struct kt_err *err);

/*
 * Ends every connection (their open exchanges say why: the file ended, or
 * the capture was stopped), writes what is left and fills the counters
 * (kernel drops are the caller's).
 */
int capture_finish(struct capture *c, int64_t now_ns, enum capture_end why, struct snap_stats *st,
                   struct kt_err *err);

/* What could not be read, a sentence per connection (see httpcap_note); NULL past the last. */
const char *capture_note(const struct capture *c, size_t i);

/* Counters so far. */
void capture_stats(const struct capture *c, struct snap_stats *st);

#endif
