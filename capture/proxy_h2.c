/*
 * proxy_h2.c — the proxy's client side in HTTP/2 (see proxy_int.h): an
 * nghttp2 server session per connection, one exchange per stream. A
 * stream's answer is queued as it comes from the upstream and sent as
 * HTTP/2 flow control lets it; when a stream's queue passes a megabyte its
 * upstream stops being read until the client catches up, so a slow client
 * costs bounded memory.
 */
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "proxy_int.h"

struct h2stream {
    struct h2stream *prev, *next;
    struct h2conn *h;
    int32_t id;
    struct pex *x;
    struct evbuffer *out;      /* answer bytes not yet sent */
    int ended;                 /* the answer is whole */
    int submitted;             /* its headers went out */
    int sent;                  /* the request was forwarded (or refused) */
    int too_big;
};

struct h2conn {
    struct pconn *c;
    nghttp2_session *s;
    struct h2stream *streams;
    int nstreams;
    int flushing, dead;
};

static const struct pex_ops h2_ops;

static void set_timeout(struct h2conn *h)
{
    int ms = h->nstreams ? 0 : h->c->p->cfg.client_timeout_ms;
    struct timeval t = {ms / 1000, (ms % 1000) * 1000};
    bufferevent_set_timeouts(h->c->bev, ms ? &t : NULL, NULL);
}

/* Sends what the session has, as far as the client's buffer allows. */
static void flush(struct h2conn *h)
{
    if (h->flushing || h->dead)
        return;
    h->flushing = 1;
    struct evbuffer *out = bufferevent_get_output(h->c->bev);
    while (evbuffer_get_length(out) < PROXY_OUT_HIGH) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(h->s, &data);
        if (n < 0) {
            plog(h->c->p, PROXY_LOG_WARN, "HTTP/2 client %s:%u: %s", h->c->ip, h->c->port, nghttp2_strerror((int)n));
            h->dead = 1;
            break;
        }
        if (n == 0)
            break;
        evbuffer_add(out, data, (size_t)n);
    }
    h->flushing = 0;
    if (h->dead || (!nghttp2_session_want_read(h->s) && !nghttp2_session_want_write(h->s))) {
        h->dead = 1;
        bufferevent_disable(h->c->bev, EV_READ);
        bufferevent_setwatermark(h->c->bev, EV_WRITE, 0, 0);
        bufferevent_trigger(h->c->bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
    }
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *arg)
{
    struct h2stream *st = src->ptr;
    (void)s;
    (void)id;
    (void)arg;
    int n = evbuffer_remove(st->out, buf, len);
    if (n < 0)
        n = 0;
    if (st->x && st->x->paused && evbuffer_get_length(st->out) < PROXY_OUT_HIGH / 4)
        pex_pause(st->x, 0);
    if (evbuffer_get_length(st->out) == 0) {
        if (st->ended)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        else if (n == 0)
            return NGHTTP2_ERR_DEFERRED;
    }
    return n;
}

static struct h2stream *stream_of(struct h2conn *h, int32_t id)
{
    return nghttp2_session_get_stream_user_data(h->s, id);
}

static void respond_text(struct h2stream *st, int status, const char *why)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    evbuffer_add_printf(st->out, "kintape proxy: %s\n", why);
    st->ended = 1;
    nghttp2_nv nv[] = {
        {(uint8_t *)":status", (uint8_t *)code, 7, strlen(code), NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"content-type", (uint8_t *)"text/plain; charset=utf-8", 12, 25, NGHTTP2_NV_FLAG_NONE},
    };
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = read_body};
    st->submitted = 1;
    nghttp2_submit_response(st->h->s, st->id, nv, 2, &prd);
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
    struct h2conn *h = arg;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct h2stream *st = xcalloc(1, sizeof *st);
    st->h = h;
    st->id = f->hd.stream_id;
    st->out = evbuffer_new();
    st->x = pex_new(h->c, &h2_ops, st, proxy_now_ns());
    pex_version(st->x, "HTTP/2");
    st->next = h->streams;
    if (h->streams)
        h->streams->prev = st;
    h->streams = st;
    h->nstreams++;
    set_timeout(h);
    nghttp2_session_set_stream_user_data(s, st->id, st);
    return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *arg)
{
    struct h2conn *h = arg;
    (void)s;
    (void)flags;
    struct h2stream *st = stream_of(h, f->hd.stream_id);
    if (!st || !st->x || f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    if (nl == 7 && memcmp(name, ":method", 7) == 0)
        pex_method(st->x, (const char *)value, vl);
    else if (nl == 5 && memcmp(name, ":path", 5) == 0)
        pex_target(st->x, (const char *)value, vl);
    else if (!(nl == 7 && memcmp(name, ":scheme", 7) == 0))
        pex_header(st->x, (const char *)name, nl, (const char *)value, vl);
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *arg)
{
    struct h2conn *h = arg;
    (void)s;
    (void)flags;
    struct h2stream *st = stream_of(h, id);
    if (st && st->x && !st->too_big && pex_body(st->x, data, len) != 0)
        st->too_big = 1;
    return 0;
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *arg)
{
    struct h2conn *h = arg;
    (void)s;
    if ((f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) || !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    struct h2stream *st = stream_of(h, f->hd.stream_id);
    if (!st || !st->x || st->sent)
        return 0;
    st->sent = 1;
    if (st->too_big) {
        char why[200];
        snprintf(why, sizeof why, "the request body is larger than --max-body (%zu bytes)", h->c->p->cfg.max_body);
        plog(h->c->p, PROXY_LOG_WARN, "HTTP/2 client %s:%u: %s", h->c->ip, h->c->port, why);
        respond_text(st, 413, why);
        return 0;
    }
    pex_send(st->x);
    return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *arg)
{
    struct h2conn *h = arg;
    struct h2stream *st = stream_of(h, id);
    if (!st)
        return 0;
    nghttp2_session_set_stream_user_data(s, id, NULL);
    if (st->x)
        pex_close(st->x, code ? "the client reset the stream" : st->x->resp_done ? NULL : "the stream closed early");
    if (st->prev)
        st->prev->next = st->next;
    else
        h->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    h->nstreams--;
    set_timeout(h);
    evbuffer_free(st->out);
    free(st);
    return 0;
}

/* ------------------------------------------------------------- answers */

static void x_head(struct pex *x)
{
    struct h2stream *st = x->owner;
    const struct pmsg *m = pex_resp(x);
    nghttp2_nv *nv = xcalloc(m->nh + 1, sizeof *nv);
    struct kbuf names = KBUF_INIT;
    kbuf_reserve(&names, m->text.len + 16);
    char code[8];
    snprintf(code, sizeof code, "%d", x->status);
    nv[0] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)code, 7, strlen(code), NGHTTP2_NV_FLAG_NONE};
    size_t n = 1;
    for (size_t i = 0; i < m->nh; i++) {
        const char *nm = pex_text(m, m->h[i].no);
        if (proxy_hop_header(nm, m->h[i].nl))
            continue;
        size_t at = names.len;
        for (size_t j = 0; j < m->h[i].nl; j++)
            kbuf_putc(&names, (char)((nm[j] >= 'A' && nm[j] <= 'Z') ? nm[j] + 32 : nm[j]));
        nv[n++] = (nghttp2_nv){(uint8_t *)(uintptr_t)at, (uint8_t *)pex_text(m, m->h[i].vo), m->h[i].nl, m->h[i].vl,
                               NGHTTP2_NV_FLAG_NONE};
    }
    for (size_t i = 1; i < n; i++)
        nv[i].name = (uint8_t *)names.p + (uintptr_t)nv[i].name;
    int bodyless = x->head_request || x->status == 204 || x->status == 304;
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = read_body};
    st->submitted = 1;
    int rc = nghttp2_submit_response(st->h->s, st->id, nv, n, bodyless ? NULL : &prd);
    if (rc != 0)
        nghttp2_submit_rst_stream(st->h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    kbuf_free(&names);
    free(nv);
    flush(st->h);
}

static void x_body(struct pex *x, const uint8_t *p, size_t n)
{
    struct h2stream *st = x->owner;
    evbuffer_add(st->out, p, n);
    if (evbuffer_get_length(st->out) > PROXY_OUT_HIGH)
        pex_pause(x, 1);
    nghttp2_session_resume_data(st->h->s, st->id);
    flush(st->h);
}

static void x_end(struct pex *x)
{
    struct h2stream *st = x->owner;
    st->ended = 1;
    nghttp2_session_resume_data(st->h->s, st->id);
    flush(st->h);
}

static void x_fail(struct pex *x, int status, const char *why)
{
    struct h2stream *st = x->owner;
    if (!st->submitted)
        respond_text(st, status, why);
    else
        nghttp2_submit_rst_stream(st->h->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    flush(st->h);
}

static const struct pex_ops h2_ops = {x_head, x_body, x_end, x_fail};

/* --------------------------------------------------------- connection */

static void h2_read(struct bufferevent *bev, void *arg)
{
    struct pconn *c = arg;
    struct h2conn *h = c->h2s;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (!h->dead && evbuffer_get_length(in)) {
        size_t n = evbuffer_get_contiguous_space(in);
        const uint8_t *data = evbuffer_pullup(in, (ev_ssize_t)n);
        ssize_t used = nghttp2_session_mem_recv(h->s, data, n);
        if (used < 0) {
            plog(c->p, PROXY_LOG_WARN, "HTTP/2 client %s:%u sent what cannot be read: %s", c->ip, c->port,
                 nghttp2_strerror((int)used));
            nghttp2_session_terminate_session(h->s, NGHTTP2_PROTOCOL_ERROR);
            evbuffer_drain(in, n);
            break;
        }
        evbuffer_drain(in, (size_t)used);
    }
    flush(h);
}

static void h2_write(struct bufferevent *bev, void *arg)
{
    struct pconn *c = arg;
    struct h2conn *h = c->h2s;
    if (h->dead) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            pconn_free_drained(c);
        return;
    }
    flush(h);
}

static void h2_event(struct bufferevent *bev, short what, void *arg)
{
    struct pconn *c = arg;
    (void)bev;
    pconn_free(c, (what & BEV_EVENT_TIMEOUT) ? "the client was idle too long" : "the client closed the connection");
}

static void h2_free(struct pconn *c, const char *why)
{
    struct h2conn *h = c->h2s;
    if (!h)
        return;
    while (h->streams) {
        struct h2stream *st = h->streams;
        h->streams = st->next;
        if (st->x)
            pex_close(st->x, st->x->resp_done ? NULL : why ? why : "the connection closed");
        evbuffer_free(st->out);
        free(st);
    }
    nghttp2_session_del(h->s);
    free(h);
    c->h2s = NULL;
}

void h2_start(struct pconn *c)
{
    struct h2conn *h = xcalloc(1, sizeof *h);
    h->c = c;
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    nghttp2_session_server_new(&h->s, cb, h);
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 256},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
    };
    nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, 2);
    nghttp2_session_set_local_window_size(h->s, NGHTTP2_FLAG_NONE, 0, 16 << 20);
    c->h2 = 1;
    c->h2s = h;
    c->proto_free = h2_free;
    bufferevent_setcb(c->bev, h2_read, h2_write, h2_event, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, PROXY_OUT_HIGH / 4, 0);
    set_timeout(h);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    flush(h);
    if (evbuffer_get_length(bufferevent_get_input(c->bev)))
        h2_read(c->bev, c);
}
