/*
 * auth.h — SigV4 signature verification (--verify-signatures): the request's
 * signature recomputed over its canonical request with the secret of its
 * access key, and refused in AWS's words when it is not right.
 *
 * Follows "Create a signed AWS API request" (AWS SigV4 documentation): the
 * canonical request is the method, the URI path, the sorted query, every
 * header SignedHeaders names (values trimmed, repeated headers joined with
 * ','), that list, and the payload's SHA-256 (X-Amz-Content-Sha256 when the
 * client sent it; it must then be the body's). The date is X-Amz-Date (or
 * Date) and must be within 5 minutes of the clock. Signed in the query
 * string (presigned), the signature and the rest come from the query, the
 * query signed is the rest of it, and the date must be no older than
 * X-Amz-Expires (or 5 minutes).
 *
 * The answers (HTTP 400, as AWS's JSON services answer them):
 *   unknown access key, or a session token that is not the key's
 *                                   UnrecognizedClientException
 *   wrong signature, expired date, scope not matching
 *                                   InvalidSignatureException
 *   Host or a named header missing from what was signed or sent
 *                                   IncompleteSignatureException
 */
#ifndef KT_AUTH_H
#define KT_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "authkeys.h"
#include "buf.h"
#include "sigv4.h"

/* What a request carries for its signature to be checked. */
struct auth_input {
    const char *method;
    const char *path;          /* as sent, with its query */
    size_t path_len;
    const char *hblock;        /* every header: "name\0value\0" pairs, names in lower case (route.h) */
    size_t hblock_len;
    const char *body;
    size_t body_len;
    const struct sigv4_auth *auth; /* the Authorization header, parsed (or the query's, when presigned) */
    int presigned;             /* signed in the query string: its X-Amz-Date, no X-Amz-Signature in the query */
    char query_date[17];       /* presigned: X-Amz-Date from the query */
    long long expires_s;       /* presigned: X-Amz-Expires (0: not given) */
};

/*
 * Query-string (presigned) SigV4: reads X-Amz-Algorithm, X-Amz-Credential,
 * X-Amz-SignedHeaders, X-Amz-Signature, X-Amz-Date and X-Amz-Expires from the
 * query q (n bytes, without '?') into a and in. Returns 1 when the query
 * carries X-Amz-Algorithm (0 when not: no query auth); with it, -1 and an
 * IncompleteSignatureException message in msg when a parameter is missing
 * or unreadable, in AWS's words.
 */
int auth_from_query(const char *q, size_t n, struct sigv4_auth *a, struct auth_input *in, struct kbuf *msg);

/* 0 when the signature is right at wall-clock second now_s; else -1 with the error type in *type and its message in msg. */
int auth_verify(const struct authkeys *keys, const struct auth_input *in, int64_t now_s, const char **type,
                struct kbuf *msg);

#endif
