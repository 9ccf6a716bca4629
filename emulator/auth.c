/* auth.c — SigV4 signature verification (see auth.h). */
#include "auth.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SKEW_S 300 /* 5 minutes either way, as AWS allows */

static const char sig_mismatch[] =
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details.";

/* The value of header `name` (lower case) in the block, or NULL; with `from`, the search starts (and goes on) there. */
static const char *header_at(const char *block, size_t len, const char *name, size_t *vlen, size_t *from)
{
    size_t nl = strlen(name);
    size_t i = from ? *from : 0;
    while (i < len) {
        const char *n = block + i;
        size_t nn = strnlen(n, len - i);
        size_t vi = i + nn + 1;
        if (vi > len)
            break;
        const char *v = block + vi;
        size_t vn = strnlen(v, len - vi);
        i = vi + vn + 1;
        if (nn == nl && memcmp(n, name, nl) == 0) {
            if (from)
                *from = i;
            *vlen = vn;
            return v;
        }
    }
    return NULL;
}

static const char *header(const struct auth_input *in, const char *name, size_t *vlen)
{
    const char *v = header_at(in->hblock, in->hblock_len, name, vlen, NULL);
    if (!v && strcmp(name, "host") == 0)
        v = header_at(in->hblock, in->hblock_len, ":authority", vlen, NULL); /* HTTP/2 */
    return v;
}

/* "20261202T140000Z" to epoch seconds; -1 when it is not one. */
static int64_t amz_date_seconds(const char *s, size_t n)
{
    if (n != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    for (size_t i = 0; i < 15; i++)
        if (i != 8 && (s[i] < '0' || s[i] > '9'))
            return -1;
    struct tm tm = {0};
#define D(a, k) ((s[a] - '0') * (k))
    tm.tm_year = D(0, 1000) + D(1, 100) + D(2, 10) + D(3, 1) - 1900;
    tm.tm_mon = D(4, 10) + D(5, 1) - 1;
    tm.tm_mday = D(6, 10) + D(7, 1);
    tm.tm_hour = D(9, 10) + D(10, 1);
    tm.tm_min = D(11, 10) + D(12, 1);
    tm.tm_sec = D(13, 10) + D(14, 1);
#undef D
    if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    return (int64_t)timegm(&tm);
}

/* The request's date as "YYYYMMDDTHHMMSSZ" (X-Amz-Date, else an RFC 1123 Date); 0, or -1. */
static int request_date(const struct auth_input *in, char *amz, int64_t *sec)
{
    size_t n;
    if (in->presigned) {
        *sec = amz_date_seconds(in->query_date, 16);
        memcpy(amz, in->query_date, 17);
        return *sec < 0 ? -1 : 0;
    }
    const char *v = header(in, "x-amz-date", &n);
    if (v) {
        *sec = amz_date_seconds(v, n);
        if (*sec < 0)
            return -1;
        memcpy(amz, v, 16);
        amz[16] = '\0';
        return 0;
    }
    v = header(in, "date", &n);
    char text[64];
    struct tm tm = {0};
    if (!v || n >= sizeof text)
        return -1;
    memcpy(text, v, n);
    text[n] = '\0';
    const char *end = strptime(text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end)
        return -1;
    *sec = (int64_t)timegm(&tm);
    sigv4_amz_date(amz, (long long)*sec);
    return 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The value of query parameter `name` (URL-decoded) into out; 1 when present. */
static int query_param(const char *q, size_t n, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && q[j] != '&')
            j++;
        if (j - i > nl && q[i + nl] == '=' && memcmp(q + i, name, nl) == 0) {
            size_t o = 0;
            for (size_t k = i + nl + 1; k < j && o + 1 < cap; k++) {
                int hi, lo;
                if (q[k] == '%' && k + 2 < j && (hi = hexval(q[k + 1])) >= 0 && (lo = hexval(q[k + 2])) >= 0) {
                    out[o++] = (char)(hi << 4 | lo);
                    k += 2;
                } else {
                    out[o++] = q[k] == '+' ? ' ' : q[k];
                }
            }
            out[o] = '\0';
            return 1;
        }
        i = j + 1;
    }
    return 0;
}

int auth_from_query(const char *q, size_t n, struct sigv4_auth *a, struct auth_input *in, struct kbuf *msg)
{
    static const char *const need[] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature",
                                       "X-Amz-SignedHeaders", "X-Amz-Date"};
    char v[5][2048];
    if (!q || !query_param(q, n, "X-Amz-Algorithm", v[0], sizeof v[0]))
        return 0;
    int missing = 0;
    for (int i = 0; i < 5; i++)
        if (!query_param(q, n, need[i], v[i], sizeof v[i]) || !v[i][0]) {
            kbuf_appendf(msg, "AWS query-string parameters must include '%s'. ", need[i]);
            missing = 1;
        }
    if (missing) {
        kbuf_puts(msg, "Re-examine the query-string parameters.");
        return -1;
    }
    char header[8256];
    snprintf(header, sizeof header, "%s Credential=%s, SignedHeaders=%s, Signature=%s", v[0], v[1], v[3], v[2]);
    struct kt_err err;
    if (sigv4_parse_authorization(header, strlen(header), a, &err) != 0) {
        kbuf_puts(msg, err.msg);
        return -1;
    }
    if (strlen(v[4]) != 16 || amz_date_seconds(v[4], 16) < 0) {
        kbuf_appendf(msg, "X-Amz-Date must be in ISO-8601 'basic format' (20261202T140000Z), not '%.64s'.", v[4]);
        return -1;
    }
    in->presigned = 1;
    memcpy(in->query_date, v[4], 17);
    char ex[32];
    in->expires_s = 0;
    if (query_param(q, n, "X-Amz-Expires", ex, sizeof ex)) {
        char *end;
        in->expires_s = strtoll(ex, &end, 10);
        if (*end || in->expires_s < 1 || in->expires_s > 604800) {
            kbuf_appendf(msg, "X-Amz-Expires must be between 1 and 604800 seconds, not '%.32s'.", ex);
            return -1;
        }
    }
    return 1;
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

/* The canonical URI: the path with every byte but unreserved ones and '/' percent-encoded (again, as SigV4 does). */
static void canonical_uri(struct kbuf *c, const char *p, size_t n)
{
    if (n == 0) {
        kbuf_putc(c, '/');
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (unreserved(ch) || ch == '/')
            kbuf_putc(c, (char)ch);
        else
            kbuf_appendf(c, "%%%02X", ch);
    }
}

struct qparam {
    const char *p;
    size_t n, kn;              /* the "k=v" text, and the length of k */
};

static int qcmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    size_t k = x->kn < y->kn ? x->kn : y->kn;
    int r = memcmp(x->p, y->p, k);
    if (r || x->kn != y->kn)
        return r ? r : (x->kn < y->kn ? -1 : 1);
    size_t m = x->n < y->n ? x->n : y->n;
    r = memcmp(x->p, y->p, m);
    return r ? r : (x->n < y->n ? -1 : x->n > y->n);
}

/* The canonical query: its parameters sorted by name, then value, each "k=v". */
static void canonical_query(struct kbuf *c, const char *q, size_t n, int presigned)
{
    struct qparam ps[64];
    size_t np = 0;
    for (size_t i = 0; i < n && np < 64;) {
        size_t j = i;
        while (j < n && q[j] != '&')
            j++;
        static const char sig[] = "X-Amz-Signature=";
        if (j > i && !(presigned && j - i >= sizeof sig - 1 && memcmp(q + i, sig, sizeof sig - 1) == 0)) {
            const char *eq = memchr(q + i, '=', j - i);
            ps[np++] = (struct qparam){q + i, j - i, eq ? (size_t)(eq - (q + i)) : j - i};
        }
        i = j + 1;
    }
    qsort(ps, np, sizeof ps[0], qcmp);
    for (size_t i = 0; i < np; i++) {
        if (i)
            kbuf_putc(c, '&');
        kbuf_append(c, ps[i].p, ps[i].n);
        if (ps[i].kn == ps[i].n)
            kbuf_putc(c, '=');
    }
}

static int fail(const char **type, const char *t, struct kbuf *msg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(const char **type, const char *t, struct kbuf *msg, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    *type = t;
    kbuf_puts(msg, text);
    return -1;
}

/* Builds the canonical request into c; -1 with the error set when a signed header is missing. */
static int canonical_request(const struct auth_input *in, const char *payload_hash, struct kbuf *c,
                             const char **type, struct kbuf *msg)
{
    const char *sh = in->auth->signed_headers;
    const char *qm = memchr(in->path, '?', in->path_len);
    size_t plen = qm ? (size_t)(qm - in->path) : in->path_len;
    kbuf_appendf(c, "%s\n", in->method);
    canonical_uri(c, in->path, plen);
    kbuf_putc(c, '\n');
    if (qm)
        canonical_query(c, qm + 1, in->path_len - plen - 1, in->presigned);
    kbuf_putc(c, '\n');
    for (const char *p = sh; *p;) {
        size_t n = strcspn(p, ";");
        char name[256];
        if (n == 0 || n >= sizeof name)
            return fail(type, "IncompleteSignatureException", msg, "SignedHeaders has an empty or overlong name: '%s'",
                        sh);
        for (size_t i = 0; i < n; i++)
            name[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]);
        name[n] = '\0';
        kbuf_appendf(c, "%s:", name);
        size_t vl, from = 0;
        const char *v = header_at(in->hblock, in->hblock_len, name, &vl, &from);
        if (!v && strcmp(name, "host") == 0)
            v = header(in, "host", &vl); /* HTTP/2: :authority stands for Host */
        if (!v)
            return fail(type, "IncompleteSignatureException", msg,
                        "The request has no '%s' header, which SignedHeaders names: %s", name, sh);
        sigv4_canonical_value(c, v, vl);
        while ((v = header_at(in->hblock, in->hblock_len, name, &vl, &from)) != NULL) {
            kbuf_putc(c, ',');
            sigv4_canonical_value(c, v, vl);
        }
        kbuf_putc(c, '\n');
        p += n;
        if (*p == ';')
            p++;
    }
    kbuf_appendf(c, "\n%s\n%s", sh, payload_hash);
    return 0;
}

/* 1 when `name` is in the ';'-separated list (case-insensitive). */
static int signed_has(const char *list, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ";");
        if (n == nl && strncasecmp(p, name, n) == 0)
            return 1;
        p += n;
        if (*p == ';')
            p++;
    }
    return 0;
}

int auth_verify(const struct authkeys *keys, const struct auth_input *in, int64_t now_s, const char **type,
                struct kbuf *msg)
{
    const struct sigv4_auth *a = in->auth;
    static const char bad_token[] = "The security token included in the request is invalid.";
    const struct authkey *k = authkeys_find(keys, a->access_key);
    if (!k)
        return fail(type, "UnrecognizedClientException", msg, "%s", bad_token);
    size_t tl;
    const char *token = header(in, "x-amz-security-token", &tl);
    if (token && !signed_has(a->signed_headers, "x-amz-security-token"))
        return fail(type, "IncompleteSignatureException", msg,
                    "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.");
    if ((k->token != NULL) != (token != NULL) ||
        (token && (strlen(k->token) != tl || CRYPTO_memcmp(k->token, token, tl) != 0)))
        return fail(type, "UnrecognizedClientException", msg, "%s", bad_token);
    if (!signed_has(a->signed_headers, "host") && !signed_has(a->signed_headers, ":authority"))
        return fail(type, "IncompleteSignatureException", msg,
                    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    if (strcmp(a->service, "kinesis") != 0)
        return fail(type, "InvalidSignatureException", msg, "Credential should be scoped to correct service: 'kinesis'. ");

    char amz[17], now_amz[17], edge[17];
    int64_t sec;
    if (request_date(in, amz, &sec) != 0)
        return fail(type, "IncompleteSignatureException", msg,
                    "Date must be in ISO-8601 'basic format' (X-Amz-Date: 20261202T140000Z) or an RFC 1123 Date "
                    "header.");
    sigv4_amz_date(now_amz, (long long)now_s);
    if (in->presigned && in->expires_s && sec + in->expires_s < now_s)
        return fail(type, "InvalidSignatureException", msg,
                    "Signature expired: %s is now earlier than the %s it was presigned at plus %lld seconds "
                    "(X-Amz-Expires).", now_amz, amz, in->expires_s);
    if (sec < now_s - (in->presigned && in->expires_s ? in->expires_s : SKEW_S)) {
        sigv4_amz_date(edge, (long long)(now_s - SKEW_S));
        return fail(type, "InvalidSignatureException", msg, "Signature expired: %s is now earlier than %s (%s - 5 min.)",
                    amz, edge, now_amz);
    }
    if (sec > now_s + SKEW_S) {
        sigv4_amz_date(edge, (long long)(now_s + SKEW_S));
        return fail(type, "InvalidSignatureException", msg,
                    "Signature not yet current: %s is still later than %s (%s + 5 min.)", amz, edge, now_amz);
    }
    if (memcmp(a->date, amz, 8) != 0)
        return fail(type, "InvalidSignatureException", msg,
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                    "'%s' != '%.8s', from '%s'.",
                    a->date, amz, amz);

    char body_hash[65];
    sigv4_sha256_hex(in->body ? in->body : "", in->body_len, body_hash);
    size_t hl;
    const char *claimed = header(in, "x-amz-content-sha256", &hl);
    if (claimed && (hl != 64 || strncasecmp(claimed, body_hash, 64) != 0))
        return fail(type, "InvalidSignatureException", msg,
                    "The provided 'x-amz-content-sha256' header does not match what was computed.");

    struct kbuf creq = KBUF_INIT, sts = KBUF_INIT;
    /* What the client signed as the payload's hash: its header's text when it sent one (the same hash). */
    char signed_hash[65];
    snprintf(signed_hash, sizeof signed_hash, "%.64s", claimed ? claimed : body_hash);
    int rc = canonical_request(in, signed_hash, &creq, type, msg);
    if (rc == 0) {
        char want[65];
        sigv4_signature(creq.p, creq.len, amz, a->region, a->service, k->secret, want, &sts);
        if (strlen(a->signature) != 64 || CRYPTO_memcmp(want, a->signature, 64) != 0) {
            *type = "InvalidSignatureException";
            kbuf_appendf(msg,
                         "%s\n\nThe Canonical String for this request should have been\n'%s'\n\n"
                         "The String-to-Sign should have been\n'%s'\n",
                         sig_mismatch, creq.p, sts.p);
            rc = -1;
        }
    }
    kbuf_free(&creq);
    kbuf_free(&sts);
    return rc;
}
