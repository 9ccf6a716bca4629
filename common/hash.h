/*
 * hash.h — FNV-1a (64-bit), the one non-cryptographic hash of kintape: hash
 * tables (streams, TCP flows) and replay's lanes. Not for anything an
 * adversary must not steer.
 */
#ifndef KT_HASH_H
#define KT_HASH_H

#include <stddef.h>
#include <stdint.h>

#define KT_FNV_OFFSET 1469598103934665603ULL
#define KT_FNV_PRIME 1099511628211ULL

/* Continues hash h (start with KT_FNV_OFFSET) over n bytes. */
static inline uint64_t kt_fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * KT_FNV_PRIME;
    return h;
}

#endif
