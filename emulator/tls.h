/*
 * tls.h — TLS on the emulator's one port, under the protocol table.
 *
 *   socket ─▶ tls_io_detect ─(first byte 0x16)─▶ tls io (OpenSSL) ─▶ conn_proto (sniff: ALPN h2 or HTTP/1.1)
 *                           └─(anything else)──▶ conn_io_plain
 *
 * A TLS record starts with 0x16 (a handshake), and neither HTTP/1.1 nor the
 * HTTP/2 preface can, so the first byte tells them apart without consuming
 * it (MSG_PEEK): OpenSSL then reads the socket itself. Over TLS, ALPN
 * offers h2 and http/1.1; a client that asks for neither gets HTTP/1.1.
 *
 * Handshakes are non-blocking on the worker's loop, and must complete
 * within --idle-timeout (a timer from the first byte, whatever trickles in).
 * Failures (an untrusted certificate, bytes that are not TLS, a handshake
 * that never completes) close the connection, are counted in
 * emu->tls_failures and are logged with --verbose.
 */
#ifndef KT_TLS_H
#define KT_TLS_H

#include <stddef.h>

#include "conn.h"
#include "emu.h"
#include "errbuf.h"

/* The io every connection starts with when TLS is on. */
extern const struct conn_io tls_io_detect;

struct tls_setup {
    char cert_path[4096];      /* the certificate served ("" when --tls-cert gave it) */
    int generated;             /* the emulator made it (self-signed) */
    int reused;                /* ... at an earlier start, under --tls-dir */
    char tmpdir[4096];         /* made for it, removed by tls_free */
};

/*
 * Sets up emu->tls from the configuration: --tls-cert/--tls-key, or a
 * self-signed certificate for localhost, 127.0.0.1 and ::1 (kept under
 * --tls-dir, reused when it is there, or in a new temp dir). With --no-tls
 * nothing. 0, or -1 with err set.
 */
int tls_init(struct emu *emu, struct tls_setup *out, struct kt_err *err);

/* Frees emu->tls and removes the temp dir tls_init made. */
void tls_free(struct emu *emu, struct tls_setup *setup);

#endif
