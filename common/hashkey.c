/* hashkey.c — 128-bit hash keys and MD5 routing (see hashkey.h). */
#include "hashkey.h"

#include <openssl/evp.h>
#include <pthread.h>

static EVP_MD *md5_md;
static pthread_once_t md5_once = PTHREAD_ONCE_INIT;
static pthread_key_t md5_ctx_key;

static void md5_ctx_free(void *p)
{
    EVP_MD_CTX_free(p);
}

static void md5_init(void)
{
    /* Fetch once: EVP_md5() would look the algorithm up on every call. */
    md5_md = EVP_MD_fetch(NULL, "MD5", NULL);
    pthread_key_create(&md5_ctx_key, md5_ctx_free);
}

u128 hk_from_partition_key(const char *key, size_t len)
{
    pthread_once(&md5_once, md5_init);
    EVP_MD_CTX *ctx = pthread_getspecific(md5_ctx_key);
    if (!ctx) {
        ctx = EVP_MD_CTX_new();
        pthread_setspecific(md5_ctx_key, ctx);
    }
    unsigned char d[16];
    unsigned int dl = 0;
    EVP_DigestInit_ex2(ctx, md5_md, NULL);
    EVP_DigestUpdate(ctx, key, len);
    EVP_DigestFinal_ex(ctx, d, &dl);
    u128 v = 0;
    for (int i = 0; i < 16; i++)
        v = v << 8 | d[i];
    return v;
}

int hk_parse(const char *s, size_t len, u128 *out)
{
    if (len == 0 || len > 39)
        return -1;
    u128 v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (HK_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

size_t hk_format(char *out, u128 v)
{
    char tmp[HK_TEXT_MAX];
    int i = HK_TEXT_MAX - 1;
    tmp[i] = '\0';
    do {
        tmp[--i] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    size_t n = (size_t)(HK_TEXT_MAX - 1 - i);
    for (size_t k = 0; k <= n; k++)
        out[k] = tmp[i + (int)k];
    return n;
}

/* floor(2^128 / n) for n >= 2 (2^128 itself does not fit in 128 bits). */
static u128 step_of(uint32_t n)
{
    u128 q = HK_MAX / n;
    if (HK_MAX % n == (u128)n - 1)
        q++;
    return q;
}

void hk_range(uint32_t n, uint32_t i, u128 *start, u128 *end)
{
    if (n <= 1) {
        *start = 0;
        *end = HK_MAX;
        return;
    }
    u128 step = step_of(n);
    *start = step * i;
    *end = (i + 1 == n) ? HK_MAX : step * (i + 1) - 1;
}

uint32_t hk_shard_of(u128 h, uint32_t n)
{
    if (n <= 1)
        return 0;
    u128 idx = h / step_of(n);
    return idx >= n ? n - 1 : (uint32_t)idx;
}
