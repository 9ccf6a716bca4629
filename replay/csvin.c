/*
 * csvin.c — the replay's CSV reader (RFC 4180 through libcsv; see csvin.h).
 *
 * libcsv calls back per field and per row while it parses a chunk; rows
 * that complete inside a chunk are queued here (copied) and handed out one
 * at a time.
 */
#include "csvin.h"

#include <csv.h>
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

struct qrow {
    struct kbuf bytes;         /* the fields, each followed by a NUL */
    size_t off[MAX_FIELDS];
    size_t len[MAX_FIELDS];
    int nf;
    int too_many;
    uint64_t row;
};

enum col { C_DATA, C_B64, C_TS, C_KEY, C_EHK, C_STREAM, C_COUNT };

struct csvin {
    FILE *f;
    char *path;
    struct csv_parser p;
    uint64_t size, offset;
    struct qrow cur;           /* the row being assembled */
    struct qrow *q;            /* completed rows: q[head..len) */
    size_t head, len, cap;
    uint64_t rows;
    int eof, finished;
    int col[C_COUNT];
    int headerless;
    int started;
    char *chunk;
};

static void row_reset(struct qrow *r)
{
    kbuf_reset(&r->bytes);
    r->nf = 0;
    r->too_many = 0;
}

static void on_field(void *s, size_t n, void *arg)
{
    struct csvin *c = arg;
    struct qrow *r = &c->cur;
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

static void on_row(int term, void *arg)
{
    struct csvin *c = arg;
    (void)term;
    c->rows++;
    if (c->len == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->q = xrealloc(c->q, c->cap * sizeof *c->q);
        for (size_t i = c->len; i < c->cap; i++) {
            kbuf_init(&c->q[i].bytes);
            c->q[i].nf = 0;
        }
    }
    /* Swap buffers instead of copying the row. */
    struct qrow *dst = &c->q[c->len++];
    struct kbuf keep = dst->bytes;
    *dst = c->cur;
    dst->row = c->rows;
    c->cur.bytes = keep;
    row_reset(&c->cur);
}

/* Parses more of the file into the queue; returns 0, or -1 with err set. */
static int fill(struct csvin *c, struct kt_err *err)
{
    if (c->head == c->len) {
        c->head = c->len = 0;
    }
    while (c->head == c->len && !c->finished) {
        if (c->eof) {
            csv_fini(&c->p, on_field, on_row, c);
            c->finished = 1;
            if (csv_error(&c->p) != CSV_SUCCESS) {
                kt_err_set(err, "%s: malformed CSV at the end of the file (row %llu): %s", c->path,
                           (unsigned long long)c->rows + 1, csv_strerror(csv_error(&c->p)));
                return -1;
            }
            break;
        }
        size_t n = fread(c->chunk, 1, CHUNK, c->f);
        if (n == 0) {
            if (ferror(c->f)) {
                kt_err_set(err, "%s: read error: %s", c->path, strerror(errno));
                return -1;
            }
            c->eof = 1;
            continue;
        }
        const char *data = c->chunk;
        if (c->offset == 0 && n >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
            data += 3; /* a UTF-8 byte order mark */
            n -= 3;
            c->offset += 3;
        }
        size_t done = csv_parse(&c->p, data, n, on_field, on_row, c);
        c->offset += done;
        if (done != n) {
            kt_err_set(err, "%s: malformed CSV in row %llu (byte %llu of the file): %s", c->path,
                       (unsigned long long)c->rows + 1, (unsigned long long)c->offset,
                       csv_strerror(csv_error(&c->p)));
            return -1;
        }
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
    return r->bytes.p + r->off[i];
}

static int looks_like_time(const char *s, size_t n)
{
    int64_t ns;
    return s && kt_parse_rfc3339(s, n, &ns, NULL) == 0;
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
    static const char *const names[C_COUNT] = {"data", "data_base64", "ts", "partition_key", "explicit_hash_key",
                                               "stream"};
    for (int k = 0; k < C_COUNT; k++)
        c->col[k] = -1;
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
    if (c->col[C_DATA] >= 0 || c->col[C_B64] >= 0) {
        if (c->col[C_B64] >= 0)
            c->col[C_DATA] = -1;
        c->head++; /* the header is not a record */
        return 0;
    }
    size_t n0, n1;
    field(r, 0, &n0);
    const char *t = field(r, 1, &n1);
    if (r->nf >= 2 && looks_like_time(t, n1)) {
        c->headerless = 1;
        c->col[C_DATA] = 0;
        c->col[C_TS] = 1;
        return 0;
    }
    struct kbuf found = KBUF_INIT;
    for (int i = 0; i < r->nf && i < 8; i++) {
        size_t n;
        const char *s = field(r, i, &n);
        kbuf_appendf(&found, "%s'%.*s'", i ? ", " : "", (int)(n > 40 ? 40 : n), s);
    }
    kt_err_set(err, "%s: no usable payload column: the header has neither data nor data_base64 (found %s), and "
                    "the first row is not a payload,time pair",
               c->path, found.p ? found.p : "nothing");
    kbuf_free(&found);
    return -1;
}

struct csvin *csvin_open(const char *path, struct kt_err *err)
{
    struct csvin *c = xcalloc(1, sizeof *c);
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
    c->chunk = xmalloc(CHUNK);
    csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
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
    kbuf_free(&c->cur.bytes);
    for (size_t i = 0; i < c->cap; i++)
        kbuf_free(&c->q[i].bytes);
    free(c->q);
    free(c->chunk);
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
        return -1;
    }
    int dc = c->col[C_B64] >= 0 ? c->col[C_B64] : c->col[C_DATA];
    if (dc >= r->nf) {
        kt_err_set(err, "%s: row %llu has %d fields: no payload (column %d)", c->path, (unsigned long long)r->row,
                   r->nf, dc + 1);
        return -1;
    }
    out->data = field(r, dc, &out->data_len);
    out->data_base64 = c->col[C_B64] >= 0;
    if (c->col[C_TS] >= 0) {
        size_t n;
        const char *t = field(r, c->col[C_TS], &n);
        size_t bad;
        if (!t || kt_parse_rfc3339(t, n, &out->ts_ns, &bad) != 0) {
            kt_err_set(err, "%s: row %llu: the time '%.*s' in column ts is not an RFC 3339 time (e.g. "
                            "2026-11-21T10:00:00.123Z)%s",
                       c->path, (unsigned long long)r->row, (int)(n > 60 ? 60 : n), t ? t : "",
                       t ? "" : ": the field is missing");
            return -1;
        }
        out->has_ts = 1;
    }
    if (c->col[C_KEY] >= 0)
        out->key = field(r, c->col[C_KEY], &out->key_len);
    if (c->col[C_EHK] >= 0)
        out->ehk = field(r, c->col[C_EHK], &out->ehk_len);
    if (c->col[C_STREAM] >= 0)
        out->stream = field(r, c->col[C_STREAM], &out->stream_len);
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
