/*
 * snap.h — reading and writing snapshots (the format is snapshots/FORMAT.md).
 *
 * Every part of kintape that touches snapshots goes through this module:
 * capture writes with snap_writer_*, `kintape snapshot` and the extractor
 * read with snap_reader_*. Both work a line at a time, so memory does not
 * grow with the file.
 */
#ifndef KT_SNAP_H
#define KT_SNAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "errbuf.h"
#include "jread.h"

#define SNAP_MAJOR 1
#define SNAP_MINOR 2
/* Longest line a reader accepts: a 10 MiB record is about 14 MB of JSON. */
#define SNAP_MAX_LINE ((size_t)256 << 20)

struct snap_source {
    const char *type;          /* "interface", "file" or "proxy" */
    const char *name;          /* the interface, the file, or the proxy's listening address */
    const char *filter;
    int snaplen;
    const char *mode;          /* proxy: "forward" or "reverse" */
    const char *upstream;      /* proxy, reverse mode: the upstream URL */
};

struct snap_kv {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* One HTTP message as capture hands it to the writer; the writer copies nothing it keeps. */
struct snap_msg {
    int64_t ts_ns;
    const char *method, *target;   /* request */
    int status;                    /* response */
    const char *reason;
    const char *version;
    const struct snap_kv *headers;
    size_t nheaders;
    const uint8_t *body;
    size_t body_len;
};

struct snap_exchange {
    int64_t ts_ns;
    int64_t end_ns;                /* response's last byte; 0 without a response */
    char client_ip[48];
    uint16_t client_port;
    char server_ip[48];
    uint16_t server_port;
    uint64_t conn;
    uint32_t n;
    struct snap_msg req;
    const struct snap_msg *resp;   /* NULL when none was captured */
    const char *incomplete;        /* why the exchange is not whole, or NULL */
    const char *operation;         /* NULL when unknown */
    size_t operation_len;
    const char *stream;
    size_t stream_len;
};

/* Integrity counters of a capture, written in the end record. */
struct snap_stats {
    int64_t ended_ns;
    uint64_t exchanges, complete, incomplete;
    uint64_t packets, bytes;
    uint64_t dropped_kernel, dropped_interface;
    uint64_t tcp_gaps, tcp_gap_bytes, retransmissions, out_of_order, truncated_packets;
    uint64_t unparsable, unparsable_bytes;
    uint64_t evicted_idle, evicted_memory;
    uint64_t evicted_bytes;        /* held by the connections evicted by the memory cap (minor 1) */
    uint64_t orphan_responses;
    uint64_t tls_connections;      /* TLS connections the capture could not read (minor 2; written when not 0) */
    char tls_names[256];           /* the server names they asked for */
    uint64_t other_connections;    /* connections seen from their start whose first bytes are not HTTP (minor 2; when not 0) */
    /* The recording proxy's (minor 2; written when proxy is set): */
    int proxy;
    uint64_t handshake_failures;   /* clients whose TLS handshake with the proxy failed */
    uint64_t upstream_failures;    /* requests the upstream could not be reached for, or did not answer */
    uint64_t refused;              /* requests and CONNECTs the proxy refused (not allowed, malformed) */
    int present;                   /* reader: an end record was read */
};

/* 1 when the counters show no loss at all. */
int snap_stats_lossless(const struct snap_stats *st);
/*
 * 1 when bytes on the wire were missed (drops, TCP gaps, packets cut
 * short) or could not be read (TLS, bytes not parsable as HTTP, other
 * protocols): what makes capture, snapshot stats and extract exit 1.
 * Exchanges cut by the end of the capture, or never answered, are noted,
 * not failures.
 */
int snap_stats_data_lost(const struct snap_stats *st);
/* "1 TCP gap (1448 bytes missing); 2 exchanges incomplete" into out; "" when lossless. */
void snap_stats_problems(const struct snap_stats *st, struct kbuf *out);

/* -------------------------------------------------------------- writing */

struct snap_writer;

/*
 * Creates `path` ("-" for standard output) and writes the header. Returns
 * NULL with the reason in err.
 */
struct snap_writer *snap_writer_open(const char *path, const struct snap_source *src, int64_t created_ns,
                                     const char *tool, struct kt_err *err);
/* Appends one exchange line. Returns 0, or -1 (a write error) with err set. */
int snap_writer_add(struct snap_writer *w, const struct snap_exchange *x, struct kt_err *err);
/* Pushes buffered lines to the file. */
int snap_writer_flush(struct snap_writer *w, struct kt_err *err);
/* Writes the end record, closes and frees the writer (also on error). */
int snap_writer_close(struct snap_writer *w, const struct snap_stats *st, struct kt_err *err);
/* Bytes written so far. */
uint64_t snap_writer_bytes(const struct snap_writer *w);

/* -------------------------------------------------------------- reading */

struct snap_reader {
    FILE *f;
    char *path;
    uint64_t line;             /* number of the line last read, from 1 */
    uint64_t offset;           /* byte offset of the next line */
    int major, minor;
    int64_t created_ns;
    struct jdoc doc;           /* the current line */
    struct jdoc header;        /* the header line, kept */
    char *header_text;
    struct kbuf buf;           /* read buffer */
    size_t buf_pos;
    int eof;
    int cut;                   /* the file ended inside a line */
    struct snap_stats end;     /* the end record, when present */
    struct kbuf scratch;       /* decoded base64 bodies */
    struct kbuf inflated;      /* bodies with Content-Encoding: gzip, decoded */
};

/* One exchange line: views into the reader's current line, valid until the next read. */
struct snap_rec {
    uint64_t line;
    const struct jnode *root;
    int64_t ts_ns;
    const char *operation;     /* NULL when absent */
    const char *stream;
    const struct jnode *req;   /* http.request */
    const struct jnode *resp;  /* http.response, or NULL */
    int status;                /* response status, or 0 */
    const char *incomplete;
};

/* Opens a snapshot and reads its header; NULL with the reason (file and line) in err. */
struct snap_reader *snap_reader_open(const char *path, struct kt_err *err);
void snap_reader_close(struct snap_reader *r);

/*
 * Reads the next exchange. Returns 1 with rec filled, 0 at the end (after
 * the end record, or at the end of a file without one: check r->end.present
 * and r->cut), or -1 when this line is not a valid exchange (err names file
 * and line; reading may go on with the next line).
 */
int snap_reader_next(struct snap_reader *r, struct snap_rec *rec, struct kt_err *err);

/*
 * The body of a message node (http.request or http.response), decoded from
 * base64 when stored so, and from gzip when its Content-Encoding says so.
 * The bytes stay valid until the next call on r.
 * Returns 0, or -1 with err set.
 */
int snap_body(struct snap_reader *r, const struct jnode *msg, const uint8_t **body, size_t *len,
              struct kt_err *err);

/* A header's value from a message node (case-insensitive name), or NULL. */
const char *snap_header(const struct snap_reader *r, const struct jnode *msg, const char *name);

#endif
