/* tlssni.c — the server name of a TLS ClientHello (see tlssni.h). */
#include "tlssni.h"

#include <ctype.h>

int tls_looks_like_handshake(const uint8_t *p, size_t n)
{
    return n >= 3 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04;
}

static int u16(const uint8_t *p, size_t n, size_t at, size_t *v)
{
    if (at + 2 > n)
        return -1;
    *v = (size_t)p[at] << 8 | p[at + 1];
    return 0;
}

int tls_client_hello_sni(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t rec, len;
    out[0] = '\0';
    if (!tls_looks_like_handshake(p, n) || u16(p, n, 3, &rec) != 0)
        return 0;
    if (n > 5 + rec)
        n = 5 + rec; /* the first record only */
    size_t at = 5;
    if (at + 4 > n || p[at] != 1) /* ClientHello */
        return 0;
    at += 4 + 2 + 32; /* handshake header, client version, random */
    if (at + 1 > n)
        return 0;
    at += 1 + p[at]; /* session id */
    if (u16(p, n, at, &len) != 0)
        return 0;
    at += 2 + len; /* cipher suites */
    if (at + 1 > n)
        return 0;
    at += 1 + p[at]; /* compression methods */
    size_t ext_end;
    if (u16(p, n, at, &len) != 0)
        return 0;
    at += 2;
    ext_end = at + len;
    if (ext_end > n)
        ext_end = n;
    while (at + 4 <= ext_end) {
        size_t type = 0, elen = 0;
        u16(p, n, at, &type);
        u16(p, n, at + 2, &elen);
        at += 4;
        if (at + elen > ext_end)
            return 0;
        if (type == 0 && elen >= 5 && p[at + 2] == 0) { /* server_name: list, host_name entry */
            size_t nl = 0;
            u16(p, n, at + 3, &nl);
            if (5 + nl > elen)
                return 0;
            size_t k = 0;
            for (size_t i = 0; i < nl && k + 1 < cap; i++) {
                unsigned char c = p[at + 5 + i];
                if (isalnum(c) || c == '-' || c == '.' || c == '_')
                    out[k++] = (char)c;
            }
            out[k] = '\0';
            return k > 0;
        }
        at += elen;
    }
    return 0;
}
