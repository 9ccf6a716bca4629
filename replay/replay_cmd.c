/*
 * replay_cmd.c — `kintape replay`: options, the terminal (notes, the progress
 * line, the final report on stderr and JSON with --report), the signals
 * (the first SIGINT/SIGTERM stops the replay with its report, a second one
 * ends the process) and the exit status.
 */
#include "replay_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "args.h"
#include "buf.h"
#include "jsonw.h"
#include "ktime.h"
#include "replay.h"
#include "report.h"

static const char usage[] =
    "usage: kintape replay RECORDS.csv [--stream NAME] [options]\n"
    "\n"
    "Sends the records of a CSV (as `kintape extract` writes it, or any CSV with a data or\n"
    "data_base64 column, or payload,time rows without a header) as PutRecords calls.\n"
    "\n"
    "what:\n"
    "  --column ROLE=NAME       read ROLE from the column NAME: data, data_base64, ts, partition_key,\n"
    "                           explicit_hash_key, stream or error_code\n"
    "                           (e.g. --column data=message --column ts=time)\n"
    "  --ts-format F            rfc3339 (default), epoch (seconds) or epoch-ms\n"
    "  --include-refused        also send rows with an error_code (attempts the server refused when\n"
    "                           captured, from `kintape extract --all-attempts`); skipped by default\n"
    "where to:\n"
    "  --stream NAME            the stream (or its ARN); default: the CSV's stream column\n"
    "  --endpoint URL           default http://127.0.0.1:4566 (the emulator); `aws` means\n"
    "                           https://kinesis.REGION.amazonaws.com\n"
    "  --region REGION          default: AWS_REGION, AWS_DEFAULT_REGION, the endpoint, ~/.aws/config\n"
    "  --profile NAME           credentials from ~/.aws/credentials (default: AWS_PROFILE, default)\n"
    "  --access-key K --secret-key S [--session-token T]\n"
    "                           (default: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN;\n"
    "                           dummy ones for a local endpoint)\n"
    "  --ca-bundle FILE         certificate authorities for an https endpoint (default:\n"
    "                           AWS_CA_BUNDLE, else the system's)\n"
    "  --create-stream          create the stream if it does not exist, and wait until ACTIVE\n"
    "  --shards N               shards of a created stream (default 4)\n"
    "when:\n"
    "  (default)                full speed\n"
    "  --respect-timing         each record at its original time after the first\n"
    "  --speed X                with --respect-timing: X times faster (0.01 to 1000, default 1)\n"
    "  --max-gap SEC            with --respect-timing: shorten idle gaps longer than SEC\n"
    "  --rate N                 at most N records per second (paced, never dropped)\n"
    "  --loop N                 send the file N times (times continue across passes)\n"
    "  --split I/N              take slice I of N (by partition key; by row when keys are random),\n"
    "                           to run N replays side by side\n"
    "  --start-at TIME          start at this wall-clock time (RFC 3339), to start replays together\n"
    "how:\n"
    "  --partition-key KEY      every record with this key; `random` for a random key per record\n"
    "  --linger MS              longest a record waits for its batch (default 1 with a schedule, 50 without)\n"
    "  --max-record-size BYTES  data + key limit of a record (default 1048576; up to 10485760)\n"
    "  --concurrency N          requests in flight (default 16)\n"
    "  --lanes N                per stream: a key's records go out in file order, one call in\n"
    "                           flight a lane (default: --concurrency at full speed, 4 with a schedule)\n"
    "  --strict-order           a key at most once a call, so a record that fails inside a call\n"
    "                           cannot be overtaken by a later one of its key (smaller calls)\n"
    "  --timeout SEC            per request (default 30)\n"
    "  --max-retries N          per record (default 10), with exponential backoff and jitter\n"
    "  --skip-rows N            start after the first N rows (after the header); a report of a\n"
    "                           replay that stopped says which N resumes it\n"
    "  --skip-bad               count and skip rows that are not records (a field count other than\n"
    "                           the header's, bad base64, ...) instead of stopping at the first\n"
    "  --deadline SEC           stop sending after SEC seconds (calls in flight finish); the report\n"
    "                           says what was not sent\n"
    "  --dry-run                check every row and print the batch plan; send nothing\n"
    "  --report FILE.json       also write the final report as JSON\n"
    "  -q, --quiet              no progress line and no report on stderr\n"
    "\n"
    "examples:\n"
    "  kintape replay orders.csv --stream orders\n"
    "  kintape replay orders.csv --stream orders --respect-timing --speed 10\n"
    "  kintape replay orders.csv --stream orders --rate 5000 --create-stream --shards 8\n"
    "  kintape replay orders.csv --endpoint https://kinesis.eu-west-1.amazonaws.com --region eu-west-1 --stream orders\n"
    "\n"
    "times: RFC 3339 (2026-11-21T10:00:00.123Z, +01:00 or +0100 offsets; a time without an offset is\n"
    "UTC), or --ts-format epoch / epoch-ms. Only --respect-timing needs them: without it a time that\n"
    "cannot be read is counted, and the record sent.\n"
    "\n"
    "exit status: 0 every record delivered; 1 some were not (the report says which and why);\n"
    "2 bad usage or input (a bad row, no payload column, unreachable endpoint, bad credentials,\n"
    "a stream that does not exist); the records read before a bad row are sent first.\n";

static int num(const char *flag, const char *s, double min, double max, double *out)
{
    struct kt_err err;
    if (kt_arg_num(flag, s, "a number", min, max, out, &err) == 0)
        return 0;
    fprintf(stderr, "kintape replay: %s\n", err.msg);
    return -1;
}

/* ------------------------------------------------------------- terminal */

static volatile sig_atomic_t interrupted;

/* The first SIGINT/SIGTERM stops the replay with its report; a second one ends the process. */
static void on_signal(int sig)
{
    interrupted = sig;
    signal(sig, SIG_DFL);
}

static const char *stop_reason(void *ctx)
{
    (void)ctx;
    return interrupted == SIGINT ? "SIGINT" : interrupted ? "SIGTERM" : NULL;
}

/* Whether a progress line is on the terminal now, to be cleared before other output. */
static int progress_shown;

static int quiet;

static void on_message(void *ctx, enum replay_level level, const char *msg)
{
    (void)ctx;
    if (quiet && level == REPLAY_NOTE)
        return;
    fprintf(stderr, "%skintape replay: %s\n", progress_shown ? "\r\033[K" : "", msg);
}

static int terminal_width(void)
{
    struct winsize ws;
    return ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 0;
}

static void on_progress(void *ctx, const struct replay_progress *p, int final)
{
    (void)ctx;
    struct kbuf line = KBUF_INIT;
    report_progress(&line, p, terminal_width());
    fprintf(stderr, "\r\033[K%s%s", line.p, final ? "\n" : "");
    kbuf_free(&line);
    progress_shown = !final;
}

/* Writes a whole buffer to f; 0, or -1 with errno. */
static int write_all(FILE *f, const struct kbuf *b)
{
    return b->len && fwrite(b->p, 1, b->len, f) != b->len ? -1 : 0;
}

int replay_main(int argc, char **argv)
{
    enum {
        O_STREAM = 1000, O_ENDPOINT, O_REGION, O_PROFILE, O_AK, O_SK, O_TOKEN, O_CREATE, O_SHARDS, O_RESPECT,
        O_SPEED, O_MAXGAP, O_RATE, O_LOOP, O_SPLIT, O_STARTAT, O_PK, O_LINGER, O_MAXREC, O_CONC, O_TIMEOUT,
        O_RETRIES, O_DRY, O_REPORT, O_LANES, O_STRICT, O_CA, O_COLUMN, O_TSFMT, O_REFUSED, O_SKIPROWS, O_SKIPBAD,
        O_DEADLINE
    };
    static const struct option opts[] = {
        {"stream", required_argument, NULL, O_STREAM},
        {"endpoint", required_argument, NULL, O_ENDPOINT},
        {"region", required_argument, NULL, O_REGION},
        {"profile", required_argument, NULL, O_PROFILE},
        {"access-key", required_argument, NULL, O_AK},
        {"secret-key", required_argument, NULL, O_SK},
        {"session-token", required_argument, NULL, O_TOKEN},
        {"create-stream", no_argument, NULL, O_CREATE},
        {"shards", required_argument, NULL, O_SHARDS},
        {"respect-timing", no_argument, NULL, O_RESPECT},
        {"speed", required_argument, NULL, O_SPEED},
        {"max-gap", required_argument, NULL, O_MAXGAP},
        {"rate", required_argument, NULL, O_RATE},
        {"loop", required_argument, NULL, O_LOOP},
        {"split", required_argument, NULL, O_SPLIT},
        {"start-at", required_argument, NULL, O_STARTAT},
        {"partition-key", required_argument, NULL, O_PK},
        {"linger", required_argument, NULL, O_LINGER},
        {"max-record-size", required_argument, NULL, O_MAXREC},
        {"concurrency", required_argument, NULL, O_CONC},
        {"lanes", required_argument, NULL, O_LANES},
        {"strict-order", no_argument, NULL, O_STRICT},
        {"ca-bundle", required_argument, NULL, O_CA},
        {"column", required_argument, NULL, O_COLUMN},
        {"ts-format", required_argument, NULL, O_TSFMT},
        {"include-refused", no_argument, NULL, O_REFUSED},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"max-retries", required_argument, NULL, O_RETRIES},
        {"dry-run", no_argument, NULL, O_DRY},
        {"skip-rows", required_argument, NULL, O_SKIPROWS},
        {"skip-bad", no_argument, NULL, O_SKIPBAD},
        {"deadline", required_argument, NULL, O_DEADLINE},
        {"report", required_argument, NULL, O_REPORT},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct replay_opts o;
    memset(&o, 0, sizeof o);
    o.endpoint = "http://127.0.0.1:4566";
    o.speed = 1;
    o.loops = 1;
    o.concurrency = 16;
    o.timeout_ms = 30000;
    o.max_retries = 10;
    o.max_record = 1 << 20;
    o.shards = 4;
    struct creds_opts co = {0};
    const char *report = NULL;
    double linger_ms = -1, v;
    quiet = 0;
    char endpoint_buf[256];
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (ch) {
        case O_STREAM: o.stream = optarg; break;
        case O_ENDPOINT: o.endpoint = optarg; break;
        case O_REGION: co.region = optarg; break;
        case O_PROFILE: co.profile = optarg; break;
        case O_AK: co.access_key = optarg; break;
        case O_SK: co.secret_key = optarg; break;
        case O_TOKEN: co.session_token = optarg; break;
        case O_CREATE: o.create_stream = 1; break;
        case O_SHARDS:
            if (num("--shards", optarg, 1, 100000, &v))
                return 2;
            o.shards = (int)v;
            break;
        case O_RESPECT: o.respect_timing = 1; break;
        case O_SPEED:
            if (num("--speed", optarg, 0.01, 1000, &o.speed))
                return 2;
            break;
        case O_MAXGAP:
            if (num("--max-gap", optarg, 0.001, 1e9, &v))
                return 2;
            o.max_gap_ns = (int64_t)(v * 1e9);
            break;
        case O_RATE:
            if (num("--rate", optarg, 0.001, 1e9, &o.rate))
                return 2;
            break;
        case O_LOOP:
            if (num("--loop", optarg, 1, 1e9, &v))
                return 2;
            o.loops = (int)v;
            break;
        case O_SPLIT: {
            int i, n;
            char extra;
            if (sscanf(optarg, "%d/%d%c", &i, &n, &extra) != 2 || n < 1 || i < 1 || i > n) {
                fprintf(stderr, "kintape replay: --split takes I/N with 1 <= I <= N, e.g. 2/4 (got '%s')\n", optarg);
                return 2;
            }
            o.split_i = i;
            o.split_n = n;
            break;
        }
        case O_STARTAT: {
            size_t bad;
            if (kt_parse_rfc3339(optarg, strlen(optarg), &o.start_at_ns, &bad) != 0) {
                fprintf(stderr, "kintape replay: --start-at takes an RFC 3339 time, e.g. 2026-11-24T10:00:00Z "
                                "(got '%s')\n",
                        optarg);
                return 2;
            }
            break;
        }
        case O_PK:
            if (!*optarg) {
                fprintf(stderr, "kintape replay: --partition-key cannot be empty\n");
                return 2;
            }
            o.pk_mode = strcmp(optarg, "random") == 0 ? PK_RANDOM : PK_FIXED;
            o.pk_fixed = optarg;
            break;
        case O_LINGER:
            if (num("--linger", optarg, 0, 60000, &linger_ms))
                return 2;
            break;
        case O_MAXREC:
            if (num("--max-record-size", optarg, 1, 10 << 20, &v))
                return 2;
            o.max_record = (size_t)v;
            break;
        case O_CONC:
            if (num("--concurrency", optarg, 1, 1024, &v))
                return 2;
            o.concurrency = (int)v;
            break;
        case O_LANES:
            if (num("--lanes", optarg, 1, 1024, &v))
                return 2;
            o.lanes = (int)v;
            break;
        case O_TIMEOUT:
            if (num("--timeout", optarg, 0.1, 3600, &v))
                return 2;
            o.timeout_ms = (long)(v * 1000);
            break;
        case O_RETRIES:
            if (num("--max-retries", optarg, 0, 100, &v))
                return 2;
            o.max_retries = (int)v;
            break;
        case O_DRY: o.dry_run = 1; break;
        case O_SKIPROWS:
            if (num("--skip-rows", optarg, 0, 1e18, &v))
                return 2;
            o.skip_rows = (uint64_t)v;
            break;
        case O_SKIPBAD: o.skip_bad = 1; break;
        case O_DEADLINE:
            if (num("--deadline", optarg, 0.001, 1e9, &v))
                return 2;
            o.deadline_ns = (int64_t)(v * 1e9);
            break;
        case O_STRICT: o.strict_order = 1; break;
        case O_CA: o.ca_bundle = optarg; break;
        case O_REFUSED: o.include_refused = 1; break;
        case O_COLUMN: {
            const char *eq = strchr(optarg, '=');
            int role = eq ? csv_role_parse(optarg, (size_t)(eq - optarg)) : -1;
            if (role < 0 || !eq[1]) {
                fprintf(stderr, "kintape replay: --column takes ROLE=NAME with ROLE one of data, data_base64, ts, "
                                "partition_key, explicit_hash_key, stream, error_code (got '%s')\n",
                        optarg);
                return 2;
            }
            o.csv_opts.names[role] = eq + 1;
            break;
        }
        case O_TSFMT:
            if (strcmp(optarg, "rfc3339") == 0)
                o.csv_opts.ts_format = TS_RFC3339;
            else if (strcmp(optarg, "epoch") == 0)
                o.csv_opts.ts_format = TS_EPOCH_S;
            else if (strcmp(optarg, "epoch-ms") == 0)
                o.csv_opts.ts_format = TS_EPOCH_MS;
            else {
                fprintf(stderr, "kintape replay: --ts-format takes rfc3339, epoch or epoch-ms (got '%s')\n", optarg);
                return 2;
            }
            break;
        case O_REPORT: report = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "kintape replay: give one CSV file\n%s", usage);
        return 2;
    }
    o.csv = argv[optind];
    if (!o.ca_bundle && getenv("AWS_CA_BUNDLE") && *getenv("AWS_CA_BUNDLE"))
        o.ca_bundle = getenv("AWS_CA_BUNDLE");
    if (o.ca_bundle && access(o.ca_bundle, R_OK) != 0) {
        fprintf(stderr, "kintape replay: cannot read the CA bundle %s: %s\n", o.ca_bundle, strerror(errno));
        return 2;
    }
    if (o.loops > 1 && strcmp(o.csv, "-") == 0) {
        fprintf(stderr, "kintape replay: --loop reads the file again, so it needs a file, not standard input\n");
        return 2;
    }
    if (o.create_stream && !o.stream) {
        fprintf(stderr, "kintape replay: --create-stream creates the stream of --stream; give --stream NAME\n");
        return 2;
    }
    if (o.speed != 1 && !o.respect_timing) {
        fprintf(stderr, "kintape replay: --speed goes with --respect-timing\n");
        return 2;
    }
    if (o.max_gap_ns && !o.respect_timing) {
        fprintf(stderr, "kintape replay: --max-gap goes with --respect-timing\n");
        return 2;
    }
    if (!o.lanes)
        o.lanes = o.respect_timing || o.rate > 0 ? (o.concurrency < 4 ? o.concurrency : 4) : o.concurrency;
    o.linger_ns = linger_ms >= 0 ? (int64_t)(linger_ms * 1e6)
                                 : (o.respect_timing || o.rate > 0 ? 1 : 50) * KT_NS_PER_MS;
    co.endpoint = o.endpoint;
    struct kt_err err;
    if (strcmp(o.endpoint, "aws") == 0) {
        /* Resolve the region first, from everything but the endpoint. */
        co.endpoint = "https://kinesis.amazonaws.com";
        if (creds_load(&o.creds, &co, &err) != 0) {
            fprintf(stderr, "kintape replay: %s\n", err.msg);
            return 2;
        }
        snprintf(endpoint_buf, sizeof endpoint_buf, "https://kinesis.%s.amazonaws.com", o.creds.region);
        o.endpoint = endpoint_buf;
        co.endpoint = endpoint_buf;
    }
    if (strncmp(o.endpoint, "http://", 7) != 0 && strncmp(o.endpoint, "https://", 8) != 0) {
        fprintf(stderr, "kintape replay: --endpoint must start with http:// or https:// (got '%s')\n", o.endpoint);
        return 2;
    }
    if (creds_load(&o.creds, &co, &err) != 0) {
        fprintf(stderr, "kintape replay: %s\n", err.msg);
        return 2;
    }
    o.hooks.message = on_message;
    if (!quiet && isatty(STDERR_FILENO))
        o.hooks.progress = on_progress;
    o.hooks.stop = stop_reason;

    struct replay_stats st;
    int bad_input = 0;
    interrupted = 0;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (!quiet)
        fprintf(stderr, "kintape replay: %s -> %s at %s (%s)%s\n", o.csv, o.stream ? o.stream : "(stream column)",
                o.endpoint, o.creds.region, o.dry_run ? " -- dry run, nothing sent" : "");
    int rc = replay_run(&o, &st, &bad_input, &err);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (rc != 0 && st.started_ns == 0) {
        fprintf(stderr, "kintape replay: %s\n", err.msg);
        return 2;
    }
    struct kbuf text = KBUF_INIT;
    if (!quiet) {
        report_text(&text, &o, &st);
        write_all(stderr, &text);
    }
    kbuf_free(&text);
    if (report) {
        struct kbuf j = KBUF_INIT;
        report_json(&j, &o, &st);
        FILE *f = fopen(report, "w");
        int bad = !f || write_all(f, &j) != 0;
        if (f && fclose(f) != 0)
            bad = 1;
        kbuf_free(&j);
        if (bad) {
            fprintf(stderr, "kintape replay: cannot write the report %s: %s\n", report, strerror(errno));
            return 2;
        }
    }
    if (rc != 0) {
        fprintf(stderr, "kintape replay: stopped: %s\n", err.msg);
        return bad_input ? 2 : 1;
    }
    if (o.dry_run)
        return st.invalid ? 1 : 0;
    return st.failed || st.invalid || st.not_sent ? 1 : 0;
}
