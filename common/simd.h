/*
 * simd.h — finding the bytes JSON text cares about, 16 at a time.
 *
 * Used by the JSON reader (unescaping) and writer (escaping), the two
 * loops that run over every byte of every body.
 */
#ifndef KT_SIMD_H
#define KT_SIMD_H

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

#endif
