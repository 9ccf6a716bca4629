/*
 * server.h — the emulator's listener and worker threads.
 *
 * One acceptor (the thread that calls server_run) hands each connection to
 * a worker round-robin through a pipe; each worker runs its own libevent
 * loop and owns its connections (conn.c) and API scratch state, so workers
 * share nothing but the emulator. Every connection starts with TLS
 * detection (tls.h, unless --no-tls) and protocol detection (sniff.c).
 *
 * The front end (emulator_cmd.c) owns the terminal and the signals: it
 * prints where the server listens and calls server_stop from its handlers.
 */
#ifndef KT_SERVER_H
#define KT_SERVER_H

#include "emu.h"
#include "errbuf.h"

struct server;

/*
 * Listens on cfg.host:cfg.port (port 0 picks a free one) and starts the
 * worker threads. Returns NULL with err set when it cannot.
 */
struct server *server_new(struct emu *emu, struct kt_err *err);

/* Where it listens: "127.0.0.1:4566" or "[::1]:4566". */
const char *server_address(const struct server *s);
int server_workers(const struct server *s);

/* Accepts connections until server_stop is called, then stops the workers. Returns 0. */
int server_run(struct server *s);

/* Makes server_run return. Async-signal-safe (one write to a pipe). */
void server_stop(struct server *s);

/* Frees a server that has run, or one that never did. */
void server_free(struct server *s);

/* The worker the next connection goes to, round-robin: *next counts connections (unsigned, so it wraps). */
static inline unsigned server_pick_worker(unsigned *next, int nworkers)
{
    return (*next)++ % (unsigned)nworkers;
}

#endif
