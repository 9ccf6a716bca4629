/*
 * pcapsrc.h — libpcap as a source of frames: a live interface, or a pcap or
 * pcapng file.
 *
 * Live capture uses a full snap length, a large kernel buffer of packed
 * blocks (TPACKET_V3; see pcapsrc.c on immediate mode) and nanosecond time
 * stamps. Frames go to a sink (the frame engine, capture.c) as they are
 * read; the source knows nothing of what they carry.
 */
#ifndef KT_PCAPSRC_H
#define KT_PCAPSRC_H

#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"

struct pcapsrc_opts {
    const char *iface;         /* capture live on this interface, or */
    const char *file;          /* read this pcap/pcapng file */
    const char *filter;        /* a BPF expression, or NULL: TCP to or from `ports` */
    const uint16_t *ports;
    size_t nports;
    int snaplen;
    int buffer_mb;             /* live: the kernel buffer */
    int immediate;             /* live: libpcap's immediate mode */
    const char *program;       /* the path of this program, for the message on missing privileges */
};

/* Where frames go; each function returns 0 to go on. */
struct pcapsrc_sink {
    void *ctx;
    int (*frame)(void *ctx, int linktype, int64_t ts_ns, const uint8_t *data, uint32_t caplen, uint32_t len);
    /* Live: called between batches of frames (about every 100 ms when idle) with the wall-clock time. */
    int (*tick)(void *ctx, int64_t now_ns);
    /* 1 when the sink has what it wanted (--count). */
    int (*enough)(void *ctx);
};

enum pcapsrc_end {
    PCAPSRC_EOF,               /* the file was read to its end */
    PCAPSRC_STOPPED,           /* pcapsrc_stop was called */
    PCAPSRC_DEADLINE,          /* the deadline passed */
    PCAPSRC_ENOUGH,            /* the sink said so */
    PCAPSRC_INPUT_ERROR,       /* the file is truncated or corrupt, or the interface failed (err says where) */
    PCAPSRC_SINK_ERROR,        /* a sink function failed */
};

struct pcapsrc;

/*
 * Opens the interface or file and sets the filter. Returns NULL with err
 * set: a missing privilege says what is needed, a bad filter says so.
 */
struct pcapsrc *pcapsrc_open(const struct pcapsrc_opts *o, struct kt_err *err);
void pcapsrc_close(struct pcapsrc *s);

const char *pcapsrc_filter(const struct pcapsrc *s);   /* the BPF expression in use */
int pcapsrc_linktype(const struct pcapsrc *s);
const char *pcapsrc_warning(const struct pcapsrc *s);  /* what libpcap warned of when opening, or "" */

/*
 * Hands frames to the sink until the file ends, pcapsrc_stop, the deadline
 * (monotonic ns; 0: none), the sink's `enough` or an error. A live capture
 * then hands over what the kernel already holds, so stopping loses nothing
 * captured. Returns why it ended; for PCAPSRC_INPUT_ERROR err names the
 * packet and byte where the file went wrong.
 */
enum pcapsrc_end pcapsrc_run(struct pcapsrc *s, const struct pcapsrc_sink *sink, int64_t deadline_ns,
                             struct kt_err *err);

/* Makes pcapsrc_run return. Async-signal-safe: a signal handler may call it. */
void pcapsrc_stop(struct pcapsrc *s);

/* Frames read so far, and the capture time of the last one (0 before any). */
uint64_t pcapsrc_frames(const struct pcapsrc *s);
int64_t pcapsrc_last_ts(const struct pcapsrc *s);

/* The time stamp of the first packet of a pcap file (0 when it has none or cannot be read). */
int64_t pcapsrc_first_ts(const char *file);

/* Live: packets the kernel and the interface dropped. 0, or -1 when unknown. */
int pcapsrc_drops(struct pcapsrc *s, uint64_t *kernel, uint64_t *interface);

#endif
