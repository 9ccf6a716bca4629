/*
 * jcbor.c — a CBOR body (RFC 8949; application/x-amz-cbor-1.1) decoded
 * with libcbor's streaming decoder into the tree the JSON reader builds
 * (jread.h), so whoever reads a decoded body (the emulator's request
 * reader, the extractor) reads both alike (see jcbor.h).
 *
 *   bytes ─▶ cbor_stream_decode (one item head a call) ─▶ callbacks ─▶ jnodes + a text arena
 *
 * Map keys must be text strings. Text strings are checked as UTF-8 and
 * copied, NUL-terminated, into the arena; byte strings become J_BYTES
 * nodes; integers and floats become J_NUM nodes whose text is written into
 * the arena, so in_int and in_num read them as they read JSON numbers. Tag
 * 1 (an epoch timestamp) marks the number after it as epoch milliseconds,
 * which is what the AWS SDKs for Java send; other tags are passed over.
 * Indefinite lengths (maps, arrays, chunked strings) are read like
 * definite ones.
 *
 * Bad input never costs more than the body: a declared count is checked
 * against the bytes left before anything is taken for it (each item is at
 * least one byte), nesting stops at JREAD_MAX_DEPTH, the values of one
 * document at JREAD_MAX_NODES, and the arena holds at most the body's
 * strings and about 24 bytes per number.
 */
#include <cbor.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "jcbor.h"
#include "mem.h"
#include "utf8.h"

/* An open container, or a chunked string, being filled. */
struct frame {
    uint32_t idx;              /* its node */
    uint64_t left;             /* items still to come (a map counts keys and values); unused when indefinite */
    uint32_t members;          /* entries so far (a map's pairs) */
    uint8_t is_map, indefinite, chunked; /* chunked: an indefinite-length string, its chunks come next */
    uint8_t want_key;          /* a map waits for a key */
};

struct cdec {
    struct jdoc *d;
    struct kbuf *arena;
    struct frame stack[JREAD_MAX_DEPTH + 1];
    int depth;
    int done;                  /* the top-level item is whole */
    int tag_ms;                /* a tag 1 came just before */
    size_t pos, len;           /* where the item being decoded starts, and the body's size */
    const char *error;         /* what is wrong, when set; the decode stops */
    char msg[160];
};

static void bad(struct cdec *x, const char *what)
{
    if (!x->error)
        x->error = what;
}

static struct jnode *push(struct cdec *x, enum jtype t, uint32_t *idx)
{
    struct jdoc *d = x->d;
    if (d->n == JREAD_MAX_NODES) {
        snprintf(x->msg, sizeof x->msg, "more than %d values", JREAD_MAX_NODES);
        bad(x, x->msg);
        return NULL;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->nodes = xrealloc(d->nodes, d->cap * sizeof *d->nodes);
    }
    struct jnode *n = &d->nodes[d->n];
    memset(n, 0, sizeof *n);
    n->type = (uint8_t)t;
    n->start = (uint32_t)x->arena->len;
    *idx = (uint32_t)d->n++;
    return n;
}

/* A value (or key) is whole: its parent counts it, and closes when it was the last. */
static void completed(struct cdec *x)
{
    for (;;) {
        if (x->depth == 0) {
            x->done = 1;
            return;
        }
        struct frame *f = &x->stack[x->depth - 1];
        if (f->is_map) {
            f->want_key = !f->want_key;
            if (f->want_key)
                f->members++;
        } else {
            f->members++;
        }
        if (f->indefinite)
            return;
        if (--f->left > 0)
            return;
        struct jnode *n = &x->d->nodes[f->idx];
        n->len = f->members;
        n->next = (uint32_t)x->d->n;
        x->depth--;
    }
}

/* Before any item: a map waiting for a key takes text strings only. */
static int accept_item(struct cdec *x, int is_text)
{
    if (x->error)
        return 0;
    if (x->done) {
        bad(x, "more than one top-level value");
        return 0;
    }
    if (x->depth > 0) {
        struct frame *f = &x->stack[x->depth - 1];
        if (f->chunked) {
            bad(x, "an indefinite-length string holds an item that is not a chunk of its own type");
            return 0;
        }
        if (f->is_map && f->want_key && !is_text) {
            bad(x, "a map key that is not a text string");
            return 0;
        }
    }
    return 1;
}

/* The node just pushed is a map key: the value that follows is the node after it. */
static void leaf_done(struct cdec *x, uint32_t idx)
{
    x->d->nodes[idx].next = (uint32_t)x->d->n;
    x->tag_ms = 0;
    completed(x);
}

static void number(struct cdec *x, const char *text, int is_int)
{
    if (!accept_item(x, 0))
        return;
    uint32_t idx;
    struct jnode *n = push(x, J_NUM, &idx);
    if (!n)
        return;
    size_t l = strlen(text);
    kbuf_append(x->arena, text, l + 1);
    n->len = (uint32_t)l;
    n->is_int = (uint8_t)is_int;
    n->epoch_ms = (uint8_t)x->tag_ms;
    leaf_done(x, idx);
}

static void on_uint(struct cdec *x, uint64_t v)
{
    char t[24];
    snprintf(t, sizeof t, "%" PRIu64, v);
    number(x, t, 1);
}

static void on_negint(struct cdec *x, uint64_t v)
{
    /* The value is -1 - v. */
    char t[24];
    if (v == UINT64_MAX)
        snprintf(t, sizeof t, "-18446744073709551616");
    else
        snprintf(t, sizeof t, "-%" PRIu64, v + 1);
    number(x, t, 1);
}

static void on_double(struct cdec *x, double v)
{
    char t[40];
    snprintf(t, sizeof t, "%.17g", v);
    number(x, t, 0);
}

static void cb_u8(void *c, uint8_t v) { on_uint(c, v); }
static void cb_u16(void *c, uint16_t v) { on_uint(c, v); }
static void cb_u32(void *c, uint32_t v) { on_uint(c, v); }
static void cb_u64(void *c, uint64_t v) { on_uint(c, v); }
static void cb_n8(void *c, uint8_t v) { on_negint(c, v); }
static void cb_n16(void *c, uint16_t v) { on_negint(c, v); }
static void cb_n32(void *c, uint32_t v) { on_negint(c, v); }
static void cb_n64(void *c, uint64_t v) { on_negint(c, v); }
static void cb_f4(void *c, float v) { on_double(c, v); }
static void cb_f8(void *c, double v) { on_double(c, v); }

static int text_ok(struct cdec *x, const unsigned char *s, size_t n)
{
    size_t ok = utf8_valid_prefix((const char *)s, n);
    if (ok == n)
        return 1;
    char why[100];
    utf8_problem(s + ok, n - ok, why, sizeof why);
    snprintf(x->msg, sizeof x->msg, "a text string that is not UTF-8 (%s)", why);
    bad(x, x->msg);
    return 0;
}

/* A definite string, or one chunk of a chunked one. */
static void string(struct cdec *x, const unsigned char *s, size_t n, enum jtype t)
{
    if (x->error)
        return;
    if (t == J_STR && !text_ok(x, s, n))
        return;
    if (x->depth > 0 && x->stack[x->depth - 1].chunked) {
        struct frame *f = &x->stack[x->depth - 1];
        struct jnode *node = &x->d->nodes[f->idx];
        if (node->type != t) {
            bad(x, "a chunk of an indefinite-length string of another type");
            return;
        }
        x->arena->len--; /* over the NUL */
        kbuf_append(x->arena, s, n);
        kbuf_putc(x->arena, '\0');
        node = &x->d->nodes[f->idx];
        if ((uint64_t)node->len + n > UINT32_MAX) {
            bad(x, "a string too long");
            return;
        }
        node->len += (uint32_t)n;
        return;
    }
    if (!accept_item(x, t == J_STR))
        return;
    uint32_t idx;
    struct jnode *node = push(x, t, &idx);
    if (!node)
        return;
    kbuf_append(x->arena, s, n);
    kbuf_putc(x->arena, '\0');
    node->len = (uint32_t)n;
    leaf_done(x, idx);
}

static void cb_bytes(void *c, cbor_data s, size_t n) { string(c, s, n, J_BYTES); }
static void cb_text(void *c, cbor_data s, size_t n) { string(c, s, n, J_STR); }

static struct frame *open_frame(struct cdec *x, enum jtype t, int is_text)
{
    if (!accept_item(x, is_text))
        return NULL;
    if (x->depth >= JREAD_MAX_DEPTH) {
        snprintf(x->msg, sizeof x->msg, "nested deeper than %d levels", JREAD_MAX_DEPTH);
        bad(x, x->msg);
        return NULL;
    }
    uint32_t idx;
    struct jnode *n = push(x, t, &idx);
    if (!n)
        return NULL;
    struct frame *f = &x->stack[x->depth++];
    memset(f, 0, sizeof *f);
    f->idx = idx;
    f->is_map = t == J_OBJ;
    f->want_key = f->is_map;
    x->tag_ms = 0;
    return f;
}

static void chunked_start(struct cdec *x, enum jtype t)
{
    struct frame *f = open_frame(x, t, t == J_STR);
    if (!f)
        return;
    f->chunked = f->indefinite = 1;
    kbuf_putc(x->arena, '\0');
}

static void cb_bytes_start(void *c) { chunked_start(c, J_BYTES); }
static void cb_text_start(void *c) { chunked_start(c, J_STR); }

static void container(struct cdec *x, int is_map, int indefinite, size_t size)
{
    /* Every item takes a byte at least: a count the rest of the body cannot hold is a lie. */
    if (!indefinite) {
        uint64_t items = is_map ? (uint64_t)size * 2 : (uint64_t)size;
        size_t after = x->len - x->pos;
        if ((is_map && size > UINT32_MAX) || items > after) {
            snprintf(x->msg, sizeof x->msg, "%s declares %zu %s, more than the %zu bytes after it can hold",
                     is_map ? "a map" : "an array", size, is_map ? "entries" : "items", after);
            bad(x, x->msg);
            return;
        }
    }
    struct frame *f = open_frame(x, is_map ? J_OBJ : J_ARR, 0);
    if (!f)
        return;
    f->indefinite = (uint8_t)indefinite;
    f->left = is_map ? (uint64_t)size * 2 : size;
    if (!indefinite && size == 0) {
        /* Empty: whole already. */
        struct jnode *n = &x->d->nodes[f->idx];
        n->next = (uint32_t)x->d->n;
        x->depth--;
        completed(x);
    }
}

static void cb_arr(void *c, size_t n) { container(c, 0, 0, n); }
static void cb_arr_indef(void *c) { container(c, 0, 1, 0); }
static void cb_map(void *c, size_t n) { container(c, 1, 0, n); }
static void cb_map_indef(void *c) { container(c, 1, 1, 0); }

static void cb_break(void *c)
{
    struct cdec *x = c;
    if (x->error)
        return;
    if (x->depth == 0 || !x->stack[x->depth - 1].indefinite) {
        bad(x, "a break (0xff) outside an indefinite-length item");
        return;
    }
    struct frame *f = &x->stack[x->depth - 1];
    if (f->is_map && !f->want_key) {
        bad(x, "a map ends after a key, without its value");
        return;
    }
    struct jnode *n = &x->d->nodes[f->idx];
    if (!f->chunked)
        n->len = f->members;
    n->next = (uint32_t)x->d->n;
    x->depth--;
    x->tag_ms = 0;
    completed(x);
}

static void cb_tag(void *c, uint64_t tag)
{
    struct cdec *x = c;
    if (x->depth > 0 && x->stack[x->depth - 1].chunked) {
        bad(x, "a tag inside an indefinite-length string");
        return;
    }
    x->tag_ms = tag == 1;
}

static void simple(struct cdec *x, enum jtype t)
{
    if (!accept_item(x, 0))
        return;
    uint32_t idx;
    if (push(x, t, &idx))
        leaf_done(x, idx);
}

static void cb_null(void *c) { simple(c, J_NULL); }
static void cb_bool(void *c, bool v) { simple(c, v ? J_TRUE : J_FALSE); }

static const struct cbor_callbacks callbacks = {
    .uint8 = cb_u8, .uint16 = cb_u16, .uint32 = cb_u32, .uint64 = cb_u64,
    .negint8 = cb_n8, .negint16 = cb_n16, .negint32 = cb_n32, .negint64 = cb_n64,
    .byte_string_start = cb_bytes_start, .byte_string = cb_bytes,
    .string = cb_text, .string_start = cb_text_start,
    .indef_array_start = cb_arr_indef, .array_start = cb_arr,
    .indef_map_start = cb_map_indef, .map_start = cb_map,
    .tag = cb_tag,
    .float2 = cb_f4, .float4 = cb_f4, .float8 = cb_f8,
    .undefined = cb_null, .null = cb_null, .boolean = cb_bool,
    .indef_break = cb_break,
};

/* What the innermost open item is, for "ends in the middle of ...". */
static const char *inside(const struct cdec *x)
{
    if (x->depth == 0)
        return "a value";
    const struct frame *f = &x->stack[x->depth - 1];
    return f->chunked ? "a string" : f->is_map ? "a map" : "an array";
}

int jdoc_parse_cbor(struct jdoc *doc, struct kbuf *arena, const uint8_t *body, size_t len, struct kt_err *err)
{
    doc->n = 0;
    kbuf_reset(arena);
    if (len >= UINT32_MAX / 2) {
        kt_err_set(err, "CBOR body of %zu bytes is too large", len);
        return -1;
    }
    kbuf_reserve(arena, len + 64);
    struct cdec x = {.d = doc, .arena = arena, .len = len};
    while (!x.error && !x.done) {
        if (x.pos >= len) {
            kt_err_set(err, "truncated CBOR: the body ends at byte %zu in the middle of %s", len, inside(&x));
            return -1;
        }
        struct cbor_decoder_result r = cbor_stream_decode(body + x.pos, len - x.pos, &callbacks, &x);
        if (r.status == CBOR_DECODER_NEDATA) {
            kt_err_set(err,
                       "truncated CBOR: the item at byte %zu needs %zu bytes, the body has %zu after it",
                       x.pos, r.required, len - x.pos);
            return -1;
        }
        if (r.status != CBOR_DECODER_FINISHED || r.read == 0) {
            kt_err_set(err, "malformed CBOR at byte %zu: an item head that is not valid CBOR (0x%02x)", x.pos,
                       body[x.pos]);
            return -1;
        }
        if (x.error) {
            kt_err_set(err, "malformed CBOR at byte %zu: %s", x.pos, x.error);
            return -1;
        }
        x.pos += r.read;
    }
    if (x.pos < len) {
        kt_err_set(err, "malformed CBOR at byte %zu: bytes after the top-level value", x.pos);
        return -1;
    }
    doc->text = arena->p;
    doc->text_len = arena->len;
    return 0;
}

int jcbor_content_type(const char *ctype, size_t len)
{
    static const char prefix[] = "application/x-amz-cbor";
    return ctype && len >= sizeof prefix - 1 && strncasecmp(ctype, prefix, sizeof prefix - 1) == 0;
}
