/*
 * proxy_tls.c — the proxy's TLS: the local CA (made by `kintape proxy
 * init-ca`), a certificate minted for each intercepted host and cached, the
 * server context that offers h2 and http/1.1 by ALPN, and the client
 * context that verifies upstreams (see proxy_int.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "mem.h"
#include "proxy_int.h"
#include "tlscert.h"

#define LEAF_CACHE 1024
#define LEAF_DAYS 30
#define CA_DAYS 3650

struct leaf {
    char host[256];
    X509 *cert;
};

struct ptls {
    X509 *ca;
    EVP_PKEY *ca_key;
    EVP_PKEY *leaf_key;        /* one key for every minted certificate */
    struct leaf *leaves;
    size_t nleaves, next_evict;
    SSL_CTX *server, *client;
    char ca_path[4096];
};


static int is_ip(const char *host)
{
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

static void ca_files(const char *dir, char *cert, char *key, size_t n)
{
    snprintf(cert, n, "%s/ca.pem", dir);
    snprintf(key, n, "%s/ca-key.pem", dir);
}

int proxy_init_ca(const char *dir, char *ca_path, size_t n, struct kt_err *err)
{
    char cert[4096], key[4096];
    ca_files(dir, cert, key, sizeof cert);
    snprintf(ca_path, n, "%s", cert);
    struct stat st;
    if (stat(cert, &st) == 0 && stat(key, &st) == 0) {
        X509 *x;
        EVP_PKEY *k;
        if (tlscert_load(cert, key, &x, &k, err) != 0)
            return -1;
        X509_free(x);
        EVP_PKEY_free(k);
        return 0;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        kt_err_set(err, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    EVP_PKEY *k;
    X509 *x;
    if (tlscert_make_ca("kintape proxy CA", CA_DAYS, &k, &x, err) != 0)
        return -1;
    char path[4096];
    int rc = tlscert_write_pem(dir, "ca-key.pem", 0600, NULL, k, path, sizeof path, err);
    if (rc == 0)
        rc = tlscert_write_pem(dir, "ca.pem", 0644, x, NULL, ca_path, n, err);
    X509_free(x);
    EVP_PKEY_free(k);
    return rc == 0 ? 1 : -1;
}

static X509 *leaf_for(struct ptls *t, const char *host, struct kt_err *err);

/* The name the client asks for by SNI gets its own certificate. */
static int on_sni(SSL *ssl, int *alert, void *arg)
{
    struct ptls *t = arg;
    (void)alert;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    struct kt_err err;
    X509 *x = name && strlen(name) < 254 ? leaf_for(t, name, &err) : NULL;
    if (x)
        SSL_use_certificate(ssl, x);
    return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *server_ctx(struct ptls *t)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_alpn_select_cb(ctx, tlscert_select_alpn, NULL);
    SSL_CTX_set_tlsext_servername_callback(ctx, on_sni);
    SSL_CTX_set_tlsext_servername_arg(ctx, t);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"kintape-proxy", 13);
    return ctx;
}

static SSL_CTX *client_ctx(const char *upstream_ca, struct kt_err *err)
{
    char why[512];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        kt_err_set(err, "TLS: %s", tlscert_ssl_errors(why, sizeof why));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int ok = upstream_ca ? SSL_CTX_load_verify_locations(ctx, upstream_ca, NULL)
                         : SSL_CTX_set_default_verify_paths(ctx);
    if (!ok) {
        kt_err_set(err, "--upstream-ca %s: not a readable PEM bundle (%s)", upstream_ca ? upstream_ca : "(system)",
                   tlscert_ssl_errors(why, sizeof why));
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x08http/1.1", 9);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
    return ctx;
}

struct ptls *ptls_new(const char *ca_dir, const char *upstream_ca, struct kt_err *err)
{
    struct ptls *t = xcalloc(1, sizeof *t);
    char why[512];
    if (ca_dir) {
        char key[4096];
        ca_files(ca_dir, t->ca_path, key, sizeof key);
        if (tlscert_load(t->ca_path, key, &t->ca, &t->ca_key, err) != 0)
            goto fail;
        struct stat st;
        if (stat(key, &st) == 0 && (st.st_mode & 077)) {
            kt_err_set(err, "%s is readable by others (mode %03o): chmod 600 it", key, st.st_mode & 0777);
            goto fail;
        }
        t->leaf_key = EVP_EC_gen("P-256");
        t->server = server_ctx(t);
        if (!t->leaf_key || !t->server) {
            kt_err_set(err, "TLS: %s", tlscert_ssl_errors(why, sizeof why));
            goto fail;
        }
        t->leaves = xcalloc(LEAF_CACHE, sizeof *t->leaves);
    }
    t->client = client_ctx(upstream_ca, err);
    if (!t->client)
        goto fail;
    return t;
fail:
    ptls_free(t);
    return NULL;
}

void ptls_free(struct ptls *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nleaves; i++)
        X509_free(t->leaves[i].cert);
    free(t->leaves);
    X509_free(t->ca);
    EVP_PKEY_free(t->ca_key);
    EVP_PKEY_free(t->leaf_key);
    SSL_CTX_free(t->server);
    SSL_CTX_free(t->client);
    free(t);
}

int ptls_has_ca(const struct ptls *t)
{
    return t && t->ca;
}

const char *ptls_ca_path(const struct ptls *t)
{
    return t->ca_path;
}

/* The certificate for host, minted by the CA on first use. */
static X509 *leaf_for(struct ptls *t, const char *host, struct kt_err *err)
{
    for (size_t i = 0; i < t->nleaves; i++)
        if (strcasecmp(t->leaves[i].host, host) == 0)
            return t->leaves[i].cert;
    const char *names[4] = {host};
    size_t n = 1;
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0) {
        names[0] = "localhost";
        names[1] = "127.0.0.1";
        names[2] = "::1";
        n = 3;
    }
    X509 *x = tlscert_issue(t->ca, t->ca_key, t->leaf_key, names, n, LEAF_DAYS, err);
    if (!x)
        return NULL;
    struct leaf *l;
    if (t->nleaves < LEAF_CACHE) {
        l = &t->leaves[t->nleaves++];
    } else {
        l = &t->leaves[t->next_evict];
        t->next_evict = (t->next_evict + 1) % LEAF_CACHE;
        X509_free(l->cert);
    }
    snprintf(l->host, sizeof l->host, "%s", host);
    l->cert = x;
    return x;
}

SSL *ptls_accept(struct ptls *t, const char *host, struct kt_err *err)
{
    char why[512];
    X509 *x = leaf_for(t, host, err);
    if (!x)
        return NULL;
    SSL *ssl = SSL_new(t->server);
    if (!ssl || SSL_use_certificate(ssl, x) != 1 || SSL_use_PrivateKey(ssl, t->leaf_key) != 1 ||
        SSL_add1_chain_cert(ssl, t->ca) != 1) {
        kt_err_set(err, "TLS: %s", tlscert_ssl_errors(why, sizeof why));
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

SSL *ptls_connect(struct ptls *t, const char *host, struct kt_err *err)
{
    char why[512];
    SSL *ssl = SSL_new(t->client);
    if (!ssl) {
        kt_err_set(err, "TLS: %s", tlscert_ssl_errors(why, sizeof why));
        return NULL;
    }
    int ok;
    if (is_ip(host)) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    } else {
        ok = SSL_set_tlsext_host_name(ssl, host) && SSL_set1_host(ssl, host);
    }
    if (!ok) {
        kt_err_set(err, "TLS: cannot check the name %s: %s", host, tlscert_ssl_errors(why, sizeof why));
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

void ptls_why(SSL *ssl, unsigned long code, char *out, size_t n)
{
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (v != X509_V_OK) {
        snprintf(out, n, "certificate verify failed: %s", X509_verify_cert_error_string(v));
        return;
    }
    if (code) {
        char e[256];
        ERR_error_string_n(code, e, sizeof e);
        snprintf(out, n, "%s", e);
        return;
    }
    snprintf(out, n, "the connection closed during the TLS handshake");
}
