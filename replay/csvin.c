/*
 * csvin.c — the replay's CSV reader (RFC 4180 through libcsv; see csvin.h).
 *
 * libcsv calls back per field and per row while it parses a chunk; rows
 * that complete inside a chunk are queued here (copied) and handed out one
 * at a time.
 */
#include "csvin.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "buf.h"
#include "ktime.h"
#include "mem.h"

#define MAX_FIELDS 64
#define CHUNK 65536
#define MAX_LINE ((size_t)64 << 20) /* longest row without a line end: a 10 MiB record, base64, quoted */
#define QUEUE_ROWS 256

struct qrow {
    const char *base;          /* the fields: a line of the read buffer, or NULL for `bytes` */
    struct kbuf bytes;         /* the fields of a row libcsv parsed, each followed by a NUL */
    size_t off[MAX_FIELDS];
    size_t len[MAX_FIELDS];
    int nf;
    int too_many;
    uint64_t row;
};

enum col { C_DATA = CSV_DATA, C_B64 = CSV_DATA_BASE64, C_TS = CSV_TS, C_KEY = CSV_KEY, C_EHK = CSV_EHK,
           C_STREAM = CSV_STREAM, C_ERROR = CSV_ERROR, C_COUNT = CSV_ROLES };

static const char *const role_names[CSV_ROLES] = {"data", "data_base64", "ts", "partition_key", "explicit_hash_key",
                                                  "stream", "error_code"};

int csv_role_parse(const char *name, size_t len)
{
    for (int k = 0; k < CSV_ROLES; k++)
        if (strlen(role_names[k]) == len && memcmp(role_names[k], name, len) == 0)
            return k;
    return -1;
}

const char *csv_role_name(enum csv_role r)
{
    return role_names[r];
}

int csv_parse_time(const char *s, size_t n, enum csv_ts_format format, int64_t *ns)
{
    if (format == TS_RFC3339) {
        size_t bad;
        return s ? kt_parse_rfc3339(s, n, ns, &bad) : -1;
    }
    /* Decimal seconds or milliseconds, with an optional fraction. */
    int64_t unit = format == TS_EPOCH_S ? 1000000000 : 1000000;
    size_t i = 0;
    int64_t whole = 0;
    if (!s || !n)
        return -1;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (whole > (INT64_MAX / unit - 9) / 10)
            return -1;
        whole = whole * 10 + (s[i] - '0');
    }
    if (i == 0)
        return -1;
    int64_t frac = 0, scale = unit;
    if (i < n && s[i] == '.') {
        i++;
        size_t digits = 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
            if (scale >= 10) {
                scale /= 10;
                frac += (s[i] - '0') * scale;
            }
        }
        if (!digits)
            return -1;
    }
    if (i != n)
        return -1;
    *ns = whole * unit + frac;
    return 0;
}

struct csvin {
    FILE *f;
    char *path;
    struct csv_parser p;
    uint64_t size, offset;
    struct qrow *q;            /* completed rows: q[head..len); the row being assembled: q[len] */
    int started;               /* q[len] holds part of a row */
    size_t head, len, cap;
    uint64_t rows;
    int eof, finished;
    uint64_t line;             /* lines read, the current one included */
    uint64_t row_line;         /* the line where the row libcsv is in started */
    int failed;                /* reading cannot go on: `failure` says why, once the rows before are out */
    struct kt_err failure;
    int col[C_COUNT];
    int nfields;               /* fields a row has: the header's (or the first row's, without one) */
    int header;                /* the file has a header row */
    struct csvin_opts opts;
    int in_lib;                /* libcsv is in the middle of a row */
    char *buf;                 /* file bytes not parsed yet: buf[pos..len) */
    size_t pos, len_buf, cap_buf;
};

static void row_reset(struct qrow *r)
{
    kbuf_reset(&r->bytes);
    r->base = NULL;
    r->nf = 0;
    r->too_many = 0;
}

/* The row being assembled: the queue's next slot. */
static struct qrow *cur_row(struct csvin *c)
{
    if (c->len == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->q = xrealloc(c->q, c->cap * sizeof *c->q);
        for (size_t i = c->len; i < c->cap; i++)
            kbuf_init(&c->q[i].bytes);
    }
    struct qrow *r = &c->q[c->len];
    if (!c->started) {
        row_reset(r);
        c->started = 1;
    }
    return r;
}

static void on_field(void *s, size_t n, void *arg)
{
    struct csvin *c = arg;
    struct qrow *r = cur_row(c);
    if (r->nf == MAX_FIELDS) {
        r->too_many = 1;
        return;
    }
    r->off[r->nf] = r->bytes.len;
    r->len[r->nf] = n;
    kbuf_append(&r->bytes, s ? s : "", n);
    kbuf_putc(&r->bytes, '\0');
    r->nf++;
}

/* Queues the row assembled in the queue's next slot. */
static void push_row(struct csvin *c)
{
    struct qrow *r = cur_row(c);
    r->row = ++c->rows;
    c->len++;
    c->started = 0;
}

static void on_row(int term, void *arg)
{
    struct csvin *c = arg;
    (void)term;
    c->in_lib = 0;
    push_row(c);
}

/* RFC 4180: spaces are part of a field; libcsv would trim them. */
static int no_space(unsigned char ch)
{
    (void)ch;
    return 0;
}

/*
 * A line with no quote and no carriage return inside is split here, at
 * its commas: that is all RFC 4180 asks of such a line, and it is several
 * times faster than libcsv's byte-at-a-time state machine. Anything else
 * (quotes, fields spanning lines) goes through libcsv.
 */
static void split_line(struct csvin *c, const char *s, size_t n)
{
    struct qrow *r = cur_row(c);
    const char *line = s, *end = s + n;
    r->base = line; /* the fields stay in the read buffer: fill() keeps it until they are handed out */
    for (;;) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *fe = comma ? comma : end;
        if (r->nf == MAX_FIELDS) {
            r->too_many = 1;
            break;
        }
        r->off[r->nf] = (size_t)(s - line);
        r->len[r->nf] = (size_t)(fe - s);
        r->nf++;
        if (!comma)
            break;
        s = comma + 1;
    }
    push_row(c);
}

/*
 * libcsv's complaint, in words about the file. The rows completed before
 * it are still handed out: the error waits in `failure` until they are.
 */
/*
 * Where a line that starts a row breaks RFC 4180's quoting: 1 for a quote
 * inside a field that does not start with one, 2 for text after a closing
 * quote, with the 1-based column in *col; 0 when the line alone shows
 * nothing wrong (its row goes on in the next line).
 */
static int quote_problem(const char *s, size_t n, size_t *col)
{
    size_t i = 0;
    while (i <= n) {
        if (i < n && s[i] == '"') {
            for (i++; i < n; i++) {
                if (s[i] != '"')
                    continue;
                if (i + 1 < n && s[i + 1] == '"') {
                    i++; /* "" stands for a quote */
                    continue;
                }
                break;
            }
            if (i >= n)
                return 0; /* the quoted field goes on in the next line */
            i++;
            if (i < n && s[i] != ',') {
                *col = i + 1;
                return 2;
            }
        } else {
            for (; i < n && s[i] != ','; i++)
                if (s[i] == '"') {
                    *col = i + 1;
                    return 1;
                }
        }
        i++; /* past the comma */
    }
    return 0;
}

/* Reading stops at this error; the rows completed before it are still handed out first. */
static int fail_at(struct csvin *c, struct kt_err *err)
{
    c->failed = 1;
    if (c->len > c->head)
        return 0;
    *err = c->failure;
    return -1;
}

/* libcsv's complaint on the line s[0..n), in words about the file. */
static int lib_error(struct csvin *c, const char *s, size_t n, struct kt_err *err)
{
    static const char how[] = "a field with quotes is quoted whole, with \"\" for each quote in it";
    int e = csv_error(&c->p);
    size_t col = 0;
    int what = e == CSV_EPARSE && s && c->row_line == c->line ? quote_problem(s, n, &col) : 0;
    unsigned long long row = (unsigned long long)c->rows + 1, line = (unsigned long long)c->line;
    if (what == 1)
        kt_err_set(&c->failure, "%s: malformed CSV in row %llu (line %llu, column %zu): a quote inside a field "
                                "that does not start with one (%s)", c->path, row, line, col, how);
    else if (what == 2)
        kt_err_set(&c->failure, "%s: malformed CSV in row %llu (line %llu, column %zu): text after the closing "
                                "quote of a field (%s)", c->path, row, line, col, how);
    else
        kt_err_set(&c->failure, "%s: malformed CSV in row %llu (line %llu): %s", c->path, row, line,
                   e == CSV_EPARSE ? "a quote inside a field that does not start with one, or text after a "
                                     "closing quote (a field with quotes is quoted whole, with \"\" for each "
                                     "quote in it)"
                                   : csv_strerror(e));
    return fail_at(c, err);
}

/* Reads more of the file into buf; sets eof at the end. */
static int read_more(struct csvin *c, struct kt_err *err)
{
    if (c->pos) {
        memmove(c->buf, c->buf + c->pos, c->len_buf - c->pos);
        c->len_buf -= c->pos;
        c->pos = 0;
    }
    if (c->cap_buf - c->len_buf < CHUNK) {
        if (c->cap_buf >= MAX_LINE) {
            kt_err_set(err, "%s: row %llu is longer than %zu MiB without a line end", c->path,
                       (unsigned long long)c->rows + 1, MAX_LINE >> 20);
            return -1;
        }
        c->cap_buf = c->cap_buf ? c->cap_buf * 2 : 4 * CHUNK;
        c->buf = xrealloc(c->buf, c->cap_buf);
    }
    size_t n = fread(c->buf + c->len_buf, 1, c->cap_buf - c->len_buf, c->f);
    if (n == 0) {
        if (ferror(c->f)) {
            kt_err_set(err, "%s: read error: %s", c->path, strerror(errno));
            return -1;
        }
        c->eof = 1;
    }
    if (c->offset == 0 && c->len_buf == 0 && n >= 3 && memcmp(c->buf, "\xef\xbb\xbf", 3) == 0) {
        memmove(c->buf, c->buf + 3, n - 3); /* a UTF-8 byte order mark */
        n -= 3;
        c->offset = 3;
    }
    c->len_buf += n;
    return 0;
}

/* Parses lines into the queue until it holds some rows or the file ends; 0, or -1 with err set. */
static int fill(struct csvin *c, struct kt_err *err)
{
    if (c->failed) {
        *err = c->failure;
        return -1;
    }
    if (c->head == c->len && c->len) {
        if (c->started) {
            /* A row libcsv is in the middle of moves to the front. */
            struct qrow t = c->q[0];
            c->q[0] = c->q[c->len];
            c->q[c->len] = t;
        }
        c->head = c->len = 0;
    }
    while (c->len < QUEUE_ROWS && !c->finished) {
        const char *s = c->buf + c->pos;
        size_t avail = c->len_buf - c->pos;
        const char *nl = avail ? memchr(s, '\n', avail) : NULL;
        if (!nl && !c->eof) {
            if (c->len > c->head)
                break; /* queued rows point into the buffer: hand them out first */
            if (read_more(c, err) != 0)
                return -1;
            continue;
        }
        size_t n = nl ? (size_t)(nl - s) + 1 : avail; /* the line, with its end */
        if (n == 0) {
            /* The end of the file. */
            csv_fini(&c->p, on_field, on_row, c);
            c->finished = 1;
            if (c->in_lib) { /* libcsv calls this a parse error too */
                kt_err_set(&c->failure, "%s: an unterminated quoted field: row %llu, from line %llu, has no "
                                        "closing quote before the end of the file", c->path,
                           (unsigned long long)c->rows + 1, (unsigned long long)c->row_line);
                return fail_at(c, err);
            }
            if (csv_error(&c->p) != CSV_SUCCESS)
                return lib_error(c, NULL, 0, err);
            break;
        }
        size_t body = nl ? n - 1 : n;
        if (body && s[body - 1] == '\r')
            body--;
        c->line++;
        if (!c->in_lib && !memchr(s, '"', body) && !memchr(s, '\r', body)) {
            if (body)
                split_line(c, s, body); /* empty lines are not rows */
        } else {
            if (!c->in_lib)
                c->row_line = c->line;
            c->in_lib = 1;
            if (csv_parse(&c->p, s, n, on_field, on_row, c) != n) {
                c->offset += n;
                return lib_error(c, s, body, err);
            }
        }
        c->pos += n;
        c->offset += n;
    }
    return 0;
}

static const char *field(const struct qrow *r, int i, size_t *len)
{
    if (i < 0 || i >= r->nf) {
        *len = 0;
        return NULL;
    }
    *len = r->len[i];
    return (r->base ? r->base : r->bytes.p) + r->off[i];
}

/* The header name of a role's column, for messages. */
static const char *csv_role_column(const struct csvin *c, int role)
{
    return c->opts.names[role] ? c->opts.names[role] : role_names[role];
}

static int looks_like_time(const struct csvin *c, const char *s, size_t n)
{
    int64_t ns;
    return s && csv_parse_time(s, n, c->opts.ts_format, &ns) == 0;
}

/* Reads the first row: a header naming the columns, or the first row of a header-less file. */
static int read_header(struct csvin *c, struct kt_err *err)
{
    if (fill(c, err) != 0)
        return -1;
    if (c->head == c->len) {
        kt_err_set(err, "%s: the file is empty: no header and no rows", c->path);
        return -1;
    }
    struct qrow *r = &c->q[c->head];
    const char *names[C_COUNT];
    for (int k = 0; k < C_COUNT; k++) {
        c->col[k] = -1;
        names[k] = c->opts.names[k] ? c->opts.names[k] : role_names[k];
    }
    for (int i = 0; i < r->nf; i++) {
        size_t n;
        const char *s = field(r, i, &n);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\r'))
            n--;
        while (n && *s == ' ')
            s++, n--;
        for (int k = 0; k < C_COUNT; k++)
            if (strlen(names[k]) == n && strncasecmp(s, names[k], n) == 0 && c->col[k] < 0)
                c->col[k] = i;
    }
    /* A name the user gave must be there. */
    for (int k = 0; k < C_COUNT; k++)
        if (c->opts.names[k] && c->col[k] < 0) {
            struct kbuf found = KBUF_INIT;
            for (int i = 0; i < r->nf && i < 12; i++) {
                size_t n;
                const char *s = field(r, i, &n);
                kbuf_appendf(&found, "%s'%.*s'", i ? ", " : "", (int)(n > 40 ? 40 : n), s);
            }
            kt_err_set(err, "%s: the header has no column '%s' (--column %s=%s); found %s", c->path, names[k],
                       role_names[k], names[k], found.p ? found.p : "nothing");
            kbuf_free(&found);
            return -1;
        }
    if (c->col[C_DATA] >= 0 || c->col[C_B64] >= 0) {
        if (c->col[C_B64] >= 0 && (c->col[C_DATA] < 0 || !c->opts.names[C_DATA]))
            c->col[C_DATA] = -1;
        else if (c->col[C_DATA] >= 0 && c->opts.names[C_DATA])
            c->col[C_B64] = -1; /* the payload column named on the command line wins */
        c->head++; /* the header is not a record */
        c->nfields = r->nf;
        c->header = 1;
        return 0;
    }
    size_t n0, n1;
    field(r, 0, &n0);
    const char *t = field(r, 1, &n1);
    int named = 0;
    for (int k = 0; k < C_COUNT; k++)
        named |= c->opts.names[k] != NULL;
    if (!named && r->nf >= 2 && looks_like_time(c, t, n1)) {
        c->col[C_DATA] = 0;
        c->col[C_TS] = 1;
        c->nfields = r->nf;
        return 0;
    }
    struct kbuf found = KBUF_INIT;
    for (int i = 0; i < r->nf && i < 8; i++) {
        size_t n;
        const char *s = field(r, i, &n);
        kbuf_appendf(&found, "%s'%.*s'", i ? ", " : "", (int)(n > 40 ? 40 : n), s);
    }
    /* A mapping that would read this file: by the columns' names where they tell, else the first two. */
    static const char *const hints[2][6] = {{"data", "payload", "message", "body", "value", "record"},
                                            {"time", "ts", "date", NULL}};
    static const char *const roles[] = {"data", "ts"};
    int pick[2] = {-1, -1};
    for (int role = 0; role < 2; role++)
        for (int h = 0; h < 6 && hints[role][h] && pick[role] < 0; h++)
            for (int i = 0; i < r->nf && pick[role] < 0; i++) {
                size_t n;
                const char *s = field(r, i, &n);
                if (i != pick[0] && memmem(s, n, hints[role][h], strlen(hints[role][h])))
                    pick[role] = i;
            }
    for (int role = 0; role < 2; role++)
        for (int i = 0; i < r->nf && pick[role] < 0; i++)
            if (i != pick[0] && i != pick[1])
                pick[role] = i;
    struct kbuf eg = KBUF_INIT;
    for (int role = 0; role < 2; role++) {
        if (pick[role] < 0)
            continue;
        size_t n;
        const char *s = field(r, pick[role], &n);
        int plain = n > 0 && n <= 40;
        for (size_t k = 0; k < n && plain; k++)
            plain = isalnum((unsigned char)s[k]) || s[k] == '_' || s[k] == '-' || s[k] == '.';
        if (plain)
            kbuf_appendf(&eg, "%s--column %s=%.*s", eg.len ? " " : "", roles[role], (int)n, s);
    }
    kt_err_set(err, "%s: no usable payload column: the header has neither data nor data_base64 (found %s), and "
                    "the first row is not a payload,time pair; name your columns with --column ROLE=NAME "
                    "(e.g. %s)",
               c->path, found.p ? found.p : "nothing", eg.len ? eg.p : "--column data=message --column ts=time");
    kbuf_free(&found);
    kbuf_free(&eg);
    return -1;
}

struct csvin *csvin_open(const char *path, const struct csvin_opts *opts, struct kt_err *err)
{
    struct csvin *c = xcalloc(1, sizeof *c);
    if (opts)
        c->opts = *opts;
    c->path = xstrdup(path);
    c->f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!c->f) {
        kt_err_set(err, "cannot open %s: %s", path, strerror(errno));
        free(c->path);
        free(c);
        return NULL;
    }
    struct stat sb;
    if (fstat(fileno(c->f), &sb) == 0 && S_ISREG(sb.st_mode))
        c->size = (uint64_t)sb.st_size;
    c->cap_buf = 4 * CHUNK;
    c->buf = xmalloc(c->cap_buf);
    csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
    csv_set_space_func(&c->p, no_space);
    if (read_header(c, err) != 0) {
        csvin_close(c);
        return NULL;
    }
    return c;
}

void csvin_close(struct csvin *c)
{
    if (!c)
        return;
    if (c->f && c->f != stdin)
        fclose(c->f);
    csv_free(&c->p);
    for (size_t i = 0; i < c->cap; i++)
        kbuf_free(&c->q[i].bytes);
    free(c->q);
    free(c->buf);
    free(c->path);
    free(c);
}

int csvin_next(struct csvin *c, struct csv_row *out, struct kt_err *err)
{
    if (c->head == c->len && fill(c, err) != 0)
        return -1;
    if (c->head == c->len)
        return 0;
    struct qrow *r = &c->q[c->head++];
    memset(out, 0, sizeof *out);
    out->row = r->row;
    if (r->too_many) {
        kt_err_set(err, "%s: row %llu has more than %d fields", c->path, (unsigned long long)r->row, MAX_FIELDS);
        return -2;
    }
    if (r->nf != c->nfields) {
        kt_err_set(err, "%s: row %llu has %d field%s, the %s %d", c->path, (unsigned long long)r->row, r->nf,
                   r->nf == 1 ? "" : "s", c->header ? "header has" : "first row has", c->nfields);
        return -2;
    }
    int dc = c->col[C_B64] >= 0 ? c->col[C_B64] : c->col[C_DATA];
    out->data = field(r, dc, &out->data_len);
    out->data_base64 = c->col[C_B64] >= 0;
    if (c->col[C_TS] >= 0) {
        size_t n;
        const char *t = field(r, c->col[C_TS], &n);
        if (csv_parse_time(t, n, c->opts.ts_format, &out->ts_ns) != 0) {
            static const char *const what[] = {"an RFC 3339 time (e.g. 2026-11-21T10:00:00.123Z)",
                                               "a time in seconds since 1970 (e.g. 1795514400.123)",
                                               "a time in milliseconds since 1970 (e.g. 1795514400123)"};
            kt_err_set(&out->ts_error, "%s: row %llu: the time '%.*s' in column %s is not %s", c->path,
                       (unsigned long long)r->row, (int)(n > 60 ? 60 : n), t, csv_role_column(c, C_TS),
                       what[c->opts.ts_format]);
            out->ts_bad = 1;
        } else {
            out->has_ts = 1;
            out->ts_no_offset = c->opts.ts_format == TS_RFC3339 && !kt_rfc3339_has_offset(t, n);
        }
    }
    if (c->col[C_KEY] >= 0)
        out->key = field(r, c->col[C_KEY], &out->key_len);
    if (c->col[C_EHK] >= 0)
        out->ehk = field(r, c->col[C_EHK], &out->ehk_len);
    if (c->col[C_STREAM] >= 0)
        out->stream = field(r, c->col[C_STREAM], &out->stream_len);
    if (c->col[C_ERROR] >= 0)
        out->error_code = field(r, c->col[C_ERROR], &out->error_code_len);
    return 1;
}

uint64_t csvin_offset(const struct csvin *c)
{
    return c->offset;
}

uint64_t csvin_size(const struct csvin *c)
{
    return c->size;
}

int csvin_header_rows(const struct csvin *c)
{
    return c->header;
}

int csvin_has_ts(const struct csvin *c)
{
    return c->col[C_TS] >= 0;
}

int csvin_has_key(const struct csvin *c)
{
    return c->col[C_KEY] >= 0;
}

int csvin_has_stream(const struct csvin *c)
{
    return c->col[C_STREAM] >= 0;
}
