/*
 * csvin.h — reading the records CSV for replay, a row at a time (libcsv).
 *
 * Columns are found by header name: the payload in `data` (as it is) or
 * `data_base64`, its time in `ts`, and optionally `partition_key`,
 * `explicit_hash_key` and `stream`; other columns are ignored. A file whose
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

/* One row, as the reader hands it over; the pointers live until the next row. */
struct csv_row {
    uint64_t row;              /* 1-based row number in the file (the header is row 1) */
    const char *data;          /* payload field as written */
    size_t data_len;
    int data_base64;           /* the payload column is data_base64 */
    int has_ts;
    int64_t ts_ns;
    const char *key;           /* NULL when the file has no partition_key column */
    size_t key_len;
    const char *ehk;           /* NULL or "" when absent */
    size_t ehk_len;
    const char *stream;
    size_t stream_len;
};

/* Opens path ("-" for standard input) and reads its header. NULL with err set. */
struct csvin *csvin_open(const char *path, struct kt_err *err);
void csvin_close(struct csvin *c);

/*
 * The next row: 1 with row filled, 0 at the end of the file, -1 for a bad
 * row (err names the row and the problem; reading cannot go on).
 */
int csvin_next(struct csvin *c, struct csv_row *row, struct kt_err *err);

/* Bytes of the file read so far, and its size (0 when unknown), for progress. */
uint64_t csvin_offset(const struct csvin *c);
uint64_t csvin_size(const struct csvin *c);
/* Whether the file has these columns. */
int csvin_has_ts(const struct csvin *c);
int csvin_has_key(const struct csvin *c);
int csvin_has_stream(const struct csvin *c);

#endif
