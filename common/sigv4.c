/* sigv4.c — AWS Signature Version 4 (see sigv4.h). */
#include "sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"

static int copy_field(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

static int region_ok(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

int sigv4_parse_authorization(const char *h, size_t n, struct sigv4_auth *out, struct kt_err *err)
{
    static const char alg[] = "AWS4-HMAC-SHA256";
    memset(out, 0, sizeof *out);
    size_t al = sizeof alg - 1;
    if (n < al || memcmp(h, alg, al) != 0 || (n > al && h[al] != ' ')) {
        size_t w = 0;
        while (w < n && h[w] != ' ')
            w++;
        kt_err_set(err, "Unsupported AWS 'algorithm': '%.*s'", (int)(w > 64 ? 64 : w), h);
        return -1;
    }
    const char *cred = NULL, *signed_h = NULL, *sig = NULL;
    size_t cred_n = 0, signed_n = 0, sig_n = 0;
    size_t i = al;
    while (i < n) {
        while (i < n && (h[i] == ' ' || h[i] == ','))
            i++;
        size_t start = i;
        while (i < n && h[i] != ',')
            i++;
        size_t end = i;
        while (end > start && h[end - 1] == ' ')
            end--;
        const char *eq = memchr(h + start, '=', end - start);
        if (!eq)
            continue;
        size_t kl = (size_t)(eq - (h + start));
        const char *v = eq + 1;
        size_t vl = end - (size_t)(v - h);
        if (kl == 10 && memcmp(h + start, "Credential", 10) == 0)
            cred = v, cred_n = vl;
        else if (kl == 13 && memcmp(h + start, "SignedHeaders", 13) == 0)
            signed_h = v, signed_n = vl;
        else if (kl == 9 && memcmp(h + start, "Signature", 9) == 0)
            sig = v, sig_n = vl;
    }
    if (!cred || !signed_h || !sig || !cred_n || !signed_n || !sig_n) {
        kt_err_set(err, "%s%s%sAuthorization=%.*s",
                 cred && cred_n ? "" : "Authorization header requires 'Credential' parameter. ",
                 sig && sig_n ? "" : "Authorization header requires 'Signature' parameter. ",
                 signed_h && signed_n ? "" : "Authorization header requires 'SignedHeaders' parameter. ",
                 (int)(n > 200 ? 200 : n), h);
        return -1;
    }
    /* Credential=AKID/date/region/service/aws4_request */
    const char *part[5];
    size_t plen[5];
    size_t np = 0, s = 0;
    for (size_t k = 0; k <= cred_n; k++) {
        if (k == cred_n || cred[k] == '/') {
            if (np == 5) {
                np++;
                break;
            }
            part[np] = cred + s;
            plen[np++] = k - s;
            s = k + 1;
        }
    }
    if (np != 5) {
        kt_err_set(err,
                 "Credential must have exactly 5 slash-delimited elements, e.g. "
                 "keyid/date/region/service/term, got '%.*s'",
                 (int)(cred_n > 200 ? 200 : cred_n), cred);
        return -1;
    }
    if (copy_field(out->access_key, sizeof out->access_key, part[0], plen[0]) || plen[0] == 0) {
        kt_err_set(err, "The Credential's access key is empty or longer than 128 characters.");
        return -1;
    }
    if (plen[1] != 8 || copy_field(out->date, sizeof out->date, part[1], plen[1])) {
        kt_err_set(err, "Date must be in ISO-8601 'basic format'. Got '%.*s'. See "
                              "http://en.wikipedia.org/wiki/ISO_8601",
                 (int)(plen[1] > 64 ? 64 : plen[1]), part[1]);
        return -1;
    }
    for (int k = 0; k < 8; k++)
        if (out->date[k] < '0' || out->date[k] > '9') {
            kt_err_set(err, "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                                  "http://en.wikipedia.org/wiki/ISO_8601", out->date);
            return -1;
        }
    if (copy_field(out->region, sizeof out->region, part[2], plen[2]) || !region_ok(out->region)) {
        kt_err_set(err, "Credential should be scoped to a valid region, not '%.*s'. ",
                 (int)(plen[2] > 64 ? 64 : plen[2]), part[2]);
        return -1;
    }
    if (copy_field(out->service, sizeof out->service, part[3], plen[3])) {
        kt_err_set(err, "Credential should be scoped to correct service. ");
        return -1;
    }
    if (plen[4] != 12 || memcmp(part[4], "aws4_request", 12) != 0) {
        kt_err_set(err, "Credential should be scoped with a valid terminator: 'aws4_request', not '%.*s'. ",
                 (int)(plen[4] > 64 ? 64 : plen[4]), part[4]);
        return -1;
    }
    if (copy_field(out->signature, sizeof out->signature, sig, sig_n)) {
        kt_err_set(err, "The Signature is longer than 128 characters.");
        return -1;
    }
    if (copy_field(out->signed_headers, sizeof out->signed_headers, signed_h, signed_n)) {
        kt_err_set(err, "SignedHeaders is longer than %zu characters.", sizeof out->signed_headers - 1);
        return -1;
    }
    return 0;
}

/* --------------------------------------------------------------- signing */

static void to_hex(const unsigned char *d, size_t n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t n, char *hex)
{
    unsigned char d[32];
    unsigned int dl = 0;
    EVP_Digest(data, n, d, &dl, EVP_sha256(), NULL);
    to_hex(d, 32, hex);
}

void sigv4_amz_date(char *out, long long sec)
{
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static void hmac(const void *key, size_t klen, const char *msg, size_t mlen, unsigned char *out)
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen, out, &len);
}

struct hdr_sorted {
    char name[128];
    const char *value;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct hdr_sorted *)a)->name, ((const struct hdr_sorted *)b)->name);
}

void sigv4_canonical_value(struct kbuf *b, const char *v, size_t n)
{
    while (n && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    int space = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == ' ' || v[i] == '\t') {
            space = 1;
            continue;
        }
        if (space)
            kbuf_putc(b, ' ');
        space = 0;
        kbuf_putc(b, v[i]);
    }
}

void sigv4_signature(const char *creq, size_t creq_len, const char *amz_date, const char *region,
                     const char *service, const char *secret_key, char *sighex, struct kbuf *sts_out)
{
    char chash[65];
    sigv4_sha256_hex(creq, creq_len, chash);
    /* Task 2: the string to sign. */
    char day[9];
    memcpy(day, amz_date, 8);
    day[8] = '\0';
    struct kbuf sts = KBUF_INIT;
    kbuf_appendf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, day, region, service, chash);
    /* Task 3: the signing key and the signature. */
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    struct kbuf secret = KBUF_INIT;
    kbuf_appendf(&secret, "AWS4%s", secret_key);
    hmac(secret.p, secret.len, day, 8, k1);
    hmac(k1, 32, region, strlen(region), k2);
    hmac(k2, 32, service, strlen(service), k3);
    hmac(k3, 32, "aws4_request", 12, k4);
    hmac(k4, 32, sts.p, sts.len, sig);
    to_hex(sig, 32, sighex);
    if (sts_out)
        kbuf_append(sts_out, sts.p, sts.len);
    kbuf_free(&sts);
    kbuf_free(&secret);
}

int sigv4_sign(const struct sigv4_request *rq, char *out, size_t out_len, char *creq_hash)
{
    struct hdr_sorted hs[32];
    size_t n = rq->nheaders < 32 ? rq->nheaders : 32;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        for (const char *p = rq->headers[i].name; *p && k + 1 < sizeof hs[i].name; p++)
            hs[i].name[k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        hs[i].name[k] = '\0';
        hs[i].value = rq->headers[i].value;
    }
    qsort(hs, n, sizeof hs[0], by_name);

    /* Task 1: the canonical request. */
    struct kbuf c = KBUF_INIT, signed_names = KBUF_INIT;
    kbuf_appendf(&c, "%s\n%s\n%s\n", rq->method, rq->path, rq->query ? rq->query : "");
    for (size_t i = 0; i < n; i++) {
        kbuf_appendf(&c, "%s:", hs[i].name);
        sigv4_canonical_value(&c, hs[i].value, strlen(hs[i].value));
        kbuf_putc(&c, '\n');
        kbuf_appendf(&signed_names, "%s%s", i ? ";" : "", hs[i].name);
    }
    kbuf_appendf(&c, "\n%s\n%s", signed_names.p ? signed_names.p : "", rq->payload_sha256);
    if (creq_hash)
        sigv4_sha256_hex(c.p, c.len, creq_hash);
    char sighex[65], day[9];
    sigv4_signature(c.p, c.len, rq->amz_date, rq->region, rq->service, rq->secret_key, sighex, NULL);
    memcpy(day, rq->amz_date, 8);
    day[8] = '\0';
    int w = snprintf(out, out_len, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
                     rq->access_key, day, rq->region, rq->service, signed_names.p ? signed_names.p : "", sighex);
    kbuf_free(&c);
    kbuf_free(&signed_names);
    return w < 0 || (size_t)w >= out_len ? -1 : 0;
}
