/*
 * snap.c — snapshot reader and writer (format: snapshots/FORMAT.md).
 *
 * Writing: each exchange becomes one JSON line built in a kbuf and written
 * through a large stdio buffer. Reading: lines are cut from a read buffer and
 * parsed in place with jread, so a line costs no allocation once the buffers
 * have grown to the largest line.
 */
#include "snap.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "jsonw.h"
#include "ktime.h"
#include "mem.h"
#include "outfile.h"
#include "utf8.h"

/* ------------------------------------------------------------ statistics */

int snap_stats_lossless(const struct snap_stats *st)
{
    return st->dropped_kernel == 0 && st->dropped_interface == 0 && st->tcp_gaps == 0 &&
           st->truncated_packets == 0 && st->unparsable == 0 && st->evicted_idle == 0 &&
           st->evicted_memory == 0 && st->incomplete == 0 && st->orphan_responses == 0;
}

int snap_stats_data_lost(const struct snap_stats *st)
{
    return st->dropped_kernel || st->dropped_interface || st->tcp_gaps || st->truncated_packets ||
           st->tls_connections || st->unparsable || st->other_connections || st->evicted_memory;
}

static void problem(struct kbuf *out, uint64_t n, const char *one, const char *many)
{
    if (!n)
        return;
    if (out->len)
        kbuf_puts(out, "; ");
    kbuf_appendf(out, "%llu %s", (unsigned long long)n, n == 1 ? one : many);
}

void snap_stats_problems(const struct snap_stats *st, struct kbuf *out)
{
    problem(out, st->dropped_kernel, "packet dropped by the kernel", "packets dropped by the kernel");
    problem(out, st->dropped_interface, "packet dropped by the interface", "packets dropped by the interface");
    problem(out, st->tcp_gaps, "TCP gap", "TCP gaps");
    if (st->tcp_gaps)
        kbuf_appendf(out, " (%llu bytes missing)", (unsigned long long)st->tcp_gap_bytes);
    problem(out, st->truncated_packets, "packet cut short or not decodable",
            "packets cut short or not decodable");
    problem(out, st->tls_connections, "TLS connection not readable", "TLS connections not readable");
    if (st->tls_connections)
        kbuf_appendf(out, " (%s%s%srecord TLS with kintape proxy)", st->tls_names[0] ? "server names " : "",
                     st->tls_names, st->tls_names[0] ? ": " : "");
    problem(out, st->other_connections, "connection not starting as HTTP", "connections not starting as HTTP");
    problem(out, st->unparsable, "stretch of bytes not parsable as HTTP", "stretches of bytes not parsable as HTTP");
    if (st->unparsable)
        kbuf_appendf(out, " (%llu bytes)", (unsigned long long)st->unparsable_bytes);
    problem(out, st->evicted_idle, "connection evicted as idle", "connections evicted as idle");
    problem(out, st->evicted_memory, "connection evicted by the memory cap", "connections evicted by the memory cap");
    if (st->evicted_memory)
        kbuf_appendf(out, " (%llu bytes held)", (unsigned long long)st->evicted_bytes);
    problem(out, st->orphan_responses, "response without a captured request", "responses without a captured request");
    problem(out, st->incomplete, "exchange incomplete", "exchanges incomplete");
}

/* The proxy's notes: not loss of what passed, but what did not pass. */
static void proxy_notes(const struct snap_stats *st, struct kbuf *out)
{
    problem(out, st->handshake_failures, "client TLS handshake failed (not recorded)",
            "client TLS handshakes failed (not recorded)");
    problem(out, st->upstream_failures, "request the upstream failed (502/504 to the client)",
            "requests the upstream failed (502/504 to the client)");
    problem(out, st->refused, "request refused by the proxy", "requests refused by the proxy");
}

/* --------------------------------------------------------------- writing */

struct snap_writer {
    struct outfile *f;
    struct kbuf line;
};

static int write_line(struct snap_writer *w, struct kt_err *err)
{
    kbuf_putc(&w->line, '\n');
    int rc = outfile_write(w->f, w->line.p, w->line.len, err);
    kbuf_reset(&w->line);
    return rc;
}

struct snap_writer *snap_writer_open(const char *path, const struct snap_source *src, int64_t created_ns,
                                     const char *tool, struct kt_err *err)
{
    struct outfile *f = outfile_open(path, err);
    if (!f)
        return NULL;
    struct snap_writer *w = xcalloc(1, sizeof *w);
    w->f = f;
    char ts[KT_RFC3339_MAX];
    kt_fmt_rfc3339(ts, created_ns, 9);
    struct kbuf *b = &w->line;
    kbuf_appendf(b, "{\"kintape_snapshot\":%d,\"minor\":%d,\"created\":\"%s\",\"tool\":", SNAP_MAJOR, SNAP_MINOR,
                 ts);
    jw_cstr(b, tool);
    kbuf_puts(b, ",\"source\":{\"type\":");
    jw_cstr(b, src->type);
    kbuf_puts(b, ",\"name\":");
    jw_cstr(b, src->name ? src->name : "");
    kbuf_puts(b, ",\"filter\":");
    jw_cstr(b, src->filter ? src->filter : "");
    kbuf_appendf(b, ",\"snaplen\":%d", src->snaplen);
    if (src->mode) {
        kbuf_puts(b, ",\"mode\":");
        jw_cstr(b, src->mode);
        kbuf_puts(b, ",\"upstream\":");
        if (src->upstream)
            jw_cstr(b, src->upstream);
        else
            kbuf_puts(b, "null");
    }
    kbuf_puts(b, "}}");
    if (write_line(w, err) != 0) {
        snap_writer_close(w, NULL, NULL);
        return NULL;
    }
    return w;
}

static void write_time(struct kbuf *b, const char *key, const char *key_ns, int64_t ns)
{
    char ts[KT_RFC3339_MAX];
    kt_fmt_rfc3339(ts, ns, 9);
    kbuf_appendf(b, "\"%s\":\"%s\",\"%s\":", key, ts, key_ns);
    kbuf_append_i64(b, ns);
}

static void write_msg(struct kbuf *b, const struct snap_msg *m, int is_request)
{
    kbuf_putc(b, '{');
    if (is_request) {
        kbuf_puts(b, "\"method\":");
        jw_cstr(b, m->method ? m->method : "");
        kbuf_puts(b, ",\"target\":");
        jw_cstr(b, m->target ? m->target : "");
    } else {
        write_time(b, "ts", "ts_ns", m->ts_ns);
        kbuf_appendf(b, ",\"status\":%d,\"reason\":", m->status);
        jw_cstr(b, m->reason ? m->reason : "");
    }
    kbuf_puts(b, ",\"version\":");
    jw_cstr(b, m->version ? m->version : "HTTP/1.1");
    kbuf_puts(b, ",\"headers\":[");
    for (size_t i = 0; i < m->nheaders; i++) {
        if (i)
            kbuf_putc(b, ',');
        kbuf_putc(b, '[');
        jw_str(b, m->headers[i].name, m->headers[i].name_len);
        kbuf_putc(b, ',');
        jw_str(b, m->headers[i].value, m->headers[i].value_len);
        kbuf_putc(b, ']');
    }
    kbuf_puts(b, "],\"body\":");
    if (jw_str_utf8(b, (const char *)m->body, m->body_len) != 0) {
        jw_base64(b, m->body, m->body_len);
        kbuf_puts(b, ",\"body_encoding\":\"base64\"");
    }
    kbuf_appendf(b, ",\"body_bytes\":%zu}", m->body_len);
}

int snap_writer_add(struct snap_writer *w, const struct snap_exchange *x, struct kt_err *err)
{
    struct kbuf *b = &w->line;
    kbuf_reserve(b, x->req.body_len + (x->resp ? x->resp->body_len : 0) + 1024);
    kbuf_putc(b, '{');
    write_time(b, "ts", "ts_ns", x->ts_ns);
    kbuf_puts(b, ",\"client\":{\"ip\":");
    jw_cstr(b, x->client_ip);
    kbuf_appendf(b, ",\"port\":%u},\"server\":{\"ip\":", x->client_port);
    jw_cstr(b, x->server_ip);
    kbuf_appendf(b, ",\"port\":%u},\"conn\":%llu,\"n\":%u,\"http\":{\"request\":", x->server_port,
                 (unsigned long long)x->conn, x->n);
    write_msg(b, &x->req, 1);
    kbuf_puts(b, ",\"response\":");
    if (x->resp)
        write_msg(b, x->resp, 0);
    else
        kbuf_puts(b, "null");
    kbuf_putc(b, '}');
    if (x->resp && x->end_ns) {
        kbuf_puts(b, ",\"duration_ns\":");
        kbuf_append_i64(b, x->end_ns - x->ts_ns);
    }
    kbuf_puts(b, ",\"kinesis\":{\"operation\":");
    if (x->operation)
        jw_str(b, x->operation, x->operation_len);
    else
        kbuf_puts(b, "null");
    kbuf_puts(b, ",\"stream\":");
    if (x->stream)
        jw_str(b, x->stream, x->stream_len);
    else
        kbuf_puts(b, "null");
    kbuf_putc(b, '}');
    if (x->incomplete) {
        kbuf_puts(b, ",\"incomplete\":");
        jw_cstr(b, x->incomplete);
    }
    kbuf_putc(b, '}');
    int rc = write_line(w, err);
    if (b->cap > ((size_t)4 << 20))
        kbuf_free(b);
    return rc;
}

int snap_writer_flush(struct snap_writer *w, struct kt_err *err)
{
    return outfile_flush(w->f, err);
}

uint64_t snap_writer_bytes(const struct snap_writer *w)
{
    return outfile_bytes(w->f);
}

int snap_writer_close(struct snap_writer *w, const struct snap_stats *st, struct kt_err *err)
{
    int rc = 0;
    if (st) {
        struct kbuf *b = &w->line;
        char ts[KT_RFC3339_MAX];
        kt_fmt_rfc3339(ts, st->ended_ns, 9);
        kbuf_appendf(b,
                     "{\"kintape_snapshot_end\":{\"ended\":\"%s\",\"exchanges\":%llu,\"complete\":%llu,"
                     "\"incomplete\":%llu,\"packets\":%llu,\"bytes\":%llu,\"dropped_kernel\":%llu,"
                     "\"dropped_interface\":%llu,\"tcp_gaps\":%llu,\"tcp_gap_bytes\":%llu,"
                     "\"retransmissions\":%llu,\"out_of_order\":%llu,\"truncated_packets\":%llu,"
                     "\"unparsable\":%llu,\"unparsable_bytes\":%llu,\"evicted_idle\":%llu,\"evicted_memory\":%llu,"
                     "\"evicted_bytes\":%llu,\"orphan_responses\":%llu,\"lossless\":%s,\"problems\":[",
                     ts, (unsigned long long)st->exchanges, (unsigned long long)st->complete,
                     (unsigned long long)st->incomplete, (unsigned long long)st->packets,
                     (unsigned long long)st->bytes, (unsigned long long)st->dropped_kernel,
                     (unsigned long long)st->dropped_interface, (unsigned long long)st->tcp_gaps,
                     (unsigned long long)st->tcp_gap_bytes, (unsigned long long)st->retransmissions,
                     (unsigned long long)st->out_of_order, (unsigned long long)st->truncated_packets,
                     (unsigned long long)st->unparsable, (unsigned long long)st->unparsable_bytes,
                     (unsigned long long)st->evicted_idle, (unsigned long long)st->evicted_memory,
                     (unsigned long long)st->evicted_bytes, (unsigned long long)st->orphan_responses,
                     snap_stats_lossless(st) ? "true" : "false");
        struct kbuf p = KBUF_INIT;
        snap_stats_problems(st, &p);
        if (st->proxy)
            proxy_notes(st, &p);
        /* One string per problem, split where snap_stats_problems joined them. */
        const char *s = p.p ? p.p : "";
        int first = 1;
        while (*s) {
            const char *e = strstr(s, "; ");
            size_t n = e ? (size_t)(e - s) : strlen(s);
            if (!first)
                kbuf_putc(b, ',');
            jw_str(b, s, n);
            first = 0;
            s += n + (e ? 2 : 0);
        }
        kbuf_free(&p);
        kbuf_putc(b, ']');
        if (st->tls_connections) {
            kbuf_appendf(b, ",\"tls_connections\":%llu,\"tls_server_names\":", (unsigned long long)st->tls_connections);
            jw_cstr(b, st->tls_names);
        }
        if (st->other_connections)
            kbuf_appendf(b, ",\"other_connections\":%llu", (unsigned long long)st->other_connections);
        if (st->proxy)
            kbuf_appendf(b, ",\"handshake_failures\":%llu,\"upstream_failures\":%llu,\"refused\":%llu",
                         (unsigned long long)st->handshake_failures, (unsigned long long)st->upstream_failures,
                         (unsigned long long)st->refused);
        kbuf_puts(b, "}}");
        rc = write_line(w, err);
    }
    struct kt_err cerr;
    if (outfile_close(w->f, &cerr) != 0 && rc == 0) {
        if (err)
            *err = cerr;
        rc = -1;
    }
    kbuf_free(&w->line);
    free(w);
    return rc;
}

/* --------------------------------------------------------------- reading */

#define READ_CHUNK ((size_t)1 << 20)

/*
 * Cuts the next line out of the read buffer (NUL-terminated, without its
 * newline). Returns 1 with the line and its length, 0 at the end of the file, -1 for a
 * line over SNAP_MAX_LINE (skipped; err set).
 */
static int read_line(struct snap_reader *r, char **line, size_t *len, struct kt_err *err)
{
    int too_long = 0;
    for (;;) {
        char *start = r->buf.p + r->buf_pos;
        size_t avail = r->buf.len - r->buf_pos;
        char *nl = avail ? memchr(start, '\n', avail) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - start);
            *nl = '\0';
            r->buf_pos += n + 1;
            r->offset += n + 1;
            r->line++;
            if (too_long) {
                kt_err_set(err, "%s:%llu: line longer than %zu bytes: skipped", r->path,
                           (unsigned long long)r->line, SNAP_MAX_LINE);
                return -1;
            }
            *line = start;
            *len = n;
            return 1;
        }
        if (r->eof) {
            if (avail == 0)
                return 0;
            /* The file ends inside a line: it was cut short. */
            r->line++;
            r->cut = 1;
            r->buf_pos = r->buf.len;
            r->offset += avail;
            kt_err_set(err, "%s:%llu: the file ends in the middle of this line (%zu bytes, no newline): the "
                            "snapshot was cut short",
                       r->path, (unsigned long long)r->line, avail);
            return -1;
        }
        if (avail > SNAP_MAX_LINE) {
            /* Drop what we have of an overlong line and keep looking for its end. */
            too_long = 1;
            r->offset += avail;
            r->buf_pos = r->buf.len;
            avail = 0;
        }
        /* Move the partial line to the front, then read more. */
        if (r->buf_pos) {
            memmove(r->buf.p, r->buf.p + r->buf_pos, avail);
            r->buf.len = avail;
            r->buf_pos = 0;
        }
        kbuf_reserve(&r->buf, READ_CHUNK);
        size_t got = fread(r->buf.p + r->buf.len, 1, READ_CHUNK, r->f);
        if (got == 0) {
            if (ferror(r->f)) {
                kt_err_set(err, "%s: read error: %s", r->path, strerror(errno));
                r->eof = 1;
                return -1;
            }
            r->eof = 1;
        }
        r->buf.len += got;
    }
}

static int64_t get_int(const struct jdoc *d, const struct jnode *obj, const char *key)
{
    long long v = 0;
    const struct jnode *n = jget(d, obj, key);
    if (n && jint(d, n, &v) == 0)
        return v;
    return 0;
}

static const char *get_str(const struct jdoc *d, const struct jnode *obj, const char *key)
{
    const struct jnode *n = jget(d, obj, key);
    return n && n->type == J_STR ? jstr(d, n) : NULL;
}

struct snap_reader *snap_reader_open(const char *path, struct kt_err *err)
{
    struct snap_reader *r = xcalloc(1, sizeof *r);
    r->path = xstrdup(path);
    jdoc_init(&r->doc);
    jdoc_init(&r->header);
    kbuf_reserve(&r->buf, READ_CHUNK);
    r->f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!r->f) {
        kt_err_set(err, "cannot open %s: %s", path, strerror(errno));
        snap_reader_close(r);
        return NULL;
    }
    posix_fadvise(fileno(r->f), 0, 0, POSIX_FADV_SEQUENTIAL);
    char *line;
    size_t len;
    int rc = read_line(r, &line, &len, err);
    if (rc == 0) {
        kt_err_set(err, "%s: empty file, not a kintape snapshot", path);
        snap_reader_close(r);
        return NULL;
    }
    if (rc < 0) {
        snap_reader_close(r);
        return NULL;
    }
    r->header_text = xstrndup(line, len);
    struct kt_err jerr;
    if (jdoc_parse(&r->header, r->header_text, len, &jerr, NULL) != 0 ||
        jroot(&r->header)->type != J_OBJ) {
        kt_err_set(err, "%s:1: not a kintape snapshot: the first line is not a JSON object", path);
        snap_reader_close(r);
        return NULL;
    }
    const struct jnode *v = jget(&r->header, jroot(&r->header), "kintape_snapshot");
    long long major;
    if (!v || jint(&r->header, v, &major) != 0) {
        kt_err_set(err, "%s:1: not a kintape snapshot: the header has no \"kintape_snapshot\" version", path);
        snap_reader_close(r);
        return NULL;
    }
    if (major != SNAP_MAJOR) {
        kt_err_set(err, "%s: snapshot format version %lld is not supported: this kintape reads version %d", path,
                   major, SNAP_MAJOR);
        snap_reader_close(r);
        return NULL;
    }
    r->major = (int)major;
    r->minor = (int)get_int(&r->header, jroot(&r->header), "minor");
    const char *created = get_str(&r->header, jroot(&r->header), "created");
    if (created)
        kt_parse_rfc3339(created, strlen(created), &r->created_ns, NULL);
    return r;
}

void snap_reader_close(struct snap_reader *r)
{
    if (!r)
        return;
    if (r->f && r->f != stdin)
        fclose(r->f);
    jdoc_free(&r->doc);
    jdoc_free(&r->header);
    kbuf_free(&r->buf);
    kbuf_free(&r->scratch);
    kbuf_free(&r->inflated);
    free(r->header_text);
    free(r->path);
    free(r);
}

static void read_end(struct snap_reader *r, const struct jnode *e)
{
    const struct jdoc *d = &r->doc;
    struct snap_stats *st = &r->end;
    memset(st, 0, sizeof *st);
    st->present = 1;
    const char *ended = get_str(d, e, "ended");
    if (ended)
        kt_parse_rfc3339(ended, strlen(ended), &st->ended_ns, NULL);
#define F(name) st->name = (uint64_t)get_int(d, e, #name)
    F(exchanges);
    F(complete);
    F(incomplete);
    F(packets);
    F(bytes);
    F(dropped_kernel);
    F(dropped_interface);
    F(tcp_gaps);
    F(tcp_gap_bytes);
    F(retransmissions);
    F(out_of_order);
    F(truncated_packets);
    F(unparsable);
    F(unparsable_bytes);
    F(evicted_idle);
    F(evicted_memory);
    F(evicted_bytes);
    F(orphan_responses);
    F(handshake_failures);
    F(upstream_failures);
    F(refused);
    F(tls_connections);
    F(other_connections);
    const char *names = get_str(d, e, "tls_server_names");
    if (names)
        snprintf(st->tls_names, sizeof st->tls_names, "%s", names);
    st->proxy = jget(d, e, "handshake_failures") != NULL;
#undef F
}

int snap_reader_next(struct snap_reader *r, struct snap_rec *rec, struct kt_err *err)
{
    char *line;
    size_t len;
    if (r->end.present) {
        /* Anything after the end record is ignored, but not silently. */
        int rc = read_line(r, &line, &len, err);
        if (rc > 0 && len > 0) {
            kt_err_set(err, "%s:%llu: data after the end record", r->path, (unsigned long long)r->line);
            return -1;
        }
        return rc < 0 ? -1 : 0;
    }
    int rc;
    do {
        rc = read_line(r, &line, &len, err);
        if (rc <= 0)
            return rc;
    } while (len == 0);
    struct kt_err jerr;
    if (jdoc_parse(&r->doc, line, len, &jerr, NULL) != 0) {
        kt_err_set(err, "%s:%llu: %s", r->path, (unsigned long long)r->line, jerr.msg);
        return -1;
    }
    const struct jdoc *d = &r->doc;
    const struct jnode *root = jroot(d);
    if (root->type != J_OBJ) {
        kt_err_set(err, "%s:%llu: not an exchange: the line is %s, not a JSON object", r->path,
                   (unsigned long long)r->line, jtype_name((enum jtype)root->type));
        return -1;
    }
    const struct jnode *end = jget(d, root, "kintape_snapshot_end");
    if (end && end->type == J_OBJ) {
        read_end(r, end);
        return 0;
    }
    const struct jnode *http = jget(d, root, "http");
    const struct jnode *req = jget(d, http, "request");
    const struct jnode *ts = jget(d, root, "ts_ns");
    long long ts_ns;
    if (!req || req->type != J_OBJ || !ts || jint(d, ts, &ts_ns) != 0) {
        kt_err_set(err, "%s:%llu: not an exchange: %s is missing", r->path, (unsigned long long)r->line,
                   !req || req->type != J_OBJ ? "http.request" : "ts_ns");
        return -1;
    }
    const struct jnode *body = jget(d, req, "body");
    if (!body || body->type != J_STR) {
        kt_err_set(err, "%s:%llu: not an exchange: http.request.body is missing or not a string", r->path,
                   (unsigned long long)r->line);
        return -1;
    }
    const struct jnode *resp = jget(d, http, "response");
    const struct jnode *kin = jget(d, root, "kinesis");
    rec->line = r->line;
    rec->root = root;
    rec->ts_ns = ts_ns;
    rec->req = req;
    rec->resp = resp && resp->type == J_OBJ ? resp : NULL;
    rec->status = rec->resp ? (int)get_int(d, rec->resp, "status") : 0;
    rec->operation = get_str(d, kin, "operation");
    rec->stream = get_str(d, kin, "stream");
    rec->incomplete = get_str(d, root, "incomplete");
    return 1;
}

/* A gzip body (Content-Encoding: gzip) decoded into r->inflated, at most SNAP_MAX_LINE bytes. */
static int gunzip(struct snap_reader *r, const uint8_t **body, size_t *len, struct kt_err *err)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        kt_err_set(err, "%s:%llu: cannot start a gzip decoder", r->path, (unsigned long long)r->line);
        return -1;
    }
    kbuf_reset(&r->inflated);
    z.next_in = (Bytef *)(uintptr_t)*body;
    z.avail_in = (uInt)*len;
    int rc;
    do {
        kbuf_reserve(&r->inflated, 65536);
        z.next_out = (Bytef *)r->inflated.p + r->inflated.len;
        z.avail_out = (uInt)(r->inflated.cap - r->inflated.len - 1);
        size_t room = z.avail_out;
        rc = inflate(&z, Z_NO_FLUSH);
        r->inflated.len += room - z.avail_out;
        if (r->inflated.len > SNAP_MAX_LINE) {
            rc = Z_MEM_ERROR;
            break;
        }
    } while (rc == Z_OK);
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        kt_err_set(err, "%s:%llu: the body says Content-Encoding: gzip but cannot be decoded (%s)", r->path,
                   (unsigned long long)r->line,
                   rc == Z_MEM_ERROR ? "larger than 256 MiB decoded" : rc == Z_BUF_ERROR ? "cut short" : "not gzip");
        return -1;
    }
    *body = (const uint8_t *)r->inflated.p;
    *len = r->inflated.len;
    return 0;
}

static int raw_body(struct snap_reader *r, const struct jnode *msg, const uint8_t **body, size_t *len,
                    struct kt_err *err);

int snap_body(struct snap_reader *r, const struct jnode *msg, const uint8_t **body, size_t *len,
              struct kt_err *err)
{
    if (raw_body(r, msg, body, len, err) != 0)
        return -1;
    const char *ce = snap_header(r, msg, "content-encoding");
    if (ce && strncasecmp(ce, "gzip", 4) == 0 && (ce[4] == '\0' || ce[4] == ' ' || ce[4] == ';'))
        return gunzip(r, body, len, err);
    return 0;
}

static int raw_body(struct snap_reader *r, const struct jnode *msg, const uint8_t **body, size_t *len,
                    struct kt_err *err)
{
    const struct jdoc *d = &r->doc;
    const struct jnode *b = jget(d, msg, "body");
    if (!b || b->type != J_STR) {
        kt_err_set(err, "%s:%llu: the message has no body string", r->path, (unsigned long long)r->line);
        return -1;
    }
    const char *enc = get_str(d, msg, "body_encoding");
    if (enc && strcmp(enc, "base64") == 0) {
        size_t bad = 0;
        kbuf_reset(&r->scratch);
        kbuf_reserve(&r->scratch, b64_decoded_max(b->len));
        if (b64_decode((uint8_t *)r->scratch.p, jstr(d, b), b->len, len, &bad) != 0) {
            kt_err_set(err, "%s:%llu: the base64 body is invalid at character %zu", r->path,
                       (unsigned long long)r->line, bad);
            return -1;
        }
        *body = (const uint8_t *)r->scratch.p;
        return 0;
    }
    if (enc && strcmp(enc, "utf8") != 0) {
        kt_err_set(err, "%s:%llu: unknown body_encoding \"%s\"", r->path, (unsigned long long)r->line, enc);
        return -1;
    }
    *body = (const uint8_t *)jstr(d, b);
    *len = b->len;
    return 0;
}

const char *snap_header(const struct snap_reader *r, const struct jnode *msg, const char *name)
{
    const struct jdoc *d = &r->doc;
    const struct jnode *hs = jget(d, msg, "headers");
    const char *found = NULL;
    for (const struct jnode *h = jfirst(d, hs); h; h = jnext(d, hs, h)) {
        const struct jnode *k = jfirst(d, h);
        const struct jnode *v = k ? jnext(d, h, k) : NULL;
        if (k && v && k->type == J_STR && v->type == J_STR && strcasecmp(jstr(d, k), name) == 0)
            found = jstr(d, v);
    }
    return found;
}
