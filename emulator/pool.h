/*
 * pool.h — calls that take long, made off the workers' event loops.
 *
 * A GetRecords of 10,000 records of 1 KiB builds a 14 MB answer: 7 ms of a
 * core warm, up to 35 ms on cold memory. Made on a worker, it holds up
 * every other connection of that worker (a /health, a producer's
 * PutRecords) until it is done. Such calls (route_is_heavy) go to a small
 * pool of threads instead, with their own API state; the worker goes on
 * with its other connections and gets the answer back through its `done`
 * queue (pool_post_done, pool_take_done), then hands it to the connection's protocol
 * (conn_proto.answer). A connection has at most one such call out at a
 * time, so its output caps still hold, and the pool makes no call while
 * the emulator's unsent answers are over TOTAL_OUT_CAP.
 */
#ifndef KT_POOL_H
#define KT_POOL_H

#include <stdint.h>

#include "api.h"
#include "buf.h"
#include "errbuf.h"
#include "route.h"

struct worker;

/* One call: the request (copied), and when done its answer. */
struct pool_job {
    struct pool_job *next;
    struct worker *w;          /* whose connection asked, and gets the answer */
    uint64_t conn_id;
    int32_t stream;            /* the HTTP/2 stream, or 0 */
    int keep;                  /* HTTP/1: the connection stays open after the answer */
    struct http_request req;   /* views into `copy` */
    struct kbuf copy;
    struct http_response resp; /* the answer: status, type, delay; body in `body` */
    struct kbuf body;
};

/* A job for a copy of req, asked by connection conn_id of worker w. */
struct pool_job *pool_job_new(struct worker *w, uint64_t conn_id, int32_t stream, const struct http_request *req);
void pool_job_free(struct pool_job *j);

struct pool;

/* Starts n threads making calls for emu. NULL with err set. */
struct pool *pool_new(struct emu *emu, int n, struct kt_err *err);
/* Queues a job (taken over): when made, it is posted to job->w (pool_post_done). */
void pool_submit(struct pool *p, struct pool_job *j);
/* Stops the threads (jobs not made yet are freed) and frees the pool. */
void pool_free(struct pool *p);

/* From a pool thread: j is made; it waits in w's done queue and w's eventfd is signalled. */
void pool_post_done(struct worker *w, struct pool_job *j);
/* On w's thread: the jobs made for it so far, as a list (next), oldest first; the caller owns them. */
struct pool_job *pool_take_done(struct worker *w);

#endif
