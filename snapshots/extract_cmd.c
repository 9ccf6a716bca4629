/*
 * extract_cmd.c — `kintape extract`: the command line of the extractor
 * (extract.c). Expressions are compiled before any input is read, so a bad
 * --filter or --path is refused at once with its position.
 */
#include "extract_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"
#include "ktime.h"
#include "mem.h"

static const char usage[] =
    "usage: kintape extract SNAP.jsonl [-o OUT.csv] [options]\n"
    "\n"
    "Turns a snapshot into CSV. By default one row per Kinesis record of every PutRecord and\n"
    "PutRecords request, in capture order, with the columns\n"
    "  data (or data_base64), ts, partition_key, explicit_hash_key, stream, shard_id, sequence_number\n"
    "The header says `data` when every payload is UTF-8 text without NUL bytes, else `data_base64`.\n"
    "\n"
    "  -o, --output FILE        CSV to write (default: standard output)\n"
    "  --op OP[,OP]             only these operations (PutRecords, PutRecord)\n"
    "  --stream NAME            only records of this stream\n"
    "  --since TIME             only exchanges at or after TIME (RFC 3339, e.g. 2026-11-21T10:00:00Z)\n"
    "  --until TIME             only exchanges before TIME\n"
    "  --filter EXPR            only exchanges matching EXPR, e.g.\n"
    "                             'op == \"PutRecords\" && status == 200 && ts >= \"2026-11-21T10:00:00Z\"'\n"
    "                           fields: op stream status ts method conn incomplete;\n"
    "                           operators: == != < <= > >= contains; && || ! ( )\n"
    "  --path EXPR              path mode: one row per exchange, one column per --path (repeatable),\n"
    "                           e.g. .ts .http.request.body .http.response.status .kinesis.stream\n"
    "                           .http.request.headers[2][1] .client[\"ip\"]\n"
    "  --encoding raw|base64    force the payload column's encoding\n"
    "  --all-attempts           also records the server did not accept, with an error_code column\n"
    "  --no-deaggregate         write KPL-aggregated records as the Kinesis records they are (by default\n"
    "                           each is unpacked into its user records, with their partition keys)\n"
    "  --skip-bad               skip lines and records that cannot be read (counted) instead of stopping\n"
    "  -q, --quiet              no summary on stderr\n"
    "\n"
    "examples:\n"
    "  kintape extract orders.snap.jsonl -o orders.csv\n"
    "  kintape extract orders.snap.jsonl --stream orders --since 2026-11-21T10:00:00Z -o part.csv\n"
    "  kintape extract orders.snap.jsonl --path .http.request.body --path .ts --filter 'op == \"PutRecord\"'\n"
    "\n"
    "Put requests the capture cut before they were whole, or unreadable ones the server refused,\n"
    "have no records to give: they are counted and skipped. With -o FILE the CSV is written as\n"
    "FILE.partial and renamed to FILE when whole; after a failure FILE.partial keeps the rows so far.\n"
    "\n"
    "exit status: 0 done; 1 something was skipped (--skip-bad) or the snapshot was cut short;\n"
    "2 bad usage, or a line that cannot be read (the message names file and line).\n";

/* --skip-bad: the first problems are named, the rest counted. */
static void on_skipped(void *ctx, const char *msg)
{
    unsigned *shown = ctx;
    if ((*shown)++ < 20)
        fprintf(stderr, "kintape extract: skipped: %s\n", msg);
}

static int parse_time(const char *flag, const char *s, int64_t *ns)
{
    size_t bad;
    if (kt_parse_rfc3339(s, strlen(s), ns, &bad) == 0)
        return 0;
    fprintf(stderr, "kintape extract: %s: '%s' is not an RFC 3339 time (problem at character %zu); e.g. "
                    "2026-11-21T10:00:00Z\n",
            flag, s, bad + 1);
    return -1;
}

int extract_main(int argc, char **argv)
{
    enum { O_OP = 1000, O_STREAM, O_SINCE, O_UNTIL, O_FILTER, O_PATH, O_ENCODING, O_ALL, O_SKIP, O_NODEAGG };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"op", required_argument, NULL, O_OP},
        {"stream", required_argument, NULL, O_STREAM},
        {"since", required_argument, NULL, O_SINCE},
        {"until", required_argument, NULL, O_UNTIL},
        {"filter", required_argument, NULL, O_FILTER},
        {"path", required_argument, NULL, O_PATH},
        {"encoding", required_argument, NULL, O_ENCODING},
        {"all-attempts", no_argument, NULL, O_ALL},
        {"no-deaggregate", no_argument, NULL, O_NODEAGG},
        {"skip-bad", no_argument, NULL, O_SKIP},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct extract_opts o = {0};
    const char *out = "-";
    const char *filter_text = NULL;
    struct xpath **paths = NULL;
    size_t npaths = 0;
    int quiet = 0, rc = 2;
    struct kt_err err;
    struct xfilter *filter = NULL;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': out = optarg; break;
        case 'q': quiet = 1; break;
        case O_OP: o.ops = optarg; break;
        case O_STREAM: o.stream = optarg; break;
        case O_SINCE:
            if (parse_time("--since", optarg, &o.since_ns))
                goto out;
            o.has_since = 1;
            break;
        case O_UNTIL:
            if (parse_time("--until", optarg, &o.until_ns))
                goto out;
            o.has_until = 1;
            break;
        case O_FILTER: filter_text = optarg; break;
        case O_PATH: {
            struct xpath *x = xpath_compile(optarg, &err);
            if (!x) {
                fprintf(stderr, "kintape extract: --path: %s\n", err.msg);
                goto out;
            }
            paths = xrealloc(paths, (npaths + 1) * sizeof *paths);
            paths[npaths++] = x;
            break;
        }
        case O_ENCODING:
            if (strcmp(optarg, "raw") == 0)
                o.encoding = ENC_RAW;
            else if (strcmp(optarg, "base64") == 0)
                o.encoding = ENC_BASE64;
            else {
                fprintf(stderr, "kintape extract: --encoding is raw or base64, not '%s'\n", optarg);
                goto out;
            }
            break;
        case O_ALL: o.all_attempts = 1; break;
        case O_NODEAGG: o.no_deaggregate = 1; break;
        case O_SKIP: o.skip_bad = 1; break;
        case 'h':
            fputs(usage, stdout);
            rc = 0;
            goto out;
        default:
            fputs(usage, stderr);
            goto out;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "kintape extract: give one snapshot file (got %d arguments)\n%s", argc - optind, usage);
        goto out;
    }
    if (filter_text) {
        filter = xfilter_compile(filter_text, &err);
        if (!filter) {
            fprintf(stderr, "kintape extract: --filter: %s\n", err.msg);
            goto out;
        }
        o.filter = filter;
    }
    if (npaths && (o.encoding != ENC_AUTO || o.all_attempts)) {
        fprintf(stderr, "kintape extract: --encoding and --all-attempts are for record mode, not with --path\n");
        goto out;
    }
    o.paths = paths;
    o.npaths = npaths;

    struct extract_stats st;
    unsigned shown = 0;
    o.skipped = on_skipped;
    o.ctx = &shown;
    int64_t t0 = kt_mono_ns();
    if (extract_run(argv[optind], out, &o, &st, &err) != 0) {
        fprintf(stderr, "kintape extract: %s\n", err.msg);
        if (st.partial_kept)
            fprintf(stderr, "kintape extract: stopped: the %llu rows written before the problem are in %s.partial; "
                            "%s was not written\n",
                    (unsigned long long)st.records_written, out, out);
        else if (strcmp(out, "-") != 0)
            fprintf(stderr, "kintape extract: stopped: %s was not written (a file there is as it was)\n", out);
        goto out;
    }
    double secs = (double)(kt_mono_ns() - t0) / 1e9;
    if (!quiet) {
        if (npaths)
            fprintf(stderr, "kintape extract: %llu rows (one per exchange) written to %s in %.2fs\n",
                    (unsigned long long)st.records_written, strcmp(out, "-") ? out : "standard output", secs);
        else
            fprintf(stderr,
                    "kintape extract: %llu records from %llu requests written to %s as %s in %.2fs (%d pass%s, "
                    "%.0f records/s)\n",
                    (unsigned long long)st.records_written, (unsigned long long)st.matched,
                    strcmp(out, "-") ? out : "standard output", st.encoding == ENC_BASE64 ? "data_base64" : "data",
                    secs, st.passes, st.passes == 1 ? "" : "es", secs > 0 ? (double)st.records_written / secs : 0);
        if (st.records_rejected || st.records_unanswered)
            fprintf(stderr,
                    "kintape extract: not written: %llu records the server rejected, %llu without a response "
                    "(--all-attempts writes them with their error_code)\n",
                    (unsigned long long)st.records_rejected, (unsigned long long)st.records_unanswered);
        if (st.exchanges_incomplete || st.exchanges_refused)
            fprintf(stderr,
                    "kintape extract: skipped: %llu put requests the capture cut before they were whole, %llu "
                    "unreadable ones the server refused\n",
                    (unsigned long long)st.exchanges_incomplete, (unsigned long long)st.exchanges_refused);
        if (st.kpl_aggregates)
            fprintf(stderr, "kintape extract: %llu KPL-aggregated records unpacked into %llu user records "
                            "(--no-deaggregate keeps them whole)\n",
                    (unsigned long long)st.kpl_aggregates, (unsigned long long)st.kpl_user_records);
    }
    if (st.kpl_corrupt)
        fprintf(stderr, "kintape extract: warning: %llu record%s with the KPL magic but a bad checksum or protobuf "
                        "written as %s (as the KCL hands them over)\n",
                (unsigned long long)st.kpl_corrupt, st.kpl_corrupt == 1 ? "" : "s",
                st.kpl_corrupt == 1 ? "it is" : "they are");
    rc = 0;
    if (st.bad_lines) {
        fprintf(stderr, "kintape extract: %llu problem%s skipped (--skip-bad)\n", (unsigned long long)st.bad_lines,
                st.bad_lines == 1 ? "" : "s");
        rc = 1;
    }
    if (st.cut_at[0]) {
        fprintf(stderr, "kintape extract: warning: %s; the records of the %llu whole lines before it were written\n",
                st.cut_at, (unsigned long long)(st.lines ? st.lines - 1 : 0));
        rc = 1;
    } else if (st.cut) {
        fprintf(stderr, "kintape extract: warning: the snapshot has no end record: it was cut short\n");
        rc = 1;
    }
    if (st.data_lost) {
        fprintf(stderr, "kintape extract: WARNING: data was lost in the capture (%s): the rows are only what it "
                        "could read\n", st.lost);
        rc = 1;
    }
out:
    xfilter_free(filter);
    for (size_t i = 0; i < npaths; i++)
        xpath_free(paths[i]);
    free(paths);
    return rc;
}
