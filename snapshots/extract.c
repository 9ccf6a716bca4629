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
#include "args.h"
#include "outfile.h"
#include "kpl.h"
#include "puts.h"
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
    struct puts puts;
    struct kbuf scratch;
    struct kbuf b64;           /* a payload re-encoded (raw CBOR data, KPL user records) */
    struct kpl kpl;
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
        if (p->mode != PASS_LOOK && p->o->skipped)
            p->o->skipped(p->o->ctx, p->err->msg);
        p->st->bad_lines++;
        return 0;
    }
    p->stop = -1;
    return -1;
}

static int selected(struct pass *p, const struct snap_rec *rec)
{
    const struct extract_opts *o = p->o;
    if (!kt_list_has(o->ops, rec->operation))
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

/* One row: the payload (bytes), its time and key, where it went. Returns -1 to stop the pass. */
static int row(struct pass *p, const struct snap_rec *rec, const struct put_rec *pr, const char *ts,
               const uint8_t *data, size_t n, const char *key, size_t klen, const char *ehk, size_t ehklen)
{
    int text = p->mode == PASS_BASE64 || utf8_valid_text(data, n);
    if (!text) {
        if (p->mode == PASS_LOOK || p->mode == PASS_RAW_TRY) {
            p->stop = 1;
            return -1;
        }
        p->stop = -1;
        kt_err_set(p->err, "%s:%llu: record %zu is binary (not UTF-8 text): write it with --encoding base64",
                   p->r->path, (unsigned long long)p->r->line, pr->index + 1);
        return -1;
    }
    if (p->mode == PASS_LOOK)
        return 0;
    struct out *o = p->out;
    if (p->mode == PASS_BASE64) {
        kbuf_reset(&p->b64);
        kbuf_reserve(&p->b64, b64_encoded_len(n) + 1);
        p->b64.len = b64_encode(p->b64.p, data, n);
        field(o, p->b64.p, p->b64.len);
    } else {
        field(o, (const char *)data, n);
    }
    cfield(o, ts);
    field(o, key, klen);
    field(o, ehk ? ehk : "", ehk ? ehklen : 0);
    cfield(o, rec->stream);
    cfield(o, pr->shard);
    cfield(o, pr->seq);
    if (p->o->all_attempts)
        cfield(o, pr->error);
    p->st->records_written++;
    if (end_row(o, p->err) != 0) {
        p->stop = -1;
        return -1;
    }
    return 0;
}

/* Writes (or in LOOK mode, checks) one Kinesis record: a row, or a row per user record of a KPL aggregate. */
static int record(struct pass *p, const struct snap_rec *rec, const struct put_rec *pr, const char *ts)
{
    struct extract_stats *st = p->st;
    if (pr->bad) {
        st->records_bad++;
        return bad(p, "record %zu of the request %s", pr->index + 1, pr->bad);
    }
    int accepted = pr->error == NULL;
    if (!accepted && !p->o->all_attempts) {
        if (rec->resp)
            st->records_rejected++;
        else
            st->records_unanswered++;
        return 0;
    }
    /* The payload: decoded always, so invalid base64 is caught whatever the output encoding. */
    const uint8_t *data = (const uint8_t *)pr->data;
    size_t n = pr->data_len;
    if (!pr->data_raw) {
        kbuf_reset(&p->scratch);
        kbuf_reserve(&p->scratch, b64_decoded_max(pr->data_len));
        size_t bad_at;
        if (b64_decode((uint8_t *)p->scratch.p, pr->data, pr->data_len, &n, &bad_at) != 0) {
            st->records_bad++;
            return bad(p, "record %zu: Data is not valid base64 (character %zu)", pr->index + 1, bad_at + 1);
        }
        data = (const uint8_t *)p->scratch.p;
    }
    const char *why;
    enum kpl_kind kind = p->o->no_deaggregate ? KPL_PLAIN : kpl_open(&p->kpl, data, n, &why);
    if (kind != KPL_AGGREGATE) {
        if (kind == KPL_CORRUPT && p->mode != PASS_LOOK)
            st->kpl_corrupt++; /* kept as it is, as the KCL does */
        return row(p, rec, pr, ts, data, n, pr->key, pr->key_len, pr->ehk, pr->ehk_len);
    }
    if (p->mode != PASS_LOOK) {
        st->kpl_aggregates++;
        st->kpl_user_records += p->kpl.records;
    }
    struct kpl_rec u;
    while (kpl_next(&p->kpl, &u))
        if (row(p, rec, pr, ts, u.data.p, u.data.n, (const char *)u.key.p, u.key.n,
                u.ehk.p ? (const char *)u.ehk.p : pr->ehk, u.ehk.p ? u.ehk.n : pr->ehk_len) != 0)
            return -1;
    return 0;
}

static int records_of(struct pass *p, const struct snap_rec *rec)
{
    struct kt_err why;
    switch (puts_decode(&p->puts, p->r, rec, &why)) {
    case PUTS_INCOMPLETE:
        /* The capture cut it: its request was never seen whole, so it has no records to give. */
        p->st->exchanges_incomplete++;
        return 0;
    case PUTS_REFUSED:
        p->st->exchanges_refused++;
        return 0;
    case PUTS_BAD:
        return bad(p, "%s", why.msg);
    case PUTS_OK:
        break;
    }
    char ts[KT_RFC3339_MAX];
    kt_fmt_rfc3339(ts, rec->ts_ns, 9);
    struct put_rec pr;
    while (puts_next(&p->puts, &pr))
        if (record(p, rec, &pr, ts) != 0)
            return -1;
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
    puts_init(&p.puts);
    kpl_init(&p.kpl);
    if (out)
        header(out, o, mode == PASS_BASE64 ? ENC_BASE64 : ENC_RAW);
    struct snap_rec rec;
    int rc;
    while (!p.stop && (rc = snap_reader_next(p.r, &rec, err)) != 0) {
        st->lines = p.r->line;
        if (rc < 0 && p.r->cut) {
            /* The last line is cut short (a capture killed, a full disk): every whole line before it counts. */
            snprintf(st->cut_at, sizeof st->cut_at, "%s", err->msg);
            break;
        }
        if (rc < 0) {
            if (!o->skip_bad) {
                p.stop = -1;
                break;
            }
            st->bad_lines++;
            if (mode != PASS_LOOK && o->skipped)
                o->skipped(o->ctx, err->msg);
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
        if (!puts_is_put(rec.operation))
            continue;
        st->matched++;
        if (records_of(&p, &rec) != 0 && p.stop)
            break;
    }
    st->cut = !p.r->end.present;
    if (p.r->end.present && snap_stats_data_lost(&p.r->end)) {
        struct kbuf what = KBUF_INIT;
        snap_stats_problems(&p.r->end, &what);
        st->data_lost = 1;
        snprintf(st->lost, sizeof st->lost, "%s", what.p ? what.p : "");
        kbuf_free(&what);
    }
    snap_reader_close(p.r);
    puts_free(&p.puts);
    kpl_free(&p.kpl);
    kbuf_free(&p.scratch);
    kbuf_free(&p.b64);
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
    /* A file is written beside itself and renamed when whole; devices and standard output directly. */
    struct kbuf partial = KBUF_INIT;
    const char *target = outpath;
    if (strcmp(outpath, "-") != 0 && (stat(outpath, &sb) != 0 || S_ISREG(sb.st_mode))) {
        kbuf_appendf(&partial, "%s.partial", outpath);
        target = partial.p;
    }
    struct out out = {0};
    memset(st, 0, sizeof *st);
    out.f = outfile_open(target, err);
    if (!out.f) {
        kbuf_free(&partial);
        return -1;
    }
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
    /* After a failure, the rows built so far still go to the file: every one, flushed. */
    struct kt_err ferr;
    if (rc != 0 && out.buf.len)
        out_flush(&out, &ferr);
    st->encoding = enc;
    st->passes = passes;
    st->bytes_written = outfile_bytes(out.f);
    kbuf_free(&out.buf);
    struct kt_err cerr;
    if (outfile_close(out.f, &cerr) != 0 && rc == 0) {
        *err = cerr;
        rc = -1;
    }
    if (partial.p) {
        if (rc == 0 && rename(partial.p, outpath) != 0) {
            kt_err_set(err, "cannot rename %s to %s: %s", partial.p, outpath, strerror(errno));
            rc = -1;
        }
        st->partial_kept = rc != 0;
        if (rc != 0 && st->records_written == 0) {
            unlink(partial.p); /* nothing worth keeping: only the header */
            st->partial_kept = 0;
        }
    }
    kbuf_free(&partial);
    return rc == 0 ? 0 : -1;
}
