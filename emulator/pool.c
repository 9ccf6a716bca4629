/* pool.c — long calls off the event loops (see pool.h). */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "emu.h"
#include "mem.h"
#include "rng.h"
#include "worker.h"

#define POOL_NICE 10

struct pool {
    struct emu *emu;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pool_job *head, *tail;
    int stop;
    int n, started;
    pthread_t *tids;
    struct api_ctx *ctx;       /* one per thread */
};

struct pool_job *pool_job_new(struct worker *w, uint64_t conn_id, int32_t stream, const struct http_request *req)
{
    struct pool_job *j = xcalloc(1, sizeof *j);
    j->w = w;
    j->conn_id = conn_id;
    j->stream = stream;
    j->req = *req;
    /* The body and header values, each with a NUL, in one buffer; the views are set once it stops moving. */
    size_t off[H_COUNT + 3];
    off[0] = j->copy.len;
    kbuf_append(&j->copy, req->body ? req->body : "", req->body_len);
    kbuf_putc(&j->copy, '\0');
    off[1] = j->copy.len;
    kbuf_append(&j->copy, req->path, req->path_len);
    kbuf_putc(&j->copy, '\0');
    for (int i = 0; i < H_COUNT; i++) {
        off[i + 2] = j->copy.len;
        if (req->hval[i]) {
            kbuf_append(&j->copy, req->hval[i], req->hlen[i]);
            kbuf_putc(&j->copy, '\0');
        }
    }
    off[H_COUNT + 2] = j->copy.len;
    kbuf_append(&j->copy, req->hblock ? req->hblock : "", req->hblock_len);
    j->req.body = j->copy.p + off[0];
    j->req.hblock = req->hblock ? j->copy.p + off[H_COUNT + 2] : NULL;
    j->req.path = j->copy.p + off[1];
    for (int i = 0; i < H_COUNT; i++)
        j->req.hval[i] = req->hval[i] ? j->copy.p + off[i + 2] : NULL;
    j->req.method = "POST"; /* heavy calls are API calls (route_is_heavy) */
    j->resp.body = &j->body;
    return j;
}

void pool_job_free(struct pool_job *j)
{
    if (!j)
        return;
    kbuf_free(&j->copy);
    kbuf_free(&j->body);
    free(j);
}

/* Appends j to the queue head..tail (its lock held). */
static void push(struct pool_job **head, struct pool_job **tail, struct pool_job *j)
{
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

void pool_post_done(struct worker *w, struct pool_job *j)
{
    pthread_mutex_lock(&w->done_mu);
    push(&w->done_head, &w->done_tail, j);
    pthread_mutex_unlock(&w->done_mu);
    uint64_t one = 1;
    ssize_t rc = write(w->done_fd, &one, sizeof one);
    (void)rc; /* an eventfd at its maximum is already signalled */
}

struct pool_job *pool_take_done(struct worker *w)
{
    pthread_mutex_lock(&w->done_mu);
    struct pool_job *j = w->done_head;
    w->done_head = w->done_tail = NULL;
    pthread_mutex_unlock(&w->done_mu);
    return j;
}

static int over_total(struct emu *emu)
{
    return atomic_load_explicit(&emu->out_held, memory_order_relaxed) > TOTAL_OUT_CAP;
}

struct thread_arg {
    struct pool *p;
    int index;
};

static void *pool_main(void *arg)
{
    struct thread_arg *ta = arg;
    struct pool *p = ta->p;
    struct api_ctx *ctx = &p->ctx[ta->index];
    char name[16];
    snprintf(name, sizeof name, "kt-pool-%d", ta->index);
    pthread_setname_np(pthread_self(), name);
    free(ta);
    /*
     * Below the workers: a worker woken by a new request gets a core at
     * once, while the long calls take what is left (Linux: per thread).
     */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), POOL_NICE) != 0) {
        /* Left at the process's priority: the calls are still off the workers' loops. */
    }
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->stop && (!p->head || over_total(p->emu))) {
            if (p->head) {
                /* Answers wait to be sent everywhere: make no more until they drain. */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 10 * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&p->cv, &p->mu, &ts);
            } else {
                pthread_cond_wait(&p->cv, &p->mu);
            }
        }
        if (p->stop) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        struct pool_job *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        j->next = NULL;
        route_api(ctx, &j->req, &j->resp);
        route_cors(ctx->emu->cfg.cors_origins, &j->req, &j->resp.cors);
        pool_post_done(j->w, j);
    }
}

struct pool *pool_new(struct emu *emu, int n, struct kt_err *err)
{
    struct pool *p = xcalloc(1, sizeof *p);
    p->emu = emu;
    p->n = n;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->tids = xcalloc((size_t)n, sizeof *p->tids);
    p->ctx = xcalloc((size_t)n, sizeof *p->ctx);
    for (int i = 0; i < n; i++)
        api_ctx_init(&p->ctx[i], emu, kt_rand_seed((uint64_t)i + 5000));
    for (; p->started < n; p->started++) {
        struct thread_arg *ta = xmalloc(sizeof *ta);
        ta->p = p;
        ta->index = p->started;
        int rc = pthread_create(&p->tids[p->started], NULL, pool_main, ta);
        if (rc != 0) {
            free(ta);
            kt_err_set(err, "cannot start thread %d of the pool for long calls: %s", p->started, strerror(rc));
            pool_free(p);
            return NULL;
        }
    }
    return p;
}

void pool_submit(struct pool *p, struct pool_job *j)
{
    pthread_mutex_lock(&p->mu);
    push(&p->head, &p->tail, j);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->tids[i], NULL);
    while (p->head) {
        struct pool_job *j = p->head;
        p->head = j->next;
        pool_job_free(j);
    }
    for (int i = 0; i < p->n; i++)
        api_ctx_free(&p->ctx[i]);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->ctx);
    free(p->tids);
    free(p);
}
