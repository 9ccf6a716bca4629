/*
 * sender.h — Kinesis calls over libcurl's multi interface, signed with SigV4.
 *
 * PutRecords calls go out side by side, up to `concurrency` in flight, over
 * kept-alive connections (HTTP/1.1; https with the system's certificate
 * authorities or a CA bundle); each is signed for the endpoint's host. A
 * call made before the replay (the preflight) is made and waited for by
 * sender_call.
 */
#ifndef KT_SENDER_H
#define KT_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "batcher.h"
#include "buf.h"
#include "creds.h"
#include "errbuf.h"

struct sender_opts {
    const char *endpoint;      /* http://HOST[:PORT] or https://... */
    const char *ca_bundle;     /* NULL: the system's */
    const struct creds *creds;
    long timeout_ms;
    int concurrency;
};

/* What came back for one call. */
struct sent {
    struct batch *batch;       /* the caller's again */
    const char *transport_error; /* NULL when an HTTP answer came */
    int timed_out;             /* no answer within the timeout */
    long status;
    char *body;                /* the answer (the sender's; the caller may change it in place) */
    size_t len;
    int64_t sent_ns;           /* when it went (monotonic) */
};

struct sender;

struct sender *sender_new(const struct sender_opts *o, struct kt_err *err);
void sender_free(struct sender *s);

const char *sender_url(const struct sender *s);
int sender_inflight(const struct sender *s);
/* 1 when another call may start (fewer than `concurrency` in flight). */
int sender_can_send(const struct sender *s);

/* Starts the PutRecords call of bt, which the sender holds until it is collected. 0, or -1 with err. */
int sender_put(struct sender *s, struct batch *bt, int64_t now, struct kt_err *err);

/* Moves the calls in flight along. */
void sender_perform(struct sender *s);

/* Hands each finished call to done(ctx, sent), then forgets it. Returns how many finished. */
int sender_collect(struct sender *s, void (*done)(void *ctx, const struct sent *r), void *ctx);

/* Sleeps up to ns, waking early when a connection has something for libcurl. */
void sender_wait(struct sender *s, int64_t ns);

/*
 * Makes one Kinesis call (op "DescribeStreamSummary", body JSON) and waits
 * for it: 0 with *status and the answer in resp (caller's, replaced), or -1
 * with err when nothing came back.
 */
int sender_call(struct sender *s, const char *op, const char *body, long *status, struct kbuf *resp,
                struct kt_err *err);

#endif
