/*
 * b64.h — base64 (RFC 4648, standard alphabet) for Kinesis record data.
 *
 * Kinesis carries record data as base64 inside JSON. Both directions are
 * our own: decoding must be strict (no whitespace, no characters outside the
 * alphabet) and say at which offset the input went wrong, which OpenSSL's
 * EVP_DecodeBlock does not; encoding with a table of character pairs costs a
 * third of EVP_EncodeBlock's instructions (GetRecords answers are mostly
 * base64).
 */
#ifndef KT_B64_H
#define KT_B64_H

#include <stddef.h>
#include <stdint.h>

/* Characters b64_encode writes for n bytes (without the NUL). */
static inline size_t b64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

/* Bytes b64_decode may write for n characters of input (an upper bound). */
static inline size_t b64_decoded_max(size_t n)
{
    return (n + 3) / 4 * 3;
}

/* Writes b64_encoded_len(n) characters and a NUL into dst; returns the length. */
size_t b64_encode(char *dst, const uint8_t *src, size_t n);

/*
 * Decodes n characters of base64 (padding optional) into dst, which has room
 * for b64_decoded_max(n) bytes. Returns 0 and sets *out_len, or -1 and sets
 * *bad_at to the offset of the first invalid character.
 */
int b64_decode(uint8_t *dst, const char *src, size_t n, size_t *out_len, size_t *bad_at);

/* Checks base64 as b64_decode would, without decoding: 0 with *out_len, or -1 with *bad_at. */
int b64_check(const char *src, size_t n, size_t *out_len, size_t *bad_at);

#endif
