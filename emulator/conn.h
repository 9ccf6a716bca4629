/*
 * conn.h — an emulator connection: its socket, its output and the protocol
 * spoken on it.
 *
 *   socket ─▶ conn_io (plain; TLS fits here) ─▶ conn ─▶ conn_proto (sniff, HTTP/1.1, HTTP/2)
 *
 * Two tables of functions make the seams, as Redis's ConnectionType and
 * wrk's struct sock do: a conn_io moves bytes to and from the peer, a
 * conn_proto makes requests of them. This layer knows neither HTTP version:
 * a connection starts with the protocol the server gives it (the sniffer,
 * sniff.c), which hands over to the one the first bytes call for with
 * conn_switch. Protocols write into `out` and call conn_flush; they never
 * touch the socket.
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

struct conn;

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
    /* The hold of conn_hold is over. */
    void (*resume)(struct conn *c);
    /* Frees the state (the connection is closing, or switching protocols). */
    void (*free)(struct conn *c);
};

/* How bytes move: read/write return what the system calls do (-1 with errno, EAGAIN included). */
struct conn_io {
    ssize_t (*read)(struct conn *c, void *buf, size_t n);
    ssize_t (*write)(struct conn *c, const void *buf, size_t n);
};

extern const struct conn_io conn_io_plain;

struct conn {
    struct worker *w;
    int fd;
    struct event *rev, *wev, *tev;
    const struct conn_io *io;
    const struct conn_proto *proto;
    void *pstate;              /* the protocol's */
    uint64_t fed;              /* bytes the protocol has consumed */
    struct kbuf out;           /* bytes to write */
    size_t out_off;
    int held;                  /* output held by conn_hold */
    int close_after;           /* close once `out` is written */
    int reading;
};

/*
 * Takes over socket fd (non-blocking) for worker w, speaking `proto` from
 * the first byte. The connection is counted in emu->connections by the
 * caller and uncounted by conn_close. Returns NULL (fd closed) when the
 * protocol cannot start.
 */
struct conn *conn_new(struct worker *w, int fd, const struct conn_proto *proto);

/* Closes and frees the connection now. */
void conn_close(struct conn *c);

/* Writes what it can of `out`; returns -1 once the connection has been closed. */
int conn_flush(struct conn *c);

/* Stops or resumes reading from the peer (backpressure). */
void conn_set_reading(struct conn *c, int on);

/* Holds output for ms milliseconds (KINESIS_LATENCY), then calls proto->resume. */
void conn_hold(struct conn *c, int ms);

/*
 * Hands the connection to protocol p (the old one's state is freed) and
 * feeds it `data`, the bytes the old one had read. Returns what p's feed
 * returns, or -1 when p cannot start.
 */
int conn_switch(struct conn *c, const struct conn_proto *p, const char *data, size_t n);

#endif
