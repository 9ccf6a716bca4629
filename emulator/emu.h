/*
 * emu.h — the emulator as one object: its configuration, its store and its
 * counters, shared by every worker thread. Everything in the emulator sits
 * above this header; it calls nothing above it.
 */
#ifndef KT_EMU_H
#define KT_EMU_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ktime.h"
#include "store.h"

struct ssl_ctx_st;
struct authkeys;
struct emu_config {
    char host[256];
    int port;
    char account[13];
    char default_region[64];
    /* --accounts KEY=ACCOUNT,...: the account of each access key; any other key is in `account` */
    struct emu_account { char key[129]; char account[13]; } accounts[64];
    int naccounts;
    double error_probability;   /* KINESIS_ERROR_PROBABILITY */
    int latency_ms;             /* KINESIS_LATENCY */
    long shard_limit;           /* KINESIS_SHARD_LIMIT; < 0 means no limit */
    long on_demand_stream_limit;
    int on_demand_shards;       /* shards an ON_DEMAND stream starts with */
    int64_t create_delay_ms;
    int64_t delete_delay_ms;
    int64_t update_delay_ms;    /* a reshard's UPDATING time */
    int64_t iterator_ttl_ms;    /* 5 minutes, as AWS */
    int64_t subscription_ms;    /* a SubscribeToShard stream ends after this: 5 minutes, as AWS */
    size_t max_body;            /* larger request bodies get HTTP 413 */
    int workers;
    int idle_timeout_s;
    int request_timeout_s;      /* a request's headers must arrive within this (the body gets more: route.h) */
    int max_connections;
    const char *initialize_streams; /* KINESIS_INITIALIZE_STREAMS */
    int quiet;
    int no_tls;                 /* --no-tls: the port speaks plain HTTP only */
    const char *tls_cert;       /* --tls-cert, --tls-key: PEM files; NULL: a self-signed certificate */
    const char *tls_key;
    const char *tls_dir;        /* --tls-dir: where the self-signed one is kept (and reused); NULL: a temp dir */
    int verify_signatures;      /* --verify-signatures: every request's SigV4 signature is checked (auth.h) */
    const struct authkeys *keys; /* ... against these credentials */
    const char *cors_origins;   /* --cors-origins: "*" (default), a comma-separated list, or "none" */
    int test_clock;             /* --test-clock: POST /_kintape/clock moves the emulator's clock on (tests) */
    int enforce_limits;         /* --enforce-limits: per shard 1 MiB/s or 1,000 records/s in, 5 GetRecords/s, 2 MiB/s out */
};

void emu_config_defaults(struct emu_config *cfg);

struct kt_err;
/* Reads --accounts' "KEY=ACCOUNT,..." (12-digit accounts) into cfg. 0, or -1 with err set. */
int emu_parse_accounts(struct emu_config *cfg, const char *spec, struct kt_err *err);
/* The account an access key is in. */
const char *emu_account_of(const struct emu_config *cfg, const char *access_key);

/* The emulator: configuration and store, shared by every worker thread. */
struct emu {
    struct emu_config cfg;
    struct store store;
    atomic_uint_fast64_t requests;
    atomic_uint_fast64_t errors;
    atomic_int connections;     /* open now */
    atomic_size_t out_held;     /* unsent answer bytes of all connections (conn.c's caps) */
    atomic_uint_fast64_t refused; /* connections refused at --max-connections */
    atomic_uint_fast64_t timeouts; /* requests that did not arrive whole in time (408) */
    struct ssl_ctx_st *tls;     /* TLS on the port (tls.h); NULL with --no-tls */
    atomic_uint_fast64_t tls_handshakes; /* completed */
    atomic_uint_fast64_t tls_failures;   /* handshakes that failed or did not complete in time */
    atomic_uint_fast64_t tls_alpn_h2;    /* ... of them agreed on HTTP/2 by ALPN */
    atomic_uint_fast64_t auth_failures;  /* requests refused by --verify-signatures */
    int64_t started_ms;
    const char *version;
    _Atomic int64_t clock_offset_ms; /* --test-clock: what POST /_kintape/clock has moved the clock on by */
};

/* The emulator's clock: the wall clock, moved on by --test-clock's offset. */
static inline int64_t emu_now_ms(struct emu *e)
{
    return kt_now_ms() + atomic_load_explicit(&e->clock_offset_ms, memory_order_relaxed);
}

#endif
