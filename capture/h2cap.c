/*
 * h2cap.c — HTTP/2 exchanges from TCP streams (RFC 9113, RFC 7541; see h2cap.h).
 *
 *   client bytes ─▶ preface, frames ─┐                    ┌─▶ request of stream N (hx, announced)
 *                                    ├─▶ per stream ──────┤
 *   server bytes ─▶ frames ──────────┘   HPACK (nghttp2)  └─▶ its response; final at both END_STREAMs
 */
#include "h2cap.h"

#include <http_parser.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpcap.h"
#include "mem.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define PREFACE_LEN 24
#define FRAME_HEAD 9
#define MAX_HEADER_BLOCK ((size_t)1 << 20) /* a header block longer than this is not followed */
#define SYNC_MAX_FRAME ((size_t)1 << 20)   /* a frame claimed longer than this is no boundary */

/*
 * Joined mid-stream (or after bytes lost in a gap) the peer's HPACK table
 * holds entries never seen. The inflater is given a table as large as any
 * peer's, filled with PLACEHOLDER entries standing for them: every entry
 * seen from then on is newer, so it sits at the index the peer's encoder
 * uses; an index past them lands on a placeholder, read as "not
 * decodable", never as a wrong value.
 */
#define PLACEHOLDER "kintape-hpack-entry-not-seen"
#define PLACEHOLDERS 600
#define GUESS_TABLE 65536
#define UNKNOWN_TEXT "HTTP/2 header fields compressed against a part of the connection not seen (joined " \
                     "mid-stream or after a TCP gap): not all of them could be decoded"

enum { F_DATA = 0, F_HEADERS = 1, F_PRIORITY = 2, F_RST = 3, F_SETTINGS = 4, F_PUSH = 5, F_PING = 6, F_GOAWAY = 7,
       F_WINDOW = 8, F_CONT = 9 };
enum { FL_END_STREAM = 0x1, FL_ACK = 0x1, FL_END_HEADERS = 0x4, FL_PADDED = 0x8, FL_PRIORITY = 0x20 };

struct h2stream {
    struct h2stream *next;
    uint32_t id;
    struct hx *x;
    struct hmsg *msg[2];       /* request (the hx's), response (once its final HEADERS came) */
    int ended[2];              /* END_STREAM seen in each direction */
};

struct h2side {
    struct kbuf buf;           /* bytes not yet a whole frame */
    nghttp2_hd_inflater *inf;  /* decodes the header blocks this side sends */
    struct kbuf block;         /* a header block being gathered (HEADERS, PUSH_PROMISE, CONTINUATION) */
    uint32_t block_stream;     /* its stream; 0: none */
    int block_end_stream, block_push;
    int preface;               /* client: the preface has been read */
    int sync;                  /* looking for a frame boundary (joined mid-stream, or after a TCP gap) */
    int sync_counted;          /* the bytes skipped while looking have been counted as a region */
    int guess;                 /* the HPACK table holds entries not seen: placeholders stand for them */
};

struct h2conn {
    struct httpcap *h;
    struct tcp_flow *f;
    struct h2side side[2];
    struct h2stream *streams;
    int lost;                  /* not valid HTTP/2: nothing more is decoded */
    int joined;                /* streams may have opened before what was seen (a join, a TCP gap) */
    int unknown_counted;       /* frames of such streams have been counted as a region not read */
    int64_t ts;
};

static void held(struct h2conn *c, size_t before, size_t after)
{
    httpcap_held_change(c->h, c->f, before, after);
}

static void append(struct h2conn *c, struct kbuf *b, const void *p, size_t n)
{
    size_t before = b->cap;
    kbuf_append(b, p, n);
    held(c, before, b->cap);
}

struct h2conn *h2cap_new(struct httpcap *h, struct tcp_flow *f)
{
    struct h2conn *c = xcalloc(1, sizeof *c);
    c->h = h;
    c->f = f;
    for (int i = 0; i < 2; i++)
        if (nghttp2_hd_inflate_new(&c->side[i].inf) != 0)
            c->lost = 1;
    held(c, 0, sizeof *c);
    return c;
}

/* A fresh inflater for side sd whose table starts with PLACEHOLDERS entries; 0, or -1. */
static int seed_inflater(struct h2conn *c, struct h2side *sd)
{
    if (sd->inf)
        nghttp2_hd_inflate_del(sd->inf);
    sd->inf = NULL;
    if (nghttp2_hd_inflate_new(&sd->inf) != 0)
        return -1;
    nghttp2_hd_inflate_change_table_size(sd->inf, GUESS_TABLE);
    struct kbuf b = KBUF_INIT;
    uint8_t upd[4] = {0x3f, 0xe1, 0xff, 0x03}; /* dynamic table size update: 31 + 0x7fe1 = 65536 */
    kbuf_append(&b, upd, sizeof upd);
    for (int i = 0; i < PLACEHOLDERS; i++) {
        uint8_t lit[2] = {0x40, (uint8_t)(sizeof PLACEHOLDER - 1)}; /* literal, new name, indexed */
        kbuf_append(&b, lit, 2);
        kbuf_append(&b, PLACEHOLDER, sizeof PLACEHOLDER - 1);
        kbuf_putc(&b, 0);
    }
    const uint8_t *in = (const uint8_t *)b.p;
    size_t len = b.len;
    int rc = 0;
    for (;;) {
        nghttp2_nv nv;
        int flags = 0;
        ssize_t r = nghttp2_hd_inflate_hd2(sd->inf, &nv, &flags, in, len, 1);
        if (r < 0) {
            rc = -1;
            break;
        }
        in += r;
        len -= (size_t)r;
        if (flags & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(sd->inf);
            break;
        }
        if (r == 0 && len == 0)
            break;
    }
    kbuf_free(&b);
    if (!sd->guess)
        held(c, 0, GUESS_TABLE); /* what the inflater's table may hold from now on */
    sd->guess = 1;
    return rc;
}

struct h2conn *h2cap_new_joined(struct httpcap *h, struct tcp_flow *f)
{
    struct h2conn *c = h2cap_new(h, f);
    c->joined = 1;
    for (int i = 0; i < 2; i++) {
        c->side[i].preface = 1;
        c->side[i].sync = 1;
        if (seed_inflater(c, &c->side[i]) != 0)
            c->lost = 1;
    }
    return c;
}

/* Checks a frame header seen from side dir as one a peer could send; its length into *len. */
static int plausible(const uint8_t *f, int dir, size_t *len)
{
    static const uint8_t flags_allowed[10] = {0x09, 0x2d, 0, 0, 0x01, 0x0c, 0x01, 0, 0, 0x04};
    size_t n = (size_t)f[0] << 16 | (size_t)f[1] << 8 | f[2];
    int type = f[3], flags = f[4];
    uint32_t id = (uint32_t)f[5] << 24 | (uint32_t)f[6] << 16 | (uint32_t)f[7] << 8 | f[8];
    if (n > SYNC_MAX_FRAME || type > F_CONT || (flags & ~flags_allowed[type]) || (id & 0x80000000u))
        return 0;
    int ok;
    switch (type) {
    case F_DATA:
    case F_HEADERS:
    case F_CONT: ok = id && (dir == TCP_S2C || (id & 1)); break;
    case F_PRIORITY: ok = id && n == 5; break;
    case F_RST: ok = id && n == 4; break;
    case F_SETTINGS: ok = !id && n % 6 == 0 && !((flags & FL_ACK) && n); break;
    case F_PUSH: ok = id && dir == TCP_S2C && n >= 4; break;
    case F_PING: ok = !id && n == 8; break;
    case F_GOAWAY: ok = !id && n >= 8; break;
    default: ok = n == 4; break; /* WINDOW_UPDATE */
    }
    *len = n;
    return ok;
}

long h2cap_find_frames(const uint8_t *p, size_t n, int dir, int *need_more)
{
    *need_more = 0;
    for (size_t o = 0; o + FRAME_HEAD <= n; o++) {
        size_t len, len2;
        if (!plausible(p + o, dir, &len))
            continue;
        size_t next = o + FRAME_HEAD + len;
        if (next + FRAME_HEAD > n) {
            *need_more = 1; /* the next header, which would confirm it, has not come yet */
            return (long)o;
        }
        if (plausible(p + next, dir, &len2))
            return (long)o;
    }
    return -1;
}

static struct h2stream *stream(struct h2conn *c, uint32_t id, int create)
{
    for (struct h2stream *s = c->streams; s; s = s->next)
        if (s->id == id)
            return s;
    if (!create)
        return NULL;
    struct h2stream *s = xcalloc(1, sizeof *s);
    held(c, 0, sizeof *s);
    s->id = id;
    s->x = httpcap_exchange_start(c->h, c->f, c->ts);
    s->msg[TCP_C2S] = &s->x->req;
    s->next = c->streams;
    c->streams = s;
    return s;
}

/* The stream is over: its exchange goes to the writer. */
static void stream_final(struct h2conn *c, struct h2stream *s)
{
    for (struct h2stream **pp = &c->streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    struct hx *x = s->x;
    if (s->msg[TCP_S2C])
        x->resp = s->msg[TCP_S2C];
    held(c, sizeof *s, 0);
    free(s);
    httpcap_exchange_final(c->h, c->f, x);
}

static void maybe_final(struct h2conn *c, struct h2stream *s)
{
    if (s->ended[TCP_C2S] && s->ended[TCP_S2C] && s->msg[TCP_S2C])
        stream_final(c, s);
}

/* Ends every open stream as cut (why for each side), e.g. when bytes were lost. */
static void cut_all(struct h2conn *c, const char *req_why, const char *resp_why)
{
    while (c->streams) {
        struct h2stream *s = c->streams;
        for (int d = 0; d < 2; d++) {
            struct hmsg *m = s->msg[d];
            if (m && !m->complete) {
                m->complete = 1;
                m->end_ns = c->ts;
                if (!m->broken)
                    m->broken = d == TCP_C2S ? req_why : resp_why;
            }
        }
        stream_final(c, s);
    }
}

static void lose(struct h2conn *c, const char *why)
{
    c->lost = 1;
    cut_all(c, why, why);
    httpcap_unparsable(c->h, 0, 1);
    char what[300];
    snprintf(what, sizeof what, "speaks HTTP/2 that could not be decoded from here on (%s): the rest is not read",
             why);
    httpcap_flow_note(c->h, c->f, what);
}

static void msg_header(struct h2conn *c, struct hmsg *m, const uint8_t *n, size_t nl, const uint8_t *v, size_t vl)
{
    if (m->nhdrs == m->caphdrs) {
        size_t before = m->caphdrs * sizeof *m->hdrs;
        m->caphdrs = m->caphdrs ? m->caphdrs * 2 : 16;
        m->hdrs = xrealloc(m->hdrs, m->caphdrs * sizeof *m->hdrs);
        held(c, before, m->caphdrs * sizeof *m->hdrs);
    }
    struct hmsg_header *h = &m->hdrs[m->nhdrs++];
    h->name_off = (uint32_t)m->head.len;
    h->name_len = (uint32_t)nl;
    append(c, &m->head, n, nl);
    h->value_off = (uint32_t)m->head.len;
    h->value_len = (uint32_t)vl;
    append(c, &m->head, v, vl);
}

static int method_of(const uint8_t *v, size_t n)
{
    for (int i = 0; i < 64; i++) {
        const char *s = http_method_str((enum http_method)i);
        if (strlen(s) == n && memcmp(s, v, n) == 0)
            return i;
    }
    return -1;
}

/* A decoded header block, before it is given to a message. */
struct hblock {
    struct kbuf path;
    struct kbuf rest; /* (name length, value length, name, value) for each field but :path and :status */
    int status, method;
    int unknown;      /* fields that stood on placeholders: not decodable */
};

static void hblock_free(struct hblock *b)
{
    kbuf_free(&b->path);
    kbuf_free(&b->rest);
}

static int is_placeholder(const nghttp2_nv *nv)
{
    return nv->namelen == sizeof PLACEHOLDER - 1 && memcmp(nv->name, PLACEHOLDER, nv->namelen) == 0;
}

/* Decodes a whole header block from side dir into b. Returns 0, or -1 when it is not valid HPACK. */
static int decode_block(struct h2conn *c, int dir, const uint8_t *in, size_t len, struct hblock *b)
{
    nghttp2_hd_inflater *inf = c->side[dir].inf;
    memset(b, 0, sizeof *b);
    b->method = -1;
    for (;;) {
        nghttp2_nv nv;
        int flags = 0;
        ssize_t r = nghttp2_hd_inflate_hd2(inf, &nv, &flags, in, len, 1);
        if (r < 0)
            return -1;
        in += r;
        len -= (size_t)r;
        if (flags & NGHTTP2_HD_INFLATE_EMIT) {
            if (is_placeholder(&nv)) {
                b->unknown++;
            } else if (nv.namelen == 5 && memcmp(nv.name, ":path", 5) == 0) {
                kbuf_append(&b->path, nv.value, nv.valuelen);
            } else if (nv.namelen == 7 && memcmp(nv.name, ":status", 7) == 0) {
                for (size_t i = 0; i < nv.valuelen && i < 4; i++)
                    b->status = b->status * 10 + (nv.value[i] - '0');
            } else {
                if (nv.namelen == 7 && memcmp(nv.name, ":method", 7) == 0)
                    b->method = method_of(nv.value, nv.valuelen);
                uint32_t l[2] = {(uint32_t)nv.namelen, (uint32_t)nv.valuelen};
                kbuf_append(&b->rest, l, sizeof l);
                kbuf_append(&b->rest, nv.name, nv.namelen);
                kbuf_append(&b->rest, nv.value, nv.valuelen);
            }
        }
        if (flags & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(inf);
            break;
        }
        if (r == 0 && len == 0)
            break;
    }
    return 0;
}

/*
 * Gives a decoded block to m, whose first bytes of head are the target
 * (requests) or nothing (responses), as the HTTP/1.1 reader leaves them.
 */
static void block_to_msg(struct h2conn *c, int dir, const struct hblock *b, struct hmsg *m)
{
    if (dir == TCP_C2S && m->head.len == 0) {
        append(c, &m->head, b->path.p ? b->path.p : "", b->path.len);
        m->first_len = (uint32_t)b->path.len;
        m->method = b->method;
    }
    if (dir == TCP_S2C && b->status)
        m->status = b->status;
    for (size_t i = 0; i + 8 <= b->rest.len;) {
        uint32_t l[2];
        memcpy(l, b->rest.p + i, sizeof l);
        const uint8_t *n = (const uint8_t *)b->rest.p + i + 8;
        if (!(l[0] == 7 && memcmp(n, ":method", 7) == 0) && !(l[0] == 7 && memcmp(n, ":scheme", 7) == 0))
            msg_header(c, m, n, l[0], n + l[0], l[1]);
        i += 8 + l[0] + l[1];
    }
    if (b->unknown && !m->broken)
        m->broken = UNKNOWN_TEXT;
}

/* Frame bytes of a stream opened before what was seen: not read, counted (one region per connection). */
static void unknown_stream(struct h2conn *c, size_t n)
{
    if (!c->joined)
        return; /* frames in flight after a reset: nothing was lost */
    httpcap_unparsable(c->h, n, !c->unknown_counted);
    c->unknown_counted = 1;
}

/* A whole header block of side dir for stream id. */
static void header_block(struct h2conn *c, int dir, uint32_t id, const uint8_t *in, size_t len, int end_stream,
                         int push)
{
    struct hblock b;
    if (decode_block(c, dir, in, len, &b) != 0) {
        hblock_free(&b);
        lose(c, "HTTP/2 header block not valid HPACK");
        return;
    }
    /* Joined mid-stream, a client block without a method is the trailer of a stream begun before. */
    int opens = dir == TCP_C2S && !push && (!c->joined || b.method >= 0 || stream(c, id, 0));
    struct h2stream *s = push ? NULL : stream(c, id, opens);
    if (!s) {
        if (!push)
            unknown_stream(c, len);
        hblock_free(&b);
        return;
    }
    struct hmsg *m;
    int interim = 0;
    if (dir == TCP_C2S) {
        m = s->msg[TCP_C2S];
    } else if (!s->msg[TCP_S2C]) {
        m = xmalloc(sizeof *m);
        held(c, 0, sizeof *m);
        hmsg_init(m, c->ts);
        m->vmajor = 2;
        s->msg[TCP_S2C] = m;
    } else {
        m = s->msg[TCP_S2C];
    }
    size_t before = m->nhdrs;
    if (b.unknown)
        httpcap_unparsable(c->h, len, 1); /* a header block not wholly decodable: not read, loss */
    block_to_msg(c, dir, &b, m);
    hblock_free(&b);
    if (dir == TCP_S2C && m->status >= 100 && m->status < 200 && !end_stream && before == 0) {
        /* An interim response (100 Continue): the final one follows. */
        interim = 1;
        held(c, sizeof *m + hmsg_bytes(m), 0);
        hmsg_free(m);
        free(m);
        s->msg[TCP_S2C] = NULL;
    }
    if (end_stream && !interim) {
        s->ended[dir] = 1;
        s->msg[dir]->complete = 1;
        s->msg[dir]->end_ns = c->ts;
        maybe_final(c, s);
    }
}

static void data_frame(struct h2conn *c, int dir, uint32_t id, const uint8_t *p, size_t n, int end_stream)
{
    struct h2stream *s = stream(c, id, 0);
    if (!s || !s->msg[dir]) {
        unknown_stream(c, n); /* a stream opened before what was seen, or already reset */
        return;
    }
    struct hmsg *m = s->msg[dir];
    if (m->body.len + n > httpcap_max_body(c->h)) {
        m->body_dropped += n;
        m->broken = "body larger than --max-body";
    } else {
        append(c, &m->body, p, n);
    }
    if (end_stream) {
        s->ended[dir] = 1;
        m->complete = 1;
        m->end_ns = c->ts;
        maybe_final(c, s);
    }
}

/* One whole frame from side dir; -1 when it breaks the protocol so that nothing after it can be trusted. */
static int frame(struct h2conn *c, int dir, const uint8_t *f, size_t len)
{
    int type = f[3], flags = f[4];
    uint32_t id = ((uint32_t)f[5] << 24 | (uint32_t)f[6] << 16 | (uint32_t)f[7] << 8 | f[8]) & 0x7fffffffu;
    const uint8_t *p = f + FRAME_HEAD;
    struct h2side *sd = &c->side[dir];
    if (sd->block_stream && type != F_CONT)
        return -1; /* a header block must continue on its own */
    if (type == F_CONT && !sd->block_stream && c->joined) {
        unknown_stream(c, len); /* the rest of a block begun before what was seen */
        return 0;
    }
    if ((type == F_DATA || type == F_HEADERS || type == F_PUSH) && (flags & FL_PADDED)) {
        if (len < 1 || p[0] >= len)
            return -1;
        len -= 1 + (size_t)p[0];
        p++;
    }
    switch (type) {
    case F_DATA:
        data_frame(c, dir, id, p, len, flags & FL_END_STREAM);
        return 0;
    case F_HEADERS:
    case F_PUSH:
        if (type == F_HEADERS && (flags & FL_PRIORITY)) {
            if (len < 5)
                return -1;
            p += 5;
            len -= 5;
        }
        if (type == F_PUSH) {
            if (len < 4)
                return -1;
            p += 4;
            len -= 4;
        }
        if (id == 0)
            return -1;
        if (flags & FL_END_HEADERS) {
            header_block(c, dir, id, p, len, flags & FL_END_STREAM, type == F_PUSH);
            return 0;
        }
        kbuf_reset(&sd->block);
        append(c, &sd->block, p, len);
        sd->block_stream = id;
        sd->block_end_stream = flags & FL_END_STREAM;
        sd->block_push = type == F_PUSH;
        return 0;
    case F_CONT:
        if (!sd->block_stream || id != sd->block_stream || sd->block.len + len > MAX_HEADER_BLOCK)
            return -1;
        append(c, &sd->block, p, len);
        if (flags & FL_END_HEADERS) {
            sd->block_stream = 0;
            header_block(c, dir, id, (const uint8_t *)sd->block.p, sd->block.len, sd->block_end_stream,
                         sd->block_push);
            kbuf_reset(&sd->block);
        }
        return 0;
    case F_RST: {
        struct h2stream *s = stream(c, id, 0);
        if (s) {
            for (int d = 0; d < 2; d++)
                if (s->msg[d] && !s->msg[d]->complete) {
                    s->msg[d]->complete = 1;
                    s->msg[d]->broken = "stream reset (RST_STREAM)";
                }
            if (!s->msg[TCP_S2C] && !s->x->req.broken)
                s->x->req.broken = "stream reset (RST_STREAM)";
            stream_final(c, s);
        }
        return 0;
    }
    case F_SETTINGS:
        /* A table size the sender will decode with: the other side's encoder keeps to it. */
        if (!(flags & FL_ACK))
            for (size_t i = 0; i + 6 <= len; i += 6) {
                uint16_t sid = (uint16_t)(p[i] << 8 | p[i + 1]);
                uint32_t v = (uint32_t)p[i + 2] << 24 | (uint32_t)p[i + 3] << 16 | (uint32_t)p[i + 4] << 8 | p[i + 5];
                if (sid == NGHTTP2_SETTINGS_HEADER_TABLE_SIZE && !c->side[1 - dir].guess)
                    nghttp2_hd_inflate_change_table_size(c->side[1 - dir].inf, v);
            }
        return 0;
    default:
        return 0; /* PING, PRIORITY, WINDOW_UPDATE, GOAWAY, unknown types: nothing for the exchanges */
    }
}

/* Side dir looks for a frame boundary in its held bytes; 1 once found (the bytes before it counted as not read). */
static int find_boundary(struct h2conn *c, int dir)
{
    struct h2side *sd = &c->side[dir];
    int more;
    long o = h2cap_find_frames((const uint8_t *)sd->buf.p, sd->buf.len, dir, &more);
    size_t skip = o >= 0 ? (size_t)o : sd->buf.len > FRAME_HEAD - 1 ? sd->buf.len - (FRAME_HEAD - 1) : 0;
    if (skip) {
        httpcap_unparsable(c->h, skip, !sd->sync_counted);
        sd->sync_counted = 1;
        kbuf_consume(&sd->buf, skip);
    }
    if (o < 0 || more)
        return 0;
    sd->sync = 0;
    sd->sync_counted = 0;
    return 1;
}

void h2cap_data(struct h2conn *c, int dir, const uint8_t *p, size_t n, int64_t ts_ns)
{
    if (c->lost) {
        httpcap_unparsable(c->h, n, 0);
        return;
    }
    c->ts = ts_ns;
    struct h2side *sd = &c->side[dir];
    append(c, &sd->buf, p, n);
    size_t at = 0;
    if (dir == TCP_C2S && !sd->preface) {
        if (sd->buf.len < PREFACE_LEN)
            return;
        if (memcmp(sd->buf.p, PREFACE, PREFACE_LEN) != 0) {
            lose(c, "not an HTTP/2 connection preface");
            return;
        }
        sd->preface = 1;
        at = PREFACE_LEN;
    }
    if (sd->sync && !find_boundary(c, dir))
        return;
    while (sd->buf.len - at >= FRAME_HEAD) {
        const uint8_t *f = (const uint8_t *)sd->buf.p + at;
        size_t len = (size_t)f[0] << 16 | (size_t)f[1] << 8 | f[2];
        if (sd->buf.len - at < FRAME_HEAD + len)
            break;
        if (frame(c, dir, f, len) != 0) {
            httpcap_unparsable(c->h, sd->buf.len - at, 0);
            lose(c, "not valid HTTP/2 framing");
            kbuf_reset(&sd->buf);
            return;
        }
        if (c->lost) {
            kbuf_reset(&sd->buf);
            return;
        }
        at += FRAME_HEAD + len;
    }
    kbuf_consume(&sd->buf, at);
}

void h2cap_gap(struct h2conn *c, int dir, uint64_t missing, int64_t ts_ns)
{
    c->ts = ts_ns;
    if (c->lost)
        return;
    /*
     * Bytes of side dir are gone: the messages it was sending are cut (their
     * other halves still come), a header block it was sending is lost, and so
     * is what its encoder added to the HPACK table. Reading goes on from the
     * next frame boundary, with placeholders for the entries not seen.
     */
    struct h2side *sd = &c->side[dir];
    if (missing == 0) {
        /* This side joins now, mid-stream: nothing seen was cut. */
        if (!sd->sync && sd->buf.len == 0 && !sd->guess) {
            sd->preface = 1;
            sd->sync = 1;
            c->joined = 1;
            if (seed_inflater(c, sd) != 0)
                lose(c, "HTTP/2 header decoder could not be set up");
        }
        return;
    }
    const char *why = dir == TCP_C2S ? "request cut by a TCP gap" : "response cut by a TCP gap";
    for (struct h2stream *s = c->streams, *next; s; s = next) {
        next = s->next;
        struct hmsg *m = s->msg[dir];
        if (dir == TCP_S2C && !m) {
            /* Its answer's head may be in the gap: the exchange ends here, cut. */
            if (!s->x->req.complete)
                s->x->req.complete = 1;
            if (!s->x->req.broken)
                s->x->req.broken = "response lost in a TCP gap";
            stream_final(c, s);
            continue;
        }
        if (m && !m->complete) {
            m->complete = 1;
            m->end_ns = c->ts;
            if (!m->broken)
                m->broken = why;
            s->ended[dir] = 1;
            maybe_final(c, s);
        }
    }
    held(c, sd->buf.cap + sd->block.cap, 0);
    kbuf_free(&sd->buf);
    kbuf_free(&sd->block);
    sd->block_stream = 0;
    sd->preface = 1;
    sd->sync = 1;
    c->joined = 1;
    if (seed_inflater(c, sd) != 0)
        lose(c, "HTTP/2 header decoder could not be set up");
}

void h2cap_free(struct h2conn *c, const char *cut_request, const char *cut_response)
{
    cut_all(c, cut_request, cut_response);
    for (int i = 0; i < 2; i++) {
        held(c, c->side[i].buf.cap + c->side[i].block.cap, 0);
        kbuf_free(&c->side[i].buf);
        kbuf_free(&c->side[i].block);
        if (c->side[i].inf)
            nghttp2_hd_inflate_del(c->side[i].inf);
        if (c->side[i].guess)
            held(c, GUESS_TABLE, 0);
    }
    held(c, sizeof *c, 0);
    free(c);
}
