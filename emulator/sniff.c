/*
 * sniff.c — protocol detection on the emulator's one port (see sniff.h).
 *
 * The HTTP/2 client connection preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
 * RFC 9113 section 3.4) selects HTTP/2 with prior knowledge; any byte that
 * cannot begin it selects HTTP/1.1. While the bytes so far are a prefix of
 * the preface, they are kept and nothing is decided.
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
    if (memcmp(seen->p, preface, have) != 0)
        p = &proto_http1;
    else if (have == want)
        p = &proto_http2;
    else
        return 0; /* a prefix of the preface: wait for more */
    /* conn_switch frees our state: take the bytes first. */
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

const struct conn_proto proto_sniff = {
    .name = "detection",
    .start = sniff_start,
    .feed = sniff_feed,
    .resume = sniff_resume,
    .free = sniff_free,
};
