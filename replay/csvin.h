/*
 * csvin.h — reading the records CSV for replay, a row at a time (libcsv).
 *
 * Columns are found by header name: the payload in `data` (as it is) or
 * `data_base64`, its time in `ts`, and optionally `partition_key`,
 * `explicit_hash_key`, `stream` and `error_code` (written by `kintape
 * extract --all-attempts`); other columns are ignored. Other names
 * can be given per role (csvin_opts). A file whose
 * first row is not such a header but has a payload and an RFC 3339 time in
 * its first two columns is read as header-less (payload, time).
 *
 * Memory: libcsv is fed 64 KiB at a time and rows are handed over as they
 * complete, so the file's size does not matter.
 */
#ifndef KT_CSVIN_H
#define KT_CSVIN_H

#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"

struct csvin;

/* What a column holds. */
enum csv_role { CSV_DATA, CSV_DATA_BASE64, CSV_TS, CSV_KEY, CSV_EHK, CSV_STREAM, CSV_ERROR, CSV_ROLES };

/* How the time column is written. */
enum csv_ts_format { TS_RFC3339, TS_EPOCH_S, TS_EPOCH_MS };

struct csvin_opts {
    const char *names[CSV_ROLES]; /* a header name for a role (--column ROLE=NAME); NULL: the usual one */
    enum csv_ts_format ts_format;
};

/* The role named `name` ("data", "ts", ...), or -1. The usual header name of a role. */
int csv_role_parse(const char *name, size_t len);
const char *csv_role_name(enum csv_role r);

/*
 * Parses a time written as format says into nanoseconds since 1970. Epoch
 * times are decimal seconds or milliseconds with an optional fraction.
 * Returns 0, or -1.
 */
int csv_parse_time(const char *s, size_t n, enum csv_ts_format format, int64_t *ns);

/* One row, as the reader hands it over; the pointers live until the next row. */
struct csv_row {
    uint64_t row;              /* 1-based row number in the file (the header is row 1) */
    const char *data;          /* payload field as written */
    size_t data_len;
    int data_base64;           /* the payload column is data_base64 */
    int has_ts;
    int64_t ts_ns;
    int ts_no_offset;          /* an RFC 3339 time without Z or an offset: read as UTC */
    int ts_bad;                /* the time could not be read: ts_error says why (has_ts is 0) */
    struct kt_err ts_error;
    const char *key;           /* NULL when the file has no partition_key column */
    size_t key_len;
    const char *ehk;           /* NULL or "" when absent */
    size_t ehk_len;
    const char *stream;
    size_t stream_len;
    const char *error_code;    /* `kintape extract --all-attempts`: why the server refused this attempt */
    size_t error_code_len;
};

/* Opens path ("-" for standard input) and reads its header. opts may be NULL. NULL with err set. */
struct csvin *csvin_open(const char *path, const struct csvin_opts *opts, struct kt_err *err);
void csvin_close(struct csvin *c);

/*
 * The next row: 1 with row filled, 0 at the end of the file, -2 for a row
 * that is not a record (a field count other than the header's: err names
 * the row and the problem; the next call reads on), -1 when reading cannot
 * go on (malformed CSV, whose next row cannot be found; a read error).
 */
int csvin_next(struct csvin *c, struct csv_row *row, struct kt_err *err);

/* Bytes of the file read so far, and its size (0 when unknown), for progress. */
uint64_t csvin_offset(const struct csvin *c);
uint64_t csvin_size(const struct csvin *c);
/* 1 when the file's first row is a header, 0 when it is a record. */
int csvin_header_rows(const struct csvin *c);
/* Whether the file has these columns. */
int csvin_has_ts(const struct csvin *c);
int csvin_has_key(const struct csvin *c);
int csvin_has_stream(const struct csvin *c);

#endif
