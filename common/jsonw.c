/* jsonw.c — JSON text helpers (see jsonw.h). */
#include "jsonw.h"

#include <string.h>

#include "b64.h"
#include "utf8.h"

/*
 * Bytes of w (little-endian order: lowest address first) that are below
 * 0x20, a quote, a backslash or (with high = 1) at or above 0x80: the high
 * bit of each such byte is set. The lowest set bit is exact; higher ones may
 * be spurious, so only the first is used.
 */
static inline uint64_t special_bytes(uint64_t w, int high)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    uint64_t m = (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs;
    return high ? m | (w & highs) : m;
}

/*
 * Escapes s[0..n) into b (the opening quote is the caller's). With utf8 = 1
 * the text is also checked to be UTF-8 without NUL bytes; returns -1 at the
 * first byte that is not (b is then left partly written), else 0.
 */
static int escape(struct kbuf *b, const char *s, size_t n, int utf8)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0;
    while (i < n) {
        /* Work in blocks so the worst case (every byte escaped, 6x) is reserved per block. */
        size_t end = n - i > 65536 ? i + 65536 : n;
        kbuf_reserve(b, (end - i) * 6 + 1);
        char *o = b->p + b->len;
        while (i < end) {
            if (i + 8 <= end) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                uint64_t m = special_bytes(w, utf8);
                if (!m) {
                    memcpy(o, s + i, 8);
                    o += 8;
                    i += 8;
                    continue;
                }
                size_t k = (size_t)__builtin_ctzll(m) >> 3;
                memcpy(o, s + i, k);
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
            switch (c) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '\n': *o++ = 'n'; break;
            case '\r': *o++ = 'r'; break;
            case '\t': *o++ = 't'; break;
            case '\b': *o++ = 'b'; break;
            case '\f': *o++ = 'f'; break;
            default:
                *o++ = 'u';
                *o++ = '0';
                *o++ = '0';
                *o++ = hex[c >> 4];
                *o++ = hex[c & 15];
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
    int64_t sec = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        sec -= 1;
    }
    kbuf_append_i64(b, sec);
    char f[4] = {'.', (char)('0' + frac / 100), (char)('0' + frac / 10 % 10), (char)('0' + frac % 10)};
    kbuf_append(b, f, 4);
}
