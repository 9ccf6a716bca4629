/*
 * extract.c — snapshot to CSV (see extract.h).
 *
 * Follows the Kinesis API Reference for PutRecord / PutRecords requests and
 * responses: Records[i] of a PutRecords response answers Records[i] of its
 * request, with SequenceNumber and ShardId, or ErrorCode and ErrorMessage.
 *
 * The header must name the payload encoding before the first row, yet
 * whether every payload is text is only known at the end. With a file for
 * input and output, the first pass assumes text; at the first payload that
 * is not, it starts again with base64. Writing to a pipe, a first pass only
 * looks. Reading a pipe, payloads are written as base64 unless --encoding
 * says otherwise.
 */
#include "extract.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64.h"
#include "buf.h"
#include "jsonw.h"
#include "ktime.h"
#include "mem.h"
#include "outfile.h"
#include "simd.h"
#include "snap.h"
#include "utf8.h"

#define OUT_FLUSH ((size_t)1 << 20)

enum pass_mode { PASS_LOOK, PASS_RAW_TRY, PASS_RAW, PASS_BASE64 };

struct out {
    struct outfile *f;
    struct kbuf buf;           /* rows being built, handed to f in large pieces */
    int nfield;
};

struct pass {
    const struct extract_opts *o;
    enum pass_mode mode;
    struct snap_reader *r;
    struct out *out;
    struct extract_stats *st;
    struct kt_err *err;
    struct jdoc req, resp;
    struct kbuf scratch;
    int stop;                  /* 1: binary payload met (LOOK, RAW_TRY); -1: failed */
};

/* ----------------------------------------------------------------- output */

static int out_flush(struct out *o, struct kt_err *err)
{
    int rc = outfile_write(o->f, o->buf.p, o->buf.len, err);
    kbuf_reset(&o->buf);
    return rc;
}

static int needs_quotes(const char *s, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        if (kt_csv_specials16(s + i))
            return 1;
    for (; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
            return 1;
    return 0;
}

/* One field, separated from the previous one; quoted (by libcsv) when it must be. */
static void field(struct out *o, const char *s, size_t n)
{
    struct kbuf *b = &o->buf;
    if (o->nfield++)
        kbuf_putc(b, ',');
    if (!needs_quotes(s, n)) {
        kbuf_append(b, s, n);
        return;
    }
    size_t need = csv_write(NULL, 0, s, n);
    kbuf_reserve(b, need);
    b->len += csv_write(b->p + b->len, need, s, n);
    b->p[b->len] = '\0';
}

static void cfield(struct out *o, const char *s)
{
    field(o, s ? s : "", s ? strlen(s) : 0);
}

static int end_row(struct out *o, struct kt_err *err)
{
    kbuf_append(&o->buf, "\r\n", 2);
    o->nfield = 0;
    return o->buf.len >= OUT_FLUSH ? out_flush(o, err) : 0;
}

/* A node's value as CSV text: strings as they are, null as empty, the rest as JSON. */
static void write_node(struct kbuf *b, const struct jdoc *d, const struct jnode *n)
{
    switch (n->type) {
    case J_NULL: kbuf_puts(b, "null"); break;
    case J_TRUE: kbuf_puts(b, "true"); break;
    case J_FALSE: kbuf_puts(b, "false"); break;
    case J_NUM: kbuf_append(b, d->text + n->start, n->len); break;
    case J_STR: jw_str(b, jstr(d, n), n->len); break;
    case J_ARR:
    case J_OBJ: {
        int obj = n->type == J_OBJ;
        kbuf_putc(b, obj ? '{' : '[');
        int first = 1;
        for (const struct jnode *e = jfirst(d, n); e; e = jnext(d, n, e)) {
            if (!first)
                kbuf_putc(b, ',');
            first = 0;
            if (obj) {
                jw_str(b, jstr(d, e), e->len);
                kbuf_putc(b, ':');
                write_node(b, d, e + 1);
            } else {
                write_node(b, d, e);
            }
        }
        kbuf_putc(b, obj ? '}' : ']');
        break;
    }
    }
}

/* ---------------------------------------------------------------- records */

/* Reports a problem at the current line: counted with skip_bad, fatal otherwise. Returns -1 if fatal. */
static int bad(struct pass *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct pass *p, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kt_err_set(p->err, "%s:%llu: %s", p->r->path, (unsigned long long)p->r->line, msg);
    if (p->o->skip_bad) {
        if (p->mode != PASS_LOOK && p->st->bad_lines < 20)
            fprintf(stderr, "kintape extract: skipped: %s\n", p->err->msg);
        p->st->bad_lines++;
        return 0;
    }
    p->stop = -1;
    return -1;
}

static int op_listed(const char *list, const char *op)
{
    if (!list)
        return 1;
    if (!op)
        return 0;
    size_t n = strlen(op);
    for (const char *s = list; *s;) {
        const char *c = strchr(s, ',');
        size_t l = c ? (size_t)(c - s) : strlen(s);
        if (l == n && memcmp(s, op, n) == 0)
            return 1;
        s += l + (c ? 1 : 0);
    }
    return 0;
}

static int selected(struct pass *p, const struct snap_rec *rec)
{
    const struct extract_opts *o = p->o;
    if (!op_listed(o->ops, rec->operation))
        return 0;
    if (o->stream && (!rec->stream || strcmp(rec->stream, o->stream) != 0))
        return 0;
    if (o->has_since && rec->ts_ns < o->since_ns)
        return 0;
    if (o->has_until && rec->ts_ns >= o->until_ns)
        return 0;
    if (o->filter) {
        const struct jdoc *d = &p->r->doc;
        const struct jnode *m = jget(d, rec->req, "method");
        const struct jnode *c = jget(d, rec->root, "conn");
        long long conn = 0;
        if (c)
            jint(d, c, &conn);
        struct xfields x = {rec->operation, rec->stream, rec->status, rec->ts_ns,
                            m && m->type == J_STR ? jstr(d, m) : NULL, conn, rec->incomplete != NULL};
        if (!xfilter_match(o->filter, &x))
            return 0;
    }
    return 1;
}

static const char *str_member(const struct jdoc *d, const struct jnode *obj, const char *key, size_t *len)
{
    const struct jnode *n = jget(d, obj, key);
    if (!n || n->type != J_STR)
        return NULL;
    if (len)
        *len = n->len;
    return jstr(d, n);
}

/*
 * The outcome of record i: shard and sequence number when accepted, or the
 * error code. resp_ok: the HTTP status was 200 and the body parsed.
 */
struct outcome {
    const char *shard, *seq, *error;
};

static void outcome_of(struct pass *p, const struct snap_rec *rec, const struct jnode *entry, int resp_ok,
                       const char *whole_error, struct outcome *out)
{
    memset(out, 0, sizeof *out);
    if (!rec->resp) {
        out->error = "(no response)";
        return;
    }
    if (!resp_ok) {
        out->error = whole_error;
        return;
    }
    const char *code = entry ? str_member(&p->resp, entry, "ErrorCode", NULL) : NULL;
    out->shard = entry ? str_member(&p->resp, entry, "ShardId", NULL) : NULL;
    out->seq = entry ? str_member(&p->resp, entry, "SequenceNumber", NULL) : NULL;
    if (code)
        out->error = code;
    else if (!out->seq)
        out->error = "(no result for this record in the response)";
}

/* Writes (or in LOOK mode, checks) one record. Returns -1 to stop the pass. */
static int record(struct pass *p, const struct snap_rec *rec, const struct jnode *r, size_t idx, const char *ts,
                  const struct outcome *oc)
{
    const struct jdoc *d = &p->req;
    struct extract_stats *st = p->st;
    size_t dlen = 0, klen = 0, hlen = 0;
    const char *data = str_member(d, r, "Data", &dlen);
    const char *key = str_member(d, r, "PartitionKey", &klen);
    const char *ehk = str_member(d, r, "ExplicitHashKey", &hlen);
    if (!data || !key) {
        st->records_bad++;
        return bad(p, "record %zu of the request has no %s string", idx + 1, data ? "PartitionKey" : "Data");
    }
    int accepted = oc->error == NULL;
    if (!accepted && !p->o->all_attempts) {
        if (rec->resp)
            st->records_rejected++;
        else
            st->records_unanswered++;
        return 0;
    }
    /* The payload: decoded always, so invalid base64 is caught whatever the output encoding. */
    kbuf_reset(&p->scratch);
    kbuf_reserve(&p->scratch, b64_decoded_max(dlen));
    size_t n, bad_at;
    if (b64_decode((uint8_t *)p->scratch.p, data, dlen, &n, &bad_at) != 0) {
        st->records_bad++;
        return bad(p, "record %zu: Data is not valid base64 (character %zu)", idx + 1, bad_at + 1);
    }
    int text = p->mode == PASS_BASE64 || utf8_valid_text((const uint8_t *)p->scratch.p, n);
    if (!text) {
        if (p->mode == PASS_LOOK || p->mode == PASS_RAW_TRY) {
            p->stop = 1;
            return -1;
        }
        p->stop = -1;
        kt_err_set(p->err, "%s:%llu: record %zu is binary (not UTF-8 text): write it with --encoding base64",
                   p->r->path, (unsigned long long)p->r->line, idx + 1);
        return -1;
    }
    if (p->mode == PASS_LOOK)
        return 0;
    struct out *o = p->out;
    if (p->mode == PASS_BASE64)
        field(o, data, dlen);
    else
        field(o, p->scratch.p, n);
    cfield(o, ts);
    field(o, key, klen);
    field(o, ehk ? ehk : "", ehk ? hlen : 0);
    cfield(o, rec->stream);
    cfield(o, oc->shard);
    cfield(o, oc->seq);
    if (p->o->all_attempts)
        cfield(o, oc->error);
    st->records_written++;
    if (end_row(o, p->err) != 0) {
        p->stop = -1;
        return -1;
    }
    return 0;
}

static int parse_body(struct pass *p, struct jdoc *doc, const struct jnode *msg, const char *what)
{
    const uint8_t *body;
    size_t len;
    if (snap_body(p->r, msg, &body, &len, p->err) != 0)
        return bad(p, "%s body: %s", what, p->err->msg), -1;
    struct kt_err jerr;
    /* The body lives in the reader's line (or scratch) buffer, which we may change. */
    if (jdoc_parse(doc, (char *)body, len, &jerr, NULL) != 0 || jroot(doc)->type != J_OBJ)
        return -2;
    return 0;
}

static int records_of(struct pass *p, const struct snap_rec *rec)
{
    int is_batch = strcmp(rec->operation, "PutRecords") == 0;
    int rc = parse_body(p, &p->req, rec->req, "request");
    if (rc == -1)
        return p->stop ? -1 : 0;
    if (rc == -2)
        return bad(p, "the request body is not a JSON object, so not a %s request", rec->operation);
    const struct jnode *root = jroot(&p->req);
    const struct jnode *list = is_batch ? jget(&p->req, root, "Records") : root;
    if (is_batch && (!list || list->type != J_ARR))
        return bad(p, "the PutRecords request has no Records array");

    /* The response: per-record results, or one error for all. */
    int resp_ok = 0;
    const struct jnode *results = NULL;
    char whole[160] = "";
    if (rec->resp) {
        int r = parse_body(p, &p->resp, rec->resp, "response");
        if (r == -1)
            return p->stop ? -1 : 0;
        if (rec->status == 200 && r == 0) {
            resp_ok = 1;
            results = is_batch ? jget(&p->resp, jroot(&p->resp), "Records") : jroot(&p->resp);
        } else {
            const char *type = r == 0 ? str_member(&p->resp, jroot(&p->resp), "__type", NULL) : NULL;
            if (type)
                snprintf(whole, sizeof whole, "%s", strchr(type, '#') ? strchr(type, '#') + 1 : type);
            else
                snprintf(whole, sizeof whole, "HTTP %d", rec->status);
        }
    }
    char ts[KT_RFC3339_MAX];
    kt_fmt_rfc3339(ts, rec->ts_ns, 9);
    struct outcome oc;
    if (!is_batch) {
        outcome_of(p, rec, results, resp_ok, whole, &oc);
        return record(p, rec, list, 0, ts, &oc);
    }
    const struct jnode *res = results && results->type == J_ARR ? jfirst(&p->resp, results) : NULL;
    size_t i = 0;
    for (const struct jnode *r = jfirst(&p->req, list); r; r = jnext(&p->req, list, r), i++) {
        if (r->type != J_OBJ) {
            p->st->records_bad++;
            if (bad(p, "record %zu of the request is not an object", i + 1) != 0)
                return -1;
        } else {
            outcome_of(p, rec, res, resp_ok, whole, &oc);
            if (record(p, rec, r, i, ts, &oc) != 0)
                return -1;
        }
        if (res)
            res = jnext(&p->resp, results, res);
    }
    return 0;
}

static int path_row(struct pass *p, const struct snap_rec *rec)
{
    struct out *o = p->out;
    const struct jdoc *d = &p->r->doc;
    struct kbuf tmp = KBUF_INIT;
    for (size_t i = 0; i < p->o->npaths; i++) {
        const struct jnode *n = xpath_eval(p->o->paths[i], d, rec->root);
        if (!n || n->type == J_NULL) {
            field(o, "", 0);
        } else if (n->type == J_STR) {
            field(o, jstr(d, n), n->len);
        } else {
            kbuf_reset(&tmp);
            write_node(&tmp, d, n);
            field(o, tmp.p, tmp.len);
        }
    }
    kbuf_free(&tmp);
    p->st->records_written++;
    if (end_row(o, p->err) != 0) {
        p->stop = -1;
        return -1;
    }
    return 0;
}

static void header(struct out *o, const struct extract_opts *opt, enum extract_encoding enc)
{
    if (opt->npaths) {
        for (size_t i = 0; i < opt->npaths; i++)
            cfield(o, xpath_text(opt->paths[i]));
    } else {
        static const char *const cols[] = {"ts", "partition_key", "explicit_hash_key", "stream", "shard_id",
                                           "sequence_number"};
        cfield(o, enc == ENC_BASE64 ? "data_base64" : "data");
        for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
            cfield(o, cols[i]);
        if (opt->all_attempts)
            cfield(o, "error_code");
    }
    kbuf_append(&o->buf, "\r\n", 2);
    o->nfield = 0;
}

/* One pass over the snapshot. Returns 0, -1 on failure, 1 when a binary payload stopped it. */
static int run_pass(const char *in, struct out *out, const struct extract_opts *o, enum pass_mode mode,
                    struct extract_stats *st, struct kt_err *err)
{
    struct pass p = {.o = o, .mode = mode, .out = out, .st = st, .err = err};
    memset(st, 0, sizeof *st);
    p.r = snap_reader_open(in, err);
    if (!p.r)
        return -1;
    jdoc_init(&p.req);
    jdoc_init(&p.resp);
    if (out)
        header(out, o, mode == PASS_BASE64 ? ENC_BASE64 : ENC_RAW);
    struct snap_rec rec;
    int rc;
    while (!p.stop && (rc = snap_reader_next(p.r, &rec, err)) != 0) {
        st->lines = p.r->line;
        if (rc < 0) {
            if (!o->skip_bad) {
                p.stop = -1;
                break;
            }
            st->bad_lines++;
            if (mode != PASS_LOOK && st->bad_lines <= 20)
                fprintf(stderr, "kintape extract: skipped: %s\n", err->msg);
            continue;
        }
        st->exchanges++;
        if (!selected(&p, &rec))
            continue;
        if (o->npaths) {
            st->matched++;
            if (mode != PASS_LOOK && path_row(&p, &rec) != 0)
                break;
            continue;
        }
        if (!rec.operation || (strcmp(rec.operation, "PutRecords") != 0 && strcmp(rec.operation, "PutRecord") != 0))
            continue;
        st->matched++;
        if (records_of(&p, &rec) != 0 && p.stop)
            break;
    }
    st->cut = !p.r->end.present;
    snap_reader_close(p.r);
    jdoc_free(&p.req);
    jdoc_free(&p.resp);
    kbuf_free(&p.scratch);
    if (p.stop < 0)
        return -1;
    if (p.stop > 0)
        return 1;
    if (out && out_flush(out, err) != 0)
        return -1;
    return 0;
}

int extract_run(const char *in, const char *outpath, const struct extract_opts *o, struct extract_stats *st,
                struct kt_err *err)
{
    struct stat sb;
    int in_seekable = strcmp(in, "-") != 0 && stat(in, &sb) == 0 && S_ISREG(sb.st_mode);
    struct out out = {0};
    out.f = outfile_open(outpath, err);
    if (!out.f)
        return -1;
    enum extract_encoding enc = o->encoding;
    int passes = 0, rc;
    if (o->npaths) {
        enc = ENC_RAW;
        rc = run_pass(in, &out, o, PASS_RAW, st, err);
        passes = 1;
    } else if (enc == ENC_AUTO && in_seekable && outfile_is_file(out.f)) {
        /* Assume text; at the first binary payload, start again in base64. */
        rc = run_pass(in, &out, o, PASS_RAW_TRY, st, err);
        passes = 1;
        enc = ENC_RAW;
        if (rc == 1) {
            kbuf_reset(&out.buf);
            rc = outfile_rewind(out.f, err);
            if (rc == 0) {
                enc = ENC_BASE64;
                rc = run_pass(in, &out, o, PASS_BASE64, st, err);
                passes = 2;
            }
        }
    } else {
        rc = 0;
        if (enc == ENC_AUTO) {
            if (in_seekable) {
                rc = run_pass(in, NULL, o, PASS_LOOK, st, err);
                passes = 1;
                enc = rc == 1 ? ENC_BASE64 : ENC_RAW;
            } else {
                enc = ENC_BASE64; /* one pass over a pipe cannot look ahead */
            }
        }
        if (rc >= 0) {
            rc = run_pass(in, &out, o, enc == ENC_BASE64 ? PASS_BASE64 : PASS_RAW, st, err);
            passes++;
        }
    }
    st->encoding = enc;
    st->passes = passes;
    st->bytes_written = outfile_bytes(out.f);
    kbuf_free(&out.buf);
    struct kt_err cerr;
    if (outfile_close(out.f, &cerr) != 0 && rc == 0) {
        *err = cerr;
        rc = -1;
    }
    return rc == 0 ? 0 : -1;
}
