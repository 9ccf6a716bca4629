/*
 * creds.h — AWS credentials and region for replay, from the usual places.
 *
 * Credentials: --access-key/--secret-key/--session-token, then the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
 * then the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
 * ~/.aws/credentials) under the profile of --profile or AWS_PROFILE
 * ("default" otherwise). A local endpoint (127.0.0.1, localhost, ::1) that
 * none of these configure gets dummy credentials, so the emulator needs no
 * setup.
 *
 * Region: --region, AWS_REGION, AWS_DEFAULT_REGION, the endpoint's host name
 * (kinesis.<region>.amazonaws.com), the profile in ~/.aws/config, then
 * us-east-1.
 */
#ifndef KT_CREDS_H
#define KT_CREDS_H

#include "errbuf.h"

struct creds {
    char access_key[129];
    char secret_key[129];
    char token[4096];
    char region[64];
    char source[1200];         /* where the credentials came from, for messages */
};

struct creds_opts {
    const char *access_key, *secret_key, *session_token;
    const char *profile;
    const char *region;
    const char *endpoint;
};

/* 1 when the URL's host is this machine. */
int creds_endpoint_is_local(const char *url);

int creds_load(struct creds *c, const struct creds_opts *o, struct kt_err *err);

#endif
