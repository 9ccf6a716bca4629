/*
 * tlscert.c — self-signed certificates and their PEM files (see tlscert.h).
 */
#include "tlscert.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *tlscert_ssl_errors(char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    unsigned long e;
    while ((e = ERR_get_error()) != 0) {
        char one[256];
        ERR_error_string_n(e, one, sizeof one);
        int w = snprintf(buf + used, n - used, "%s%s", used ? "; " : "", one);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
    ERR_clear_error();
    return buf;
}

static int add_ext(X509V3_CTX *ctx, X509 *cert, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* "DNS:localhost,IP:127.0.0.1,IP:::1" for the names given. */
static int alt_names(const char *const *names, size_t n, char *out, size_t cap)
{
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char addr[16];
        int ip = inet_pton(AF_INET, names[i], addr) == 1 || inet_pton(AF_INET6, names[i], addr) == 1;
        int w = snprintf(out + used, cap - used, "%s%s:%s", i ? "," : "", ip ? "IP" : "DNS", names[i]);
        if (w < 0 || (size_t)w >= cap - used)
            return -1;
        used += (size_t)w;
    }
    return 0;
}

enum cert_kind { CERT_SELF, CERT_CA, CERT_LEAF };

/*
 * The one certificate builder: a self-signed server certificate (its own
 * CA), a CA, or a leaf issued by (issuer, issuer_key) for pub.
 */
static X509 *build(enum cert_kind kind, const char *org, const char *cn, const char *san, int days, EVP_PKEY *pub,
                   X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    if (!x || RAND_bytes(serial, sizeof serial) != 1)
        goto fail;
    serial[0] &= 0x7f; /* a positive serial */
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
        goto fail;
    X509_set_version(x, 2);
    /* Valid from an hour ago, so a client whose clock is a little behind accepts it. */
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400L))
        goto fail;
    X509_NAME *nm = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0))
        goto fail;
    /* A common name is at most 64 characters; the subjectAltName is what clients check. */
    if (strlen(cn) <= 64 && !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0))
        goto fail;
    X509 *iss = kind == CERT_LEAF ? issuer : x;
    if (!X509_set_issuer_name(x, X509_get_subject_name(iss)) || !X509_set_pubkey(x, pub))
        goto fail;
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, iss, x, NULL, NULL, 0);
    const char *bc = kind == CERT_SELF ? "critical,CA:TRUE,pathlen:0" : kind == CERT_CA ? "critical,CA:TRUE" : "critical,CA:FALSE";
    const char *ku = kind == CERT_SELF ? "critical,digitalSignature,keyCertSign"
                     : kind == CERT_CA ? "critical,keyCertSign,cRLSign"
                                       : "critical,digitalSignature";
    if (add_ext(&ctx, x, NID_basic_constraints, bc) != 0 || add_ext(&ctx, x, NID_key_usage, ku) != 0 ||
        add_ext(&ctx, x, NID_subject_key_identifier, "hash") != 0 ||
        add_ext(&ctx, x, NID_authority_key_identifier, "keyid:always") != 0)
        goto fail;
    if (kind != CERT_CA &&
        (add_ext(&ctx, x, NID_ext_key_usage, "serverAuth") != 0 || add_ext(&ctx, x, NID_subject_alt_name, san) != 0))
        goto fail;
    if (!X509_sign(x, kind == CERT_LEAF ? issuer_key : pub, EVP_sha256()))
        goto fail;
    BN_free(bn);
    return x;
fail:
    BN_free(bn);
    X509_free(x);
    return NULL;
}

int tlscert_self_signed(const char *org, const char *const *names, size_t nnames, int days, EVP_PKEY **key,
                        X509 **cert, struct kt_err *err)
{
    char san[1024], why[512];
    *key = NULL;
    *cert = NULL;
    if (nnames == 0 || alt_names(names, nnames, san, sizeof san) != 0) {
        kt_err_set(err, "cannot make a certificate: no names, or too many");
        return -1;
    }
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = k ? build(CERT_SELF, org, names[0], san, days, k, NULL, NULL) : NULL;
    if (!x) {
        kt_err_set(err, "cannot make a self-signed certificate: %s", tlscert_ssl_errors(why, sizeof why));
        EVP_PKEY_free(k);
        return -1;
    }
    *key = k;
    *cert = x;
    return 0;
}

int tlscert_make_ca(const char *org, int days, EVP_PKEY **key, X509 **cert, struct kt_err *err)
{
    char why[512];
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = k ? build(CERT_CA, org, org, NULL, days, k, NULL, NULL) : NULL;
    if (!x) {
        kt_err_set(err, "cannot make a CA certificate: %s", tlscert_ssl_errors(why, sizeof why));
        EVP_PKEY_free(k);
        return -1;
    }
    *key = k;
    *cert = x;
    return 0;
}

X509 *tlscert_issue(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *pub, const char *const *names, size_t nnames, int days,
                    struct kt_err *err)
{
    char san[1024], why[512];
    if (nnames == 0 || alt_names(names, nnames, san, sizeof san) != 0) {
        kt_err_set(err, "cannot make a certificate: no names, or too many");
        return NULL;
    }
    X509 *x = build(CERT_LEAF, "kintape proxy", names[0], san, days, pub, ca, ca_key);
    if (!x)
        kt_err_set(err, "cannot issue a certificate for %s: %s", names[0], tlscert_ssl_errors(why, sizeof why));
    return x;
}

int tlscert_write_pem(const char *dir, const char *name, int mode, X509 *cert, EVP_PKEY *key, char *path,
                     size_t pathlen, struct kt_err *err)
{
    char tmp[4096];
    if ((size_t)snprintf(path, pathlen, "%s/%s", dir, name) >= pathlen ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= sizeof tmp) {
        kt_err_set(err, "%s: path too long", dir);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        kt_err_set(err, "cannot write %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fchmod(fd, (mode_t)mode); /* whatever the umask */
    int ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (fflush(f) != 0 || fsync(fd) != 0)
        ok = 0;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        kt_err_set(err, "cannot write %s: %s", path, ok ? strerror(errno) : "write failed");
        unlink(tmp);
        return -1;
    }
    return 0;
}

int tlscert_write(const char *dir, X509 *cert, EVP_PKEY *key, char *path, size_t pathlen, struct kt_err *err)
{
    char keypath[4096];
    if (tlscert_write_pem(dir, "key.pem", 0600, NULL, key, keypath, sizeof keypath, err) != 0)
        return -1;
    return tlscert_write_pem(dir, "cert.pem", 0644, cert, NULL, path, pathlen, err);
}

int tlscert_load(const char *cert_path, const char *key_path, X509 **cert, EVP_PKEY **key, struct kt_err *err)
{
    char why[512];
    *cert = NULL;
    *key = NULL;
    FILE *f = fopen(cert_path, "r");
    if (!f) {
        kt_err_set(err, "cannot open %s: %s", cert_path, strerror(errno));
        return -1;
    }
    *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!*cert) {
        kt_err_set(err, "%s: not a PEM certificate (%s)", cert_path, tlscert_ssl_errors(why, sizeof why));
        return -1;
    }
    f = fopen(key_path, "r");
    if (!f) {
        kt_err_set(err, "cannot open %s: %s", key_path, strerror(errno));
        goto fail;
    }
    *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!*key) {
        kt_err_set(err, "%s: not a PEM private key (%s)", key_path, tlscert_ssl_errors(why, sizeof why));
        goto fail;
    }
    if (X509_check_private_key(*cert, *key) != 1) {
        kt_err_set(err, "%s does not hold the key of %s", key_path, cert_path);
        goto fail;
    }
    return 0;
fail:
    X509_free(*cert);
    EVP_PKEY_free(*key);
    *cert = NULL;
    *key = NULL;
    return -1;
}

int tlscert_select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                        unsigned int inlen, void *arg)
{
    static const unsigned char ours[] = "\x02h2\x08http/1.1";
    unsigned char *sel;
    (void)ssl;
    (void)arg;
    if (SSL_select_next_proto(&sel, outlen, ours, sizeof ours - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}
