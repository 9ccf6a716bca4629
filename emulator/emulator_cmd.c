/*
 * emulator_cmd.c — `kintape emulator`: reads flags and the KINESIS_*
 * environment, creates the store and initial streams, runs the server, and
 * owns the terminal and the signals (SIGINT/SIGTERM stop the server).
 */
#include "emulator_cmd.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "args.h"
#include "authkeys.h"
#include "iterator.h"
#include "ktime.h"
#include "log.h"
#include "server.h"
#include "tls.h"
#include "version.h"

static const char usage[] =
    "usage: kintape emulator [options]\n"
    "\n"
    "Runs a Kinesis Data Streams API server that the AWS CLI, boto3 and the AWS SDKs use unchanged\n"
    "with --endpoint-url http://HOST:PORT or https://HOST:PORT: one port speaks HTTP/1.1, HTTP/2 with\n"
    "prior knowledge and TLS (ALPN h2 or http/1.1), told apart by the first bytes.\n"
    "\n"
    "options:\n"
    "  --host ADDR              address to listen on (default 127.0.0.1)\n"
    "  --port N                 port (default 4566; 0 picks a free port)\n"
    "  --account ID             12-digit account id in ARNs and messages (default 000000000000)\n"
    "  --accounts MAP           the account of each access key: KEY=ACCOUNT,... (others: --account);\n"
    "                           streams are kept apart by account and region  [KINESIS_ACCOUNTS]\n"
    "  --region NAME            region of --initialize-streams entries without one (default us-east-1)\n"
    "  --error-probability P    0.0-1.0: PutRecord answers ProvisionedThroughputExceededException and\n"
    "                           PutRecords fails records with it, at random  [KINESIS_ERROR_PROBABILITY]\n"
    "  --latency MS             milliseconds added to every call             [KINESIS_LATENCY]\n"
    "  --shard-limit N          open shards per region, or Infinity (default 100) [KINESIS_SHARD_LIMIT]\n"
    "  --initialize-streams S   streams to create at start: name:shards[:region],...\n"
    "                                                                        [KINESIS_INITIALIZE_STREAMS]\n"
    "  --create-stream-ms MS    time a new stream stays CREATING (default 0)   [KINESIS_CREATE_STREAM_MS]\n"
    "  --delete-stream-ms MS    time a deleted stream stays DELETING (default 0) [KINESIS_DELETE_STREAM_MS]\n"
    "  --update-stream-ms MS    time a resharded stream stays UPDATING (default 0) [KINESIS_UPDATE_STREAM_MS]\n"
    "  --subscription-ms MS     a SubscribeToShard stream ends after MS (default 300000, as AWS)\n"
    "                                                                      [KINESIS_SUBSCRIPTION_MS]\n"
    "  --enforce-limits         per shard 1 MiB/s or 1,000 records/s in, 5 GetRecords/s and 2 MiB/s out:\n"
    "                           past them ProvisionedThroughputExceededException   [KINESIS_ENFORCE_LIMITS=1]\n"
    "  --test-clock             for tests: POST /_kintape/clock?advance_ms=N moves the clock N ms on\n"
    "                           (retention, iterator expiry)               [KINESIS_TEST_CLOCK=1]\n"
    "  --cors-origins LIST      origins browsers may call from: * (default), a comma-separated list, or none\n"
    "                                                                         [KINESIS_CORS_ORIGINS]\n"
    "  --workers N              worker threads (default: one per CPU)\n"
    "  --max-body BYTES         largest request body accepted (default 33554432); larger gets HTTP 413\n"
    "  --idle-timeout SEC       close connections idle this long (default 300)\n"
    "  --request-timeout SEC    a request's headers must arrive within SEC of its first byte, its body\n"
    "                           within SEC more and a second per 16 KiB; else HTTP 408 (default 10)\n"
    "  --max-connections N      concurrent connections (default 10000); more get HTTP 503\n"
    "  --tls-cert FILE          PEM certificate (chain) to serve over TLS, with --tls-key FILE (its key)\n"
    "  --tls-key FILE\n"
    "  --tls-dir DIR            without --tls-cert: keep the self-signed certificate made for localhost,\n"
    "                           127.0.0.1 and ::1 in DIR (cert.pem, key.pem 0600) and reuse it at the next\n"
    "                           start (default: a new one in a temp dir, removed at exit)\n"
    "  --no-tls                 plain HTTP only\n"
    "  --verify-signatures      check every request's SigV4 signature against the credentials below;\n"
    "                           wrong ones get AWS's errors  [KINESIS_VERIFY_SIGNATURES=1]\n"
    "  --credentials FILE       credentials in the ~/.aws/credentials format: every profile's access key\n"
    "                           id, secret and session token (repeatable)\n"
    "  --access-key ID          one access key id, with --secret-key KEY (and --session-token TOKEN for\n"
    "  --secret-key KEY         a temporary key)\n"
    "  --session-token TOKEN\n"
    "  --quiet                  print only errors\n"
    "  --verbose                also print each connection's protocol errors\n"
    "  -h, --help               this help\n"
    "\n"
    "examples:\n"
    "  kintape emulator\n"
    "  kintape emulator --port 0 --initialize-streams orders:4,clicks:2:eu-west-1\n"
    "  KINESIS_ERROR_PROBABILITY=0.1 KINESIS_LATENCY=20 kintape emulator --port 4567\n"
    "  kintape emulator --verify-signatures --credentials ~/.aws/credentials\n"
    "\n"
    "  aws --endpoint-url http://127.0.0.1:4566 kinesis create-stream --stream-name orders --shard-count 2\n"
    "  AWS_CA_BUNDLE=/tmp/kintape-tls-XXXXXX/cert.pem aws --endpoint-url https://127.0.0.1:4566 kinesis list-streams\n"
    "      (the certificate's path is printed at start)\n"
    "\n"
    "GET /health answers a JSON status.\n";

static int set_probability(struct emu_config *cfg, const char *s, const char *from, struct kt_err *err)
{
    return kt_arg_num(from, s, "a probability", 0.0, 1.0, &cfg->error_probability, err);
}

static int set_ms(int64_t *dst, const char *s, const char *from, struct kt_err *err)
{
    long long v;
    if (kt_arg_int(from, s, "a number of milliseconds", 0, 86400000LL, &v, err) != 0)
        return -1;
    *dst = v;
    return 0;
}

static int set_shard_limit(struct emu_config *cfg, const char *s, const char *from, struct kt_err *err)
{
    long long v;
    if (strcasecmp(s, "Infinity") == 0 || strcasecmp(s, "inf") == 0) {
        cfg->shard_limit = -1;
        return 0;
    }
    if (kt_arg_int(from, s, "a shard count (or Infinity)", 0, 100000000LL, &v, err) != 0)
        return -1;
    cfg->shard_limit = (long)v;
    return 0;
}

int emulator_config_from_env(struct emu_config *cfg, struct kt_err *err)
{
    const char *v;
    if ((v = getenv("KINESIS_ERROR_PROBABILITY")) && *v &&
        set_probability(cfg, v, "KINESIS_ERROR_PROBABILITY", err))
        return -1;
    if ((v = getenv("KINESIS_LATENCY")) && *v) {
        int64_t ms;
        if (set_ms(&ms, v, "KINESIS_LATENCY", err))
            return -1;
        cfg->latency_ms = (int)ms;
    }
    if ((v = getenv("KINESIS_SHARD_LIMIT")) && *v && set_shard_limit(cfg, v, "KINESIS_SHARD_LIMIT", err))
        return -1;
    if ((v = getenv("KINESIS_CREATE_STREAM_MS")) && *v &&
        set_ms(&cfg->create_delay_ms, v, "KINESIS_CREATE_STREAM_MS", err))
        return -1;
    if ((v = getenv("KINESIS_DELETE_STREAM_MS")) && *v &&
        set_ms(&cfg->delete_delay_ms, v, "KINESIS_DELETE_STREAM_MS", err))
        return -1;
    if ((v = getenv("KINESIS_UPDATE_STREAM_MS")) && *v &&
        set_ms(&cfg->update_delay_ms, v, "KINESIS_UPDATE_STREAM_MS", err))
        return -1;
    if ((v = getenv("KINESIS_SUBSCRIPTION_MS")) && *v &&
        set_ms(&cfg->subscription_ms, v, "KINESIS_SUBSCRIPTION_MS", err))
        return -1;
    if ((v = getenv("KINESIS_INITIALIZE_STREAMS")) && *v)
        cfg->initialize_streams = v;
    if ((v = getenv("KINESIS_CORS_ORIGINS")) && *v)
        cfg->cors_origins = v;
    if ((v = getenv("KINESIS_ACCOUNTS")) && *v && emu_parse_accounts(cfg, v, err) != 0)
        return -1;
    if ((v = getenv("KINESIS_TEST_CLOCK")) && *v)
        cfg->test_clock = strcmp(v, "0") != 0;
    if ((v = getenv("KINESIS_ENFORCE_LIMITS")) && *v)
        cfg->enforce_limits = strcmp(v, "0") != 0;
    return 0;
}

/* The credentials of --verify-signatures: from the flags, checked to go together. */
static int check_keys(struct emu_config *cfg, struct authkeys *keys, const char *akid, const char *secret,
                      const char *token, int ncredfiles, struct kt_err *err)
{
    if (akid || secret || token) {
        if (!akid || !secret) {
            kt_err_set(err, "--access-key and --secret-key go together (and --session-token needs both)");
            return -1;
        }
        if (authkeys_add(keys, akid, secret, token, "--access-key", err) != 0)
            return -1;
    }
    const char *v = getenv("KINESIS_VERIFY_SIGNATURES");
    if (v && *v && strcmp(v, "0") != 0 && strcasecmp(v, "false") != 0)
        cfg->verify_signatures = 1;
    if (cfg->verify_signatures && keys->n == 0) {
        kt_err_set(err, "--verify-signatures needs credentials to check against: --credentials FILE (the "
                        "~/.aws/credentials format) or --access-key ID --secret-key KEY");
        return -1;
    }
    if (!cfg->verify_signatures && (keys->n || ncredfiles)) {
        kt_err_set(err, "--credentials, --access-key and --secret-key are for --verify-signatures (or "
                        "KINESIS_VERIFY_SIGNATURES=1); without it every well-formed signature is accepted");
        return -1;
    }
    cfg->keys = keys;
    return 0;
}

static struct server *running;
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
    if (running)
        server_stop(running);
}

int emulator_main(int argc, char **argv)
{
    enum {
        O_HOST = 1000, O_PORT, O_ACCOUNT, O_REGION, O_ERRP, O_LATENCY, O_SHARDS, O_INIT, O_CREATE, O_DELETE, O_UPDATE, O_SUBMS,
        O_WORKERS, O_MAXBODY, O_IDLE, O_MAXCONN, O_QUIET, O_VERBOSE, O_REQTIMEOUT, O_TLSCERT, O_TLSKEY, O_TLSDIR,
        O_NOTLS, O_VERIFY, O_CREDS, O_AKID, O_SECRET, O_TOKEN, O_CORS, O_LIMITS, O_TESTCLOCK, O_ACCOUNTS
    };
    static const struct option opts[] = {
        {"host", required_argument, NULL, O_HOST},
        {"port", required_argument, NULL, O_PORT},
        {"account", required_argument, NULL, O_ACCOUNT},
        {"region", required_argument, NULL, O_REGION},
        {"error-probability", required_argument, NULL, O_ERRP},
        {"latency", required_argument, NULL, O_LATENCY},
        {"shard-limit", required_argument, NULL, O_SHARDS},
        {"initialize-streams", required_argument, NULL, O_INIT},
        {"create-stream-ms", required_argument, NULL, O_CREATE},
        {"delete-stream-ms", required_argument, NULL, O_DELETE},
        {"update-stream-ms", required_argument, NULL, O_UPDATE},
        {"subscription-ms", required_argument, NULL, O_SUBMS},
        {"workers", required_argument, NULL, O_WORKERS},
        {"cors-origins", required_argument, NULL, O_CORS},
        {"enforce-limits", no_argument, NULL, O_LIMITS},
        {"test-clock", no_argument, NULL, O_TESTCLOCK},
        {"accounts", required_argument, NULL, O_ACCOUNTS},
        {"max-body", required_argument, NULL, O_MAXBODY},
        {"idle-timeout", required_argument, NULL, O_IDLE},
        {"request-timeout", required_argument, NULL, O_REQTIMEOUT},
        {"max-connections", required_argument, NULL, O_MAXCONN},
        {"tls-cert", required_argument, NULL, O_TLSCERT},
        {"tls-key", required_argument, NULL, O_TLSKEY},
        {"tls-dir", required_argument, NULL, O_TLSDIR},
        {"no-tls", no_argument, NULL, O_NOTLS},
        {"verify-signatures", no_argument, NULL, O_VERIFY},
        {"credentials", required_argument, NULL, O_CREDS},
        {"access-key", required_argument, NULL, O_AKID},
        {"secret-key", required_argument, NULL, O_SECRET},
        {"session-token", required_argument, NULL, O_TOKEN},
        {"quiet", no_argument, NULL, O_QUIET},
        {"verbose", no_argument, NULL, O_VERBOSE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static struct emu emu;
    static struct authkeys keys;
    struct emu_config *cfg = &emu.cfg;
    struct kt_err err;
    const char *akid = NULL, *secret = NULL, *token = NULL;
    int ncredfiles = 0;
    emu_config_defaults(cfg);
    kt_log_setup("kintape emulator", KT_LOG_INFO);
    if (emulator_config_from_env(cfg, &err) != 0) {
        fprintf(stderr, "kintape emulator: %s\n", err.msg);
        return 2;
    }
    optind = 1;
    int ch;
    long long v;
    int64_t ms = 0;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case O_HOST:
            snprintf(cfg->host, sizeof cfg->host, "%s", optarg);
            break;
        case O_PORT:
            bad = kt_arg_int("--port", optarg, "a port number", 0, 65535, &v, &err);
            cfg->port = (int)v;
            break;
        case O_ACCOUNT:
            if (strlen(optarg) != 12 || strspn(optarg, "0123456789") != 12) {
                kt_err_set(&err, "--account: '%s' is not a 12-digit account id", optarg);
                bad = 1;
            } else {
                snprintf(cfg->account, sizeof cfg->account, "%s", optarg);
            }
            break;
        case O_REGION:
            snprintf(cfg->default_region, sizeof cfg->default_region, "%s", optarg);
            break;
        case O_ERRP:
            bad = set_probability(cfg, optarg, "--error-probability", &err);
            break;
        case O_LATENCY:
            bad = set_ms(&ms, optarg, "--latency", &err);
            cfg->latency_ms = (int)ms;
            break;
        case O_SHARDS:
            bad = set_shard_limit(cfg, optarg, "--shard-limit", &err);
            break;
        case O_INIT:
            cfg->initialize_streams = optarg;
            break;
        case O_CREATE:
            bad = set_ms(&cfg->create_delay_ms, optarg, "--create-stream-ms", &err);
            break;
        case O_DELETE:
            bad = set_ms(&cfg->delete_delay_ms, optarg, "--delete-stream-ms", &err);
            break;
        case O_UPDATE:
            bad = set_ms(&cfg->update_delay_ms, optarg, "--update-stream-ms", &err);
            break;
        case O_SUBMS:
            bad = set_ms(&cfg->subscription_ms, optarg, "--subscription-ms", &err);
            break;
        case O_WORKERS:
            bad = kt_arg_int("--workers", optarg, "a number of threads", 1, 256, &v, &err);
            cfg->workers = (int)v;
            break;
        case O_MAXBODY:
            bad = kt_arg_int("--max-body", optarg, "a size in bytes", 1024, 1LL << 30, &v, &err);
            cfg->max_body = (size_t)v;
            break;
        case O_IDLE:
            bad = kt_arg_int("--idle-timeout", optarg, "a number of seconds", 1, 86400, &v, &err);
            cfg->idle_timeout_s = (int)v;
            break;
        case O_REQTIMEOUT:
            bad = kt_arg_int("--request-timeout", optarg, "a number of seconds", 1, 3600, &v, &err);
            cfg->request_timeout_s = (int)v;
            break;
        case O_MAXCONN:
            bad = kt_arg_int("--max-connections", optarg, "a count", 1, 1000000, &v, &err);
            cfg->max_connections = (int)v;
            break;
        case O_TLSCERT:
            cfg->tls_cert = optarg;
            break;
        case O_TLSKEY:
            cfg->tls_key = optarg;
            break;
        case O_TLSDIR:
            cfg->tls_dir = optarg;
            break;
        case O_NOTLS:
            cfg->no_tls = 1;
            break;
        case O_CORS:
            cfg->cors_origins = optarg;
            break;
        case O_LIMITS:
            cfg->enforce_limits = 1;
            break;
        case O_TESTCLOCK:
            cfg->test_clock = 1;
            break;
        case O_ACCOUNTS:
            bad = emu_parse_accounts(cfg, optarg, &err);
            break;
        case O_VERIFY:
            cfg->verify_signatures = 1;
            break;
        case O_CREDS:
            bad = authkeys_load(&keys, optarg, &err);
            ncredfiles++;
            break;
        case O_AKID:
            akid = optarg;
            break;
        case O_SECRET:
            secret = optarg;
            break;
        case O_TOKEN:
            token = optarg;
            break;
        case O_QUIET:
            cfg->quiet = 1;
            break;
        case O_VERBOSE:
            kt_log_setup("kintape emulator", KT_LOG_DEBUG);
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "kintape emulator: %s\n", err.msg);
            authkeys_free(&keys);
            return 2;
        }
    }
    if (check_keys(cfg, &keys, akid, secret, token, ncredfiles, &err) != 0) {
        fprintf(stderr, "kintape emulator: %s\n", err.msg);
        authkeys_free(&keys);
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "kintape emulator: unexpected argument '%s'\n%s", argv[optind], usage);
        authkeys_free(&keys);
        return 2;
    }
    if (cfg->quiet)
        kt_log_setup("kintape emulator", KT_LOG_ERROR);

    iter_init();
    store_init(&emu.store);
    emu.started_ms = kt_now_ms();
    emu.version = kt_version();
    if (cfg->initialize_streams && api_initialize_streams(&emu, cfg->initialize_streams, &err) != 0) {
        fprintf(stderr, "kintape emulator: --initialize-streams / KINESIS_INITIALIZE_STREAMS: %s\n", err.msg);
        store_free(&emu.store);
        authkeys_free(&keys);
        return 2;
    }
    if (cfg->no_tls && (cfg->tls_cert || cfg->tls_key || cfg->tls_dir)) {
        fprintf(stderr, "kintape emulator: --no-tls cannot go with --tls-cert, --tls-key or --tls-dir\n");
        store_free(&emu.store);
        authkeys_free(&keys);
        return 2;
    }
    struct tls_setup tls;
    if (tls_init(&emu, &tls, &err) != 0) {
        fprintf(stderr, "kintape emulator: %s\n", err.msg);
        store_free(&emu.store);
        authkeys_free(&keys);
        return 2;
    }
    struct server *s = server_new(&emu, &err);
    if (!s) {
        fprintf(stderr, "kintape emulator: %s\n", err.msg);
        tls_free(&emu, &tls);
        store_free(&emu.store);
        authkeys_free(&keys);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    running = s;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (emu.tls)
        printf("kintape emulator listening on http://%s and https://%s (%d workers)\n", server_address(s),
               server_address(s), server_workers(s));
    else
        printf("kintape emulator listening on http://%s (%d workers)\n", server_address(s), server_workers(s));
    if (tls.generated)
        printf("TLS certificate (self-signed%s, for localhost, 127.0.0.1 and ::1): %s\n"
               "  trust it with AWS_CA_BUNDLE=%s (AWS CLI, boto3) or NODE_EXTRA_CA_CERTS=%s (Node.js)\n",
               tls.reused ? ", kept from an earlier start" : "", tls.cert_path, tls.cert_path, tls.cert_path);
    else if (emu.tls)
        printf("TLS certificate: %s\n", tls.cert_path);
    if (cfg->verify_signatures)
        printf("SigV4 signatures are verified, against %zu access key%s\n", keys.n, keys.n == 1 ? "" : "s");
    fflush(stdout);
    server_run(s);
    if (stop_signal)
        kt_log(KT_LOG_INFO, "%s received, shutting down", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    running = NULL;
    server_free(s);
    tls_free(&emu, &tls);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    store_free(&emu.store);
    authkeys_free(&keys);
    return 0;
}
