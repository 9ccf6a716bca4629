/*
 * sigv4.h — AWS Signature Version 4: the Authorization header.
 *
 * Follows the AWS SigV4 documentation ("Create a signed AWS API request"):
 *
 *   Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/kinesis/aws4_request,
 *                  SignedHeaders=content-type;host;x-amz-date, Signature=<64 hex digits>
 *
 * The emulator reads region and access key from the credential scope, and
 * with --verify-signatures recomputes the signature (emulator/auth.c); the
 * replay client signs its requests (see replay/).
 */
#ifndef KT_SIGV4_H
#define KT_SIGV4_H

#include <stddef.h>

#include "buf.h"
#include "errbuf.h"

struct sigv4_auth {
    char access_key[129];
    char date[9];
    char region[64];
    char service[64];
    char signature[129];
    char signed_headers[2048]; /* "content-type;host;x-amz-date", as sent */
};

/* A header to sign: any case, value as sent. */
struct sigv4_header {
    const char *name;
    const char *value;
};

/* A request to sign (the body is given by its SHA-256 in hex). */
struct sigv4_request {
    const char *method;        /* "POST" */
    const char *path;          /* "/" (already URI-encoded) */
    const char *query;         /* canonical query string, "" when none */
    const struct sigv4_header *headers; /* every header to sign, host and x-amz-date included */
    size_t nheaders;
    const char *payload_sha256;  /* 64 hex digits */
    const char *amz_date;      /* "20150830T123600Z" */
    const char *region;
    const char *service;
    const char *access_key;
    const char *secret_key;
};

/*
 * Writes the Authorization header value for rq into out (out_len bytes,
 * 512 is plenty for up to a dozen headers). Also writes the canonical
 * request's SHA-256 hex into creq_hash when not NULL (65 bytes), for tests.
 * Returns 0, or -1 when out is too small.
 */
int sigv4_sign(const struct sigv4_request *rq, char *out, size_t out_len, char *creq_hash);

/*
 * The signature (64 hex digits and a NUL into sighex) of a canonical
 * request given as its text, for the date, scope and secret; the string
 * to sign is appended to sts_out when it is not NULL.
 */
void sigv4_signature(const char *creq, size_t creq_len, const char *amz_date, const char *region,
                     const char *service, const char *secret_key, char *sighex, struct kbuf *sts_out);

/* Appends a header value as the canonical request has it: trimmed, inner runs of blanks made one space. */
void sigv4_canonical_value(struct kbuf *b, const char *v, size_t n);

/* SHA-256 of data as 64 lowercase hex digits and a NUL. */
void sigv4_sha256_hex(const void *data, size_t n, char *hex);

/* "20150830T123600Z" for the wall-clock second `sec`; out needs 17 bytes. */
void sigv4_amz_date(char *out, long long sec);

/*
 * Parses an Authorization header value. Returns 0, or -1 with a message in
 * AWS's words (as for IncompleteSignatureException) in err.
 */
int sigv4_parse_authorization(const char *h, size_t n, struct sigv4_auth *out, struct kt_err *err);

#endif
