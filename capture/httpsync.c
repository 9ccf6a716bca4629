/*
 * httpsync.c — finding where an HTTP/1.x message starts in bytes that are
 * out of sync (see httpsync.h; RFC 9112 section 3 request lines and
 * section 4 status lines).
 */
#include "httpsync.h"

#include <string.h>

static int is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

long httpsync_find_start(const char *s, size_t n, int response, int *need_more)
{
    *need_more = 0;
    for (size_t i = 0; i + 8 <= n; i++) {
        const char *h = memchr(s + i, 'H', n - i);
        if (!h)
            break;
        i = (size_t)(h - s);
        if (i + 8 > n) {
            *need_more = 1;
            break;
        }
        if (memcmp(s + i, "HTTP/1.", 7) != 0 || (s[i + 7] != '0' && s[i + 7] != '1'))
            continue;
        if (response) {
            if (i + 13 > n) {
                *need_more = 1;
                break;
            }
            if (s[i + 8] == ' ' && s[i + 9] >= '1' && s[i + 9] <= '5' && is_digit(s[i + 10]) &&
                is_digit(s[i + 11]) && (s[i + 12] == ' ' || s[i + 12] == '\r'))
                return (long)i;
            continue;
        }
        /* Request: "HTTP/1.x" ends the line, after " target" after "METHOD". */
        if (i + 9 > n || (s[i + 8] != '\r' && s[i + 8] != '\n')) {
            if (i + 9 > n)
                *need_more = 1;
            continue;
        }
        if (i < 4 || s[i - 1] != ' ')
            continue;
        size_t t = i - 1;
        while (t > 0 && s[t - 1] != ' ' && s[t - 1] != '\n')
            t--;
        if (t == i - 1 || t < 2 || s[t - 1] != ' ')
            continue;
        size_t m = t - 1;
        while (m > 0 && is_upper(s[m - 1]) && t - 1 - (m - 1) <= 10)
            m--;
        size_t mlen = t - 1 - m;
        if (mlen >= 3 && mlen <= 10)
            return (long)m;
    }
    return -1;
}

