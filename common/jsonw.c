/* jsonw.c — JSON text helpers (see jsonw.h). */
#include "jsonw.h"

#include "b64.h"

void jw_str(struct kbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    kbuf_reserve(b, n + 2);
    kbuf_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        kbuf_append(b, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"': kbuf_append(b, "\\\"", 2); break;
        case '\\': kbuf_append(b, "\\\\", 2); break;
        case '\n': kbuf_append(b, "\\n", 2); break;
        case '\r': kbuf_append(b, "\\r", 2); break;
        case '\t': kbuf_append(b, "\\t", 2); break;
        case '\b': kbuf_append(b, "\\b", 2); break;
        case '\f': kbuf_append(b, "\\f", 2); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            kbuf_append(b, u, 6);
        }
        }
    }
    kbuf_append(b, s + start, n - start);
    kbuf_putc(b, '"');
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
    int64_t sec = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        sec -= 1;
    }
    kbuf_append_i64(b, sec);
    char f[4] = {'.', (char)('0' + frac / 100), (char)('0' + frac / 10 % 10), (char)('0' + frac % 10)};
    kbuf_append(b, f, 4);
}
