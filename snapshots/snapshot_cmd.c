/*
 * snapshot_cmd.c — `kintape snapshot ls|show|stats`: look inside snapshots.
 *
 *   ls     one line per exchange
 *   show   exchanges in full, readable (headers, bodies)
 *   stats  operations, streams, time span, bytes and the capture's integrity
 *
 * All three read the file a line at a time through snap.c; a damaged line is
 * reported with its line number and the rest is still read.
 */
#include "snapshot_cmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "ktime.h"
#include "mem.h"
#include "puts.h"
#include "snap.h"

static const char usage[] =
    "usage: kintape snapshot ls|show|stats SNAP.jsonl [options]\n"
    "\n"
    "  ls SNAP      one line per exchange: time, connection, operation, stream, status, sizes\n"
    "  show SNAP    exchanges in full: request and response lines, headers and bodies\n"
    "  stats SNAP   operations, streams, time span, bytes, and what the capture lost\n"
    "\n"
    "options (ls, show):\n"
    "  --op OP[,OP]     only these operations (e.g. PutRecords)\n"
    "  --stream NAME    only exchanges naming this stream\n"
    "  -n N             at most N exchanges\n"
    "  --body-limit B   show: print at most B bytes of each body (default 2048; 0: all)\n"
    "\n"
    "examples:\n"
    "  kintape snapshot stats orders.snap.jsonl\n"
    "  kintape snapshot show orders.snap.jsonl --op PutRecords -n 5\n"
    "\n"
    "exit status: 0, or 1 when the snapshot is damaged (bad lines, cut short) or, for stats, its\n"
    "capture missed data (drops, TCP gaps, packets cut short: the capture exited 1 too), 2 bad usage\n"
    "or unreadable file.\n";

struct filter {
    const char *ops;
    const char *stream;
    long long limit;
    long long body_limit;
};

static int rec_matches(const struct filter *f, const struct snap_rec *rec)
{
    if (!kt_list_has(f->ops, rec->operation))
        return 0;
    if (f->stream && (!rec->stream || strcmp(rec->stream, f->stream) != 0))
        return 0;
    return 1;
}

static long long num(const struct snap_reader *r, const struct jnode *obj, const char *key)
{
    long long v = 0;
    const struct jnode *n = jget(&r->doc, obj, key);
    if (n)
        jint(&r->doc, n, &v);
    return v;
}

static const char *str(const struct snap_reader *r, const struct jnode *obj, const char *key)
{
    const struct jnode *n = jget(&r->doc, obj, key);
    return n && n->type == J_STR ? jstr(&r->doc, n) : "";
}

static void print_body(struct snap_reader *r, const struct jnode *msg, long long limit)
{
    const uint8_t *b;
    size_t n;
    struct kt_err err;
    if (snap_body(r, msg, &b, &n, &err) != 0) {
        printf("    (%s)\n", err.msg);
        return;
    }
    if (n == 0)
        return;
    int binary = strcmp(str(r, msg, "body_encoding"), "base64") == 0;
    size_t shown = limit > 0 && (size_t)limit < n ? (size_t)limit : n;
    printf("\n");
    if (binary) {
        printf("    (%zu bytes of binary data)\n", n);
        return;
    }
    fwrite(b, 1, shown, stdout);
    if (shown < n)
        printf("\n    ... %zu more bytes (--body-limit 0 shows all)", n - shown);
    printf("\n");
}

static void print_headers(const struct snap_reader *r, const struct jnode *msg)
{
    const struct jdoc *d = &r->doc;
    const struct jnode *hs = jget(d, msg, "headers");
    for (const struct jnode *h = jfirst(d, hs); h; h = jnext(d, hs, h)) {
        const struct jnode *k = jfirst(d, h);
        const struct jnode *v = k ? jnext(d, h, k) : NULL;
        if (k && v && k->type == J_STR && v->type == J_STR)
            printf("%s: %s\n", jstr(d, k), jstr(d, v));
    }
}

static void show(struct snap_reader *r, const struct snap_rec *rec, long long body_limit)
{
    char ts[KT_RFC3339_MAX];
    kt_fmt_rfc3339(ts, rec->ts_ns, 9);
    const struct jnode *cli = jget(&r->doc, rec->root, "client");
    const struct jnode *srv = jget(&r->doc, rec->root, "server");
    printf("=== %s  conn %lld #%lld  %s:%lld -> %s:%lld  %s %s  (line %llu)\n", ts, num(r, rec->root, "conn"),
           num(r, rec->root, "n"), str(r, cli, "ip"), num(r, cli, "port"), str(r, srv, "ip"), num(r, srv, "port"),
           rec->operation ? rec->operation : "-", rec->stream ? rec->stream : "-", (unsigned long long)rec->line);
    if (rec->incomplete)
        printf("!!! incomplete: %s\n", rec->incomplete);
    printf("%s %s %s\n", str(r, rec->req, "method"), str(r, rec->req, "target"), str(r, rec->req, "version"));
    print_headers(r, rec->req);
    print_body(r, rec->req, body_limit);
    if (rec->resp) {
        printf("--- response after %.3f ms\n", (double)num(r, rec->root, "duration_ns") / 1e6);
        printf("%s %d %s\n", str(r, rec->resp, "version"), rec->status, str(r, rec->resp, "reason"));
        print_headers(r, rec->resp);
        print_body(r, rec->resp, body_limit);
    } else {
        printf("--- no response\n");
    }
    printf("\n");
}

static void ls_line(struct snap_reader *r, const struct snap_rec *rec)
{
    char ts[KT_RFC3339_MAX];
    kt_fmt_rfc3339(ts, rec->ts_ns, 6);
    const struct jnode *http = jget(&r->doc, rec->root, "http");
    (void)http;
    printf("%s  %4lld/%-4lld %-24s %-20s %3d %9lld %9lld %9.3fms%s%s\n", ts, num(r, rec->root, "conn"),
           num(r, rec->root, "n"), rec->operation ? rec->operation : "-", rec->stream ? rec->stream : "-",
           rec->status, num(r, rec->req, "body_bytes"), rec->resp ? num(r, rec->resp, "body_bytes") : 0,
           (double)num(r, rec->root, "duration_ns") / 1e6, rec->incomplete ? "  incomplete: " : "",
           rec->incomplete ? rec->incomplete : "");
}

/* ------------------------------------------------------------------ stats */

struct count {
    char *key;
    uint64_t n, errors, bytes_in, bytes_out, records, records_failed;
};

struct counts {
    struct count *v;
    size_t n, cap;
};

static struct count *count_of(struct counts *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].key, key) == 0)
            return &c->v[i];
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = xrealloc(c->v, c->cap * sizeof *c->v);
    }
    struct count *e = &c->v[c->n++];
    memset(e, 0, sizeof *e);
    e->key = xstrdup(key);
    return e;
}

static void counts_free(struct counts *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].key);
    free(c->v);
}

static int by_count(const void *a, const void *b)
{
    const struct count *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->key, y->key);
}

/* Most frequent first. */
static void counts_sort(struct counts *c)
{
    if (c->n)
        qsort(c->v, c->n, sizeof *c->v, by_count);
}

/* What the put requests of a snapshot held, decoded as the extractor decodes them (puts.c). */
struct put_counts {
    uint64_t records, failed, cut, refused, unreadable;
};

/* Records of one PutRecord(s) exchange and how many of them were not accepted; 0 for other operations. */
static uint64_t records_in(struct puts *pu, struct snap_reader *r, const struct snap_rec *rec, uint64_t *failed,
                           struct put_counts *pc)
{
    *failed = 0;
    if (!puts_is_put(rec->operation))
        return 0;
    struct kt_err err;
    switch (puts_decode(pu, r, rec, &err)) {
    case PUTS_INCOMPLETE:
        pc->cut++;
        return 0;
    case PUTS_REFUSED:
        pc->refused++;
        return 0;
    case PUTS_BAD:
        pc->unreadable++;
        return 0;
    case PUTS_OK:
        break;
    }
    uint64_t n = 0;
    struct put_rec pr;
    while (puts_next(pu, &pr)) {
        n++;
        *failed += pr.error != NULL;
    }
    pc->records += n;
    pc->failed += *failed;
    return n;
}

static int stats(struct snap_reader *r, struct kt_err *err)
{
    struct counts ops = {0}, streams = {0}, reasons = {0}, statuses = {0};
    uint64_t exchanges = 0, bad = 0, req_bytes = 0, resp_bytes = 0;
    struct put_counts pc = {0};
    struct puts pu;
    puts_init(&pu);
    int64_t first = 0, last = 0;
    uint64_t first_bad_line = 0;
    struct snap_rec rec;
    int rc;
    while ((rc = snap_reader_next(r, &rec, err)) != 0) {
        if (rc < 0) {
            bad++;
            if (!first_bad_line) {
                first_bad_line = r->line;
                fprintf(stderr, "kintape snapshot: %s\n", err->msg);
            }
            continue;
        }
        exchanges++;
        if (!first || rec.ts_ns < first)
            first = rec.ts_ns;
        if (rec.ts_ns > last)
            last = rec.ts_ns;
        uint64_t in = (uint64_t)num(r, rec.req, "body_bytes");
        uint64_t out = rec.resp ? (uint64_t)num(r, rec.resp, "body_bytes") : 0;
        req_bytes += in;
        resp_bytes += out;
        uint64_t nfailed;
        uint64_t nrec = records_in(&pu, r, &rec, &nfailed, &pc);
        struct count *o = count_of(&ops, rec.operation ? rec.operation : "(no X-Amz-Target)");
        o->n++;
        o->bytes_in += in;
        o->bytes_out += out;
        o->records += nrec;
        o->records_failed += nfailed;
        if (rec.status >= 400 || !rec.resp)
            o->errors++;
        if (rec.stream) {
            struct count *s = count_of(&streams, rec.stream);
            s->n++;
            s->records += nrec;
            s->records_failed += nfailed;
            s->bytes_in += in;
        }
        char st[16];
        snprintf(st, sizeof st, "%d", rec.status);
        count_of(&statuses, rec.resp ? st : "none")->n++;
        if (rec.incomplete)
            count_of(&reasons, rec.incomplete)->n++;
    }

    printf("snapshot   %s (format %d.%d)\n", r->path, r->major, r->minor);
    const struct jnode *src = jget(&r->header, jroot(&r->header), "source");
    const struct jnode *sname = jget(&r->header, src, "name");
    const struct jnode *sfilter = jget(&r->header, src, "filter");
    const struct jnode *stype = jget(&r->header, src, "type");
    if (stype && sname)
        printf("source     %s %s, filter '%s'\n", jstr(&r->header, stype), jstr(&r->header, sname),
               sfilter && sfilter->type == J_STR ? jstr(&r->header, sfilter) : "");
    char a[KT_RFC3339_MAX], b[KT_RFC3339_MAX];
    kt_fmt_rfc3339(a, first, 3);
    kt_fmt_rfc3339(b, last, 3);
    printf("exchanges  %llu, from %s to %s (%.3f s)\n", (unsigned long long)exchanges, exchanges ? a : "-",
           exchanges ? b : "-", exchanges ? (double)(last - first) / 1e9 : 0.0);
    printf("bytes      %llu in request bodies, %llu in response bodies\n", (unsigned long long)req_bytes,
           (unsigned long long)resp_bytes);
    printf("records    %llu put (PutRecord, PutRecords), %llu of them not accepted (refused, failed in the "
           "answer, or unanswered)\n",
           (unsigned long long)pc.records, (unsigned long long)pc.failed);
    if (pc.cut || pc.refused || pc.unreadable)
        printf("           not counted: %llu put requests the capture cut, %llu unreadable ones the server refused, "
               "%llu unreadable\n",
               (unsigned long long)pc.cut, (unsigned long long)pc.refused, (unsigned long long)pc.unreadable);

    counts_sort(&ops);
    printf("\noperations                  calls   failed  records  not accepted  request bytes  response bytes\n");
    for (size_t i = 0; i < ops.n; i++)
        printf("  %-24s %7llu  %7llu  %7llu  %12llu  %13llu  %14llu\n", ops.v[i].key,
               (unsigned long long)ops.v[i].n, (unsigned long long)ops.v[i].errors,
               (unsigned long long)ops.v[i].records, (unsigned long long)ops.v[i].records_failed,
               (unsigned long long)ops.v[i].bytes_in, (unsigned long long)ops.v[i].bytes_out);
    counts_sort(&streams);
    printf("\nstreams                     calls  records  not accepted  request bytes\n");
    for (size_t i = 0; i < streams.n; i++)
        printf("  %-24s %7llu  %7llu  %12llu  %13llu\n", streams.v[i].key, (unsigned long long)streams.v[i].n,
               (unsigned long long)streams.v[i].records, (unsigned long long)streams.v[i].records_failed,
               (unsigned long long)streams.v[i].bytes_in);
    counts_sort(&statuses);
    printf("\nstatus    ");
    for (size_t i = 0; i < statuses.n; i++)
        printf(" %s: %llu", statuses.v[i].key, (unsigned long long)statuses.v[i].n);
    printf("\n\nintegrity\n");
    int damaged = 0;
    if (r->end.present) {
        const struct snap_stats *e = &r->end;
        if (e->proxy) {
            printf("  proxy      %llu client TLS handshakes failed (not recorded), %llu requests the upstream failed "
                   "(502/504 to the client), %llu refused\n",
                   (unsigned long long)e->handshake_failures, (unsigned long long)e->upstream_failures,
                   (unsigned long long)e->refused);
        } else {
            printf("  capture    %llu packets, %llu bytes; dropped by kernel %llu, by interface %llu\n",
                   (unsigned long long)e->packets, (unsigned long long)e->bytes,
                   (unsigned long long)e->dropped_kernel, (unsigned long long)e->dropped_interface);
            printf("  tcp        %llu gaps (%llu bytes missing), %llu retransmissions, %llu out of order, %llu "
                   "packets cut short or not decodable\n",
                   (unsigned long long)e->tcp_gaps, (unsigned long long)e->tcp_gap_bytes,
                   (unsigned long long)e->retransmissions, (unsigned long long)e->out_of_order,
                   (unsigned long long)e->truncated_packets);
        }
        printf("  http       %llu complete, %llu incomplete, %llu unparsable stretches (%llu bytes), %llu "
               "responses without a request\n",
               (unsigned long long)e->complete, (unsigned long long)e->incomplete, (unsigned long long)e->unparsable,
               (unsigned long long)e->unparsable_bytes, (unsigned long long)e->orphan_responses);
        if (e->evicted_idle || e->evicted_memory)
            printf("  evicted    %llu idle connections, %llu by the memory cap\n",
                   (unsigned long long)e->evicted_idle, (unsigned long long)e->evicted_memory);
        if (e->exchanges != exchanges)
            printf("  MISMATCH   the end record counts %llu exchanges, the file holds %llu\n",
                   (unsigned long long)e->exchanges, (unsigned long long)exchanges), damaged = 1;
        struct kbuf p = KBUF_INIT;
        snap_stats_problems(e, &p);
        printf("  verdict    %s%s\n", snap_stats_lossless(e) ? "lossless" : "NOT lossless: ", p.p ? p.p : "");
        kbuf_free(&p);
        if (snap_stats_data_lost(e)) {
            printf("  DATA LOST  bytes on the wire were missed or could not be read (drops, TCP gaps, packets cut "
                   "short, TLS, bytes not parsable as HTTP)\n");
            damaged = 1; /* exit 1, as the capture that wrote it did */
        }
    } else {
        printf("  NO END RECORD: the snapshot was cut short (capture killed, or the file truncated); the %llu "
               "whole exchanges before the cut were read\n",
               (unsigned long long)exchanges);
        damaged = 1;
    }
    if (bad) {
        printf("  BAD LINES  %llu line%s could not be read (first: line %llu)\n", (unsigned long long)bad,
               bad == 1 ? "" : "s", (unsigned long long)first_bad_line);
        damaged = 1;
    }
    counts_sort(&reasons);
    for (size_t i = 0; i < reasons.n; i++)
        printf("  incomplete %llu: %s\n", (unsigned long long)reasons.v[i].n, reasons.v[i].key);
    counts_free(&ops);
    counts_free(&streams);
    counts_free(&reasons);
    counts_free(&statuses);
    puts_free(&pu);
    return damaged;
}

int snapshot_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "ls") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "stats") != 0) {
        fprintf(stderr, "kintape snapshot: unknown subcommand '%s' (ls, show or stats)\n", sub);
        return 2;
    }
    enum { O_OP = 1000, O_STREAM, O_BODY };
    static const struct option opts[] = {
        {"op", required_argument, NULL, O_OP},
        {"stream", required_argument, NULL, O_STREAM},
        {"body-limit", required_argument, NULL, O_BODY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct filter f = {NULL, NULL, -1, 2048};
    struct kt_err err;
    optind = 2;
    int ch;
    while ((ch = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        switch (ch) {
        case O_OP: f.ops = optarg; break;
        case O_STREAM: f.stream = optarg; break;
        case 'n':
            if (kt_arg_int("-n", optarg, "a count", 0, INT64_MAX, &f.limit, &err) != 0) {
                fprintf(stderr, "kintape snapshot: %s\n", err.msg);
                return 2;
            }
            break;
        case O_BODY:
            if (kt_arg_int("--body-limit", optarg, "a number of bytes", 0, INT64_MAX, &f.body_limit, &err) != 0) {
                fprintf(stderr, "kintape snapshot: %s\n", err.msg);
                return 2;
            }
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "kintape snapshot %s: give one snapshot file\n", sub);
        return 2;
    }
    struct snap_reader *r = snap_reader_open(argv[optind], &err);
    if (!r) {
        fprintf(stderr, "kintape snapshot: %s\n", err.msg);
        return 2;
    }
    int damaged = 0;
    if (strcmp(sub, "stats") == 0) {
        damaged = stats(r, &err);
    } else {
        struct snap_rec rec;
        int rc;
        long long shown = 0;
        while ((f.limit < 0 || shown < f.limit) && (rc = snap_reader_next(r, &rec, &err)) != 0) {
            if (rc < 0) {
                fprintf(stderr, "kintape snapshot: %s\n", err.msg);
                damaged = 1;
                continue;
            }
            if (!rec_matches(&f, &rec))
                continue;
            if (sub[0] == 'l')
                ls_line(r, &rec);
            else
                show(r, &rec, f.body_limit);
            shown++;
        }
        if (f.limit < 0 && !r->end.present) {
            fprintf(stderr, "kintape snapshot: %s has no end record: it was cut short\n", r->path);
            damaged = 1;
        }
    }
    snap_reader_close(r);
    return damaged ? 1 : 0;
}
