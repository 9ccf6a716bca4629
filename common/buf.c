/* buf.c — growable byte buffer (see buf.h). */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>

#include "mem.h"

void kbuf_init(struct kbuf *b)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void kbuf_free(struct kbuf *b)
{
    free(b->p);
    kbuf_init(b);
}

void kbuf_reserve(struct kbuf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap < ((size_t)1 << 40) ? cap * 2 : need;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

void kbuf_append(struct kbuf *b, const void *data, size_t n)
{
    kbuf_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void kbuf_vappendf(struct kbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof small) {
        kbuf_append(b, small, (size_t)n);
    } else {
        kbuf_reserve(b, (size_t)n);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void kbuf_appendf(struct kbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kbuf_vappendf(b, fmt, ap);
    va_end(ap);
}

void kbuf_append_u64(struct kbuf *b, uint64_t v)
{
    char tmp[24];
    int i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    kbuf_append(b, tmp + i, sizeof tmp - (size_t)i);
}

void kbuf_append_i64(struct kbuf *b, int64_t v)
{
    if (v < 0) {
        kbuf_putc(b, '-');
        kbuf_append_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        kbuf_append_u64(b, (uint64_t)v);
    }
}

void kbuf_consume(struct kbuf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->p, b->p + n, b->len - n);
        b->len -= n;
    }
    if (b->p)
        b->p[b->len] = '\0';
}

void kbuf_reset(struct kbuf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

char *kbuf_steal(struct kbuf *b, size_t *len)
{
    if (!b->p)
        kbuf_reserve(b, 0), b->p[0] = '\0';
    char *p = b->p;
    if (len)
        *len = b->len;
    kbuf_init(b);
    return p;
}
