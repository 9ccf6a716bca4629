/* reader.c — CSV rows to PutRecords entries (see reader.h). */
#include "reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "hash.h"
#include "hashkey.h"
#include "jsonw.h"
#include "mem.h"
#include "rng.h"
#include "utf8.h"

#define NAMED_INVALID 20

struct reader {
    const struct replay_opts *o;
    struct batcher *b;
    struct replay_stats *st;
    struct csvin *csv;
    struct kbuf scratch;       /* a decoded payload */
    uint64_t rng;
    uint32_t fixed_stream;     /* --stream's index, or UINT32_MAX before its first record */
};

struct reader *reader_open(const struct replay_opts *o, struct batcher *b, struct replay_stats *st,
                           struct kt_err *err)
{
    struct csvin *csv = csvin_open(o->csv, &o->csv_opts, err);
    if (!csv)
        return NULL;
    struct reader *r = xcalloc(1, sizeof *r);
    r->o = o;
    r->b = b;
    r->st = st;
    r->csv = csv;
    r->rng = kt_rand_seed(0x5eed);
    r->fixed_stream = UINT32_MAX;
    return r;
}

void reader_close(struct reader *r)
{
    if (!r)
        return;
    csvin_close(r->csv);
    kbuf_free(&r->scratch);
    free(r);
}

int reader_restart(struct reader *r, struct kt_err *err)
{
    struct csvin *csv = csvin_open(r->o->csv, &r->o->csv_opts, err);
    if (!csv)
        return -1;
    csvin_close(r->csv);
    r->csv = csv;
    return 0;
}

uint64_t reader_offset(const struct reader *r)
{
    return csvin_offset(r->csv);
}

uint64_t reader_size(const struct reader *r)
{
    return csvin_size(r->csv);
}

int reader_has_ts(const struct reader *r)
{
    return csvin_has_ts(r->csv);
}

int reader_has_key(const struct reader *r)
{
    return csvin_has_key(r->csv);
}

int reader_has_stream(const struct reader *r)
{
    return csvin_has_stream(r->csv);
}

/* A row that cannot be sent: counted, and the first ones named. */
static enum read_result invalid(struct reader *r, uint64_t row, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum read_result invalid(struct reader *r, uint64_t row, const char *fmt, ...)
{
    r->st->invalid++;
    if (r->st->invalid <= NAMED_INVALID) {
        char why[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        replay_say(&r->o->hooks, REPLAY_WARN, "%s row %llu: not sent: %s", r->o->csv, (unsigned long long)row, why);
    }
    return READ_SKIPPED;
}

/*
 * A row that is not a record (err says why): with --skip-bad counted and
 * skipped like a row that cannot be sent, else READ_BAD, which stops the
 * reading (the records read before it are still sent).
 */
static enum read_result bad_row(struct reader *r, uint64_t row, struct kt_err *err)
{
    if (!r->o->skip_bad)
        return READ_BAD;
    r->st->invalid++;
    if (r->st->invalid <= NAMED_INVALID)
        replay_say(&r->o->hooks, REPLAY_WARN, "%s; not sent (--skip-bad)", err->msg);
    (void)row;
    return READ_SKIPPED;
}

/* This process's share of the records under --split. */
static int in_slice(const struct replay_opts *o, const struct csv_row *row, uint64_t index)
{
    if (o->split_n <= 1)
        return 1;
    uint64_t h;
    if (o->pk_mode == PK_COLUMN && row->key) {
        u128 k = hk_from_partition_key(row->key, row->key_len);
        h = (uint64_t)(k >> 64);
    } else {
        h = index;
    }
    return (int)(h % (uint64_t)o->split_n) == o->split_i - 1;
}

enum read_result reader_next(struct reader *r, int64_t loop_offset_ns, struct row_rec *out, struct kt_err *err)
{
    const struct replay_opts *o = r->o;
    struct replay_stats *st = r->st;
    struct csv_row row;
    int rc = csvin_next(r->csv, &row, err);
    if (rc == -1)
        return READ_FATAL;
    if (rc == 0)
        return READ_END;
    st->rows++;
    out->row = row.row;
    if (row.row - (uint64_t)csvin_header_rows(r->csv) <= o->skip_rows) {
        st->skipped_rows++;
        return READ_SKIPPED;
    }
    if (rc == -2) {
        st->records++;
        return bad_row(r, row.row, err);
    }
    if (!in_slice(o, &row, st->rows - 1)) {
        st->other_slice++;
        return READ_SKIPPED;
    }
    if (row.error_code && row.error_code_len && !o->include_refused) {
        /* An attempt the server refused when it was captured; the application sent it again later. */
        st->refused_skipped++;
        return READ_SKIPPED;
    }
    st->records++;
    out->b64 = NULL;
    out->bytes = NULL;
    out->ehk = NULL;
    out->ehk_len = 0;
    if (row.ts_bad) {
        if (o->respect_timing) {
            kt_err_set(err, "%s: --respect-timing needs every record's time", row.ts_error.msg);
            return bad_row(r, row.row, err);
        }
        if (st->bad_times++ == 0)
            replay_say(&r->o->hooks, REPLAY_WARN, "%s: sent all the same (only --respect-timing needs times); such rows are counted "
                "in the report", row.ts_error.msg);
    } else if (row.ts_no_offset && st->no_offset_times++ == 0) {
        replay_say(&r->o->hooks, REPLAY_NOTE, "%s row %llu: the time has no offset (Z or +hh:mm): it and others like it are read as "
            "UTC", o->csv, (unsigned long long)row.row);
    }
    out->has_ts = row.has_ts;
    out->ts_ns = row.ts_ns + loop_offset_ns;
    if (row.has_ts) {
        if (!st->first_ts || out->ts_ns < st->first_ts)
            st->first_ts = out->ts_ns;
        if (out->ts_ns > st->last_ts)
            st->last_ts = out->ts_ns;
    }
    /* The payload, as base64 for the request (validated when it already is). */
    size_t bad;
    if (row.data_base64 && row.data_len % 4 == 0) {
        /* Padded base64: sent as written once checked. */
        if (b64_check(row.data, row.data_len, &out->dlen, &bad) != 0) {
            kt_err_set(err, "%s: row %llu: invalid base64 in data_base64 at character %zu", o->csv,
                       (unsigned long long)row.row, bad + 1);
            return bad_row(r, row.row, err);
        }
        out->b64 = row.data;
        out->b64_len = row.data_len;
    } else if (row.data_base64) {
        kbuf_reset(&r->scratch);
        kbuf_reserve(&r->scratch, b64_decoded_max(row.data_len));
        if (b64_decode((uint8_t *)r->scratch.p, row.data, row.data_len, &out->dlen, &bad) != 0) {
            kt_err_set(err, "%s: row %llu: invalid base64 in data_base64 at character %zu", o->csv,
                       (unsigned long long)row.row, bad + 1);
            return bad_row(r, row.row, err);
        }
        out->bytes = (const uint8_t *)r->scratch.p;
    } else {
        out->bytes = (const uint8_t *)row.data;
        out->dlen = row.data_len;
    }
    if (o->pk_mode == PK_FIXED) {
        out->key = o->pk_fixed;
        out->klen = strlen(out->key);
    } else if (o->pk_mode == PK_RANDOM || !row.key) {
        uint64_t a = kt_rand64(&r->rng), b = kt_rand64(&r->rng);
        out->klen = (size_t)snprintf(out->keybuf, sizeof out->keybuf, "%016llx%016llx", (unsigned long long)a,
                                     (unsigned long long)b);
        out->key = out->keybuf;
    } else {
        out->key = row.key;
        out->klen = row.key_len;
    }
    size_t units = utf8_utf16_len(out->key, out->klen);
    if (units == 0 || units > 256)
        return invalid(r, row.row, "the partition key has %zu characters (1 to 256 allowed)", units);
    if (out->dlen + out->klen > o->max_record)
        return invalid(r, row.row,
                       "data and partition key are %zu bytes, over the record limit of %zu (--max-record-size)",
                       out->dlen + out->klen, o->max_record);
    if (row.ehk && row.ehk_len) {
        u128 h;
        if (hk_parse(row.ehk, row.ehk_len, &h) != 0)
            return invalid(r, row.row, "explicit_hash_key '%.*s' is not a number from 0 to 2^128-1",
                           (int)row.ehk_len, row.ehk);
        out->ehk = row.ehk;
        out->ehk_len = row.ehk_len;
    }
    if (o->stream) {
        if (r->fixed_stream == UINT32_MAX)
            r->fixed_stream = batcher_stream(r->b, o->stream, strlen(o->stream));
        out->stream = r->fixed_stream;
    } else if (row.stream && row.stream_len)
        out->stream = batcher_stream(r->b, row.stream, row.stream_len);
    else
        return invalid(r, row.row, "no stream: the stream column is empty and no --stream was given");
    if (out->stream == UINT32_MAX) {
        kt_err_set(err, "%s: row %llu: more than %d streams", o->csv, (unsigned long long)row.row, MAX_STREAMS);
        return READ_FATAL;
    }
    /* The lane: records of one key (or explicit hash key) always share one. */
    out->key_hash = out->ehk ? kt_fnv1a(KT_FNV_OFFSET, out->ehk, out->ehk_len)
                             : kt_fnv1a(KT_FNV_OFFSET, out->key, out->klen);
    st->streams[out->stream].records++;
    return READ_RECORD;
}

void reader_json(const struct row_rec *rr, struct kbuf *out)
{
    kbuf_puts(out, "{\"Data\":");
    if (rr->b64) {
        /* The base64 alphabet needs no JSON escaping. */
        kbuf_putc(out, '"');
        kbuf_append(out, rr->b64, rr->b64_len);
        kbuf_putc(out, '"');
    } else {
        jw_base64(out, rr->bytes, rr->dlen);
    }
    kbuf_puts(out, ",\"PartitionKey\":");
    jw_str(out, rr->key, rr->klen);
    if (rr->ehk) {
        kbuf_puts(out, ",\"ExplicitHashKey\":");
        jw_str(out, rr->ehk, rr->ehk_len);
    }
    kbuf_putc(out, '}');
}

uint64_t reader_skip_for(const struct reader *r, uint64_t row)
{
    uint64_t first = 1 + (uint64_t)csvin_header_rows(r->csv);
    return row > first ? row - first : 0;
}
