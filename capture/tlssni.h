/*
 * tlssni.h — what a capture can tell of a TLS connection it cannot read:
 * that its first bytes are a TLS handshake record, and the server name the
 * client asked for (the ClientHello's server_name extension, RFC 6066).
 */
#ifndef KT_TLSSNI_H
#define KT_TLSSNI_H

#include <stddef.h>
#include <stdint.h>

/* 1 when p (n bytes, n >= 3) starts like a TLS handshake record (content type 22, version 3.x). */
int tls_looks_like_handshake(const uint8_t *p, size_t n);

/*
 * The server name of the ClientHello at the start of p, into out (cap
 * bytes, NUL-terminated, only letters, digits, '-', '.' and '_' kept).
 * 1 found, 0 not there (or not whole in p).
 */
int tls_client_hello_sni(const uint8_t *p, size_t n, char *out, size_t cap);

#endif
