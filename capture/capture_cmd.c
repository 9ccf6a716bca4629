/*
 * capture_cmd.c — `kintape capture`: the libpcap source (pcapsrc.c) feeds
 * the frame engine (capture.c), whose exchanges the exchange writer
 * (xwriter.c) turns into a snapshot. This front end owns the options, the
 * terminal and the signals: a live capture stops on SIGINT/SIGTERM, after
 * --duration or after --count exchanges, and always closes the snapshot with
 * its end record and the kernel's drop counters.
 */
#include "capture_cmd.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "capture.h"
#include "ktime.h"
#include "mem.h"
#include "pcapsrc.h"
#include "pcapsurvey.h"
#include "version.h"
#include "xwriter.h"

static const char usage[] =
    "usage: kintape capture (-i IFACE | -r FILE) [--port N]... [--filter BPF] -o SNAP.jsonl [options]\n"
    "\n"
    "Records the HTTP exchanges between applications and a Kinesis endpoint into a snapshot\n"
    "(one JSON line per request and its response; see snapshots/FORMAT.md).\n"
    "\n"
    "  -i, --interface IFACE    capture live on IFACE (needs root or CAP_NET_RAW)\n"
    "  -r, --read FILE          read a pcap or pcapng file instead\n"
    "  -o, --output SNAP        snapshot to write (\"-\" for standard output)\n"
    "  --port N                 the endpoint's TCP port (default 4566; repeat for several)\n"
    "  --filter BPF             any BPF expression instead of --port, e.g. 'tcp port 80 and host 10.0.0.5'\n"
    "  --duration SEC           stop a live capture after SEC seconds\n"
    "  --count N                stop after N exchanges are written\n"
    "  --snaplen BYTES          bytes kept per packet (default 262144: whole packets)\n"
    "  --buffer-size MIB        kernel capture buffer (default 256)\n"
    "  --max-body BYTES         largest HTTP body kept (default 67108864)\n"
    "  --max-memory BYTES       bytes held for unfinished exchanges (default 1073741824)\n"
    "  --idle-timeout SEC       a connection quiet this long is closed out (default 300)\n"
    "  --immediate              libpcap immediate mode: packets handed over at once instead of in\n"
    "                           blocks of up to 50 ms (uses fixed-size ring frames: fewer fit)\n"
    "  -q, --quiet              no summary on stderr\n"
    "  -h, --help               this help\n"
    "\n"
    "examples:\n"
    "  kintape capture -i lo --port 4566 -o orders.snap.jsonl            # until Ctrl-C\n"
    "  kintape capture -i eth0 --filter 'tcp port 8080' --duration 60 -o app.snap.jsonl\n"
    "  kintape capture -r traffic.pcap --port 4566 -o orders.snap.jsonl\n"
    "\n"
    "exit status: 0 captured without loss, 1 something was lost (dropped packets, TCP gaps,\n"
    "a truncated pcap; the summary and the snapshot's end record say what), 2 bad usage or input.\n";

static struct pcapsrc *active;

static void on_signal(int sig)
{
    (void)sig;
    if (active)
        pcapsrc_stop(active);
}

/* The chain behind the source: frames into the engine, exchanges into the snapshot. */
struct run {
    struct capture *cap;
    struct snap_writer *w;
    uint64_t count;            /* stop after this many exchanges (0: no limit) */
    int failed;
    struct kt_err err;
};

static int on_frame(void *ctx, int linktype, int64_t ts, const uint8_t *data, uint32_t caplen, uint32_t len)
{
    struct run *r = ctx;
    if (capture_frame(r->cap, linktype, ts, data, caplen, len, &r->err) != 0) {
        r->failed = 1;
        return -1;
    }
    return 0;
}

static int on_tick(void *ctx, int64_t now_ns)
{
    struct run *r = ctx;
    if (capture_tick(r->cap, now_ns, &r->err) != 0 || snap_writer_flush(r->w, &r->err) != 0) {
        r->failed = 1;
        return -1;
    }
    return 0;
}

static int on_enough(void *ctx)
{
    struct run *r = ctx;
    if (!r->count)
        return 0;
    struct snap_stats st;
    capture_stats(r->cap, &st);
    return st.exchanges >= r->count;
}

static void summary(const char *out, const struct snap_stats *st, double secs)
{
    fprintf(stderr,
            "kintape capture: %llu exchanges (%llu complete, %llu incomplete) written to %s in %.1fs; "
            "%llu packets, %llu bytes\n",
            (unsigned long long)st->exchanges, (unsigned long long)st->complete,
            (unsigned long long)st->incomplete, out, secs, (unsigned long long)st->packets,
            (unsigned long long)st->bytes);
    fprintf(stderr,
            "kintape capture: dropped by kernel %llu, by interface %llu; TCP gaps %llu (%llu bytes); "
            "retransmissions %llu; out of order %llu; unparsable %llu\n",
            (unsigned long long)st->dropped_kernel, (unsigned long long)st->dropped_interface,
            (unsigned long long)st->tcp_gaps, (unsigned long long)st->tcp_gap_bytes,
            (unsigned long long)st->retransmissions, (unsigned long long)st->out_of_order,
            (unsigned long long)st->unparsable);
}

int capture_main(int argc, char **argv)
{
    enum { O_PORT = 1000, O_FILTER, O_DURATION, O_COUNT, O_SNAPLEN, O_BUFFER, O_MAXBODY, O_MAXMEM, O_IDLE,
           O_IMMEDIATE, O_REPRO };
    static const struct option opts[] = {
        {"interface", required_argument, NULL, 'i'},
        {"read", required_argument, NULL, 'r'},
        {"output", required_argument, NULL, 'o'},
        {"port", required_argument, NULL, O_PORT},
        {"filter", required_argument, NULL, O_FILTER},
        {"duration", required_argument, NULL, O_DURATION},
        {"count", required_argument, NULL, O_COUNT},
        {"snaplen", required_argument, NULL, O_SNAPLEN},
        {"buffer-size", required_argument, NULL, O_BUFFER},
        {"max-body", required_argument, NULL, O_MAXBODY},
        {"max-memory", required_argument, NULL, O_MAXMEM},
        {"idle-timeout", required_argument, NULL, O_IDLE},
        {"immediate", no_argument, NULL, O_IMMEDIATE},
        {"reproducible", no_argument, NULL, O_REPRO},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    uint16_t ports[16];
    long long duration = 0, count = 0, snaplen = 262144, buffer_mb = 256, v;
    int quiet = 0, reproducible = 0;
    struct pcapsrc_opts so = {0};
    struct capture_config cfg;
    capture_config_defaults(&cfg);
    struct kt_err err;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "i:r:o:qh", opts, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case 'i': so.iface = optarg; break;
        case 'r': so.file = optarg; break;
        case 'o': out = optarg; break;
        case 'q': quiet = 1; break;
        case O_FILTER: so.filter = optarg; break;
        case O_IMMEDIATE: so.immediate = 1; break;
        case O_REPRO: reproducible = 1; break;
        case O_PORT:
            if (so.nports == 16) {
                kt_err_set(&err, "--port can be given at most 16 times");
                bad = 1;
            } else if (!(bad = kt_arg_int("--port", optarg, "a port number", 1, 65535, &v, &err))) {
                ports[so.nports++] = (uint16_t)v;
            }
            break;
        case O_DURATION:
            bad = kt_arg_int("--duration", optarg, "a number of seconds", 1, 100000000, &duration, &err);
            break;
        case O_COUNT:
            bad = kt_arg_int("--count", optarg, "a number of exchanges", 1, 1LL << 50, &count, &err);
            break;
        case O_SNAPLEN:
            bad = kt_arg_int("--snaplen", optarg, "a number of bytes", 128, 262144, &snaplen, &err);
            break;
        case O_BUFFER:
            bad = kt_arg_int("--buffer-size", optarg, "a number of MiB", 1, 4096, &buffer_mb, &err);
            break;
        case O_MAXBODY:
            bad = kt_arg_int("--max-body", optarg, "a number of bytes", 1024, 1LL << 32, &v, &err);
            cfg.max_body = (size_t)v;
            break;
        case O_MAXMEM:
            bad = kt_arg_int("--max-memory", optarg, "a number of bytes", 1 << 20, 1LL << 40, &v, &err);
            cfg.max_memory = (size_t)v;
            break;
        case O_IDLE:
            bad = kt_arg_int("--idle-timeout", optarg, "a number of seconds", 1, 86400, &v, &err);
            cfg.idle_ns = v * KT_NS_PER_SEC;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "kintape capture: %s\n", err.msg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kintape capture: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!!so.iface == !!so.file) {
        fprintf(stderr, "kintape capture: give exactly one of -i IFACE (live) or -r FILE (pcap)\n%s", usage);
        return 2;
    }
    if (!out) {
        fprintf(stderr, "kintape capture: -o SNAP.jsonl is required\n");
        return 2;
    }
    if (so.filter && so.nports) {
        fprintf(stderr, "kintape capture: give --port or --filter, not both\n");
        return 2;
    }
    if (reproducible && so.iface) {
        fprintf(stderr, "kintape capture: --reproducible is for reading pcap files (-r)\n");
        return 2;
    }
    if (!so.filter && !so.nports)
        ports[so.nports++] = 4566;
    so.ports = ports;
    so.snaplen = (int)snaplen;
    so.buffer_mb = (int)buffer_mb;
    so.program = argv[0] && strchr(argv[0], '/') ? argv[0] : "kintape";
    cfg.server_ports = ports;
    cfg.nports = so.nports;

    struct pcapsrc *src = pcapsrc_open(&so, &err);
    if (!src) {
        fprintf(stderr, "kintape capture: %s\n", err.msg);
        return 2;
    }
    if (pcapsrc_warning(src)[0])
        fprintf(stderr, "kintape capture: warning: %s\n", pcapsrc_warning(src));
    struct snap_source ss = {so.iface ? "interface" : "file", so.iface ? so.iface : so.file, pcapsrc_filter(src),
                             (int)snaplen, NULL, NULL};
    char tool[64];
    snprintf(tool, sizeof tool, reproducible ? "kintape" : "kintape %s", kt_version());
    int64_t created = reproducible ? pcapsrc_first_ts(so.file) : kt_now_ns();
    struct snap_writer *w = snap_writer_open(out, &ss, created, tool, &err);
    if (!w) {
        fprintf(stderr, "kintape capture: %s\n", err.msg);
        pcapsrc_close(src);
        return 2;
    }
    struct xwriter *xw = xw_new(w, cfg.reorder_ns);
    struct run r = {.cap = capture_new(&cfg, xw), .w = w, .count = (uint64_t)count};
    int64_t t0 = kt_mono_ns();

    active = src;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (so.iface && !quiet)
        fprintf(stderr, "kintape capture: capturing on %s (%s) into %s; Ctrl-C stops\n", so.iface,
                pcapsrc_filter(src), out);
    struct pcapsrc_sink sink = {&r, on_frame, on_tick, on_enough};
    struct kt_err input;
    enum pcapsrc_end why = pcapsrc_run(src, &sink, duration ? t0 + duration * KT_NS_PER_SEC : 0, &input);
    active = NULL;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    int input_error = why == PCAPSRC_INPUT_ERROR;

    struct snap_stats st;
    int64_t last = pcapsrc_last_ts(src);
    int64_t end_ts = so.iface ? kt_now_ns() : (last ? last : created);
    enum capture_end how = so.file && (why == PCAPSRC_EOF || input_error) ? CAPTURE_END_FILE : CAPTURE_END_STOPPED;
    if (capture_finish(r.cap, end_ts, how, &st, r.failed ? NULL : &r.err) != 0)
        r.failed = 1;
    uint64_t kd, id;
    if (pcapsrc_drops(src, &kd, &id) == 0) {
        st.dropped_kernel = kd;
        st.dropped_interface = id;
    }
    if (input_error)
        st.truncated_packets++;
    for (size_t i = 0; capture_note(r.cap, i); i++)
        fprintf(stderr, "kintape capture: %s\n", capture_note(r.cap, i));
    capture_free(r.cap);
    xw_free(xw);
    struct kt_err cerr;
    if (snap_writer_close(w, &st, &cerr) != 0 && !r.failed) {
        r.failed = 1;
        r.err = cerr;
    }
    uint64_t frames = pcapsrc_frames(src);
    char filter_used[1024];
    snprintf(filter_used, sizeof filter_used, "%s", pcapsrc_filter(src));
    pcapsrc_close(src);

    if (input_error)
        fprintf(stderr, "kintape capture: %s\n", input.msg);
    if (r.failed) {
        fprintf(stderr, "kintape capture: %s\n", r.err.msg);
        return 1;
    }
    if (!quiet)
        summary(out, &st, (double)(kt_mono_ns() - t0) / 1e9);
    if (so.file && frames == 0 && !r.failed) {
        /* Nothing matched: say what the file does hold, so the right --port can be picked. */
        struct kbuf seen = KBUF_INIT;
        struct kt_err serr;
        if (pcap_survey(so.file, &seen, &serr) == 0)
            fprintf(stderr, "kintape capture: note: nothing in %s matched '%s'; it holds %s (--port N or --filter "
                            "EXPR picks what to capture)\n", so.file, filter_used, seen.p);
        kbuf_free(&seen);
    }
    int lost = snap_stats_data_lost(&st) || input_error;
    if (!snap_stats_lossless(&st)) {
        struct kbuf pr = KBUF_INIT;
        snap_stats_problems(&st, &pr);
        fprintf(stderr, "kintape capture: %s: %s\n", lost ? "WARNING: data was lost" : "note", pr.p);
        kbuf_free(&pr);
    }
    return lost ? 1 : 0;
}
