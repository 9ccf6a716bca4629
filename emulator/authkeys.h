/*
 * authkeys.h — the credentials a verifying emulator knows (--verify-signatures):
 * access key id, secret, and the session token that goes with a temporary
 * key, from --access-key/--secret-key/--session-token or from a file in the
 * ~/.aws/credentials format (every profile with a key and a secret).
 */
#ifndef KT_AUTHKEYS_H
#define KT_AUTHKEYS_H

#include <stddef.h>

#include "errbuf.h"

struct authkey {
    char *key, *secret, *token; /* token NULL: none goes with the key */
    char *origin;               /* "FILE [profile]" or "--access-key", for messages */
};

struct authkeys {
    struct authkey *v;
    size_t n, cap;
};

/* Adds one key (a key already known is replaced). 0, or -1 with err set when it is not well formed. */
int authkeys_add(struct authkeys *k, const char *key, const char *secret, const char *token, const char *origin,
                 struct kt_err *err);

/* Adds every profile of a credentials file. 0, or -1 with err set (file, line, what is wrong). */
int authkeys_load(struct authkeys *k, const char *path, struct kt_err *err);

const struct authkey *authkeys_find(const struct authkeys *k, const char *key);

void authkeys_free(struct authkeys *k);

#endif
