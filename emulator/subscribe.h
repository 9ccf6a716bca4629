/*
 * subscribe.h — SubscribeToShard's event streams (enhanced fan-out).
 *
 * The operation (ops_consumers.c) checks the call and says where the
 * subscription starts (struct sub_req); the protocol that carried it
 * (HTTP/1.1 chunked, or an HTTP/2 stream) sends the 200 and its headers
 * and hands the rest to a subscription: sub_start. From then on events are
 * pushed, not polled:
 *
 *   PutRecord(s) on any thread ─▶ shard_wake ─▶ the subscription's worker (eventfd)
 *       ─▶ sub_pump: records since its position ─▶ SubscribeToShardEvent ─▶ sink
 *
 * An idle subscription costs nothing but its memory and one timer (its end,
 * after --subscription-ms, 5 minutes as on AWS). Flow control: a
 * subscription reads no more records while its sink holds SUB_BACKLOG
 * bytes unsent (the peer is slower than the records arrive); the protocol
 * calls sub_kick once it has sent them, so memory per subscriber is bounded
 * and no record is skipped.
 *
 * Everything but the wake runs on the worker thread of the connection.
 */
#ifndef KT_SUBSCRIBE_H
#define KT_SUBSCRIBE_H

#include <stddef.h>
#include <stdint.h>

#include "subreq.h"
#include "worker.h"

#define SUB_BACKLOG ((size_t)2 << 20)   /* unsent event bytes a subscription may have in its sink */
#define SUB_EVENT_BYTES ((size_t)1 << 20) /* record bytes in one event, at most */
#define SUB_EVENT_RECORDS 10000

/* How events leave: the protocol's. Each is called on the worker thread, never from inside the protocol. */
struct sub_sink {
    void (*send)(void *ctx, const void *p, size_t n);  /* one whole event-stream message */
    size_t (*backlog)(void *ctx);                       /* bytes sent but not yet written to the peer */
    void (*flush)(void *ctx);                           /* after a round of sends */
    void (*end)(void *ctx);                             /* the stream is over: end the response (the sub is freed) */
};

struct sub;

/* Starts pushing events for req through sink (initial-response first). */
struct sub *sub_start(struct worker *w, const struct sub_req *req, const struct sub_sink *sink, void *ctx);
/* The sink has written its backlog down: go on (at the loop's next turn). */
void sub_kick(struct sub *s);
/* The peer has gone (connection or stream closed): stop and free, without calling the sink. */
void sub_cancel(struct sub *s);

/* A worker's side: its eventfd that wakes its subscriptions. 0, or -1 (errno). */
int sub_worker_init(struct worker *w);
void sub_worker_free(struct worker *w);

#endif
