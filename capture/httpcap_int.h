/*
 * httpcap_int.h — the per-connection state that httpcap.c (connections,
 * exchanges, what could not be read) and h1cap.c (the HTTP/1.1 reader)
 * share. For those two files only.
 */
#ifndef KT_HTTPCAP_INT_H
#define KT_HTTPCAP_INT_H

#include <http_parser.h>

#include "httpcap.h"

struct hflow;

struct hdir {
    struct hflow *hf;
    int dir;
    http_parser hp;
    int active;                /* the parser is in sync with the stream */
    int junk;                  /* the bytes being skipped have been counted as an unparsable region */
    struct kbuf scan;          /* bytes held while looking for a message start */
    uint64_t seen;             /* bytes delivered on this direction */
    struct hmsg *cur;          /* message being parsed */
    struct hx *cur_x;          /* requests: the exchange of cur; responses: the request answered */
    int in_value;
    int64_t ts;
};

struct hflow {
    struct httpcap *h;
    struct tcp_flow *f;
    struct hdir d[2];
    struct hx *q_head, *q_tail; /* requests awaiting their response, oldest first */
    uint32_t nexch;
    uint64_t conn;             /* connection number in the snapshot, given at its first request */
    int dead;                  /* upgraded: bytes are not HTTP/1.1 */
    int joined;                /* the capture joined it mid-stream */
    int join_noted;            /* the bytes it could not read at the join have been named */
    struct h2conn *h2;         /* HTTP/2 with prior knowledge: h2cap.c reads it */
    enum tcp_end end_why;      /* why its directions ended */
    size_t held;               /* bytes held for this connection (itself included) */
};

struct httpcap {
    struct http_sink sink;
    uint64_t conns;
    size_t max_body;
    struct httpcap_stats st;
    http_parser_settings settings;
    const char *end_text[2];   /* why exchanges still open when the capture ends are cut */
    char notes[HTTPCAP_NOTES][640];
    size_t nnotes;
};

/* httpcap.c, for the HTTP/1.1 reader. */
void hflow_held(struct hflow *hf, size_t before, size_t after); /* memory held for hf: before -> after bytes */
struct hx *hflow_exchange_new(struct hflow *hf, int64_t ts);    /* a new exchange, announced to the sink */
void hflow_queue_remove(struct hflow *hf, struct hx *x);         /* x no longer awaits its response */
void hflow_finalize(struct hflow *hf, struct hx *x);             /* x is over: to the writer */

/* h1cap.c: the HTTP/1.1 reader of one direction. */
void h1cap_settings(http_parser_settings *s);
void h1cap_start(struct hdir *d);                   /* in sync: a message starts with the next byte */
void h1cap_data(struct hdir *d, const uint8_t *p, size_t n);
void h1cap_desync(struct hdir *d, const char *why); /* the message in progress is cut; look for the next */
void h1cap_end(struct hdir *d, const char *cut);    /* the direction ended: a message still open is cut */

#endif
