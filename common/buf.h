/*
 * buf.h — a growable byte buffer (kbuf), the one string builder of kintape.
 *
 * The buffer owns its memory; kbuf_free releases it. `p` is always
 * NUL-terminated after any append, so text can be passed to C string
 * functions, but the buffer may also hold binary data (use `len`).
 */
#ifndef KT_BUF_H
#define KT_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct kbuf {
    char *p;
    size_t len;
    size_t cap;
};

#define KBUF_INIT {NULL, 0, 0}

void kbuf_init(struct kbuf *b);
void kbuf_free(struct kbuf *b);
/* Makes room for at least `extra` more bytes (plus the terminating NUL). */
void kbuf_reserve(struct kbuf *b, size_t extra);
void kbuf_append(struct kbuf *b, const void *data, size_t n);
void kbuf_appendf(struct kbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void kbuf_vappendf(struct kbuf *b, const char *fmt, va_list ap);
void kbuf_append_u64(struct kbuf *b, uint64_t v);
void kbuf_append_i64(struct kbuf *b, int64_t v);
/* Drops the first n bytes, moving the rest to the front. */
void kbuf_consume(struct kbuf *b, size_t n);
void kbuf_reset(struct kbuf *b);
/* Gives the caller the buffer's memory (NUL-terminated); the buffer is empty after. */
char *kbuf_steal(struct kbuf *b, size_t *len);

static inline void kbuf_puts(struct kbuf *b, const char *s)
{
    kbuf_append(b, s, strlen(s));
}

static inline void kbuf_putc(struct kbuf *b, char c)
{
    if (b->len + 2 > b->cap)
        kbuf_reserve(b, 1);
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

#endif
