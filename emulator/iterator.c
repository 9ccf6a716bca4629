/* iterator.c — shard iterator encoding (see iterator.h). */
#include "iterator.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

#include "b64.h"

#define ITER_VERSION 1
#define MAC_LEN 16

static unsigned char mac_key[32];

void iter_init(void)
{
    if (RAND_bytes(mac_key, sizeof mac_key) != 1) {
        /* Only tamper-evidence depends on the key; a fixed one still works. */
        memset(mac_key, 0x5a, sizeof mac_key);
    }
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void mac(const unsigned char *data, size_t n, unsigned char *out)
{
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), mac_key, sizeof mac_key, data, n, full, &len);
    memcpy(out, full, MAC_LEN);
}

size_t iter_encode(char *out, const struct iter_pos *pos)
{
    unsigned char raw[1 + 8 + 4 + 8 + 8 + 1 + 64 + 1 + 129 + MAC_LEN];
    size_t n = 0;
    size_t rl = strnlen(pos->region, sizeof pos->region - 1);
    size_t sl = strnlen(pos->stream, sizeof pos->stream - 1);
    raw[n++] = (unsigned char)(ITER_VERSION << 4 | pos->kind);
    put_u64(raw + n, pos->epoch), n += 8;
    raw[n++] = (unsigned char)(pos->shard >> 24);
    raw[n++] = (unsigned char)(pos->shard >> 16);
    raw[n++] = (unsigned char)(pos->shard >> 8);
    raw[n++] = (unsigned char)pos->shard;
    put_u64(raw + n, pos->index), n += 8;
    put_u64(raw + n, (uint64_t)pos->issued_ms), n += 8;
    raw[n++] = (unsigned char)rl;
    memcpy(raw + n, pos->region, rl), n += rl;
    raw[n++] = (unsigned char)sl;
    memcpy(raw + n, pos->stream, sl), n += sl;
    mac(raw, n, raw + n);
    n += MAC_LEN;
    return b64_encode(out, raw, n);
}

int iter_decode(const char *s, size_t len, enum iter_kind kind, struct iter_pos *pos)
{
    unsigned char raw[ITER_TEXT_MAX];
    size_t n = 0, bad;
    if (len == 0 || len > ITER_TEXT_MAX || b64_decoded_max(len) > sizeof raw)
        return -1;
    if (b64_decode(raw, s, len, &n, &bad) != 0)
        return -1;
    const size_t fixed = 1 + 8 + 4 + 8 + 8 + 1;
    if (n < fixed + 1 + MAC_LEN || raw[0] != (ITER_VERSION << 4 | kind))
        return -1;
    unsigned char want[MAC_LEN];
    mac(raw, n - MAC_LEN, want);
    if (CRYPTO_memcmp(want, raw + n - MAC_LEN, MAC_LEN) != 0)
        return -1;
    size_t at = 1;
    pos->kind = kind;
    pos->epoch = get_u64(raw + at), at += 8;
    pos->shard = (uint32_t)raw[at] << 24 | (uint32_t)raw[at + 1] << 16 | (uint32_t)raw[at + 2] << 8 | raw[at + 3];
    at += 4;
    pos->index = get_u64(raw + at), at += 8;
    pos->issued_ms = (int64_t)get_u64(raw + at), at += 8;
    size_t rl = raw[at++];
    if (rl >= sizeof pos->region || at + rl + 1 > n - MAC_LEN)
        return -1;
    memcpy(pos->region, raw + at, rl);
    pos->region[rl] = '\0';
    at += rl;
    size_t sl = raw[at++];
    if (sl >= sizeof pos->stream || at + sl != n - MAC_LEN)
        return -1;
    memcpy(pos->stream, raw + at, sl);
    pos->stream[sl] = '\0';
    return 0;
}
