/*
 * conn.h — an emulator connection: its socket, its output and the protocol
 * spoken on it.
 *
 *   socket ─▶ conn_io (plain, or TLS: tls.h) ─▶ conn ─▶ conn_proto (sniff, HTTP/1.1, HTTP/2)
 *
 * Two tables of functions make the seams, as Redis's ConnectionType and
 * wrk's struct sock do: a conn_io moves bytes to and from the peer, a
 * conn_proto makes requests of them. This layer knows neither HTTP version:
 * a connection starts with the protocol the server gives it (the sniffer,
 * sniff.c), which hands over to the one the first bytes call for with
 * conn_switch. Protocols write into `out` and call conn_flush; they never
 * touch the socket.
 *
 * Backpressure, as Redis's client output buffer limits: a protocol asks
 * conn_over_cap before it serves a request; when a connection's unsent
 * answers pass CONN_OUT_CAP, or all connections' together pass
 * TOTAL_OUT_CAP, it calls conn_block and takes no more requests (and the
 * connection is not read) until the answers drain below CONN_OUT_RESUME and
 * the total is under its cap again; then proto->resume. A peer that goes
 * away while blocked is noticed at the next write, and what it had queued
 * is dropped with the connection.
 *
 * Everything here runs on the connection's worker thread.
 */
#ifndef KT_CONN_H
#define KT_CONN_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "worker.h"

#define CONN_OUT_CAP ((size_t)8 << 20)      /* unsent answer bytes a connection may hold before it waits */
#define CONN_OUT_RESUME ((size_t)4 << 20)   /* ... and below which it goes on */
#define TOTAL_OUT_CAP ((size_t)256 << 20)   /* unsent answer bytes of all connections together */

struct conn;
struct pool_job;

/* A protocol: its state hangs on conn->pstate. */
struct conn_proto {
    const char *name;
    /* Sets up the protocol's state; -1 closes the connection. */
    int (*start)(struct conn *c);
    /*
     * Bytes from the peer. -1: the connection must end (after what is in
     * `out` is written). It appends to `out` but does not flush or close:
     * the caller does, once feed has returned.
     */
    int (*feed)(struct conn *c, const char *data, size_t n);
    /* A hold (conn_hold) or a wait (conn_block, conn_yield) is over: go on with what was queued. */
    void (*resume)(struct conn *c);
    /* The deadline of conn_deadline passed. */
    void (*timeout)(struct conn *c);
    /* A call the pool made for this connection is done (pool.h): answer it; the job stays the caller's. */
    void (*answer)(struct conn *c, struct pool_job *job);
    /*
     * Optional: all output is written; the protocol may append more to `out`
     * (HTTP/2 moves its frames in a little at a time rather than copying a
     * whole answer in at once). Returns 1 when it did.
     */
    int (*more)(struct conn *c);
    /* Frees the state (the connection is closing, or switching protocols). */
    void (*free)(struct conn *c);
};

/* A large answer body handed over whole (conn_out_take), written after `out` and the segments before it. */
struct conn_seg {
    struct conn_seg *next;
    struct kbuf b;
};

/*
 * How bytes move: read/write return what the system calls do (-1 with
 * errno, EAGAIN included). An io may replace itself on the connection
 * (c->io) inside read, as TLS detection does on the first byte.
 */
struct conn_io {
    ssize_t (*read)(struct conn *c, void *buf, size_t n);
    ssize_t (*write)(struct conn *c, const void *buf, size_t n);
    /* A short read does not mean the socket is drained (TLS reads one record at a time). */
    int read_all;
    /* Optional: 1 when bytes already taken from the socket wait inside the io. */
    int (*pending)(struct conn *c);
    /* Optional: frees the io's state (c->iostate); the socket is still open. */
    void (*close)(struct conn *c);
};

extern const struct conn_io conn_io_plain;

struct conn {
    struct worker *w;
    uint64_t id;               /* unique in its worker: a pool job finds its connection by it */
    int fd;
    char peer[64];             /* "127.0.0.1:40000", for messages */
    struct event *rev, *wev, *tev, *kev, *dev;
    const struct conn_io *io;
    void *iostate;             /* the io's */
    const char *alpn;          /* over TLS: "h2", "http/1.1" or "" (none agreed); NULL when plain */
    int io_wants_write;        /* the io waits for the socket to take bytes before it can read (a handshake) */
    const struct conn_proto *proto;
    void *pstate;              /* the protocol's */
    uint64_t fed;              /* bytes the protocol has consumed */
    struct kbuf out;           /* bytes to write */
    size_t out_off;
    struct conn_seg *segs, *last; /* written after `out`, in order: bodies handed over (conn_out_take) */
    size_t extra;              /* answer bytes the protocol holds outside `out` (HTTP/2 streams) */
    size_t counted;            /* what this connection adds to the emulator's total now */
    int held;                  /* output held by conn_hold */
    int blocked;               /* waiting for its answers to drain (conn_block) */
    int close_after;           /* close once `out` is written */
    int waiting;               /* a call of it is out in the pool */
    int streaming;             /* SubscribeToShard streams it carries: it is not idle while they last */
    int reading;
};

/*
 * Takes over socket fd (non-blocking) for worker w, moving bytes with `io`
 * and speaking `proto` from the first byte. The connection is counted in emu->connections by the
 * caller and uncounted by conn_close. Returns NULL (fd closed) when the
 * protocol cannot start.
 */
struct conn *conn_new(struct worker *w, int fd, const struct conn_io *io, const struct conn_proto *proto);

/* Worker w's connection with this id, or NULL when it has closed. */
struct conn *conn_find(struct worker *w, uint64_t id);

/* Closes and frees the connection now. */
void conn_close(struct conn *c);

/* Where the next bytes of output go (after everything queued so far). */
static inline struct kbuf *conn_out(struct conn *c)
{
    return c->last ? &c->last->b : &c->out;
}

/*
 * Queues all of *body as output after what is queued, taking its buffer
 * rather than copying when it is large (*body is left empty either way):
 * a worker never copies a large answer, however many wait to be sent.
 */
void conn_out_take(struct conn *c, struct kbuf *body);

/* Answer bytes queued and not yet written (in `out` and the segments). */
size_t conn_unsent(const struct conn *c);

/* Writes what it can of the output; returns -1 once the connection has been closed. */
int conn_flush(struct conn *c);

/* Stops or resumes reading from the peer. */
void conn_set_reading(struct conn *c, int on);

/* Holds output for ms milliseconds (KINESIS_LATENCY), then calls proto->resume. */
void conn_hold(struct conn *c, int ms);

/* 1 when the connection must not take another request now: see the caps above. */
int conn_over_cap(struct conn *c);
/* Takes no more requests and stops reading until the caps allow; then proto->resume. */
void conn_block(struct conn *c);
/* Stops reading and lets the worker serve others; proto->resume at the loop's next turn. */
void conn_yield(struct conn *c);
/* The protocol now holds `bytes` of answers outside `out` (counted against the caps). */
void conn_set_extra(struct conn *c, size_t bytes);

/* Calls proto->timeout in ms milliseconds (replacing any earlier deadline); 0 clears it. */
void conn_deadline(struct conn *c, int64_t ms);

/* With --verbose: one line for a protocol error, naming the peer (rate-limited per worker). */
void conn_log(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Hands the connection to protocol p (the old one's state is freed) and
 * feeds it `data`, the bytes the old one had read. Returns what p's feed
 * returns, or -1 when p cannot start.
 */
int conn_switch(struct conn *c, const struct conn_proto *p, const char *data, size_t n);

#endif
