/*
 * proxy_int.h — the recording proxy's parts, as its files share them.
 *
 *   proxy.c      lifecycle, listener, what a new connection speaks
 *   proxy_h1.c   client side HTTP/1.1: requests, CONNECT, tunnels
 *   proxy_h2.c   client side HTTP/2 (nghttp2 server session)
 *   proxy_x.c    one exchange: the request forwarded, the answer handed back, the record
 *   proxy_up.c   upstream connections: HTTP/1.1 (over verified TLS), kept alive in a pool
 *   proxy_tls.c  the CA, minted certificates, the TLS contexts
 *   proxy_rule.c which hosts are intercepted or reachable, connect-to, URLs, the log
 *
 * Calls go down this list (h1 starts h2 after ALPN; upstream and exchange
 * talk back to their owners through the function pointers below).
 */
#ifndef KT_PROXY_INT_H
#define KT_PROXY_INT_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <http_parser.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "proxy.h"

#define PROXY_OUT_HIGH ((size_t)1 << 20)  /* bytes queued to a client before its upstream is paused */
#define PROXY_IDLE_MAX 64                 /* idle upstream connections kept */
#define PROXY_IDLE_NS (30LL * 1000000000LL)

/* --------------------------------------------------------------- rules */

struct hostport {
    char host[256];
    uint16_t port;
};

struct rule {
    char host[256];            /* pattern: '*' matches one or more characters within a label run */
    uint16_t port;             /* 0: the default port of the context */
};

struct remap {
    struct hostport from, to;
};

/* "host:port", "[v6]:port" or "host" (port 0) into hp; 0, or -1. */
int hp_parse(const char *s, size_t n, struct hostport *hp);
/* Case-insensitive glob match of a host name against a pattern ('*' matches any run of characters). */
int host_match(const char *pattern, const char *host);

/* ------------------------------------------------------------------ tls */

struct ptls;

/* Loads DIR's CA (NULL dir: no interception, no TLS clients); the upstream context verifies against upstream_ca. */
struct ptls *ptls_new(const char *ca_dir, const char *upstream_ca, struct kt_err *err);
void ptls_free(struct ptls *t);
int ptls_has_ca(const struct ptls *t);
/* A server-side SSL presenting a certificate for host (minted once, cached); ALPN offers h2 and http/1.1. */
SSL *ptls_accept(struct ptls *t, const char *host, struct kt_err *err);
/* A client-side SSL for host: SNI, name check, the upstream trust store, ALPN http/1.1. */
SSL *ptls_connect(struct ptls *t, const char *host, struct kt_err *err);
/* Why a client-side handshake failed, in words ("certificate verify failed: self-signed certificate"). */
void ptls_why(SSL *ssl, unsigned long err_code, char *out, size_t n);
const char *ptls_ca_path(const struct ptls *t);

/* --------------------------------------------------------------- proxy */

struct pconn;
struct pex;
struct pup;

struct proxy_counts {
    uint64_t connections, handshake_failures, upstream_failures, refused, tunnels;
};

struct proxy {
    struct proxy_config cfg;
    struct event_base *base;
    struct evdns_base *dns;
    struct evconnlistener *lis;
    int port;
    struct xwriter *xw;
    struct ptls *tls;
    int reverse;
    struct hostport up;        /* reverse mode's upstream */
    int up_tls;
    char up_hostheader[300];   /* "host" or "host:port", as Host says it */
    struct rule *intercept, *allow;
    size_t nintercept, nallow;
    struct remap *remap;
    size_t nremap;
    struct pconn *conns;       /* every client connection */
    struct pup *idle;          /* idle upstream connections, most recent first */
    size_t nidle;
    uint64_t next_conn;
    struct proxy_counts n;
    struct event *tick, *wake;
    int wake_fd[2];
    int64_t started_ns;
    int failed, stopping;
    struct kt_err err;
};

/* An event for the operator, through the config's log callback. */
void plog(struct proxy *p, enum proxy_log level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Where to connect for hp (connect-to applied) into out. */
void proxy_route(const struct proxy *p, const struct hostport *hp, struct hostport *out);
/* 1 when the forward proxy intercepts CONNECT hp; 2 when it may tunnel it; 0 when it may not. */
int proxy_connect_policy(const struct proxy *p, const struct hostport *hp);
/* 1 for a hop-by-hop header of an answer (Connection, Transfer-Encoding, ...): not passed on to the client. */
int proxy_hop_header(const char *name, size_t len);
/* 1 when a plain http:// request may go to hp. */
int proxy_http_allowed(const struct proxy *p, const struct hostport *hp);
/* A record handed to the snapshot writer failed to write: the proxy stops. */
void proxy_fail(struct proxy *p, const struct kt_err *err);
int64_t proxy_now_ns(void);

/* ----------------------------------------------------------- exchange */

/* A header list: names and values in one text buffer, by offset. */
struct phdr {
    uint32_t no, nl, vo, vl;
};

struct pmsg {
    struct kbuf text;          /* target (requests) then header names and values */
    struct phdr *h;
    size_t nh, caph;
    struct kbuf body;          /* at most max_body bytes */
    uint64_t body_total;       /* bytes of body seen */
    int64_t ts_ns;
};

/* What the owner (client side) of an exchange is told. */
struct pex_ops {
    void (*head)(struct pex *x);                           /* the response's status and headers */
    void (*body)(struct pex *x, const uint8_t *p, size_t n);
    void (*end)(struct pex *x);                            /* the response is whole */
    void (*fail)(struct pex *x, int status, const char *why); /* no (more) response: status for the client */
};

struct prec;

struct pex {
    struct pconn *c;
    const struct pex_ops *ops;
    void *owner;               /* the client side's per-exchange state (an HTTP/2 stream) */
    struct prec *rec;          /* the record: request and response as they passed */
    struct pup *up;
    struct hostport target;    /* the host the request is for */
    int tls;                   /* to the target over TLS */
    int retried;
    int head_request;          /* HEAD: the answer has no body */
    int resp_started, resp_done;
    int status;
    char reason[64];
    int64_t resp_length;       /* Content-Length of the answer, -1 when none */
    int resp_chunked;
    int paused;
    struct kbuf wire;          /* the request's head as sent upstream (its body is the record's) */
};

/* The request's parts, as the client side parses them. */
struct pex *pex_new(struct pconn *c, const struct pex_ops *ops, void *owner, int64_t start_ns);
void pex_method(struct pex *x, const char *m, size_t n);
void pex_target(struct pex *x, const char *t, size_t n);
void pex_version(struct pex *x, const char *v);
void pex_header(struct pex *x, const char *name, size_t nl, const char *value, size_t vl);
/* 0, or -1 when the body passed max_body. */
int pex_body(struct pex *x, const uint8_t *p, size_t n);
/* The request is whole: announce, route, send. When it cannot be sent, ops->fail is called. */
void pex_send(struct pex *x);
/* The response's headers, as received (for the client side to copy). */
const struct pmsg *pex_resp(const struct pex *x);
const char *pex_text(const struct pmsg *m, uint32_t off);
/* Stop / resume reading the answer (the client is slow). */
void pex_pause(struct pex *x, int pause);
/* The client side is done with x: its record is written (with why when it is not whole), x is freed. */
void pex_close(struct pex *x, const char *why);
/* The request's header value, or NULL. */
const char *pex_req_header(const struct pex *x, const char *name, size_t *len);

/* ------------------------------------------------------------ upstream */

struct pup_ops {
    int (*head)(void *ctx, int status, const char *reason, size_t rl, const struct http_parser *hp);
    void (*header)(void *ctx, const char *name, size_t nl, const char *value, size_t vl);
    void (*body)(void *ctx, const uint8_t *p, size_t n);
    void (*end)(void *ctx, int keepalive);
    /*
     * The connection failed (and is freed): stage 0 before it connected, 1
     * before any answer, 2 during it; reused: it had been idle in the pool
     * (a retry on a new connection is worth it).
     */
    void (*fail)(void *ctx, int stage, int reused, const char *why);
};

/* An upstream connection to hp over TLS or not, from the pool or new; the request in wire is sent on it. */
struct pup *pup_open(struct proxy *p, const struct hostport *hp, int tls, const struct pup_ops *ops, void *ctx,
                     int head_request, struct kt_err *err);
void pup_send(struct pup *u, const void *data, size_t n);
void pup_pause(struct pup *u, int pause);
/* The answer was read whole with keep-alive: the connection goes back to the pool; else it is closed. */
void pup_release(struct pup *u, int reusable);
/* The peer's address, for the record. */
void pup_peer(const struct pup *u, char *ip, size_t n, uint16_t *port);
void pup_close_idle(struct proxy *p, int64_t now_ns, int all);

/* --------------------------------------------------------- client side */

struct pconn {
    struct proxy *p;
    struct pconn *prev, *next;
    struct bufferevent *bev;
    uint64_t id;
    uint32_t n;                /* exchanges so far */
    char ip[48];
    uint16_t port;
    char local_ip[48];
    uint16_t local_port;
    int tls;                   /* the client speaks TLS to us */
    int h2;
    struct hostport origin;    /* where origin-form requests go (intercepted CONNECT, reverse) */
    int origin_tls;
    int have_origin;
    char sni[256];
    /* HTTP/1.1 */
    http_parser parser;
    struct pex *cur;           /* the exchange being read or answered */
    struct kbuf hname, hvalue; /* the header being parsed */
    int hstate;
    int want_close;
    int resp_chunked;
    int paused;                /* parser paused at a request's end */
    int connect_req;           /* a CONNECT is being read */
    struct kbuf target_buf;    /* the request target being read */
    /* HTTP/2 */
    void *h2s;
    void (*proto_free)(struct pconn *c, const char *why); /* frees what the protocol holds */
    /* a tunnel */
    struct bufferevent *peer;
    struct event *linger;      /* waits for the last bytes to leave before the close */
    int closing;
};

/* A new client connection (proxy.c accepted it): HTTP/1.1, or HTTP/2 with prior knowledge. */
void h1_start(struct pconn *c);
void h2_start(struct pconn *c);
/* Wraps c's connection in TLS (server side) for host, then speaks what ALPN chose. */
void pconn_tls_accept(struct pconn *c, const char *host);

/* proxy_conn.c: a client connection on fd (accepted), listed in p. */
struct pconn *pconn_new(struct proxy *p, int fd, const struct sockaddr *sa, int salen);
/* Frees the connection and what it holds; open exchanges are recorded as incomplete (why). */
void pconn_free(struct pconn *c, const char *why);
/* Frees c once everything queued for the client (through TLS too) has been written. */
void pconn_free_drained(struct pconn *c);

#endif
