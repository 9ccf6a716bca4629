/*
 * conn.c — connection I/O for the emulator (see conn.h): reading into the
 * protocol, writing `out`, timeouts and holds, on the worker's libevent loop.
 */
#include "conn.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mem.h"

#define READ_CHUNK 65536
#define OUT_HIGH_WATER ((size_t)64 << 20)
#define KEEP_BUFFER ((size_t)1 << 20)

static ssize_t plain_read(struct conn *c, void *buf, size_t n)
{
    return read(c->fd, buf, n);
}

static ssize_t plain_write(struct conn *c, const void *buf, size_t n)
{
    /* MSG_NOSIGNAL: a peer that has gone is an error here, not a SIGPIPE. */
    return send(c->fd, buf, n, MSG_NOSIGNAL);
}

const struct conn_io conn_io_plain = {plain_read, plain_write};

void conn_close(struct conn *c)
{
    struct worker *w = c->w;
    for (size_t i = 0; i < w->nconns; i++) {
        if (w->conns[i] == c) {
            w->conns[i] = w->conns[--w->nconns];
            break;
        }
    }
    if (c->rev)
        event_free(c->rev);
    if (c->wev)
        event_free(c->wev);
    if (c->tev)
        event_free(c->tev);
    close(c->fd);
    if (c->proto)
        c->proto->free(c);
    kbuf_free(&c->out);
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
    } else {
        event_del(c->rev);
    }
}

int conn_flush(struct conn *c)
{
    if (c->held)
        return 0;
    while (c->out_off < c->out.len) {
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
            /* A client that sends without reading must not grow our buffer without end. */
            if (c->out.len - c->out_off > OUT_HIGH_WATER)
                conn_set_reading(c, 0);
            return 0;
        }
        conn_close(c);
        return -1;
    }
    if (c->out.cap > KEEP_BUFFER)
        kbuf_free(&c->out);
    kbuf_reset(&c->out);
    c->out_off = 0;
    if (c->close_after) {
        conn_close(c);
        return -1;
    }
    if (!c->reading && !c->held)
        conn_set_reading(c, 1);
    return 0;
}

void conn_hold(struct conn *c, int ms)
{
    c->held = 1;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->tev, &tv);
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
            if ((size_t)n < sizeof buf)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        /* EOF or error: answer what is complete, then close. */
        if (c->out.len > c->out_off && !c->held) {
            c->close_after = 1;
            conn_set_reading(c, 0);
            break;
        }
        conn_close(c);
        return;
    }
    conn_flush(c);
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    if (what & EV_TIMEOUT) {
        conn_close(c);
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

struct conn *conn_new(struct worker *w, int fd, const struct conn_proto *proto)
{
    struct conn *c = xcalloc(1, sizeof *c);
    c->w = w;
    c->fd = fd;
    c->io = &conn_io_plain;
    c->rev = event_new(w->base, fd, EV_READ | EV_PERSIST, read_cb, c);
    c->wev = event_new(w->base, fd, EV_WRITE, write_cb, c);
    c->tev = evtimer_new(w->base, hold_cb, c);
    if (w->nconns == w->capconns) {
        w->capconns = w->capconns ? w->capconns * 2 : 64;
        w->conns = xrealloc(w->conns, w->capconns * sizeof *w->conns);
    }
    w->conns[w->nconns++] = c;
    if (!c->rev || !c->wev || !c->tev || conn_switch(c, proto, NULL, 0) != 0) {
        conn_close(c);
        return NULL;
    }
    conn_set_reading(c, 1);
    return c;
}
