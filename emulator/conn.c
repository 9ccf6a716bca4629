/*
 * conn.c — connection I/O for the emulator (see conn.h): reading into the
 * protocol, writing `out`, holds, waits for output to drain, deadlines and
 * timeouts, on the worker's libevent loop.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ktime.h"
#include "log.h"
#include "mem.h"

#define READ_CHUNK 65536
#define KEEP_BUFFER ((size_t)1 << 20)
#define RECHECK_MS 10          /* a connection waiting for the total to fall looks again this often */
#define LOG_PER_SECOND 20      /* protocol errors logged per worker and second, the rest counted */

static ssize_t plain_read(struct conn *c, void *buf, size_t n)
{
    return read(c->fd, buf, n);
}

static ssize_t plain_write(struct conn *c, const void *buf, size_t n)
{
    /* MSG_NOSIGNAL: a peer that has gone is an error here, not a SIGPIPE. */
    return send(c->fd, buf, n, MSG_NOSIGNAL);
}

const struct conn_io conn_io_plain = {.read = plain_read, .write = plain_write};

size_t conn_unsent(const struct conn *c)
{
    size_t held = c->out.len - c->out_off;
    for (const struct conn_seg *g = c->segs; g; g = g->next)
        held += g->b.len;
    return held;
}

/* Brings the emulator's total of unsent answers up to date with this connection. */
static void account(struct conn *c)
{
    size_t held = conn_unsent(c) + c->extra;
    if (held == c->counted)
        return;
    if (held > c->counted)
        atomic_fetch_add_explicit(&c->w->emu->out_held, held - c->counted, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&c->w->emu->out_held, c->counted - held, memory_order_relaxed);
    c->counted = held;
}

void conn_close(struct conn *c)
{
    struct worker *w = c->w;
    for (size_t i = 0; i < w->nconns; i++) {
        if (w->conns[i] == c) {
            w->conns[i] = w->conns[--w->nconns];
            break;
        }
    }
    struct event *evs[] = {c->rev, c->wev, c->tev, c->kev, c->dev};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (evs[i])
            event_free(evs[i]);
    if (c->io && c->io->close)
        c->io->close(c);
    close(c->fd);
    if (c->proto)
        c->proto->free(c);
    kbuf_free(&c->out);
    while (c->segs) {
        struct conn_seg *g = c->segs;
        c->segs = g->next;
        kbuf_free(&g->b);
        free(g);
    }
    c->last = NULL;
    c->extra = 0;
    c->out_off = 0;
    account(c);
    free(c);
    atomic_fetch_sub(&w->emu->connections, 1);
}

void conn_set_reading(struct conn *c, int on)
{
    if (on == c->reading)
        return;
    c->reading = on;
    if (on) {
        struct timeval tv = {c->w->emu->cfg.idle_timeout_s, 0};
        event_add(c->rev, &tv);
        if (c->io->pending && c->io->pending(c))
            event_active(c->rev, EV_READ, 0); /* bytes the io holds: the socket will not say so */
    } else {
        event_del(c->rev);
    }
}

static int total_over(const struct conn *c, size_t limit)
{
    return atomic_load_explicit(&c->w->emu->out_held, memory_order_relaxed) > limit;
}

int conn_over_cap(struct conn *c)
{
    account(c);
    return c->counted > CONN_OUT_CAP || total_over(c, TOTAL_OUT_CAP);
}

void conn_set_extra(struct conn *c, size_t bytes)
{
    c->extra = bytes;
    account(c);
}

/* Wakes the protocol at the loop's next turn (or in ms milliseconds). */
static void kick(struct conn *c, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->kev, &tv);
}

/* A blocked connection may go on when its own answers have drained and the total is under its cap. */
static void maybe_unblock(struct conn *c)
{
    if (!c->blocked || c->counted > CONN_OUT_RESUME)
        return;
    if (total_over(c, TOTAL_OUT_CAP)) {
        kick(c, RECHECK_MS); /* others hold the memory: look again soon */
        return;
    }
    c->blocked = 0;
    kick(c, 0);
}

void conn_block(struct conn *c)
{
    c->blocked = 1;
    conn_set_reading(c, 0);
    account(c);
    maybe_unblock(c); /* blocked by the total alone: the recheck timer wakes it */
}

void conn_yield(struct conn *c)
{
    c->blocked = 1;
    conn_set_reading(c, 0);
    account(c);
    kick(c, 0);
}

/* Below this a body is copied: one more buffer is not worth it. */
#define TAKE_MIN (64 * 1024)

void conn_out_take(struct conn *c, struct kbuf *body)
{
    if (body->len >= TAKE_MIN) {
        struct conn_seg *g = xmalloc(sizeof *g);
        g->next = NULL;
        g->b = *body;
        *body = (struct kbuf)KBUF_INIT;
        if (c->last)
            c->last->next = g;
        else
            c->segs = g;
        c->last = g;
        return;
    }
    kbuf_append(conn_out(c), body->p, body->len);
    kbuf_reset(body);
}

int conn_flush(struct conn *c)
{
    if (c->held)
        return 0;
    for (;;) {
        if (c->out_off == c->out.len) {
            if (c->segs) {
                /* `out` is written: the next handed-over body takes its place. */
                struct conn_seg *g = c->segs;
                c->segs = g->next;
                if (!c->segs)
                    c->last = NULL;
                kbuf_free(&c->out);
                c->out = g->b;
                free(g);
                c->out_off = 0;
                continue;
            }
            kbuf_reset(&c->out);
            c->out_off = 0;
            if (!c->held && c->proto && c->proto->more && c->proto->more(c))
                continue;
            break;
        }
        ssize_t n = c->io->write(c, c->out.p + c->out_off, c->out.len - c->out_off);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct timeval tv = {c->w->emu->cfg.idle_timeout_s, 0};
            event_add(c->wev, &tv);
            account(c);
            maybe_unblock(c);
            return 0;
        }
        conn_close(c); /* the peer has gone: what it had queued goes with it */
        return -1;
    }
    if (c->out.cap > KEEP_BUFFER)
        kbuf_free(&c->out);
    kbuf_reset(&c->out);
    c->out_off = 0;
    account(c);
    if (c->close_after) {
        conn_close(c);
        return -1;
    }
    if (c->blocked)
        maybe_unblock(c);
    else if (!c->reading)
        conn_set_reading(c, 1);
    return 0;
}

void conn_hold(struct conn *c, int ms)
{
    c->held = 1;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->tev, &tv);
}

void conn_deadline(struct conn *c, int64_t ms)
{
    if (ms <= 0) {
        evtimer_del(c->dev);
        return;
    }
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(c->dev, &tv);
}

void conn_log(struct conn *c, const char *fmt, ...)
{
    if (!kt_log_enabled(KT_LOG_DEBUG))
        return;
    struct worker *w = c->w;
    int64_t sec = kt_mono_ns() / KT_NS_PER_SEC;
    if (sec != w->log_sec) {
        if (w->log_suppressed)
            kt_log(KT_LOG_DEBUG, "%u more protocol errors not shown (at most %d a second)", w->log_suppressed,
                   LOG_PER_SECOND);
        w->log_sec = sec;
        w->log_count = 0;
        w->log_suppressed = 0;
    }
    if (w->log_count++ >= LOG_PER_SECOND) {
        w->log_suppressed++;
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kt_log(KT_LOG_DEBUG, "%s (%s): %s", c->peer, c->proto ? c->proto->name : "?", msg);
}

int conn_switch(struct conn *c, const struct conn_proto *p, const char *data, size_t n)
{
    if (c->proto)
        c->proto->free(c);
    c->proto = p;
    c->pstate = NULL;
    if (p->start(c) != 0)
        return -1;
    return n ? p->feed(c, data, n) : 0;
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    if (what & EV_TIMEOUT) {
        if (c->streaming) { /* a subscriber only reads: not idle while its stream lasts */
            struct timeval tv = {c->w->emu->cfg.idle_timeout_s, 0};
            event_add(c->rev, &tv);
            return;
        }
        conn_close(c);
        return;
    }
    char buf[READ_CHUNK];
    for (int rounds = 0; rounds < 16 && c->reading && !c->close_after; rounds++) {
        ssize_t n = c->io->read(c, buf, sizeof buf);
        if (n > 0) {
            if (c->proto->feed(c, buf, (size_t)n) != 0) {
                c->close_after = 1;
                conn_set_reading(c, 0);
            }
            if ((size_t)n < sizeof buf && !c->io->read_all)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        /* EOF or error: answer what is complete, then close. */
        if ((c->out.len > c->out_off || c->segs) && !c->held) {
            c->close_after = 1;
            conn_set_reading(c, 0);
            break;
        }
        conn_close(c);
        return;
    }
    if (c->reading && !c->close_after && c->io->pending && c->io->pending(c))
        event_active(c->rev, EV_READ, 0);
    conn_flush(c);
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    if (what & EV_TIMEOUT) {
        conn_close(c);
        return;
    }
    if (c->io_wants_write) {
        /* The io (a handshake) could not write: now it can, and reading goes on. */
        c->io_wants_write = 0;
        read_cb(fd, EV_READ, c);
        return;
    }
    conn_flush(c);
}

static void hold_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    c->held = 0;
    c->proto->resume(c);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    if (c->blocked) {
        maybe_unblock(c);
        if (c->blocked)
            return;
    }
    c->proto->resume(c);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    c->proto->timeout(c);
}

static void peer_text(int fd, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    snprintf(out, cap, "?");
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
        snprintf(out, cap, "%s:%u", ip, ntohs(sin->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
        snprintf(out, cap, "[%s]:%u", ip, ntohs(sin6->sin6_port));
    }
}

struct conn *conn_find(struct worker *w, uint64_t id)
{
    for (size_t i = 0; i < w->nconns; i++)
        if (w->conns[i]->id == id)
            return w->conns[i];
    return NULL;
}

struct conn *conn_new(struct worker *w, int fd, const struct conn_io *io, const struct conn_proto *proto)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->w = w;
    c->id = ++w->next_conn_id;
    c->fd = fd;
    c->io = io;
    peer_text(fd, c->peer, sizeof c->peer);
    c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, read_cb, c);
    c->wev = event_new(w->base, fd, EV_WRITE, write_cb, c);
    c->tev = evtimer_new(w->base, hold_cb, c);
    c->kev = evtimer_new(w->base, kick_cb, c);
    c->dev = evtimer_new(w->base, deadline_cb, c);
    if (w->nconns == w->capconns) {
        w->capconns = w->capconns ? w->capconns * 2 : 64;
        w->conns = xrealloc(w->conns, w->capconns * sizeof *w->conns);
    }
    w->conns[w->nconns++] = c;
    if (!c->rev || !c->wev || !c->tev || !c->kev || !c->dev || conn_switch(c, proto, NULL, 0) != 0) {
        conn_close(c);
        return NULL;
    }
    conn_set_reading(c, 1);
    return c;
}
