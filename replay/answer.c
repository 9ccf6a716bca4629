/* answer.c — PutRecords answers, record by record (see answer.h). */
#include "answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "simd.h"

void answer_error_type(struct jdoc *doc, const char *body, size_t len, long status, char *out, size_t cap)
{
    snprintf(out, cap, "HTTP %ld", status);
    if (!len)
        return;
    struct kbuf copy = KBUF_INIT;
    kbuf_append(&copy, body, len);
    struct kt_err jerr;
    if (jdoc_parse(doc, copy.p, copy.len, &jerr, NULL) == 0) {
        const struct jnode *t = jget(doc, jroot(doc), "__type");
        if (t && t->type == J_STR) {
            const char *s = jstr(doc, t);
            const char *hash = strrchr(s, '#');
            snprintf(out, cap, "%s", hash ? hash + 1 : s);
        }
    }
    kbuf_free(&copy);
}

int answer_retryable(const char *code, long status)
{
    static const char *const retry[] = {"ProvisionedThroughputExceededException", "LimitExceededException",
                                        "ThrottlingException", "Throttling", "RequestLimitExceeded",
                                        "InternalFailure", "InternalFailureException", "InternalServerError",
                                        "ServiceUnavailable", "ServiceUnavailableException",
                                        "KMSThrottlingException", "SlowDown"};
    for (size_t i = 0; i < sizeof retry / sizeof retry[0]; i++)
        if (strcmp(code, retry[i]) == 0)
            return 1;
    return status == 429 || (status >= 500 && status != 501);
}

int answer_fatal(const char *code, long status)
{
    static const char *const stop[] = {"UnrecognizedClientException", "InvalidSignatureException",
                                       "IncompleteSignatureException", "MissingAuthenticationTokenException",
                                       "ExpiredTokenException", "AccessDeniedException",
                                       "ResourceNotFoundException", "InvalidClientTokenId",
                                       "SignatureDoesNotMatch", "NotImplementedException"};
    for (size_t i = 0; i < sizeof stop / sizeof stop[0]; i++)
        if (strcmp(code, stop[i]) == 0)
            return 1;
    return status == 501 || status == 403;
}

int answer_all_delivered(const char *p, size_t len, size_t n)
{
    static const char key[] = "\"FailedRecordCount\":";
    const char *k = len ? memmem(p, len, key, sizeof key - 1) : NULL;
    if (!k)
        return 0;
    const char *v = k + sizeof key - 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
        v++;
    if (v + 1 >= end || v[0] != '0' || (v[1] >= '0' && v[1] <= '9'))
        return 0;
    /* No string in a successful answer holds a brace: one object per record, and the answer itself. */
    return kt_count_byte(p, len, '{') == n + 1;
}

void answer_classify(struct jdoc *doc, const char *transport_error, long status, char *body, size_t len, size_t n,
                     unsigned char *fates, struct answer *out, void (*count)(void *ctx, const char *code),
                     void *ctx)
{
    memset(out, 0, sizeof *out);
    if (transport_error) {
        snprintf(out->code, sizeof out->code, "connection: %s", transport_error);
        count(ctx, out->code);
        memset(fates, FATE_RETRY, n);
        return;
    }
    if (status != 200) {
        answer_error_type(doc, body, len, status, out->code, sizeof out->code);
        count(ctx, out->code);
        out->fatal = answer_fatal(out->code, status);
        memset(fates, answer_retryable(out->code, status) && !out->fatal ? FATE_RETRY : FATE_FAILED, n);
        return;
    }
    out->ok = 1;
    /*
     * The usual answer: every record succeeded. FailedRecordCount 0 (AWS
     * writes it first) with one object per record says so without parsing
     * the rest.
     */
    if (answer_all_delivered(body, len, n)) {
        memset(fates, FATE_DELIVERED, n);
        out->delivered = n;
        return;
    }
    /* Per-record results. The answer's text is parsed in place: it is the caller's to give. */
    struct kt_err jerr;
    const struct jnode *list = NULL;
    if (len && jdoc_parse(doc, body, len, &jerr, NULL) == 0)
        list = jget(doc, jroot(doc), "Records");
    const struct jnode *res = list && list->type == J_ARR && list->len == n ? jfirst(doc, list) : NULL;
    if (!res) {
        snprintf(out->code, sizeof out->code, "malformed PutRecords answer");
        count(ctx, out->code);
        memset(fates, FATE_RETRY, n);
        return;
    }
    for (size_t i = 0; i < n; i++, res = jnext(doc, list, res)) {
        const struct jnode *code = jget(doc, res, "ErrorCode");
        if (code && code->type == J_STR) {
            const char *c = jstr(doc, code);
            count(ctx, c);
            fates[i] = answer_retryable(c, 0) ? FATE_RETRY : FATE_FAILED;
        } else {
            fates[i] = FATE_DELIVERED;
            out->delivered++;
        }
    }
}
