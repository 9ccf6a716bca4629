/* kpl.c — KPL aggregated records (see kpl.h). */
#include "kpl.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static const uint8_t magic[4] = {0xF3, 0x89, 0x9A, 0xC2};

void kpl_init(struct kpl *k)
{
    memset(k, 0, sizeof *k);
}

void kpl_free(struct kpl *k)
{
    free(k->keys);
    free(k->ehks);
    memset(k, 0, sizeof *k);
}

/* A base-128 varint; -1 when it runs past the end or past 64 bits. */
static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return -1;
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* One field: its number and wire type, and for length-delimited ones the bytes. -1 when malformed. */
struct field {
    uint64_t num;
    int type;
    uint64_t value;            /* varint */
    struct kpl_span bytes;     /* length-delimited */
};

static int next_field(const uint8_t **p, const uint8_t *end, struct field *f)
{
    uint64_t key;
    if (varint(p, end, &key) != 0)
        return -1;
    f->num = key >> 3;
    f->type = (int)(key & 7);
    switch (f->type) {
    case 0:
        return varint(p, end, &f->value);
    case 1:
        if ((size_t)(end - *p) < 8)
            return -1;
        *p += 8;
        return 0;
    case 2: {
        uint64_t n;
        if (varint(p, end, &n) != 0 || n > (uint64_t)(end - *p))
            return -1;
        f->bytes = (struct kpl_span){*p, (size_t)n};
        *p += n;
        return 0;
    }
    case 5:
        if ((size_t)(end - *p) < 4)
            return -1;
        *p += 4;
        return 0;
    default:
        return -1; /* groups are not in the format */
    }
}

static void push(struct kpl_span **v, size_t *n, size_t *cap, struct kpl_span s)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = s;
}

/* A Record message: 0 with out filled (indices resolved), -1 when malformed or an index is out of range. */
static int record(const struct kpl *k, struct kpl_span msg, struct kpl_rec *out, const char **why)
{
    const uint8_t *p = msg.p, *end = msg.p + msg.n;
    int have_key = 0, have_data = 0;
    uint64_t ki = 0, ei = 0;
    int have_ehk = 0;
    memset(out, 0, sizeof *out);
    while (p < end) {
        struct field f;
        if (next_field(&p, end, &f) != 0) {
            *why = "a user record is not valid protobuf";
            return -1;
        }
        if (f.num == 1 && f.type == 0) {
            ki = f.value;
            have_key = 1;
        } else if (f.num == 2 && f.type == 0) {
            ei = f.value;
            have_ehk = 1;
        } else if (f.num == 3 && f.type == 2) {
            out->data = f.bytes;
            have_data = 1;
        }
    }
    if (!have_key || !have_data) {
        *why = "a user record has no partition_key_index or no data";
        return -1;
    }
    if (ki >= k->nkeys || (have_ehk && ei >= k->nehks)) {
        *why = "a user record's key index is past its table";
        return -1;
    }
    out->key = k->keys[ki];
    if (have_ehk)
        out->ehk = k->ehks[ei];
    return 0;
}

enum kpl_kind kpl_open(struct kpl *k, const uint8_t *data, size_t len, const char **why)
{
    k->nkeys = k->nehks = 0;
    k->records = 0;
    k->pos = k->end = NULL;
    if (len < sizeof magic || memcmp(data, magic, sizeof magic) != 0)
        return KPL_PLAIN;
    if (len < sizeof magic + 16) {
        *why = "too short for the protobuf and its MD5";
        return KPL_CORRUPT;
    }
    const uint8_t *pb = data + sizeof magic, *sum = data + len - 16;
    unsigned char md5[16];
    unsigned int ml = 0;
    if (EVP_Digest(pb, (size_t)(sum - pb), md5, &ml, EVP_md5(), NULL) != 1 || memcmp(md5, sum, 16) != 0) {
        *why = "its MD5 does not match";
        return KPL_CORRUPT;
    }
    /* The tables first (they may come after the records), then every record checked. */
    const uint8_t *p = pb;
    while (p < sum) {
        struct field f;
        if (next_field(&p, sum, &f) != 0) {
            *why = "it is not valid protobuf";
            return KPL_CORRUPT;
        }
        if (f.num == 1 && f.type == 2)
            push(&k->keys, &k->nkeys, &k->capkeys, f.bytes);
        else if (f.num == 2 && f.type == 2)
            push(&k->ehks, &k->nehks, &k->capehks, f.bytes);
    }
    for (p = pb; p < sum;) {
        struct field f;
        next_field(&p, sum, &f);
        struct kpl_rec r;
        if (f.num == 3 && f.type == 2) {
            if (record(k, f.bytes, &r, why) != 0)
                return KPL_CORRUPT;
            k->records++;
        }
    }
    k->pos = pb;
    k->end = sum;
    return KPL_AGGREGATE;
}

int kpl_next(struct kpl *k, struct kpl_rec *out)
{
    while (k->pos && k->pos < k->end) {
        struct field f;
        if (next_field(&k->pos, k->end, &f) != 0)
            return 0;
        const char *why;
        if (f.num == 3 && f.type == 2 && record(k, f.bytes, out, &why) == 0)
            return 1;
    }
    return 0;
}
