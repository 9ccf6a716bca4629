/*
 * sigv4.h — AWS Signature Version 4: the Authorization header.
 *
 * Follows the AWS SigV4 documentation ("Create a signed AWS API request"):
 *
 *   Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/kinesis/aws4_request,
 *                  SignedHeaders=content-type;host;x-amz-date, Signature=<64 hex digits>
 *
 * The emulator reads region and access key from the credential scope; the
 * replay client signs its requests (see replay/).
 */
#ifndef KT_SIGV4_H
#define KT_SIGV4_H

#include <stddef.h>

struct sigv4_auth {
    char access_key[129];
    char date[9];
    char region[64];
    char service[64];
    char signature[129];
};

/*
 * Parses an Authorization header value. Returns 0, or -1 with a message in
 * AWS's words (as for IncompleteSignatureException) in err.
 */
int sigv4_parse_authorization(const char *h, size_t n, struct sigv4_auth *out, char *err, size_t errlen);

#endif
