/*
 * sigv4sign — prints the SigV4 Authorization header kintape computes for a
 * request, so tests can hold it against the one another client sent.
 *
 *   sigv4sign METHOD PATH REGION SERVICE ACCESS_KEY SECRET_KEY AMZ_DATE BODY_FILE name:value...
 *
 * The headers given are the ones signed (host and x-amz-date among them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/sigv4.h"

int main(int argc, char **argv)
{
    if (argc < 9) {
        fprintf(stderr, "usage: sigv4sign METHOD PATH REGION SERVICE ACCESS_KEY SECRET_KEY AMZ_DATE BODY_FILE "
                        "name:value...\n");
        return 2;
    }
    FILE *f = fopen(argv[8], "rb");
    if (!f) {
        perror(argv[8]);
        return 2;
    }
    struct kbuf body = KBUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        kbuf_append(&body, chunk, n);
    fclose(f);
    struct sigv4_header h[32];
    size_t nh = 0;
    for (int i = 9; i < argc && nh < 32; i++) {
        char *colon = strchr(argv[i], ':');
        if (!colon) {
            fprintf(stderr, "sigv4sign: header '%s' has no colon\n", argv[i]);
            return 2;
        }
        *colon = '\0';
        h[nh].name = argv[i];
        h[nh].value = colon + 1;
        nh++;
    }
    char hash[65], auth[2048];
    sigv4_sha256_hex(body.p ? body.p : "", body.len, hash);
    struct sigv4_request rq = {argv[1], argv[2], "", h, nh, hash, argv[7], argv[3], argv[4], argv[5], argv[6]};
    if (sigv4_sign(&rq, auth, sizeof auth, NULL) != 0) {
        fprintf(stderr, "sigv4sign: signature does not fit\n");
        return 1;
    }
    puts(auth);
    kbuf_free(&body);
    return 0;
}
