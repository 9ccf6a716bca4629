/* xwriter.c — exchanges, in request order, to snapshot lines (see xwriter.h). */
#include "xwriter.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jcbor.h"
#include "jread.h"
#include "mem.h"

struct xwriter {
    struct snap_writer *w;
    int64_t reorder_ns;
    struct xitem *head, *tail; /* announced, oldest start first */
    size_t listed;
    int failed;                /* a write failed; the error is in err */
    struct kt_err err;
    struct xw_counts n;
    struct jdoc cbor;          /* a CBOR request body, decoded to find its stream */
    struct kbuf cbor_text;
};

struct xwriter *xw_new(struct snap_writer *w, int64_t reorder_ns)
{
    struct xwriter *xw = xcalloc(1, sizeof *xw);
    xw->w = w;
    xw->reorder_ns = reorder_ns;
    jdoc_init(&xw->cbor);
    return xw;
}

static void unlist(struct xwriter *xw, struct xitem *it)
{
    if (it->prev)
        it->prev->next = it->next;
    else
        xw->head = it->next;
    if (it->next)
        it->next->prev = it->prev;
    else
        xw->tail = it->prev;
    it->prev = it->next = NULL;
    xw->listed--;
}

void xw_free(struct xwriter *xw)
{
    if (!xw)
        return;
    while (xw->head) {
        struct xitem *it = xw->head;
        unlist(xw, it);
        it->release(it, it->ctx);
    }
    jdoc_free(&xw->cbor);
    kbuf_free(&xw->cbor_text);
    free(xw);
}

void xw_start(struct xwriter *xw, struct xitem *it)
{
    it->final = 0;
    it->skip = 0;
    it->prev = xw->tail;
    it->next = NULL;
    if (xw->tail)
        xw->tail->next = it;
    else
        xw->head = it;
    xw->tail = it;
    xw->listed++;
}

static const char *header_value(const struct snap_msg *m, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *found = NULL;
    for (size_t i = 0; i < m->nheaders; i++) {
        const struct snap_kv *h = &m->headers[i];
        if (h->name_len == nl && strncasecmp(h->name, name, nl) == 0) {
            found = h->value;
            *len = h->value_len;
        }
    }
    return found;
}

/* The stream named by a StreamName (arn 0) or a StreamARN (arn 1: arn:aws:kinesis:region:account:stream/NAME). */
static void set_stream(const char *v, size_t vl, int arn, const char **stream, size_t *len)
{
    if (!arn) {
        *stream = v;
        *len = vl;
        return;
    }
    for (size_t i = 0; i + 8 <= vl; i++) {
        if (memcmp(v + i, ":stream/", 8) == 0) {
            *stream = v + i + 8;
            *len = vl - i - 8;
            return;
        }
    }
}

/* A CBOR request body's StreamName or StreamARN (decoded into xw's scratch): 0 none, 1 the name, 2 the ARN. */
static int cbor_stream(struct xwriter *xw, const struct snap_msg *req, const char **v, size_t *vl)
{
    struct kt_err err;
    if (jdoc_parse_cbor(&xw->cbor, &xw->cbor_text, req->body, req->body_len, &err) != 0)
        return 0;
    const struct jnode *root = jroot(&xw->cbor);
    int found = 1;
    const struct jnode *n = jget(&xw->cbor, root, "StreamName");
    if (!n || n->type != J_STR) {
        n = jget(&xw->cbor, root, "StreamARN");
        found = 2;
    }
    if (!n || n->type != J_STR)
        return 0;
    *v = jstr(&xw->cbor, n);
    *vl = n->len;
    return found;
}

void xw_decode_kinesis(struct xwriter *xw, const struct snap_msg *req, const char **op, size_t *op_len,
                       const char **stream, size_t *stream_len)
{
    *op = *stream = NULL;
    *op_len = *stream_len = 0;
    size_t tl;
    const char *t = header_value(req, "X-Amz-Target", &tl);
    if (t) {
        const char *dot = memchr(t, '.', tl);
        *op = dot ? dot + 1 : t;
        *op_len = dot ? tl - (size_t)(dot + 1 - t) : tl;
    }
    const char *body = (const char *)req->body;
    size_t blen = req->body_len;
    const char *v;
    size_t vl;
    if (!body || !blen)
        return;
    size_t cl;
    const char *ctype = header_value(req, "Content-Type", &cl);
    int found;
    if (jcbor_content_type(ctype, cl))
        found = cbor_stream(xw, req, &v, &vl);
    else if (jscan_top_string(body, blen, "StreamName", &v, &vl) == 1)
        found = 1;
    else
        found = jscan_top_string(body, blen, "StreamARN", &v, &vl) == 1 ? 2 : 0;
    if (found)
        set_stream(v, vl, found == 2, stream, stream_len);
}

static void write_and_release(struct xwriter *xw, struct xitem *it)
{
    unlist(xw, it);
    if (it->skip) {
        it->release(it, it->ctx);
        return;
    }
    struct snap_exchange *x = &it->x;
    xw_decode_kinesis(xw, &x->req, &x->operation, &x->operation_len, &x->stream, &x->stream_len);
    if (!xw->failed && snap_writer_add(xw->w, x, &xw->err) != 0)
        xw->failed = 1;
    xw->n.exchanges++;
    if (x->incomplete)
        xw->n.incomplete++;
    else
        xw->n.complete++;
    it->release(it, it->ctx);
}

static int status(struct xwriter *xw, struct kt_err *err)
{
    if (xw->failed) {
        if (err)
            *err = xw->err;
        return -1;
    }
    return 0;
}

int xw_drain(struct xwriter *xw, int64_t now_ns, int force, struct kt_err *err)
{
    while (xw->head && xw->head->final)
        write_and_release(xw, xw->head);
    if (xw->head && (force || now_ns - xw->head->start_ns > xw->reorder_ns)) {
        struct xitem *it = xw->head;
        while (it) {
            struct xitem *next = it->next;
            if (it->final)
                write_and_release(xw, it);
            it = next;
        }
    }
    return status(xw, err);
}

int xw_final(struct xwriter *xw, struct xitem *it, struct kt_err *err)
{
    it->final = 1;
    if (it == xw->head)
        return xw_drain(xw, it->start_ns, 0, err);
    return status(xw, err);
}

void xw_counts(const struct xwriter *xw, struct xw_counts *out)
{
    *out = xw->n;
    out->waiting = xw->listed;
}
