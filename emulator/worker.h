/*
 * worker.h — one worker thread of the emulator: its event loop, its
 * connections and its per-thread API state. Workers share nothing but the
 * emulator (emu.h); everything here is touched by its own thread only.
 */
#ifndef KT_WORKER_H
#define KT_WORKER_H

#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "buf.h"

struct conn;
struct pool;
struct pool_job;
struct sub;
struct sub_cache;

struct worker {
    pthread_t tid;
    int index;
    struct emu *emu;
    struct event_base *base;
    int pipe_fd[2];            /* the acceptor writes new sockets here (-1: stop) */
    struct event *pipe_ev;
    struct api_ctx api;
    struct kbuf resp;          /* response body scratch */
    uint64_t rng;
    int64_t date_sec;
    char date[40];
    struct conn **conns;       /* open connections, in no order */
    size_t nconns, capconns;
    int64_t log_sec;           /* conn_log's rate limit: this second's count */
    unsigned log_count, log_suppressed;
    uint64_t next_conn_id;
    struct pool *pool;         /* makes the long calls (pool.h); NULL: all calls here */
    /* Jobs the pool made, for this worker's connections (pool.c posts them, the worker takes them). */
    pthread_mutex_t done_mu;
    struct pool_job *done_head, *done_tail;
    int done_fd;               /* an eventfd the pool signals */
    struct event *done_ev;
    /* SubscribeToShard subscriptions of this worker's connections (subscribe.h). */
    struct sub *subs;
    int sub_fd;                /* an eventfd appenders signal */
    struct event *sub_ev;
    _Atomic int sub_signalled;
    struct sub_cache *sub_cache; /* the events it encoded last, for its other subscribers of the same shard */
};

/* "Tue, 24 Nov 2026 22:02:46 GMT", cached per second. */
const char *worker_http_date(struct worker *w);
/* A request id in UUID form; out needs 37 bytes. */
void worker_request_id(struct worker *w, char *out);
/* An x-amz-id-2 value as AWS sends with its error answers: WORKER_ID2_LEN base64 characters and a NUL. */
#define WORKER_ID2_LEN 96
void worker_amz_id2(struct worker *w, char *out);

#endif
