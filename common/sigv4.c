/* sigv4.c — AWS Signature Version 4 (see sigv4.h). */
#include "sigv4.h"

#include <stdio.h>
#include <string.h>

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

int sigv4_parse_authorization(const char *h, size_t n, struct sigv4_auth *out, char *err, size_t errlen)
{
    static const char alg[] = "AWS4-HMAC-SHA256";
    memset(out, 0, sizeof *out);
    size_t al = sizeof alg - 1;
    if (n < al || memcmp(h, alg, al) != 0 || (n > al && h[al] != ' ')) {
        size_t w = 0;
        while (w < n && h[w] != ' ')
            w++;
        snprintf(err, errlen, "Unsupported AWS 'algorithm': '%.*s'", (int)(w > 64 ? 64 : w), h);
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
        snprintf(err, errlen, "%s%s%sAuthorization=%.*s",
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
        snprintf(err, errlen,
                 "Credential must have exactly 5 slash-delimited elements, e.g. "
                 "keyid/date/region/service/term, got '%.*s'",
                 (int)(cred_n > 200 ? 200 : cred_n), cred);
        return -1;
    }
    if (copy_field(out->access_key, sizeof out->access_key, part[0], plen[0]) || plen[0] == 0) {
        snprintf(err, errlen, "The Credential's access key is empty or longer than 128 characters.");
        return -1;
    }
    if (plen[1] != 8 || copy_field(out->date, sizeof out->date, part[1], plen[1])) {
        snprintf(err, errlen, "Date must be in ISO-8601 'basic format'. Got '%.*s'. See "
                              "http://en.wikipedia.org/wiki/ISO_8601",
                 (int)(plen[1] > 64 ? 64 : plen[1]), part[1]);
        return -1;
    }
    for (int k = 0; k < 8; k++)
        if (out->date[k] < '0' || out->date[k] > '9') {
            snprintf(err, errlen, "Date must be in ISO-8601 'basic format'. Got '%s'. See "
                                  "http://en.wikipedia.org/wiki/ISO_8601", out->date);
            return -1;
        }
    if (copy_field(out->region, sizeof out->region, part[2], plen[2]) || !region_ok(out->region)) {
        snprintf(err, errlen, "Credential should be scoped to a valid region, not '%.*s'. ",
                 (int)(plen[2] > 64 ? 64 : plen[2]), part[2]);
        return -1;
    }
    if (copy_field(out->service, sizeof out->service, part[3], plen[3])) {
        snprintf(err, errlen, "Credential should be scoped to correct service. ");
        return -1;
    }
    if (plen[4] != 12 || memcmp(part[4], "aws4_request", 12) != 0) {
        snprintf(err, errlen, "Credential should be scoped with a valid terminator: 'aws4_request', not '%.*s'. ",
                 (int)(plen[4] > 64 ? 64 : plen[4]), part[4]);
        return -1;
    }
    if (copy_field(out->signature, sizeof out->signature, sig, sig_n)) {
        snprintf(err, errlen, "The Signature is longer than 128 characters.");
        return -1;
    }
    return 0;
}
