/*
 * server.c — the emulator's listener, acceptor and worker threads (see
 * server.h). Connections are conn.c's; what they speak is the protocols'.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "ktime.h"
#include "log.h"
#include "mem.h"
#include "pool.h"
#include "subscribe.h"
#include "rng.h"
#include "sniff.h"
#include "tls.h"
#include "worker.h"

struct server {
    struct emu *emu;
    struct event_base *base;
    struct worker *workers;
    int nworkers, started;     /* threads created */
    int inited;                /* workers set up (worker_init called) */
    struct pool *pool;
    unsigned next;             /* the worker the next connection goes to */
    int listen_fd;
    int stop_fd[2];            /* server_stop writes here */
    struct event *listen_ev, *stop_ev, *reap_ev;
    int64_t refused_log_sec;
    char address[300];
};

/* ---------------------------------------------------------------- workers */

static void worker_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    int fds[64];
    ssize_t n = read(fd, fds, sizeof fds);
    if (n <= 0)
        return;
    for (size_t i = 0; i < (size_t)n / sizeof(int); i++) {
        if (fds[i] < 0) {
            event_base_loopbreak(w->base);
            return;
        }
        conn_new(w, fds[i], w->emu->tls ? &tls_io_detect : &conn_io_plain, &proto_sniff);
    }
}

/* Calls the pool made for this worker's connections: each to its connection, if still open. */
static void worker_done_cb(evutil_socket_t fd, short what, void *arg)
{
    struct worker *w = arg;
    uint64_t n;
    ssize_t rc = read(fd, &n, sizeof n);
    (void)rc;
    struct pool_job *j = pool_take_done(w);
    while (j) {
        struct pool_job *next = j->next;
        struct conn *c = conn_find(w, j->conn_id);
        if (c && c->proto && c->proto->answer)
            c->proto->answer(c, j);
        pool_job_free(j);
        j = next;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char name[16];
    snprintf(name, sizeof name, "kt-worker-%d", w->index);
    pthread_setname_np(pthread_self(), name); /* as top -H and perf show it */
    event_base_dispatch(w->base);
    while (w->nconns)
        conn_close(w->conns[0]);
    return NULL;
}

static int worker_init(struct worker *w, struct emu *emu, int index, struct kt_err *err)
{
    w->index = index;
    w->emu = emu;
    pthread_mutex_init(&w->done_mu, NULL);
    w->rng = kt_rand_seed((uint64_t)index);
    api_ctx_init(&w->api, emu, kt_rand_seed((uint64_t)index + 1000));
    w->base = event_base_new();
    if (!w->base || pipe2(w->pipe_fd, O_CLOEXEC) != 0) {
        kt_err_set(err, "cannot start worker %d: %s", index, w->base ? strerror(errno) : "no event base");
        return -1;
    }
    w->pipe_ev = event_new(w->base, w->pipe_fd[0], EV_READ | EV_PERSIST, worker_pipe_cb, w);
    if (!w->pipe_ev || event_add(w->pipe_ev, NULL) != 0) {
        kt_err_set(err, "cannot start worker %d: cannot watch its pipe", index);
        return -1;
    }
    w->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->done_ev = w->done_fd >= 0 ? event_new(w->base, w->done_fd, EV_READ | EV_PERSIST, worker_done_cb, w) : NULL;
    if (!w->done_ev || event_add(w->done_ev, NULL) != 0) {
        kt_err_set(err, "cannot start worker %d: cannot watch the pool's answers: %s", index, strerror(errno));
        return -1;
    }
    if (sub_worker_init(w) != 0) {
        kt_err_set(err, "cannot start worker %d: cannot make its subscriptions' eventfd: %s", index, strerror(errno));
        return -1;
    }
    return 0;
}

static void worker_free(struct worker *w)
{
    /* Answers the pool made after the worker stopped. */
    for (struct pool_job *j = pool_take_done(w), *next; j; j = next) {
        next = j->next;
        pool_job_free(j);
    }
    if (w->done_ev)
        event_free(w->done_ev);
    if (w->done_fd >= 0)
        close(w->done_fd);
    sub_worker_free(w);
    pthread_mutex_destroy(&w->done_mu);
    if (w->pipe_ev)
        event_free(w->pipe_ev);
    if (w->base)
        event_base_free(w->base);
    if (w->pipe_fd[0] >= 0)
        close(w->pipe_fd[0]);
    if (w->pipe_fd[1] >= 0)
        close(w->pipe_fd[1]);
    api_ctx_free(&w->api);
    kbuf_free(&w->resp);
    free(w->conns);
}

/* --------------------------------------------------------------- acceptor */

/*
 * At --max-connections: an HTTP/1.1 503 with a JSON error (one non-blocking
 * write; a client that speaks HTTP/2 sees the connection close), counted,
 * and logged at most once a second.
 */
static void refuse(struct server *s, int fd)
{
    uint64_t n = atomic_fetch_add(&s->emu->refused, 1) + 1;
    char body[300], resp[600];
    int bl = snprintf(body, sizeof body,
                      "{\"__type\":\"ServiceUnavailableException\",\"message\":\"The emulator has %d connections open, "
                      "its limit (--max-connections): try again later\"}",
                      s->emu->cfg.max_connections);
    int rl = snprintf(resp, sizeof resp,
                      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/x-amz-json-1.1\r\n"
                      "Content-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s",
                      bl, body);
    ssize_t w = send(fd, resp, (size_t)rl, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w; /* a peer that cannot take 200 bytes learns it from the close */
    close(fd);
    int64_t sec = kt_mono_ns() / KT_NS_PER_SEC;
    if (sec != s->refused_log_sec) {
        s->refused_log_sec = sec;
        kt_log(KT_LOG_WARN, "connection refused with 503: %d connections open (--max-connections); %llu refused so far",
               s->emu->cfg.max_connections, (unsigned long long)n);
    }
}

static void accept_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;
    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
                kt_log(KT_LOG_WARN, "accept: %s", strerror(errno));
            return;
        }
        if (atomic_load(&s->emu->connections) >= s->emu->cfg.max_connections) {
            refuse(s, cfd);
            continue;
        }
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        /* Counted here, before the worker has it, so the cap holds for connections in transit. */
        atomic_fetch_add(&s->emu->connections, 1);
        struct worker *w = &s->workers[server_pick_worker(&s->next, s->nworkers)];
        if (write(w->pipe_fd[1], &cfd, sizeof cfd) != (ssize_t)sizeof cfd) {
            atomic_fetch_sub(&s->emu->connections, 1);
            close(cfd);
        }
    }
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;
    char b[16];
    while (read(fd, b, sizeof b) > 0)
        ;
    event_base_loopbreak(s->base);
}

/* An ON_DEMAND stream's write quota: 200 MiB/s, as AWS's default. */
#define ON_DEMAND_MAX_SHARDS 200

/*
 * Every second: streams past their DELETING time go, busy ON_DEMAND streams
 * scale (--enforce-limits), and records past retention give their memory back.
 */
static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server *s = arg;
    int64_t now = emu_now_ms(s->emu);
    if (s->emu->cfg.delete_delay_ms > 0) {
        store_wrlock(&s->emu->store);
        store_reap(&s->emu->store, now);
        store_unlock(&s->emu->store);
    }
    if (s->emu->cfg.enforce_limits) {
        store_wrlock(&s->emu->store);
        store_scale_on_demand(&s->emu->store, now, ON_DEMAND_MAX_SHARDS);
        store_unlock(&s->emu->store);
    }
    store_rdlock(&s->emu->store);
    store_trim(&s->emu->store, now);
    store_unlock(&s->emu->store);
}

static int listen_on(const char *host, int port, char *bound, size_t boundlen, struct kt_err *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        kt_err_set(err, "cannot resolve --host %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    int last_errno = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4096) == 0)
            break;
        last_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        kt_err_set(err, "cannot listen on %s:%d: %s", host, port, strerror(last_errno));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        kt_err_set(err, "cannot read the address of the socket on %s:%d: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    char ip[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
        snprintf(bound, boundlen, "%s:%d", ip, ntohs(sin->sin_port));
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
        snprintf(bound, boundlen, "[%s]:%d", ip, ntohs(sin6->sin6_port));
    }
    return fd;
}

struct server *server_new(struct emu *emu, struct kt_err *err)
{
    struct server *s = xcalloc(1, sizeof *s);
    s->emu = emu;
    s->stop_fd[0] = s->stop_fd[1] = -1;
    s->listen_fd = listen_on(emu->cfg.host, emu->cfg.port, s->address, sizeof s->address, err);
    if (s->listen_fd < 0)
        goto fail;
    s->nworkers = emu->cfg.workers > 0 ? emu->cfg.workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (s->nworkers < 1)
        s->nworkers = 1;
    s->workers = xcalloc((size_t)s->nworkers, sizeof *s->workers);
    for (int i = 0; i < s->nworkers; i++) {
        s->workers[i].pipe_fd[0] = s->workers[i].pipe_fd[1] = -1;
        s->workers[i].done_fd = -1;
        s->workers[i].sub_fd = -1;
    }
    for (int i = 0; i < s->nworkers; i++) {
        s->inited++;
        if (worker_init(&s->workers[i], emu, i, err) != 0)
            goto fail;
    }
    s->pool = pool_new(emu, s->nworkers, err);
    if (!s->pool)
        goto fail;
    for (int i = 0; i < s->nworkers; i++)
        s->workers[i].pool = s->pool;
    s->base = event_base_new();
    if (!s->base || pipe2(s->stop_fd, O_CLOEXEC | O_NONBLOCK) != 0) {
        kt_err_set(err, "cannot set up the acceptor: %s", s->base ? strerror(errno) : "no event base");
        goto fail;
    }
    s->listen_ev = event_new(s->base, s->listen_fd, EV_READ | EV_PERSIST, accept_cb, s);
    s->stop_ev = event_new(s->base, s->stop_fd[0], EV_READ | EV_PERSIST, stop_cb, s);
    s->reap_ev = event_new(s->base, -1, EV_PERSIST, reap_cb, s);
    struct timeval second = {1, 0};
    if (!s->listen_ev || !s->stop_ev || !s->reap_ev || event_add(s->listen_ev, NULL) != 0 ||
        event_add(s->stop_ev, NULL) != 0 || event_add(s->reap_ev, &second) != 0) {
        kt_err_set(err, "cannot set up the acceptor's events");
        goto fail;
    }
    for (; s->started < s->nworkers; s->started++) {
        int rc = pthread_create(&s->workers[s->started].tid, NULL, worker_main, &s->workers[s->started]);
        if (rc != 0) {
            kt_err_set(err, "cannot start worker thread %d: %s", s->started, strerror(rc));
            goto fail;
        }
    }
    return s;
fail:
    server_free(s);
    return NULL;
}

const char *server_address(const struct server *s)
{
    return s->address;
}

int server_workers(const struct server *s)
{
    return s->nworkers;
}

void server_stop(struct server *s)
{
    char b = 1;
    ssize_t rc = write(s->stop_fd[1], &b, 1);
    (void)rc; /* a full pipe already says stop */
}

int server_run(struct server *s)
{
    event_base_dispatch(s->base);
    return 0;
}

void server_free(struct server *s)
{
    if (!s)
        return;
    /* Stop the threads that run: a -1 in the pipe ends a worker's loop. */
    for (int i = 0; i < s->started; i++) {
        int stop = -1;
        if (write(s->workers[i].pipe_fd[1], &stop, sizeof stop) < 0)
            event_base_loopbreak(s->workers[i].base);
    }
    for (int i = 0; i < s->started; i++)
        pthread_join(s->workers[i].tid, NULL);
    pool_free(s->pool); /* its threads may still post to the workers: they stop first */
    for (int i = 0; s->workers && i < s->inited; i++)
        worker_free(&s->workers[i]);
    free(s->workers);
    if (s->listen_ev)
        event_free(s->listen_ev);
    if (s->stop_ev)
        event_free(s->stop_ev);
    if (s->reap_ev)
        event_free(s->reap_ev);
    if (s->base)
        event_base_free(s->base);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->stop_fd[0] >= 0)
        close(s->stop_fd[0]);
    if (s->stop_fd[1] >= 0)
        close(s->stop_fd[1]);
    free(s);
}
