/*
 * rw_cbor.c — the response writer for the AWS CBOR protocol
 * (application/x-amz-cbor-1.1; see rw.h): RFC 8949 items encoded with
 * libcbor. Maps and lists are indefinite-length (their size is not known
 * up front, and every CBOR decoder reads them), strings and byte strings
 * definite, blobs are byte strings, and timestamps are tag 1 with an
 * integer of epoch milliseconds, which is what the AWS SDKs for Java read
 * (their CBOR protocol's default timestamp format, UNIX_TIMESTAMP_MILLIS).
 */
#include <cbor.h>

#include "rw.h"
#include "utf8.h"

#define HEAD_MAX 9 /* the longest item head: a byte and 8 bytes of argument */

/* Appends an item head written by one of libcbor's encoders. */
#define PUT(w, call)                                                  \
    do {                                                              \
        kbuf_reserve((w)->out, HEAD_MAX);                             \
        unsigned char *at_ = (unsigned char *)(w)->out->p + (w)->out->len; \
        (w)->out->len += call;                                        \
        (w)->out->p[(w)->out->len] = '\0';                            \
    } while (0)

static void c_map(struct rw *w)
{
    PUT(w, cbor_encode_indef_map_start(at_, HEAD_MAX));
    if (w->depth + 1 < RW_MAX_DEPTH)
        w->depth++;
}

static void c_list(struct rw *w)
{
    PUT(w, cbor_encode_indef_array_start(at_, HEAD_MAX));
    if (w->depth + 1 < RW_MAX_DEPTH)
        w->depth++;
}

static void c_end(struct rw *w)
{
    PUT(w, cbor_encode_break(at_, HEAD_MAX));
    if (w->depth > 0)
        w->depth--;
}

/* A text string; bytes that are not UTF-8 (an echoed header, say) become U+FFFD: CBOR text must be UTF-8. */
static void c_text(struct rw *w, const char *s, size_t n)
{
    if (utf8_valid_prefix(s, n) != n) {
        struct kbuf fixed = KBUF_INIT;
        utf8_repair(&fixed, s, n);
        c_text(w, fixed.p, fixed.len);
        kbuf_free(&fixed);
        return;
    }
    PUT(w, cbor_encode_string_start(n, at_, HEAD_MAX));
    kbuf_append(w->out, s, n);
}

static void c_i64(struct rw *w, int64_t v)
{
    if (v >= 0)
        PUT(w, cbor_encode_uint((uint64_t)v, at_, HEAD_MAX));
    else
        PUT(w, cbor_encode_negint((uint64_t)(-(v + 1)), at_, HEAD_MAX));
}

static void c_num(struct rw *w, double v)
{
    PUT(w, cbor_encode_double(v, at_, HEAD_MAX));
}

static void c_bool(struct rw *w, int v)
{
    PUT(w, cbor_encode_bool(v != 0, at_, HEAD_MAX));
}

static void c_blob(struct rw *w, const uint8_t *p, size_t n)
{
    PUT(w, cbor_encode_bytestring_start(n, at_, HEAD_MAX));
    kbuf_append(w->out, p, n);
}

static void c_timestamp_ms(struct rw *w, int64_t ms)
{
    PUT(w, cbor_encode_tag(1, at_, HEAD_MAX));
    c_i64(w, ms);
}

/* The emulator's own text (rw.h: printable ASCII): no check needed. */
static void c_ascii(struct rw *w, const char *s, size_t n)
{
    PUT(w, cbor_encode_string_start(n, at_, HEAD_MAX));
    kbuf_append(w->out, s, n);
}

static const struct rw_ops cbor_ops = {
    .content_type = "application/x-amz-cbor-1.1",
    .map = c_map,
    .list = c_list,
    .end = c_end,
    .key = c_ascii,
    .str = c_text,
    .ascii = c_ascii,
    .i64 = c_i64,
    .num = c_num,
    .boolean = c_bool,
    .blob = c_blob,
    .timestamp_ms = c_timestamp_ms,
};

void rw_cbor_init(struct rw *w, struct kbuf *out)
{
    w->ops = &cbor_ops;
    w->out = out;
    rw_reset(w);
}
