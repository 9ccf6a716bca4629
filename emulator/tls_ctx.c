/*
 * tls_ctx.c — the emulator's TLS context: its certificate (given, or made
 * self-signed and kept as PEM files a client can trust) and ALPN (see tls.h).
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tls.h"
#include "tlscert.h"

static const char *const self_names[] = {"localhost", "127.0.0.1", "::1"};

static SSL_CTX *new_ctx(struct kt_err *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        char why[512];
        kt_err_set(err, "cannot set up TLS: %s", tlscert_ssl_errors(why, sizeof why));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* No renegotiation (a read never has to wait for a write), a peer's missing close_notify is a plain EOF. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
    /* Partial writes and a moving buffer: conn.c retries with what is left, from wherever it now is. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_alpn_select_cb(ctx, tlscert_select_alpn, NULL);
    return ctx;
}

static int load_files(SSL_CTX *ctx, const char *cert, const char *key, struct kt_err *err)
{
    char why[512];
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        kt_err_set(err, "--tls-cert %s: not a readable PEM certificate: %s", cert, tlscert_ssl_errors(why, sizeof why));
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
            kt_err_set(err, "--tls-key %s is not the key of --tls-cert %s", key, cert);
            ERR_clear_error();
            return -1;
        }
        kt_err_set(err, "--tls-key %s: not a readable PEM private key: %s", key, tlscert_ssl_errors(why, sizeof why));
        return -1;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        kt_err_set(err, "--tls-key %s is not the key of --tls-cert %s", key, cert);
        ERR_clear_error();
        return -1;
    }
    return 0;
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The self-signed certificate: the one kept under dir when it is there and still good, else a new one. */
static int self_signed(SSL_CTX *ctx, const char *dir, struct tls_setup *out, struct kt_err *err)
{
    char cert[sizeof out->cert_path], key[sizeof out->cert_path];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    if (is_file(cert) && is_file(key)) {
        struct kt_err ignored;
        if (load_files(ctx, cert, key, &ignored) == 0 &&
            X509_cmp_current_time(X509_get0_notAfter(SSL_CTX_get0_certificate(ctx))) > 0) {
            snprintf(out->cert_path, sizeof out->cert_path, "%s", cert);
            out->generated = out->reused = 1;
            return 0;
        }
        ERR_clear_error(); /* unreadable or expired: made again below */
    }
    EVP_PKEY *k;
    X509 *x;
    if (tlscert_self_signed("kintape emulator", self_names, 3, 365, &k, &x, err) != 0)
        return -1;
    int rc = tlscert_write(dir, x, k, out->cert_path, sizeof out->cert_path, err);
    if (rc == 0 && (SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, k) != 1)) {
        char why[512];
        kt_err_set(err, "cannot use the certificate made: %s", tlscert_ssl_errors(why, sizeof why));
        rc = -1;
    }
    X509_free(x);
    EVP_PKEY_free(k);
    out->generated = 1;
    return rc;
}

int tls_init(struct emu *emu, struct tls_setup *out, struct kt_err *err)
{
    const struct emu_config *cfg = &emu->cfg;
    memset(out, 0, sizeof *out);
    emu->tls = NULL;
    if (cfg->no_tls)
        return 0;
    if (!cfg->tls_cert != !cfg->tls_key) {
        kt_err_set(err, "--tls-cert and --tls-key go together: give both, or neither for a self-signed certificate");
        return -1;
    }
    SSL_CTX *ctx = new_ctx(err);
    if (!ctx)
        return -1;
    int rc;
    if (cfg->tls_cert) {
        rc = load_files(ctx, cfg->tls_cert, cfg->tls_key, err);
        snprintf(out->cert_path, sizeof out->cert_path, "%s", cfg->tls_cert);
    } else if (cfg->tls_dir) {
        rc = mkdir(cfg->tls_dir, 0700);
        if (rc != 0 && errno == EEXIST)
            rc = 0;
        if (rc != 0)
            kt_err_set(err, "--tls-dir %s: cannot create it: %s", cfg->tls_dir, strerror(errno));
        else
            rc = self_signed(ctx, cfg->tls_dir, out, err);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(out->tmpdir, sizeof out->tmpdir, "%s/kintape-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(out->tmpdir)) {
            kt_err_set(err, "cannot make a directory for the TLS certificate (%s): %s", out->tmpdir, strerror(errno));
            out->tmpdir[0] = '\0';
            rc = -1;
        } else {
            rc = self_signed(ctx, out->tmpdir, out, err);
        }
    }
    if (rc != 0) {
        SSL_CTX_free(ctx);
        tls_free(emu, out);
        return -1;
    }
    emu->tls = ctx;
    return 0;
}

void tls_free(struct emu *emu, struct tls_setup *setup)
{
    if (emu->tls) {
        SSL_CTX_free(emu->tls);
        emu->tls = NULL;
    }
    if (setup->tmpdir[0]) {
        char p[4200];
        snprintf(p, sizeof p, "%s/cert.pem", setup->tmpdir);
        unlink(p);
        snprintf(p, sizeof p, "%s/key.pem", setup->tmpdir);
        unlink(p);
        rmdir(setup->tmpdir);
        setup->tmpdir[0] = '\0';
    }
}
