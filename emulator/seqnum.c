/* seqnum.c — sequence number text (see seqnum.h). */
#include "seqnum.h"

static void put_digits(char *out, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void seq_format(char *out, uint64_t epoch, uint32_t shard, uint64_t n)
{
    out[0] = '4';
    out[1] = '9';
    put_digits(out + 2, epoch, 14);
    put_digits(out + 16, shard, 10);
    put_digits(out + 26, 0, 10);
    put_digits(out + 36, n, 20);
    out[SEQ_LEN] = '\0';
}

void seq_format_record(char *out, uint64_t epoch, uint32_t shard, uint64_t index)
{
    seq_format(out, epoch, shard, index + 1);
}

void seq_format_start(char *out, uint64_t epoch, uint32_t shard)
{
    seq_format(out, epoch, shard, 0);
}

static int get_digits(const char *s, int width, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < width; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

int seq_parse(const char *s, size_t len, uint64_t *epoch, uint32_t *shard, uint64_t *n)
{
    uint64_t e, sh, hi, ix;
    if (len != SEQ_LEN || s[0] != '4' || s[1] != '9')
        return -1;
    if (get_digits(s + 2, 14, &e) || get_digits(s + 16, 10, &sh) || get_digits(s + 26, 10, &hi) ||
        get_digits(s + 36, 20, &ix))
        return -1;
    if (hi != 0 || sh > UINT32_MAX)
        return -1;
    *epoch = e;
    *shard = (uint32_t)sh;
    *n = ix;
    return 0;
}
