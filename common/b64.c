/* b64.c — base64 encode (OpenSSL) and strict decode (see b64.h). */
#include "b64.h"

#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "simd.h"

size_t b64_encode(char *dst, const uint8_t *src, size_t n)
{
    size_t done = 0;
    size_t out = 0;
    /* EVP_EncodeBlock takes an int length: feed it in slices of whole triples. */
    while (n - done > 0) {
        size_t chunk = n - done;
        if (chunk > (size_t)1 << 30)
            chunk = (size_t)1 << 30;
        out += (size_t)EVP_EncodeBlock((unsigned char *)dst + out, src + done, (int)chunk);
        done += chunk;
    }
    dst[out] = '\0';
    return out;
}

/* 0..63 for alphabet characters, 64 for '=', 255 for anything else. */
static uint8_t dec_table[256];
static pthread_once_t dec_once = PTHREAD_ONCE_INIT;

static void init_table(void)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    memset(dec_table, 255, sizeof dec_table);
    for (int i = 0; i < 64; i++)
        dec_table[(unsigned char)alphabet[i]] = (uint8_t)i;
    dec_table['='] = 64;
}

int b64_decode(uint8_t *dst, const char *src, size_t n, size_t *out_len, size_t *bad_at)
{
    pthread_once(&dec_once, init_table);
    const uint8_t *s = (const uint8_t *)src;
    size_t full = n / 4 * 4;
    size_t o = 0, i = 0;
    /* Fast path: whole quads with no padding. */
    for (; i + 4 <= full; i += 4) {
        uint8_t a = dec_table[s[i]], b = dec_table[s[i + 1]];
        uint8_t c = dec_table[s[i + 2]], d = dec_table[s[i + 3]];
        if ((a | b | c | d) >= 64)
            break;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
        if (!dst) {
            o += 3;
            continue;
        }
        dst[o++] = (uint8_t)(v >> 16);
        dst[o++] = (uint8_t)(v >> 8);
        dst[o++] = (uint8_t)v;
    }
    /* Tail: at most one quad with '=' padding, or 2-3 characters unpadded. */
    uint8_t q[4];
    size_t k = 0;
    size_t pad = 0;
    for (; i < n; i++) {
        uint8_t v = dec_table[s[i]];
        if (v == 255 || (v < 64 && pad)) {
            *bad_at = i;
            return -1;
        }
        if (v == 64) {
            if (k < 2) {
                *bad_at = i;
                return -1;
            }
            pad++;
            if (pad > 2 || k + pad > 4) {
                *bad_at = i;
                return -1;
            }
            continue;
        }
        q[k++] = v;
        if (k == 4 && !dst) {
            o += 3;
            k = 0;
        } else if (k == 4) {
            uint32_t w = (uint32_t)q[0] << 18 | (uint32_t)q[1] << 12 | (uint32_t)q[2] << 6 | q[3];
            dst[o++] = (uint8_t)(w >> 16);
            dst[o++] = (uint8_t)(w >> 8);
            dst[o++] = (uint8_t)w;
            k = 0;
        }
    }
    if (pad && (k + pad) != 4) {
        *bad_at = n;
        return -1;
    }
    if (k == 1) {
        *bad_at = n - 1;
        return -1;
    }
    if (k >= 2 && !dst) {
        o += k - 1;
    } else if (k >= 2) {
        uint32_t w = (uint32_t)q[0] << 18 | (uint32_t)q[1] << 12;
        if (k == 3)
            w |= (uint32_t)q[2] << 6;
        dst[o++] = (uint8_t)(w >> 16);
        if (k == 3)
            dst[o++] = (uint8_t)(w >> 8);
    }
    *out_len = o;
    return 0;
}

int b64_check(const char *src, size_t n, size_t *out_len, size_t *bad_at)
{
    /* Whole blocks of 16 alphabet characters, short of the last quad (which may hold padding). */
    size_t i = 0;
    while (i + 20 <= n && !kt_b64_invalid16(src + i))
        i += 16;
    size_t rest;
    if (b64_decode(NULL, src + i, n - i, &rest, bad_at) != 0) {
        *bad_at += i;
        return -1;
    }
    *out_len = i / 4 * 3 + rest;
    return 0;
}
