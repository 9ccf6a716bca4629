/*
 * xwriter.h — the exchange writer: how an exchange becomes a snapshot line.
 *
 *   source ─ xw_start ─▶ order (by request start) ─ xw_final ─▶ decode Kinesis ─▶ snap_writer ─▶ counts
 *
 * Every source of exchanges (the libpcap frame engine, capture.c; the
 * recording proxy) hands them to one xwriter, which decodes what the
 * snapshot says about Kinesis (the operation from X-Amz-Target, the stream
 * from the body), writes them in the order their requests started and
 * counts them. A source announces an exchange when its request starts
 * (xw_start) and hands it over whole when it is final (xw_final); an
 * exchange that is not final holds the ones after it back for at most the
 * reorder window, after which they are written without it.
 */
#ifndef KT_XWRITER_H
#define KT_XWRITER_H

#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"
#include "snapshots/snap.h"

/*
 * One exchange, embedded in the source's own record of it. The source owns
 * it and everything `x` points to until the writer calls release, which it
 * does once the exchange is written (or dropped: xw_free).
 */
struct xitem {
    struct xitem *prev, *next; /* the writer's */
    int64_t start_ns;          /* when the request started: the order */
    int final;
    int skip;                  /* final, and not to be written (the exchange never happened) */
    struct snap_exchange x;    /* filled by the source before xw_final (operation and stream: the writer's) */
    void (*release)(struct xitem *it, void *ctx);
    void *ctx;
};

struct xw_counts {
    uint64_t exchanges, complete, incomplete;
    uint64_t waiting;          /* announced, not yet written */
};

struct xwriter;

/* Writes into w (not owned); reorder_ns is the reorder window, in the sources' time. */
struct xwriter *xw_new(struct snap_writer *w, int64_t reorder_ns);
/* Releases what was never written, and frees the writer. */
void xw_free(struct xwriter *xw);

/* A request started: `it` takes its place in the order (sources announce in start order). */
void xw_start(struct xwriter *xw, struct xitem *it);

/*
 * `it` is whole and its x is filled: written as soon as its turn comes (or,
 * with it->skip set, released then without a line). 0, or -1 (write failed, err set).
 */
int xw_final(struct xwriter *xw, struct xitem *it, struct kt_err *err);

/*
 * Writes what the reorder window no longer holds back at time now_ns; with
 * force, every final exchange at once (the caller needs the memory back, or
 * the capture is ending). 0, or -1 with err set.
 */
int xw_drain(struct xwriter *xw, int64_t now_ns, int force, struct kt_err *err);

void xw_counts(const struct xwriter *xw, struct xw_counts *out);

/*
 * The operation ("PutRecords", from X-Amz-Target "Kinesis_20131202.PutRecords")
 * and the stream (StreamName, or the name in StreamARN) of a request, in
 * JSON or CBOR, as views into it (or, for CBOR, into xw's scratch, good
 * until the next call); each NULL when absent.
 */
void xw_decode_kinesis(struct xwriter *xw, const struct snap_msg *req, const char **op, size_t *op_len,
                       const char **stream, size_t *stream_len);

#endif
