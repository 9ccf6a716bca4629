/* utf8.c — UTF-8 validation (see utf8.h). */
#include "utf8.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"

size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
            return 0; /* overlong, or a surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
            return 0;
        return 4;
    }
    return 0;
}

int utf8_problem(const unsigned char *s, size_t n, char *out, size_t cap)
{
    unsigned char c = s[0];
    size_t need = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (c >= 0x80 && c <= 0xbf) {
        snprintf(out, cap, "invalid UTF-8: byte 0x%02x continues a character that never started", c);
        return 0;
    }
    if (!need) {
        snprintf(out, cap, "invalid UTF-8: byte 0x%02x never appears in UTF-8 text", c);
        return 0;
    }
    for (size_t k = 1; k < need; k++) {
        if (k >= n) {
            snprintf(out, cap, "a UTF-8 character: byte 0x%02x starts %zu bytes and only %zu follow%s", c,
                     need, k - 1, k - 1 == 1 ? "s" : "");
            return 1;
        }
        if ((s[k] & 0xc0) != 0x80) {
            snprintf(out, cap, "invalid UTF-8: byte 0x%02x starts a %zu-byte character but byte 0x%02x after it "
                               "does not continue one", c, need, s[k]);
            return 0;
        }
    }
    if (c == 0xed)
        snprintf(out, cap, "invalid UTF-8: a UTF-16 surrogate (U+D800 to U+DFFF) written as UTF-8");
    else if (c == 0xf4)
        snprintf(out, cap, "invalid UTF-8: a character above U+10FFFF");
    else
        snprintf(out, cap, "invalid UTF-8: an overlong encoding (a character written with more bytes than it needs)");
    return 0;
}

int utf8_valid_text(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* ASCII runs, 8 bytes at a time: no high bit and no zero byte. */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
            if ((w & highs) || ((w - ones) & ~w & highs))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        if (s[i] == 0)
            return 0;
        size_t k = utf8_seq(s + i, n - i);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

size_t utf8_utf16_len(const char *s, size_t n)
{
    size_t units = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xc0) != 0x80)
            units += (c >= 0xf0) ? 2 : 1;
    }
    return units;
}

size_t utf8_valid_prefix(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_seq(u + i, n - i);
        if (!k)
            return i;
        i += k;
    }
    return n;
}

void utf8_repair(struct kbuf *b, const char *s, size_t n)
{
    while (n) {
        size_t ok = utf8_valid_prefix(s, n);
        kbuf_append(b, s, ok);
        if (ok == n)
            return;
        kbuf_append(b, "\xef\xbf\xbd", 3);
        s += ok + 1;
        n -= ok + 1;
    }
}
