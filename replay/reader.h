/*
 * reader.h — CSV rows to records: each row read (csvin.c), taken or left by
 * --split, checked against Kinesis's limits, and made ready to be sent as
 * the JSON text of one PutRecords entry:
 *
 *   {"Data":"<base64>","PartitionKey":"..."[,"ExplicitHashKey":"..."]}
 *
 * A row that cannot be sent (a key of the wrong length, a record over
 * --max-record-size, a bad explicit hash key, no stream) is counted and
 * named (the first 20, to hooks->message); a row that is not a record
 * stops the reading unless --skip-bad says to count and skip it too.
 */
#ifndef KT_READER_H
#define KT_READER_H

#include <stddef.h>
#include <stdint.h>

#include "batcher.h"
#include "buf.h"
#include "csvin.h"
#include "errbuf.h"
#include "replay.h"

/* A row read and checked; its views live until the next reader_next. */
struct row_rec {
    uint64_t row;              /* in the file, the header being row 1 */
    int has_ts;
    int64_t ts_ns;             /* its time, the loop's offset included */
    const char *b64;           /* the payload as base64 text to send as it is, or NULL: */
    size_t b64_len;
    const uint8_t *bytes;      /* the payload's bytes, to encode */
    size_t dlen;               /* payload bytes */
    const char *key;
    size_t klen;
    const char *ehk;           /* explicit hash key, or NULL */
    size_t ehk_len;
    uint32_t stream;           /* batcher_stream's index */
    uint64_t key_hash;         /* FNV-1a of its key (or explicit hash key): its lane */
    char keybuf[40];           /* a random key lives here */
};

enum read_result { READ_RECORD, READ_SKIPPED, READ_BAD, READ_END, READ_FATAL };

struct reader;

/* Opens o->csv (through csvin) for batcher b's streams; counts go to st. NULL with err set. */
struct reader *reader_open(const struct replay_opts *o, struct batcher *b, struct replay_stats *st,
                           struct kt_err *err);
void reader_close(struct reader *r);

/*
 * The next row: READ_RECORD with out filled, READ_SKIPPED for a row this
 * replay does not send (skipped, another slice's, a refused attempt, one
 * that cannot be sent or, with --skip-bad, is not a record: counted),
 * READ_BAD with out->row and err for a row that is not a record (a field
 * count other than the header's, bad base64, a bad time under
 * --respect-timing; counted in records, not yet in any fate), READ_END at
 * the end of the file, READ_FATAL with err set when reading cannot go on.
 * loop_offset_ns is added to its time.
 */
enum read_result reader_next(struct reader *r, int64_t loop_offset_ns, struct row_rec *out, struct kt_err *err);

/* Appends the record's PutRecords entry (JSON) to out. */
void reader_json(const struct row_rec *rr, struct kbuf *out);

/* Starts the file again for the next --loop pass; on failure the reader keeps the old one. 0, or -1. */
int reader_restart(struct reader *r, struct kt_err *err);

/* Bytes read so far, and the file's size (0 when unknown), for progress. */
uint64_t reader_offset(const struct reader *r);
uint64_t reader_size(const struct reader *r);
int reader_has_ts(const struct reader *r);
int reader_has_key(const struct reader *r);
int reader_has_stream(const struct reader *r);
/* The --skip-rows that starts a replay at `row` (as rows are numbered in messages). */
uint64_t reader_skip_for(const struct reader *r, uint64_t row);

#endif
