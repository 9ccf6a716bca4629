/*
 * proxy_cmd.c — `kintape proxy` and `kintape proxy init-ca`: the options,
 * the terminal and the signals around the recording proxy (proxy.h), whose
 * exchanges the exchange writer turns into a snapshot. SIGINT/SIGTERM,
 * --duration or --count stop it; the snapshot always gets its end record.
 */
#include "proxy_cmd.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "creds.h"
#include "ktime.h"
#include "proxy.h"
#include "version.h"
#include "xwriter.h"

static const char usage[] =
    "usage: kintape proxy -o SNAP.jsonl [--listen HOST:PORT] [--upstream URL [--resign]] [options]\n"
    "       kintape proxy init-ca [--dir DIR]\n"
    "\n"
    "A recording proxy: forwards applications' Kinesis calls and records each exchange, in plaintext,\n"
    "into a snapshot (the format kintape capture writes; see snapshots/FORMAT.md).\n"
    "\n"
    "Forward mode (default): an HTTP proxy for HTTPS_PROXY. CONNECT to a Kinesis endpoint\n"
    "(kinesis.*.amazonaws.com, *.kinesis.*.amazonaws.com[.cn]) or an --intercept host is answered with a\n"
    "certificate made by the local CA, and the calls inside are forwarded over verified TLS and recorded;\n"
    "other hosts are tunnelled untouched and not recorded; plain http:// requests are forwarded and recorded.\n"
    "Reverse mode (--upstream URL): the clients' endpoint is the proxy; every request goes to URL.\n"
    "Clients may speak HTTP/1.1 or HTTP/2 (h2 by ALPN over TLS; h2c with prior knowledge in reverse mode);\n"
    "the upstream is spoken to in HTTP/1.1.\n"
    "\n"
    "  -o, --output SNAP          snapshot to write (\"-\" for standard output)\n"
    "  --listen HOST:PORT         where to listen (default 127.0.0.1:4140; port 0 picks a free one)\n"
    "  --upstream URL             reverse mode: forward everything to URL (http:// or https://)\n"
    "  --resign                   reverse mode: sign each forwarded request again with the proxy's own\n"
    "                             credentials (the client signed for the proxy's host)\n"
    "  --ca-dir DIR               the CA made by init-ca (default ~/.kintape)\n"
    "  --upstream-ca FILE         PEM bundle the upstream's certificate must chain to (default: the system's)\n"
    "  --intercept HOST[:PORT]    also intercept CONNECT to HOST (patterns with '*'; port default 443)\n"
    "  --allow HOST[:PORT]        reach only hosts that match (repeatable; default: any host on port 443,\n"
    "                             port 80 for http://, and the ports --intercept/--allow name)\n"
    "  --connect-to H:P=ADDR:P    connect to ADDR:P for H:P (certificates are still checked for H)\n"
    "  --max-body BYTES           largest body recorded, and request accepted (default 67108864)\n"
    "  --duration SEC             stop after SEC seconds\n"
    "  --count N                  stop after N exchanges are written\n"
    "  --connect-timeout SEC      connecting to the upstream (default 10)\n"
    "  --upstream-timeout SEC     the upstream's silence during an answer (default 60)\n"
    "  --client-timeout SEC       an idle client connection (default 120)\n"
    "  --access-key, --secret-key, --session-token, --profile, --region\n"
    "                             credentials for --resign (else the environment, then ~/.aws)\n"
    "  -q, --quiet                no start line or summary\n"
    "  -h, --help                 this help\n"
    "\n"
    "examples:\n"
    "  kintape proxy init-ca\n"
    "  kintape proxy -o prod.snap.jsonl &\n"
    "  HTTPS_PROXY=http://127.0.0.1:4140 AWS_CA_BUNDLE=~/.kintape/ca.pem python3 producer.py\n"
    "  kintape proxy --listen 127.0.0.1:4141 --upstream https://kinesis.eu-west-1.amazonaws.com --resign -o p.snap.jsonl\n"
    "\n"
    "exit status: 0 stopped and the snapshot written, 1 the snapshot could not be written, 2 bad usage.\n";

static struct proxy *active;
static int quiet;

static void on_signal(int sig)
{
    (void)sig;
    if (active)
        proxy_stop(active);
}

static void on_log(void *ctx, enum proxy_log level, const char *msg)
{
    (void)ctx;
    if (level == PROXY_LOG_INFO && quiet)
        return;
    fprintf(stderr, "kintape proxy: %s%s\n", level == PROXY_LOG_ERROR ? "error: " : "", msg);
}

struct run {
    struct snap_writer *w;
    struct kt_err err;
    int failed;
    unsigned ticks;
};

/* Once a second, what is written goes to the file (a flush is a blocking write: not on every tick). */
static int on_tick(void *ctx)
{
    struct run *r = ctx;
    if (++r->ticks % 10 == 0 && snap_writer_flush(r->w, &r->err) != 0) {
        r->failed = 1;
        return -1;
    }
    return 0;
}

static const char *default_ca_dir(char *buf, size_t n)
{
    const char *home = getenv("HOME");
    snprintf(buf, n, "%s/.kintape", home && *home ? home : ".");
    return buf;
}

static int init_ca_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char dflt[4096];
    const char *dir = default_ca_dir(dflt, sizeof dflt);
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (ch == 'd') {
            dir = optarg;
        } else if (ch == 'h') {
            fputs(usage, stdout);
            return 0;
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kintape proxy init-ca: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    char ca[4096];
    struct kt_err err;
    int rc = proxy_init_ca(dir, ca, sizeof ca, &err);
    if (rc < 0) {
        fprintf(stderr, "kintape proxy init-ca: %s\n", err.msg);
        return 1;
    }
    printf("%s %s (its key: %s/ca-key.pem, mode 0600)\n\n", rc ? "made the CA" : "the CA is already there:", ca, dir);
    printf("Trust it in the applications whose Kinesis calls the proxy records (this CA only, not system-wide):\n"
           "  boto3, AWS CLI:        AWS_CA_BUNDLE=%s\n"
           "  JavaScript SDK (Node): NODE_EXTRA_CA_CERTS=%s\n"
           "  Java SDK, KCL, KPL:    keytool -importcert -noprompt -alias kintape -file %s -keystore proxy.jks "
           "-storepass changeit\n"
           "                         then -Djavax.net.ssl.trustStore=proxy.jks -Djavax.net.ssl.trustStorePassword=changeit\n"
           "  curl:                  curl --cacert %s\n"
           "and point them at the proxy: HTTPS_PROXY=http://127.0.0.1:4140 (Java: -Dhttps.proxyHost=127.0.0.1 "
           "-Dhttps.proxyPort=4140)\n",
           ca, ca, ca, ca);
    return 0;
}

int proxy_main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "init-ca") == 0)
        return init_ca_main(argc - 1, argv + 1);
    enum { O_LISTEN = 1000, O_UPSTREAM, O_RESIGN, O_CADIR, O_UPCA, O_INTERCEPT, O_ALLOW, O_CONNECTTO, O_MAXBODY,
           O_DURATION, O_COUNT, O_CTO, O_UTO, O_CLTO, O_AK, O_SK, O_TOKEN, O_PROFILE, O_REGION };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"listen", required_argument, NULL, O_LISTEN},
        {"upstream", required_argument, NULL, O_UPSTREAM},
        {"resign", no_argument, NULL, O_RESIGN},
        {"ca-dir", required_argument, NULL, O_CADIR},
        {"upstream-ca", required_argument, NULL, O_UPCA},
        {"intercept", required_argument, NULL, O_INTERCEPT},
        {"allow", required_argument, NULL, O_ALLOW},
        {"connect-to", required_argument, NULL, O_CONNECTTO},
        {"max-body", required_argument, NULL, O_MAXBODY},
        {"duration", required_argument, NULL, O_DURATION},
        {"count", required_argument, NULL, O_COUNT},
        {"connect-timeout", required_argument, NULL, O_CTO},
        {"upstream-timeout", required_argument, NULL, O_UTO},
        {"client-timeout", required_argument, NULL, O_CLTO},
        {"access-key", required_argument, NULL, O_AK},
        {"secret-key", required_argument, NULL, O_SK},
        {"session-token", required_argument, NULL, O_TOKEN},
        {"profile", required_argument, NULL, O_PROFILE},
        {"region", required_argument, NULL, O_REGION},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct proxy_config cfg;
    proxy_config_defaults(&cfg);
    const char *out = NULL, *listen = NULL, *ca_dir = NULL;
    enum { MAXL = 64 };
    const char *intercept[MAXL], *allow[MAXL], *connect_to[MAXL];
    int resign = 0;
    struct creds_opts co = {0};
    long long v;
    struct kt_err err;
    quiet = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case 'o': out = optarg; break;
        case 'q': quiet = 1; break;
        case O_LISTEN: listen = optarg; break;
        case O_UPSTREAM: cfg.upstream = optarg; break;
        case O_RESIGN: resign = 1; break;
        case O_CADIR: ca_dir = optarg; break;
        case O_UPCA: cfg.upstream_ca = optarg; break;
        case O_AK: co.access_key = optarg; break;
        case O_SK: co.secret_key = optarg; break;
        case O_TOKEN: co.session_token = optarg; break;
        case O_PROFILE: co.profile = optarg; break;
        case O_REGION: co.region = optarg; break;
        case O_INTERCEPT:
        case O_ALLOW:
        case O_CONNECTTO: {
            const char **list = ch == O_INTERCEPT ? intercept : ch == O_ALLOW ? allow : connect_to;
            size_t *n = ch == O_INTERCEPT ? &cfg.nintercept : ch == O_ALLOW ? &cfg.nallow : &cfg.nconnect_to;
            if (*n == MAXL) {
                kt_err_set(&err, "%s can be given at most %d times", argv[optind - 2], MAXL);
                bad = 1;
            } else {
                list[(*n)++] = optarg;
            }
            break;
        }
        case O_MAXBODY:
            bad = kt_arg_int("--max-body", optarg, "a number of bytes", 1024, 1LL << 32, &v, &err);
            cfg.max_body = (size_t)v;
            break;
        case O_DURATION:
            bad = kt_arg_int("--duration", optarg, "a number of seconds", 1, 100000000, &v, &err);
            cfg.duration_ns = v * KT_NS_PER_SEC;
            break;
        case O_COUNT:
            bad = kt_arg_int("--count", optarg, "a number of exchanges", 1, 1LL << 50, &v, &err);
            cfg.count = (uint64_t)v;
            break;
        case O_CTO:
        case O_UTO:
        case O_CLTO:
            bad = kt_arg_int(ch == O_CTO ? "--connect-timeout" : ch == O_UTO ? "--upstream-timeout" : "--client-timeout",
                             optarg, "a number of seconds", 1, 86400, &v, &err);
            if (ch == O_CTO)
                cfg.connect_timeout_ms = (int)v * 1000;
            else if (ch == O_UTO)
                cfg.upstream_timeout_ms = (int)v * 1000;
            else
                cfg.client_timeout_ms = (int)v * 1000;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "kintape proxy: %s\n", err.msg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kintape proxy: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!out) {
        fprintf(stderr, "kintape proxy: -o SNAP.jsonl is required\n");
        return 2;
    }
    char host[256] = "127.0.0.1";
    if (listen) {
        const char *colon = strrchr(listen, ':');
        size_t hl = colon ? (size_t)(colon - listen) : 0;
        if (!colon || hl >= sizeof host ||
            kt_arg_int("--listen", colon + 1, "HOST:PORT with a port", 0, 65535, &v, &err) != 0) {
            fprintf(stderr, "kintape proxy: --listen takes HOST:PORT (got '%s')\n", listen);
            return 2;
        }
        if (hl >= 2 && listen[0] == '[' && listen[hl - 1] == ']')
            snprintf(host, sizeof host, "%.*s", (int)hl - 2, listen + 1);
        else if (hl)
            snprintf(host, sizeof host, "%.*s", (int)hl, listen);
        cfg.listen_port = (int)v;
    }
    cfg.listen_host = host;
    cfg.intercept = intercept;
    cfg.allow = allow;
    cfg.connect_to = connect_to;

    struct creds cr;
    if (resign) {
        co.endpoint = cfg.upstream;
        if (!cfg.upstream) {
            fprintf(stderr, "kintape proxy: --resign needs --upstream URL (the reverse mode)\n");
            return 2;
        }
        if (creds_load(&cr, &co, &err) != 0) {
            fprintf(stderr, "kintape proxy: --resign: %s\n", err.msg);
            return 2;
        }
        cfg.resign = &cr;
    }
    /* The CA: needed to intercept (forward mode) and for TLS clients (reverse mode, when it is there). */
    char dflt[4096], ca_path[4200];
    const char *dir = ca_dir ? ca_dir : default_ca_dir(dflt, sizeof dflt);
    snprintf(ca_path, sizeof ca_path, "%s/ca.pem", dir);
    FILE *probe = fopen(ca_path, "r");
    if (probe)
        fclose(probe);
    if (probe || ca_dir || !cfg.upstream) {
        if (!probe) {
            fprintf(stderr, "kintape proxy: no CA in %s: make one with `kintape proxy init-ca --dir %s`%s\n", dir, dir,
                    cfg.upstream ? "" : " (the forward proxy needs it to read TLS)");
            return 2;
        }
        cfg.ca_dir = dir;
    }
    int loopback = strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0 || strcmp(host, "localhost") == 0;
    if (!loopback)
        fprintf(stderr,
                "kintape proxy: WARNING: listening on %s, not on this machine's loopback: anyone who can reach it "
                "can send requests through it%s\n",
                host, cfg.nallow ? "" : " (--allow HOST restricts where they may go)");

    struct snap_source ss = {"proxy", NULL, "", 0, cfg.upstream ? "reverse" : "forward", cfg.upstream};
    char name[300];
    snprintf(name, sizeof name, "%s:%d", host, cfg.listen_port);
    ss.name = name;
    char tool[64];
    snprintf(tool, sizeof tool, "kintape %s", kt_version());
    struct snap_writer *w = snap_writer_open(out, &ss, kt_now_ns(), tool, &err);
    if (!w) {
        fprintf(stderr, "kintape proxy: %s\n", err.msg);
        return 2;
    }
    struct xwriter *xw = xw_new(w, cfg.reorder_ns);
    struct run r = {.w = w};
    cfg.log = on_log;
    cfg.tick = on_tick;
    cfg.ctx = &r;
    struct proxy *p = proxy_new(&cfg, xw, &err);
    if (!p) {
        fprintf(stderr, "kintape proxy: %s\n", err.msg);
        xw_free(xw);
        snap_writer_close(w, NULL, NULL);
        remove(out);
        return 2;
    }
    if (!quiet) {
        if (cfg.upstream)
            fprintf(stderr, "kintape proxy: reverse proxy on %s:%d to %s%s, recording into %s; Ctrl-C stops\n", host,
                    proxy_port(p), cfg.upstream, resign ? " (re-signed)" : "", out);
        else
            fprintf(stderr,
                    "kintape proxy: forward proxy on %s:%d recording into %s (CA %s); use "
                    "HTTPS_PROXY=http://%s:%d AWS_CA_BUNDLE=%s; Ctrl-C stops\n",
                    host, proxy_port(p), out, ca_path, host, proxy_port(p), ca_path);
    }
    active = p;
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-write is an error return, not a signal */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int64_t t0 = kt_mono_ns();
    int failed = proxy_run(p, &err) != 0;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    active = NULL;
    struct snap_stats st;
    struct kt_err ferr;
    if (proxy_finish(p, &st, &ferr) != 0 && !failed) {
        failed = 1;
        err = ferr;
    }
    if (r.failed && !failed) {
        failed = 1;
        err = r.err;
    }
    proxy_free(p);
    xw_free(xw);
    if (snap_writer_close(w, &st, &ferr) != 0 && !failed) {
        failed = 1;
        err = ferr;
    }
    if (failed) {
        fprintf(stderr, "kintape proxy: %s\n", err.msg);
        return 1;
    }
    if (!quiet)
        fprintf(stderr,
                "kintape proxy: %llu exchanges (%llu complete, %llu incomplete) written to %s in %.1fs; %llu client "
                "TLS handshakes failed, %llu requests the upstream failed, %llu refused\n",
                (unsigned long long)st.exchanges, (unsigned long long)st.complete, (unsigned long long)st.incomplete,
                out, (double)(kt_mono_ns() - t0) / 1e9, (unsigned long long)st.handshake_failures,
                (unsigned long long)st.upstream_failures, (unsigned long long)st.refused);
    return 0;
}
