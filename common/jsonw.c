/* jsonw.c — JSON text helpers (see jsonw.h). */
#include "jsonw.h"

#include <string.h>

#include "b64.h"
#include "simd.h"
#include "utf8.h"

/* The letter after the backslash for characters with a short escape; 0: use \u00XX. */
static const char short_escape[256] = {
    ['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['\b'] = 'b', ['\f'] = 'f',
};

/*
 * Escapes s[0..n) into b (the quotes are the caller's). With utf8 = 1 the
 * text is also checked to be UTF-8 without NUL bytes; returns -1 at the
 * first byte that is not (b is then left partly written), else 0.
 * Sixteen bytes at a time: stored as they are, then the first one that
 * needs escaping (if any) is fixed up and scanning resumes after it.
 */
static int escape(struct kbuf *b, const char *s, size_t n, int utf8)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < n) {
        /* Work in blocks so the worst case (every byte escaped, 6x) is reserved per block. */
        size_t end = n - i > 65536 ? i + 65536 : n;
        kbuf_reserve(b, (end - i) * 6 + 16);
        char *o = b->p + b->len;
        while (i < end) {
            size_t k;
            if (i + 16 <= end) {
                unsigned m = kt_json_specials16(s + i, utf8);
                memcpy(o, s + i, 16);
                if (!m) {
                    o += 16;
                    i += 16;
                    continue;
                }
                k = (size_t)__builtin_ctz(m);
                o += k;
                i += k;
            }
            unsigned char c = (unsigned char)s[i];
            if (c >= 0x80 && utf8) {
                size_t len = utf8_seq((const unsigned char *)s + i, n - i);
                if (!len)
                    return -1;
                memcpy(o, s + i, len);
                o += len;
                i += len;
                continue;
            }
            i++;
            if (c >= 0x20 && c != '"' && c != '\\') {
                *o++ = (char)c;
                continue;
            }
            if (c == 0 && utf8)
                return -1;
            *o++ = '\\';
            if (short_escape[c]) {
                *o++ = short_escape[c];
            } else {
                o[0] = 'u';
                o[1] = '0';
                o[2] = '0';
                o[3] = hex[c >> 4];
                o[4] = hex[c & 15];
                o += 5;
            }
        }
        b->len = (size_t)(o - b->p);
        b->p[b->len] = '\0';
    }
    return 0;
}

void jw_str(struct kbuf *b, const char *s, size_t n)
{
    kbuf_putc(b, '"');
    escape(b, s, n, 0);
    kbuf_putc(b, '"');
}

int jw_str_utf8(struct kbuf *b, const char *s, size_t n)
{
    size_t start = b->len;
    kbuf_putc(b, '"');
    if (escape(b, s, n, 1) != 0) {
        b->len = start;
        b->p[start] = '\0';
        return -1;
    }
    kbuf_putc(b, '"');
    return 0;
}

void jw_base64(struct kbuf *b, const uint8_t *data, size_t n)
{
    size_t len = b64_encoded_len(n);
    kbuf_reserve(b, len + 2);
    b->p[b->len++] = '"';
    b->len += b64_encode(b->p + b->len, data, n);
    b->p[b->len++] = '"';
    b->p[b->len] = '\0';
}

void jw_epoch_ms(struct kbuf *b, int64_t ms)
{
    /* -1500 ms is -1.500 s: the sign goes in front of the whole number. */
    uint64_t a = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    if (ms < 0)
        kbuf_putc(b, '-');
    uint64_t sec = a / 1000, frac = a % 1000;
    kbuf_append_u64(b, sec);
    char f[4] = {'.', (char)('0' + frac / 100), (char)('0' + frac / 10 % 10), (char)('0' + frac % 10)};
    kbuf_append(b, f, 4);
}
