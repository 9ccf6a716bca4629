/*
 * conn.h — what the emulator's transports share: workers, connections, and
 * the transport-neutral request each protocol hands to the API.
 *
 *   server.c   listener, workers, socket I/O, protocol detection
 *   http1.c    HTTP/1.1 (http-parser)        } both build a struct http_request
 *   http2.c    HTTP/2 over cleartext (nghttp2)  } and call worker_serve()
 *
 * A connection starts in CONN_DETECT: the HTTP/2 client preface
 * ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", RFC 9113 section 3.4) makes it HTTP/2,
 * anything else HTTP/1.1.
 */
#ifndef KT_CONN_H
#define KT_CONN_H

#include <event2/event.h>
#include <http_parser.h>
#include <pthread.h>
#include <stdint.h>

#include "api.h"
#include "buf.h"

struct worker;
struct h2_session;

enum conn_proto { CONN_DETECT, CONN_H1, CONN_H2 };

enum hdr { H_NONE = -1, H_TARGET, H_AUTH, H_CTYPE, H_AMZDATE, H_DATE, H_EXPECT, H_COUNT };

/* The headers the API needs, by index; NULL when absent. */
extern const char *const hdr_names[H_COUNT];
enum hdr hdr_lookup(const char *name, size_t len);

struct http_request {
    int is_get;
    int is_post;
    const char *method;        /* for messages */
    const char *path;
    size_t path_len;
    const char *hval[H_COUNT];
    size_t hlen[H_COUNT];
    char *body;
    size_t body_len;
};

struct http_response {
    int status;
    struct kbuf *body;         /* the worker's scratch buffer */
    int delay_ms;
};

/* HTTP/1.1 state of a connection (http1.c). */
struct h1_state {
    http_parser hp;
    struct kbuf url;
    struct kbuf body;
    struct kbuf hval[H_COUNT];
    int have[H_COUNT];
    char hname[32];
    size_t hname_len;
    int hname_long;
    enum hdr cur;
    int in_value;
    int reject;                /* status of a request refused before its body (413...), or 0 */
};

struct conn {
    struct worker *w;
    int fd;
    struct event *rev, *wev, *tev;
    enum conn_proto proto;
    struct h1_state h1;
    struct h2_session *h2;
    uint64_t fed;              /* bytes fed to the protocol on this connection */
    struct kbuf out;           /* bytes to write */
    size_t out_off;
    struct kbuf pending;       /* input not yet handled (protocol detection, paused HTTP/1.1) */
    int paused;                /* HTTP/1.1: a response is held for KINESIS_LATENCY */
    int close_after;           /* close once `out` is written */
    int reading;
};

struct worker {
    pthread_t tid;
    int index;
    struct emu *emu;
    struct event_base *base;
    int pipe_fd[2];
    struct event *pipe_ev;
    struct api_ctx api;
    struct kbuf resp;          /* response body scratch */
    uint64_t rng;
    int64_t date_sec;
    char date[40];
    struct conn **conns;
    size_t nconns, capconns;
};

/* Answers one request (API call, /health, or a 404/405) into resp. */
void worker_serve(struct worker *w, struct http_request *req, struct http_response *resp);
/* "Tue, 24 Nov 2026 22:02:46 GMT", cached per second. */
const char *worker_http_date(struct worker *w);
/* A request id in UUID form; out needs 37 bytes. */
void worker_request_id(struct worker *w, char *out);
/* A JSON error body {"__type": ..., "message": ...} into out. */
void error_json(struct kbuf *out, const char *type, const char *msg);

/* Socket side (server.c). */
void conn_close(struct conn *c);
/* Writes what it can; returns -1 once the connection has been closed. */
int conn_flush(struct conn *c);
void conn_set_reading(struct conn *c, int on);

/* HTTP/1.1 (http1.c). */
void h1_settings_init(void);
void h1_init(struct conn *c);
void h1_free(struct conn *c);
void h1_feed(struct conn *c, const char *data, size_t n);
/* The held response's delay is over: continue with pipelined input. */
void h1_resume(struct conn *c);

/* HTTP/2 (http2.c). Return -1 when the connection must be closed. */
int h2_start(struct conn *c);
int h2_feed(struct conn *c, const char *data, size_t n);
void h2_free(struct conn *c);

#endif
