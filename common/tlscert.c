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

static int add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
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
    X509 *x = X509_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    if (!k || !x || RAND_bytes(serial, sizeof serial) != 1)
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
    if (!X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)names[0], -1, -1, 0) ||
        !X509_set_issuer_name(x, nm) || !X509_set_pubkey(x, k))
        goto fail;
    if (add_ext(x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 0 ||
        add_ext(x, NID_key_usage, "critical,digitalSignature,keyCertSign") != 0 ||
        add_ext(x, NID_ext_key_usage, "serverAuth") != 0 || add_ext(x, NID_subject_alt_name, san) != 0 ||
        add_ext(x, NID_subject_key_identifier, "hash") != 0 ||
        add_ext(x, NID_authority_key_identifier, "keyid:always") != 0)
        goto fail;
    if (!X509_sign(x, k, EVP_sha256()))
        goto fail;
    BN_free(bn);
    *key = k;
    *cert = x;
    return 0;
fail:
    kt_err_set(err, "cannot make a self-signed certificate: %s", tlscert_ssl_errors(why, sizeof why));
    BN_free(bn);
    EVP_PKEY_free(k);
    X509_free(x);
    return -1;
}

/* Writes one PEM file through DIR/.NAME.tmp, renamed into place. */
static int write_pem(const char *dir, const char *name, int mode, X509 *cert, EVP_PKEY *key, char *path,
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
    if (write_pem(dir, "key.pem", 0600, NULL, key, keypath, sizeof keypath, err) != 0)
        return -1;
    return write_pem(dir, "cert.pem", 0644, cert, NULL, path, pathlen, err);
}
