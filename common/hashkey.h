/*
 * hashkey.h — Kinesis hash keys: 128-bit unsigned integers.
 *
 * A record goes to the shard whose [StartingHashKey, EndingHashKey] range
 * holds MD5(partition key) read as a big-endian 128-bit integer, or its
 * ExplicitHashKey. CreateStream splits the key space evenly: shard i starts
 * at i * floor(2^128 / n) and the last shard ends at 2^128 - 1.
 */
#ifndef KT_HASHKEY_H
#define KT_HASHKEY_H

#include <stddef.h>
#include <stdint.h>

typedef unsigned __int128 u128;

#define HK_MAX (~(u128)0)
/* Longest decimal text of a hash key (39 digits) plus the NUL. */
#define HK_TEXT_MAX 40

/* MD5 of the partition key bytes as a big-endian 128-bit integer. Thread-safe. */
u128 hk_from_partition_key(const char *key, size_t len);

/*
 * Parses decimal text. Returns 0, or -1 when the text is empty, has a
 * non-digit, or is larger than 2^128 - 1.
 */
int hk_parse(const char *s, size_t len, u128 *out);

/* Writes the decimal text of v and a NUL; returns its length. */
size_t hk_format(char *out, u128 v);

/* The even split of CreateStream: range of shard i of n. */
void hk_range(uint32_t n, uint32_t i, u128 *start, u128 *end);

/* Index of the shard of an even n-way split that holds h. */
uint32_t hk_shard_of(u128 h, uint32_t n);

#endif
