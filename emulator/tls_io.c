/*
 * tls_io.c — a connection's bytes through OpenSSL: detection on the first
 * byte, the non-blocking handshake and its time limit, reads and writes
 * (see tls.h).
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mem.h"
#include "tls.h"
#include "tlscert.h"

#define TLS_RECORD_TYPE_HANDSHAKE 0x16

struct tls_conn {
    SSL *ssl;
    struct event *hs_timer;    /* the handshake's time limit */
    int done;                  /* handshake complete */
    int logged;                /* why it failed has been logged */
};

/*
 * A handshake that failed: logged (--verbose), and the read fails so the
 * connection closes. It is counted when the connection closes (tls_close),
 * whatever closed it: this, its timer, or the idle timeout of its reads.
 */
static ssize_t hs_failed(struct conn *c, const char *what)
{
    struct tls_conn *t = c->iostate;
    if (t)
        t->logged = 1;
    conn_log(c, "TLS handshake failed: %s", what);
    errno = EPROTO;
    return -1;
}

static void hs_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    conn_close(arg); /* tls_close says why */
}

static void finish_handshake(struct conn *c, struct tls_conn *t)
{
    t->done = 1;
    event_del(t->hs_timer);
    atomic_fetch_add_explicit(&c->w->emu->tls_handshakes, 1, memory_order_relaxed);
    const unsigned char *p;
    unsigned int n;
    SSL_get0_alpn_selected(t->ssl, &p, &n);
    if (n == 2 && memcmp(p, "h2", 2) == 0) {
        c->alpn = "h2";
        atomic_fetch_add_explicit(&c->w->emu->tls_alpn_h2, 1, memory_order_relaxed);
    }
    else if (n == 8 && memcmp(p, "http/1.1", 8) == 0)
        c->alpn = "http/1.1";
    else
        c->alpn = "";
}

/* What an OpenSSL call's failure means for a read or write: EAGAIN, EOF (0) or an error (-1). */
static ssize_t io_result(struct conn *c, struct tls_conn *t, int r)
{
    int e = SSL_get_error(t->ssl, r);
    char why[512];
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno == 0 || errno == ECONNRESET)
            return 0;
        return -1;
    default:
        conn_log(c, "TLS: %s", tlscert_ssl_errors(why, sizeof why));
        errno = EPROTO;
        return -1;
    }
}

static ssize_t handshake(struct conn *c, struct tls_conn *t)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        finish_handshake(c, t);
        return 1;
    }
    int e = SSL_get_error(t->ssl, r);
    char why[512];
    switch (e) {
    case SSL_ERROR_WANT_READ:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE: {
        /* The socket is full mid-handshake: wait until it takes bytes, then go on reading (conn.c). */
        struct timeval tv = {c->w->emu->cfg.idle_timeout_s, 0};
        c->io_wants_write = 1;
        event_add(c->wev, &tv);
        errno = EAGAIN;
        return -1;
    }
    case SSL_ERROR_SYSCALL:
        return hs_failed(c, errno ? strerror(errno) : "the peer closed the connection");
    default:
        tlscert_ssl_errors(why, sizeof why);
        return hs_failed(c, why[0] ? why : "protocol error");
    }
}

static ssize_t tls_read(struct conn *c, void *buf, size_t n)
{
    struct tls_conn *t = c->iostate;
    if (!t->done) {
        ssize_t r = handshake(c, t);
        if (r < 0)
            return r;
    }
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(t->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
    return r > 0 ? r : io_result(c, t, r);
}

static ssize_t tls_write(struct conn *c, const void *buf, size_t n)
{
    struct tls_conn *t = c->iostate;
    if (!t->done) {
        errno = EAGAIN; /* nothing is written before the handshake; reading drives it */
        return -1;
    }
    ERR_clear_error();
    errno = 0;
    int r = SSL_write(t->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0)
        return r;
    ssize_t rc = io_result(c, t, r);
    if (rc == 0) {
        errno = EPIPE; /* a write cannot end in EOF: the peer has gone */
        rc = -1;
    }
    return rc;
}

static int tls_pending(struct conn *c)
{
    struct tls_conn *t = c->iostate;
    return t->done && SSL_pending(t->ssl) > 0;
}

static void tls_close(struct conn *c)
{
    struct tls_conn *t = c->iostate;
    if (!t)
        return;
    if (!t->done) {
        atomic_fetch_add(&c->w->emu->tls_failures, 1);
        if (!t->logged)
            conn_log(c, "TLS handshake not complete within %d s (--idle-timeout): closed",
                     c->w->emu->cfg.idle_timeout_s);
    }
    if (t->done) {
        ERR_clear_error();
        SSL_shutdown(t->ssl); /* a close_notify if the socket takes it; nothing is waited for */
    }
    ERR_clear_error();
    SSL_free(t->ssl);
    if (t->hs_timer)
        event_free(t->hs_timer);
    free(t);
    c->iostate = NULL;
}

static const struct conn_io tls_io = {
    .read = tls_read,
    .write = tls_write,
    .read_all = 1,
    .pending = tls_pending,
    .close = tls_close,
};

/* Turns the connection over to TLS; -1 when OpenSSL cannot start one. */
static int tls_start(struct conn *c)
{
    struct tls_conn *t = xcalloc(1, sizeof *t);
    t->ssl = SSL_new(c->w->emu->tls);
    t->hs_timer = evtimer_new(c->w->base, hs_timeout_cb, c);
    if (!t->ssl || !t->hs_timer || SSL_set_fd(t->ssl, c->fd) != 1) {
        if (t->ssl)
            SSL_free(t->ssl);
        if (t->hs_timer)
            event_free(t->hs_timer);
        free(t);
        ERR_clear_error();
        return -1;
    }
    SSL_set_accept_state(t->ssl);
    struct timeval tv = {c->w->emu->cfg.idle_timeout_s, 0};
    evtimer_add(t->hs_timer, &tv);
    c->iostate = t;
    c->io = &tls_io;
    return 0;
}

static ssize_t detect_read(struct conn *c, void *buf, size_t n)
{
    unsigned char first;
    ssize_t r = recv(c->fd, &first, 1, MSG_PEEK);
    if (r <= 0)
        return r;
    if (first != TLS_RECORD_TYPE_HANDSHAKE) {
        c->io = &conn_io_plain;
        return c->io->read(c, buf, n);
    }
    if (tls_start(c) != 0) {
        atomic_fetch_add(&c->w->emu->tls_failures, 1);
        return hs_failed(c, "cannot start a TLS session (out of memory?)");
    }
    return c->io->read(c, buf, n);
}

static ssize_t detect_write(struct conn *c, const void *buf, size_t n)
{
    return conn_io_plain.write(c, buf, n);
}

const struct conn_io tls_io_detect = {.read = detect_read, .write = detect_write};
