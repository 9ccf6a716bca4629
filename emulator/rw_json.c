/*
 * rw_json.c — the response writer for the AWS JSON 1.1 protocol
 * (application/x-amz-json-1.1; see rw.h): RFC 8259 text, blobs as base64
 * strings, timestamps as epoch seconds with millisecond decimals.
 */
#include "rw.h"

#include <math.h>

#include "jsonw.h"
#include "utf8.h"

/* Separates a value (or a key) from the member before it, unless it follows its key. */
static void sep(struct rw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    uint32_t bit = 1u << w->depth;
    if (w->open & bit)
        kbuf_putc(w->out, ',');
    else
        w->open |= bit;
}

static void open_container(struct rw *w, char c, int list)
{
    sep(w);
    kbuf_putc(w->out, c);
    if (w->depth + 1 < RW_MAX_DEPTH)
        w->depth++;
    uint32_t bit = 1u << w->depth;
    w->open &= ~bit;
    if (list)
        w->lists |= bit;
    else
        w->lists &= ~bit;
}

static void j_map(struct rw *w)
{
    open_container(w, '{', 0);
}

static void j_list(struct rw *w)
{
    open_container(w, '[', 1);
}

static void j_end(struct rw *w)
{
    kbuf_putc(w->out, (w->lists >> w->depth) & 1 ? ']' : '}');
    if (w->depth > 0)
        w->depth--;
}

/* "s" for text that needs no escaping, then `after` (0: nothing). */
static void quoted(struct rw *w, const char *s, size_t n, char after)
{
    kbuf_reserve(w->out, n + 3);
    char *p = w->out->p + w->out->len;
    p[0] = '"';
    memcpy(p + 1, s, n);
    p[n + 1] = '"';
    p[n + 2] = after;
    p[n + 3] = '\0';
    w->out->len += n + 2 + (after != 0);
}

static void j_key(struct rw *w, const char *k, size_t n)
{
    sep(w);
    quoted(w, k, n, ':'); /* member names are the API's own: no escaping needed */
    w->after_key = 1;
}

/* A string; bytes that are not UTF-8 (an echoed header, say) become U+FFFD: JSON text must be UTF-8. */
static void j_str(struct rw *w, const char *s, size_t n)
{
    sep(w);
    if (utf8_valid_prefix(s, n) != n) {
        struct kbuf fixed = KBUF_INIT;
        utf8_repair(&fixed, s, n);
        jw_str(w->out, fixed.p, fixed.len);
        kbuf_free(&fixed);
        return;
    }
    jw_str(w->out, s, n);
}

static void j_ascii(struct rw *w, const char *s, size_t n)
{
    sep(w);
    quoted(w, s, n, 0);
}

static void j_i64(struct rw *w, int64_t v)
{
    sep(w);
    kbuf_append_i64(w->out, v);
}

static void j_num(struct rw *w, double v)
{
    sep(w);
    /* JSON has no NaN or infinity; the API never answers one, but no answer may be invalid text. */
    if (!isfinite(v))
        v = 0;
    kbuf_appendf(w->out, "%.17g", v);
}

static void j_bool(struct rw *w, int v)
{
    sep(w);
    kbuf_puts(w->out, v ? "true" : "false");
}

static void j_blob(struct rw *w, const uint8_t *p, size_t n)
{
    sep(w);
    jw_base64(w->out, p, n);
}

static void j_timestamp_ms(struct rw *w, int64_t ms)
{
    sep(w);
    jw_epoch_ms(w->out, ms);
}

static const struct rw_ops json_ops = {
    .content_type = "application/x-amz-json-1.1",
    .map = j_map,
    .list = j_list,
    .end = j_end,
    .key = j_key,
    .str = j_str,
    .ascii = j_ascii,
    .i64 = j_i64,
    .num = j_num,
    .boolean = j_bool,
    .blob = j_blob,
    .timestamp_ms = j_timestamp_ms,
};

void rw_json_init(struct rw *w, struct kbuf *out)
{
    w->ops = &json_ops;
    w->out = out;
    rw_reset(w);
}

void rw_error(struct rw *w, const char *type, const char *message)
{
    rw_reset(w);
    rw_map(w);
    rw_kstr(w, "__type", type);
    if (message)
        rw_kstr(w, "message", message);
    rw_end(w);
}

void rw_json_error(struct kbuf *out, const char *type, const char *message)
{
    struct rw w;
    rw_json_init(&w, out);
    rw_error(&w, type, message);
}
