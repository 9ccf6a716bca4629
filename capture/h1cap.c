/*
 * h1cap.c — the HTTP/1.1 reader of one direction of a connection (RFC 9112;
 * see httpcap.h): http_parser's callbacks build the messages, requests
 * queued on their connection until answered, responses paired with the
 * oldest unanswered request.
 *
 * A direction that is not in sync (joined mid-stream, after a gap, after a
 * parse error) scans for the next message start line and counts the bytes
 * it skips as unparsable; a connection joined mid-stream whose bytes are
 * HTTP/2 frames is handed to the HTTP/2 reader (h2cap.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2cap.h"
#include "httpcap_int.h"
#include "httpsync.h"
#include "mem.h"

#define SCAN_KEEP 8192
#define H2_SCAN_KEEP (65536 + 18) /* joined, nothing read yet: room for a frame and the next header */

/* ----------------------------------------------------------- callbacks */

static struct hdir *dir_of(http_parser *p)
{
    return p->data;
}

static int on_message_begin(http_parser *p)
{
    struct hdir *d = dir_of(p);
    struct hflow *hf = d->hf;
    if (d->dir == TCP_C2S) {
        struct hx *x = hflow_exchange_new(hf, d->ts);
        if (hf->q_tail)
            hf->q_tail->qnext = x;
        else
            hf->q_head = x;
        hf->q_tail = x;
        d->cur_x = x;
        d->cur = &x->req;
    } else {
        d->cur = xmalloc(sizeof *d->cur);
        hflow_held(hf, 0, sizeof *d->cur);
        hmsg_init(d->cur, d->ts);
        /* The oldest request that has no response yet. */
        d->cur_x = NULL;
        for (struct hx *x = hf->q_head; x; x = x->qnext)
            if (!x->resp) {
                d->cur_x = x;
                break;
            }
    }
    d->in_value = 0;
    return 0;
}

static void head_append(struct hdir *d, const char *at, size_t n)
{
    struct kbuf *h = &d->cur->head;
    size_t before = h->cap;
    kbuf_append(h, at, n);
    hflow_held(d->hf, before, h->cap);
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct hdir *d = dir_of(p);
    if (d->dir == TCP_C2S)
        d->cur->method = p->method;
    head_append(d, at, n);
    d->cur->first_len += (uint32_t)n;
    return 0;
}

static int on_status(http_parser *p, const char *at, size_t n)
{
    return on_url(p, at, n);
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct hdir *d = dir_of(p);
    struct hmsg *m = d->cur;
    if (d->in_value || m->nhdrs == 0) {
        if (m->nhdrs == m->caphdrs) {
            size_t before = m->caphdrs * sizeof *m->hdrs;
            m->caphdrs = m->caphdrs ? m->caphdrs * 2 : 16;
            m->hdrs = xrealloc(m->hdrs, m->caphdrs * sizeof *m->hdrs);
            hflow_held(d->hf, before, m->caphdrs * sizeof *m->hdrs);
        }
        struct hmsg_header *hd = &m->hdrs[m->nhdrs++];
        memset(hd, 0, sizeof *hd);
        hd->name_off = (uint32_t)m->head.len;
        d->in_value = 0;
    }
    head_append(d, at, n);
    m->hdrs[m->nhdrs - 1].name_len += (uint32_t)n;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct hdir *d = dir_of(p);
    struct hmsg *m = d->cur;
    struct hmsg_header *hd = &m->hdrs[m->nhdrs - 1];
    if (!d->in_value) {
        d->in_value = 1;
        hd->value_off = (uint32_t)m->head.len;
    }
    head_append(d, at, n);
    hd->value_len += (uint32_t)n;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct hdir *d = dir_of(p);
    struct hmsg *m = d->cur;
    m->vmajor = p->http_major;
    m->vminor = p->http_minor;
    if (d->dir == TCP_C2S) {
        m->method = p->method;
        if ((p->flags & F_CONTENTLENGTH) && p->content_length > 0 && p->content_length <= d->hf->h->max_body) {
            size_t before = m->body.cap;
            kbuf_reserve(&m->body, (size_t)p->content_length);
            hflow_held(d->hf, before, m->body.cap);
        }
        return 0;
    }
    m->status = p->status_code;
    /* A response to HEAD has no body, whatever its headers say. */
    if (d->cur_x && d->cur_x->req.method == HTTP_HEAD)
        return 1;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct hdir *d = dir_of(p);
    struct hmsg *m = d->cur;
    struct httpcap *h = d->hf->h;
    if (m->body.len + n > h->max_body) {
        m->body_dropped += n;
        m->broken = "body larger than --max-body";
        return 0;
    }
    size_t before = m->body.cap;
    kbuf_append(&m->body, at, n);
    hflow_held(d->hf, before, m->body.cap);
    return 0;
}

/* The current message of d ends (whole or not). */
static void message_done(struct hdir *d)
{
    struct hflow *hf = d->hf;
    struct hmsg *m = d->cur;
    if (!m)
        return;
    m->complete = 1;
    m->end_ns = d->ts;
    d->cur = NULL;
    if (d->dir == TCP_C2S) {
        struct hx *x = d->cur_x;
        d->cur_x = NULL;
        if (x && x->resp)
            hflow_finalize(hf, x);
        return;
    }
    struct hx *x = d->cur_x;
    d->cur_x = NULL;
    if (m->status >= 100 && m->status < 200 && m->status != 101 && !m->broken) {
        /* Interim response (100 Continue): the final one follows. */
        hflow_held(hf, sizeof *m + hmsg_bytes(m), 0);
        hmsg_free(m);
        free(m);
        return;
    }
    if (!x) {
        hf->h->st.orphan_responses++;
        hflow_held(hf, sizeof *m + hmsg_bytes(m), 0);
        hmsg_free(m);
        free(m);
        return;
    }
    x->resp = m;
    hflow_queue_remove(hf, x);
    /* The request is over when its direction has moved past it. */
    if (x->req.complete)
        hflow_finalize(hf, x);
}

static int on_message_complete(http_parser *p)
{
    message_done(dir_of(p));
    return 0;
}

/* ------------------------------------------------------------- feeding */

static void feed_parser(struct hdir *d, const uint8_t *p, size_t n);

void h1cap_start(struct hdir *d)
{
    http_parser_init(&d->hp, d->dir == TCP_C2S ? HTTP_REQUEST : HTTP_RESPONSE);
    d->hp.data = d;
    d->active = 1;
    d->junk = 0;
    d->in_value = 0;
}

/* d is in a stretch that is not HTTP: counted once, however many segments it spans. */
static void count_region(struct hdir *d)
{
    if (!d->junk) {
        d->hf->h->st.unparsable++;
        d->junk = 1;
    }
}

/* n bytes of d are not HTTP. */
static void skipped(struct hdir *d, uint64_t n)
{
    d->hf->h->st.unparsable_bytes += n;
    if (n)
        count_region(d);
}

/*
 * A connection joined mid-stream that has given no HTTP/1.1 message yet
 * and whose held bytes on d are HTTP/2 frames: read as HTTP/2 from here on,
 * both directions' held bytes handed over. Returns 1 when it was.
 */
static int joined_http2(struct hdir *d)
{
    struct hflow *hf = d->hf;
    int more;
    if (!hf->joined || hf->nexch || hf->dead ||
        h2cap_find_frames((const uint8_t *)d->scan.p, d->scan.len, d->dir, &more) < 0 || more)
        return 0;
    hf->h2 = h2cap_new_joined(hf->h, hf->f);
    hf->h->st.http2_flows++;
    httpcap_flow_note(hf->h, hf->f, "was already open when the capture started: read as HTTP/2 from its first "
                                    "whole frame on (what came before is not read; header fields that refer to it "
                                    "are not decodable and their exchanges are marked incomplete)");
    hf->join_noted = 1;
    for (int i = 0; i < 2; i++) {
        struct kbuf held = hf->d[i].scan;
        kbuf_init(&hf->d[i].scan);
        hflow_held(hf, held.cap, 0);
        if (held.len)
            h2cap_data(hf->h2, i, (const uint8_t *)held.p, held.len, hf->d[i].ts);
        kbuf_free(&held);
    }
    return 1;
}

/* Looks for a message start in the held bytes plus p; feeds from there when found. */
static void resync(struct hdir *d, const uint8_t *p, size_t n)
{
    size_t before = d->scan.cap;
    kbuf_append(&d->scan, p, n);
    hflow_held(d->hf, before, d->scan.cap);
    if (joined_http2(d))
        return;
    int need_more;
    long at = httpsync_find_start(d->scan.p, d->scan.len, d->dir == TCP_S2C, &need_more);
    if (at >= 0) {
        skipped(d, (uint64_t)at);
        if (d->hf->joined && !d->hf->join_noted && (at > 0 || d->junk)) {
            d->hf->join_noted = 1;
            httpcap_flow_note(d->hf->h, d->hf->f,
                              d->dir == TCP_C2S
                                  ? "was already open when the capture started: the rest of the request under way "
                                    "then could not be read"
                                  : "was already open when the capture started: the rest of the response under way "
                                    "then could not be read");
        }
        struct kbuf rest = d->scan;
        kbuf_init(&d->scan);
        hflow_held(d->hf, rest.cap, 0);
        h1cap_start(d);
        feed_parser(d, (const uint8_t *)rest.p + at, rest.len - (size_t)at);
        kbuf_free(&rest);
        return;
    }
    /* Keep a tail that may hold the start of a start line (or of HTTP/2 frames); the rest is not HTTP. */
    size_t keep = d->hf->joined && !d->hf->nexch ? H2_SCAN_KEEP : SCAN_KEEP;
    if (d->scan.len > keep) {
        size_t drop = d->scan.len - keep;
        skipped(d, drop);
        kbuf_consume(&d->scan, drop);
    }
}

/* Ends the message in progress on d as broken, and looks for the next start. */
void h1cap_desync(struct hdir *d, const char *why)
{
    if (d->cur) {
        if (!d->cur->broken)
            d->cur->broken = why;
        message_done(d);
    }
    d->active = 0;
}

static void feed_parser(struct hdir *d, const uint8_t *p, size_t n)
{
    struct hflow *hf = d->hf;
    size_t done = http_parser_execute(&d->hp, &hf->h->settings, (const char *)p, n);
    enum http_errno err = HTTP_PARSER_ERRNO(&d->hp);
    if (err == HPE_OK && !d->hp.upgrade)
        return;
    if (d->hp.upgrade) {
        /* 101 Switching Protocols or CONNECT: what follows is not HTTP/1.1. */
        hf->dead = 1;
        hf->h->st.unparsable_bytes += n - done;
        return;
    }
    h1cap_desync(d, d->dir == TCP_C2S ? "request is not valid HTTP" : "response is not valid HTTP");
    /* Rescan from just after where the parser gave up; what follows until a message start is the same region. */
    size_t from = done < n ? done + 1 : n;
    hf->h->st.unparsable_bytes += from;
    count_region(d);
    resync(d, p + from, n - from);
}

void h1cap_data(struct hdir *d, const uint8_t *p, size_t n)
{
    if (d->active)
        feed_parser(d, p, n);
    else
        resync(d, p, n);
}

void h1cap_end(struct hdir *d, const char *cut)
{
    struct hflow *hf = d->hf;
    if (d->active && !hf->dead)
        http_parser_execute(&d->hp, &hf->h->settings, NULL, 0); /* ends a body that runs to the close */
    if (d->cur)
        h1cap_desync(d, cut);
    if (d->scan.len) {
        count_region(d);
        hf->h->st.unparsable_bytes += d->scan.len;
    }
    hflow_held(hf, d->scan.cap, 0);
    kbuf_free(&d->scan);
}

void h1cap_settings(http_parser_settings *s)
{
    *s = (http_parser_settings){
        .on_message_begin = on_message_begin,
        .on_url = on_url,
        .on_status = on_status,
        .on_header_field = on_header_field,
        .on_header_value = on_header_value,
        .on_headers_complete = on_headers_complete,
        .on_body = on_body,
        .on_message_complete = on_message_complete,
    };
}
