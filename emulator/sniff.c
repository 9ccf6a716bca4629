/*
 * sniff.c — protocol detection on the emulator's one port (see sniff.h).
 *
 * The HTTP/2 client connection preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
 * RFC 9113 section 3.4) selects HTTP/2 with prior knowledge; any byte that
 * cannot begin it selects HTTP/1.1. While the bytes so far are a prefix of
 * the preface, they are kept and nothing is decided. Over TLS the handshake
 * has decided already (tls.h): ALPN h2 is HTTP/2, anything else HTTP/1.1.
 */
#include "sniff.h"

#include <stdlib.h>
#include <string.h>

#include "http1.h"
#include "http2.h"
#include "mem.h"

static const char preface[] = H2_PREFACE;

static int sniff_start(struct conn *c)
{
    c->pstate = xcalloc(1, sizeof(struct kbuf));
    return 0;
}

static void sniff_free(struct conn *c)
{
    struct kbuf *b = c->pstate;
    if (b) {
        kbuf_free(b);
        free(b);
        c->pstate = NULL;
    }
}

static int sniff_feed(struct conn *c, const char *data, size_t n)
{
    struct kbuf *seen = c->pstate;
    kbuf_append(seen, data, n);
    size_t want = sizeof preface - 1;
    size_t have = seen->len < want ? seen->len : want;
    const struct conn_proto *p;
    if (c->alpn)
        p = strcmp(c->alpn, "h2") == 0 ? &proto_http2 : &proto_http1;
    else if (memcmp(seen->p, preface, have) != 0)
        p = &proto_http1;
    else if (have == want)
        p = &proto_http2;
    else {
        /* A prefix of the preface: wait for more, as long as a request's headers may take (route.h). */
        if (seen->len == n)
            conn_deadline(c, (int64_t)c->w->emu->cfg.request_timeout_s * 1000);
        return 0;
    }
    /* conn_switch frees our state: take the bytes first. The protocol sets its own deadlines. */
    conn_deadline(c, 0);
    struct kbuf in = *seen;
    kbuf_init(seen);
    int rc = conn_switch(c, p, in.p, in.len);
    kbuf_free(&in);
    return rc;
}

static void sniff_resume(struct conn *c)
{
    (void)c;
}

/* A few bytes that could begin the HTTP/2 preface, and then nothing for --request-timeout. */
static void sniff_timeout(struct conn *c)
{
    atomic_fetch_add(&c->w->emu->timeouts, 1);
    conn_log(c, "no request within %d s (--request-timeout): closed", c->w->emu->cfg.request_timeout_s);
    conn_close(c);
}

const struct conn_proto proto_sniff = {
    .name = "detection",
    .start = sniff_start,
    .feed = sniff_feed,
    .resume = sniff_resume,
    .timeout = sniff_timeout,
    .free = sniff_free,
};
