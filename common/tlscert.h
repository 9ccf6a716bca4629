/*
 * tlscert.h — certificates made with OpenSSL: a self-signed one for the
 * names a local server answers to, written as PEM files a client can trust.
 *
 *   EVP_PKEY *key; X509 *cert;
 *   tlscert_self_signed("kintape emulator", names, 3, 365, &key, &cert, &err);
 *   tlscert_write(dir, cert, key, cert_path, sizeof cert_path, &err);   // cert.pem, key.pem (0600)
 *
 * Names are DNS names or IP addresses ("localhost", "127.0.0.1", "::1"):
 * each goes into the subjectAltName as what it is. The key is ECDSA P-256.
 * The certificate is its own issuer and says so (basicConstraints CA:TRUE,
 * keyCertSign), so clients that are told to trust it as a CA bundle
 * (AWS_CA_BUNDLE, NODE_EXTRA_CA_CERTS, curl --cacert) accept it, strict
 * X.509 checks included.
 */
#ifndef KT_TLSCERT_H
#define KT_TLSCERT_H

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stddef.h>

#include "errbuf.h"

/* 0 with *key and *cert set (the caller frees them), or -1 with err set. */
int tlscert_self_signed(const char *org, const char *const *names, size_t nnames, int days, EVP_PKEY **key,
                        X509 **cert, struct kt_err *err);

/*
 * Writes DIR/cert.pem and DIR/key.pem (mode 0600), each through a temporary
 * file renamed into place, and the certificate's path into path. 0, or -1.
 */
int tlscert_write(const char *dir, X509 *cert, EVP_PKEY *key, char *path, size_t pathlen, struct kt_err *err);

/* A CA certificate (CA:TRUE, keyCertSign) named org, and its P-256 key. 0, or -1 with err set. */
int tlscert_make_ca(const char *org, int days, EVP_PKEY **key, X509 **cert, struct kt_err *err);

/* A server certificate for names and the public key pub, issued by (ca, ca_key); NULL with err set. */
X509 *tlscert_issue(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *pub, const char *const *names, size_t nnames, int days,
                    struct kt_err *err);

/* Writes DIR/NAME (a certificate, or else the key) with mode through a temporary file; its path into path. */
int tlscert_write_pem(const char *dir, const char *name, int mode, X509 *cert, EVP_PKEY *key, char *path,
                      size_t pathlen, struct kt_err *err);

/* Reads a PEM certificate and its private key, and checks that they belong together. 0, or -1. */
int tlscert_load(const char *cert_path, const char *key_path, X509 **cert, EVP_PKEY **key, struct kt_err *err);

/*
 * The ALPN choice of a server that speaks both: h2 when the client offers
 * it, else http/1.1, else none (HTTP/1.1 all the same). For SSL_CTX_set_alpn_select_cb.
 */
int tlscert_select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                        unsigned int inlen, void *arg);

/* The OpenSSL errors queued on this thread, as one line (the queue is emptied); "" when none. */
const char *tlscert_ssl_errors(char *buf, size_t n);

#endif
