/* b64.c — base64 encode and strict decode (see b64.h). */
#include "b64.h"

#include <pthread.h>
#include <string.h>

#include "simd.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * The two characters of every 12-bit value: three input bytes become two
 * lookups and two 2-byte stores. A profile of GetRecords (10,000 records of
 * 1 KiB) had EVP_EncodeBlock at 61% of the emulator's instructions, about 10
 * per input byte; this takes about 3.
 */
static char enc_pairs[4096][2];
static pthread_once_t enc_once = PTHREAD_ONCE_INIT;

static void init_pairs(void)
{
    for (int i = 0; i < 4096; i++) {
        enc_pairs[i][0] = alphabet[i >> 6];
        enc_pairs[i][1] = alphabet[i & 63];
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_SSSE3_PATH 1

/*
 * Twelve input bytes to sixteen characters in a few vector instructions
 * (Wojciech Muła's method): a shuffle puts each 3-byte group's bytes where
 * its four 6-bit values can be shifted into place by two multiplies, and a
 * table indexed by the value's range adds the offset to its character.
 * About four times the pair table's speed; used when the CPU has SSSE3.
 */
__attribute__((target("ssse3"))) static size_t encode_ssse3(char *o, const uint8_t *src, size_t n)
{
    const __m128i shuf = _mm_set_epi8(10, 11, 9, 10, 7, 8, 6, 7, 4, 5, 3, 4, 1, 2, 0, 1);
    const __m128i lut = _mm_setr_epi8(65, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 0, 0);
    size_t i = 0;
    for (; i + 16 <= n; i += 12) {
        __m128i in = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(src + i)), shuf);
        __m128i hi = _mm_mulhi_epu16(_mm_and_si128(in, _mm_set1_epi32(0x0fc0fc00)), _mm_set1_epi32(0x04000040));
        __m128i lo = _mm_mullo_epi16(_mm_and_si128(in, _mm_set1_epi32(0x003f03f0)), _mm_set1_epi32(0x01000010));
        __m128i v = _mm_or_si128(hi, lo); /* sixteen values 0..63 */
        /*
         * Range index: 0 for 0..25 ('A'), 1 for 26..51 ('a'), 2..11 for the
         * digits, 12 for '+', 13 for '/': v - 51 (saturated at 0), plus one
         * above 25.
         */
        __m128i idx = _mm_sub_epi8(_mm_subs_epu8(v, _mm_set1_epi8(51)), _mm_cmpgt_epi8(v, _mm_set1_epi8(25)));
        __m128i chars = _mm_add_epi8(_mm_shuffle_epi8(lut, idx), v);
        _mm_storeu_si128((__m128i *)(o + i / 3 * 4), chars);
    }
    return i;
}

static int have_ssse3;
#endif

static void init_encoder(void)
{
    init_pairs();
#ifdef HAVE_SSSE3_PATH
    __builtin_cpu_init();
    have_ssse3 = __builtin_cpu_supports("ssse3");
#endif
}

size_t b64_encode(char *dst, const uint8_t *src, size_t n)
{
    pthread_once(&enc_once, init_encoder);
    char *o = dst;
    size_t i = 0;
#ifdef HAVE_SSSE3_PATH
    if (have_ssse3) {
        i = encode_ssse3(dst, src, n);
        o += i / 3 * 4;
    }
#endif
    /* Six bytes (four 12-bit values) per 8-byte big-endian load, while 8 bytes can be read. */
    for (; i + 8 <= n; i += 6) {
        uint64_t v;
        memcpy(&v, src + i, 8);
        v = __builtin_bswap64(v);
        memcpy(o, enc_pairs[(v >> 52) & 0xfff], 2);
        memcpy(o + 2, enc_pairs[(v >> 40) & 0xfff], 2);
        memcpy(o + 4, enc_pairs[(v >> 28) & 0xfff], 2);
        memcpy(o + 6, enc_pairs[(v >> 16) & 0xfff], 2);
        o += 8;
    }
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        memcpy(o, enc_pairs[v >> 12], 2);
        memcpy(o + 2, enc_pairs[v & 0xfff], 2);
        o += 4;
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)src[i] << 16;
        o[0] = alphabet[v >> 18];
        o[1] = alphabet[(v >> 12) & 63];
        o[2] = o[3] = '=';
        o += 4;
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
        o[0] = alphabet[v >> 18];
        o[1] = alphabet[(v >> 12) & 63];
        o[2] = alphabet[(v >> 6) & 63];
        o[3] = '=';
        o += 4;
    }
    *o = '\0';
    return (size_t)(o - dst);
}

/* 0..63 for alphabet characters, 64 for '=', 255 for anything else. */
static uint8_t dec_table[256];
/*
 * The same, placed where each of a quad's four characters goes in its 24
 * bits; anything not in the alphabet sets bit 24, so one OR of four lookups
 * both decodes a quad and says whether it was valid.
 */
static uint32_t dec_quad[4][256];
static pthread_once_t dec_once = PTHREAD_ONCE_INIT;

static void init_table(void)
{
    memset(dec_table, 255, sizeof dec_table);
    for (int i = 0; i < 64; i++)
        dec_table[(unsigned char)alphabet[i]] = (uint8_t)i;
    dec_table['='] = 64;
    for (int k = 0; k < 4; k++)
        for (int c = 0; c < 256; c++)
            dec_quad[k][c] = dec_table[c] < 64 ? (uint32_t)dec_table[c] << (18 - 6 * k) : 1u << 24;
}

int b64_decode(uint8_t *dst, const char *src, size_t n, size_t *out_len, size_t *bad_at)
{
    pthread_once(&dec_once, init_table);
    const uint8_t *s = (const uint8_t *)src;
    size_t full = n / 4 * 4;
    size_t o = 0, i = 0;
    /*
     * Fast path: whole quads with no padding. While another quad follows,
     * the 3 bytes go out as one 4-byte store (the next quad overwrites the
     * fourth), so the buffer's size (b64_decoded_max) is never passed.
     */
    if (dst) {
        for (; i + 8 <= full; i += 4) {
            uint32_t w = dec_quad[0][s[i]] | dec_quad[1][s[i + 1]] | dec_quad[2][s[i + 2]] | dec_quad[3][s[i + 3]];
            if (w >> 24)
                break;
            w = __builtin_bswap32(w << 8);
            memcpy(dst + o, &w, 4);
            o += 3;
        }
    }
    for (; i + 4 <= full; i += 4) {
        uint32_t w = dec_quad[0][s[i]] | dec_quad[1][s[i + 1]] | dec_quad[2][s[i + 2]] | dec_quad[3][s[i + 3]];
        if (w >> 24)
            break;
        if (!dst) {
            o += 3;
            continue;
        }
        dst[o++] = (uint8_t)(w >> 16);
        dst[o++] = (uint8_t)(w >> 8);
        dst[o++] = (uint8_t)w;
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
