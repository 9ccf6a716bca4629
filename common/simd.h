/*
 * simd.h — finding the bytes JSON text cares about, 16 at a time.
 *
 * Used by the JSON reader (unescaping) and writer (escaping), the two
 * loops that run over every byte of every body.
 */
#ifndef KT_SIMD_H
#define KT_SIMD_H

#include <stddef.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * Bit i set when byte i of s[0..16) is a quote, a backslash, below 0x20, or
 * (with high) at or above 0x80.
 */
static inline unsigned kt_json_specials16(const char *s, int high)
{
#ifdef __SSE2__
    __m128i v = _mm_loadu_si128((const __m128i *)s);
    __m128i c1f = _mm_set1_epi8(0x1f);
    __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f)); /* v <= 0x1f */
    unsigned mask = (unsigned)_mm_movemask_epi8(m);
    if (high)
        mask |= (unsigned)_mm_movemask_epi8(v);
    return mask;
#else
    unsigned mask = 0;
    for (int k = 0; k < 16; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c < 0x20 || c == '"' || c == '\\' || (high && c >= 0x80))
            mask |= 1u << k;
    }
    return mask;
#endif
}

/* Bit i set when byte i of s[0..16) makes a CSV field need quotes: , " CR LF. */
static inline unsigned kt_csv_specials16(const char *s)
{
#ifdef __SSE2__
    __m128i v = _mm_loadu_si128((const __m128i *)s);
    __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')), _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
    m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
    return (unsigned)_mm_movemask_epi8(m);
#else
    unsigned mask = 0;
    for (int k = 0; k < 16; k++)
        if (s[k] == ',' || s[k] == '"' || s[k] == '\r' || s[k] == '\n')
            mask |= 1u << k;
    return mask;
#endif
}

/* Bit i set when byte i of s[0..16) is not in the base64 alphabet (A-Z a-z 0-9 + /). */
static inline unsigned kt_b64_invalid16(const char *s)
{
#ifdef __SSE2__
    __m128i v = _mm_loadu_si128((const __m128i *)s);
#define KT_IN(lo, hi) _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((char)((lo) - 1))), \
                                    _mm_cmplt_epi8(v, _mm_set1_epi8((char)((hi) + 1))))
    __m128i ok = _mm_or_si128(_mm_or_si128(KT_IN('A', 'Z'), KT_IN('a', 'z')), KT_IN('/', '9'));
#undef KT_IN
    ok = _mm_or_si128(ok, _mm_cmpeq_epi8(v, _mm_set1_epi8('+')));
    return ~(unsigned)_mm_movemask_epi8(ok) & 0xffffu;
#else
    unsigned mask = 0;
    for (int k = 0; k < 16; k++) {
        unsigned char c = (unsigned char)s[k];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '/' && c <= '9') || c == '+'))
            mask |= 1u << k;
    }
    return mask;
#endif
}

/* How many bytes of s[0..n) equal c. */
static inline size_t kt_count_byte(const char *s, size_t n, char c)
{
    size_t count = 0, i = 0;
#ifdef __SSE2__
    __m128i want = _mm_set1_epi8(c), zero = _mm_setzero_si128();
    while (i + 16 <= n) {
        /* Per-byte counters (a match is -1, so subtract), summed before they can wrap. */
        __m128i acc = zero;
        for (int k = 0; k < 255 && i + 16 <= n; k++, i += 16)
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(s + i)), want));
        __m128i sums = _mm_sad_epu8(acc, zero);
        count += (size_t)_mm_cvtsi128_si32(sums) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
    }
#endif
    for (; i < n; i++)
        count += s[i] == c;
    return count;
}

#endif
