/*
 * server.h — the emulator's HTTP/1.1 server.
 *
 * One acceptor (the calling thread) hands connections round-robin to worker
 * threads; each worker runs its own libevent loop, parses requests with
 * http-parser and answers them through api_handle. Keep-alive, pipelining,
 * Expect: 100-continue and chunked bodies are supported; every length a
 * client declares is capped before memory is spent on it.
 */
#ifndef KT_SERVER_H
#define KT_SERVER_H

#include "api.h"

/*
 * Listens on cfg.host:cfg.port (port 0 picks a free one), prints
 * "kintape emulator listening on http://HOST:PORT" on stdout and serves until
 * SIGINT or SIGTERM. Returns 0, or 1 after printing why it could not start.
 */
int server_run(struct emu *emu);

#endif
