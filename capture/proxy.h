/*
 * proxy.h — the recording proxy: a source of exchanges that forwards
 * applications' Kinesis calls and records each exchange on the way.
 *
 *   client ─▶ listener ─▶ (CONNECT ─▶ TLS with a minted certificate) ─▶ HTTP/1.1 or HTTP/2
 *          ─▶ exchange ─▶ upstream (HTTP/1.1, TLS verified) ─▶ response streamed back
 *                    └──▶ xwriter (the snapshot)
 *
 * Forward mode (no upstream): an HTTP proxy. CONNECT to a host that matches
 * the intercept patterns is answered with a certificate for that host made
 * by the local CA, and the plaintext exchanges inside are forwarded over
 * verified TLS and recorded; other CONNECT targets are tunnelled untouched;
 * absolute-form http:// requests are forwarded and recorded. Reverse mode
 * (upstream set): the clients' endpoint is the proxy; every request goes to
 * the upstream, re-signed when resign is set. Either way a client may speak
 * HTTP/2 (ALPN h2 over TLS; h2c with prior knowledge in reverse mode).
 *
 * The proxy runs its own event loop (proxy_run) in the calling thread until
 * proxy_stop, which is safe to call from a signal handler. It never prints:
 * what an operator should see goes to the config's log callback. The caller
 * ignores SIGPIPE (a client gone mid-write must be an error return).
 */
#ifndef KT_PROXY_H
#define KT_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "creds.h"
#include "errbuf.h"
#include "snapshots/snap.h"
#include "xwriter.h"

enum proxy_log { PROXY_LOG_INFO, PROXY_LOG_WARN, PROXY_LOG_ERROR };

struct proxy_config {
    const char *listen_host;        /* "127.0.0.1" */
    int listen_port;                /* 0: any free port (proxy_port says which) */
    const char *upstream;           /* reverse mode: "https://kinesis.eu-west-1.amazonaws.com"; NULL: forward */
    const char *ca_dir;             /* CA for interception and TLS clients: DIR/ca.pem, DIR/ca-key.pem */
    const char *upstream_ca;        /* PEM bundle the upstream's certificate must chain to; NULL: the system's */
    const char *const *intercept;   /* extra HOST[:PORT] patterns to intercept (forward mode) */
    size_t nintercept;
    const char *const *allow;       /* HOST[:PORT] patterns: the only hosts that may be reached (none: any) */
    size_t nallow;
    const char *const *connect_to;  /* "HOST:PORT=ADDR:PORT": where to connect for HOST:PORT (tests, staging) */
    size_t nconnect_to;
    const struct creds *resign;     /* reverse mode: sign forwarded requests again with these; NULL: as sent */
    size_t max_body;                /* bytes of a body recorded; larger requests are refused (413) */
    int64_t reorder_ns;             /* how long an unfinished exchange holds later ones back */
    int connect_timeout_ms, upstream_timeout_ms, client_timeout_ms;
    uint64_t count;                 /* stop after this many exchanges are written (0: no limit) */
    int64_t duration_ns;            /* stop after this long (0: no limit) */
    /* What an operator should see: a handshake a client refused, an upstream that failed. */
    void (*log)(void *ctx, enum proxy_log level, const char *msg);
    /* Called about ten times a second; nonzero stops the proxy (e.g. the snapshot could not be flushed). */
    int (*tick)(void *ctx);
    void *ctx;
};

void proxy_config_defaults(struct proxy_config *cfg);

struct proxy;

/* Loads the CA, binds the listener; exchanges go to xw (not owned). NULL with err set. */
struct proxy *proxy_new(const struct proxy_config *cfg, struct xwriter *xw, struct kt_err *err);
/* The port listened on. */
int proxy_port(const struct proxy *p);
/* Serves until proxy_stop, --count or --duration; 0, or -1 with err set (the snapshot could not be written). */
int proxy_run(struct proxy *p, struct kt_err *err);
/* Asks proxy_run to return; async-signal-safe. */
void proxy_stop(struct proxy *p);
/*
 * Ends every connection (open exchanges are written as incomplete: "the
 * proxy was stopped"), writes what is left and fills st.
 */
int proxy_finish(struct proxy *p, struct snap_stats *st, struct kt_err *err);
void proxy_free(struct proxy *p);

/* The CA: DIR/ca.pem and DIR/ca-key.pem (0600), made when absent; its path into ca_path. 1 made, 0 already there, -1. */
int proxy_init_ca(const char *dir, char *ca_path, size_t n, struct kt_err *err);

/* 1 when host (no port) is a Kinesis endpoint the forward proxy intercepts by default. */
int proxy_is_kinesis_host(const char *host);

#endif
