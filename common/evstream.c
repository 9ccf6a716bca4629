/* evstream.c — the AWS event-stream encoding (see evstream.h); CRC32 is zlib's. */
#include "evstream.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void evs_encode(struct kbuf *out, const struct evs_header *h, size_t n, const void *payload, size_t len)
{
    size_t hlen = 0;
    for (size_t i = 0; i < n; i++)
        hlen += 1 + strlen(h[i].name) + 1 + 2 + strlen(h[i].value);
    size_t total = EVS_PRELUDE + hlen + len + 4;
    kbuf_reserve(out, total);
    uint8_t *start = (uint8_t *)out->p + out->len, *p = start;
    put32(p, (uint32_t)total);
    put32(p + 4, (uint32_t)hlen);
    put32(p + 8, (uint32_t)crc32(0, p, 8));
    p += EVS_PRELUDE;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(h[i].name), vl = strlen(h[i].value);
        *p++ = (uint8_t)nl;
        memcpy(p, h[i].name, nl);
        p += nl;
        *p++ = 7;
        *p++ = (uint8_t)(vl >> 8);
        *p++ = (uint8_t)vl;
        memcpy(p, h[i].value, vl);
        p += vl;
    }
    if (len)
        memcpy(p, payload, len);
    p += len;
    put32(p, (uint32_t)crc32(0, start, (uInt)(p - start)));
    out->len += total;
}

int evs_decode(const uint8_t *p, size_t len, size_t *msg_len, struct evs_header *h, char (*names)[256],
               char (*values)[256], size_t cap, size_t *nh, const uint8_t **payload, size_t *plen, char *err,
               size_t errcap)
{
    if (len < EVS_PRELUDE)
        return 1;
    uint32_t total = get32(p), hlen = get32(p + 4);
    if (get32(p + 8) != (uint32_t)crc32(0, p, 8)) {
        snprintf(err, errcap, "event-stream prelude CRC does not match");
        return -1;
    }
    if (total < EVS_PRELUDE + 4 || total > EVS_MAX_MESSAGE || hlen > total - EVS_PRELUDE - 4) {
        snprintf(err, errcap, "event-stream message length %u (headers %u) is not possible", total, hlen);
        return -1;
    }
    if (len < total)
        return 1;
    if (get32(p + total - 4) != (uint32_t)crc32(0, p, total - 4)) {
        snprintf(err, errcap, "event-stream message CRC does not match");
        return -1;
    }
    const uint8_t *q = p + EVS_PRELUDE, *end = q + hlen;
    *nh = 0;
    while (q < end) {
        size_t nl = *q++;
        if ((size_t)(end - q) < nl + 3 || q[nl] != 7) {
            snprintf(err, errcap, "event-stream header cut short or not a string");
            return -1;
        }
        const uint8_t *name = q;
        q += nl + 1;
        size_t vl = (size_t)q[0] << 8 | q[1];
        q += 2;
        if ((size_t)(end - q) < vl) {
            snprintf(err, errcap, "event-stream header value cut short");
            return -1;
        }
        if (*nh < cap) {
            snprintf(names[*nh], 256, "%.*s", (int)nl, (const char *)name);
            snprintf(values[*nh], 256, "%.*s", (int)(vl < 255 ? vl : 255), (const char *)q);
            h[*nh].name = names[*nh];
            h[*nh].value = values[*nh];
            (*nh)++;
        }
        q += vl;
    }
    *payload = end;
    *plen = total - EVS_PRELUDE - hlen - 4;
    *msg_len = total;
    return 0;
}
