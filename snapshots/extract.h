/*
 * extract.h — snapshot to CSV.
 *
 * Record mode (the default): one row per Kinesis record of every PutRecord
 * and PutRecords request, in capture order:
 *
 *   data|data_base64, ts, partition_key, explicit_hash_key, stream, shard_id,
 *   sequence_number [, error_code]
 *
 * The payload comes first and its time second, so a plain "column 0 is the
 * message, column 1 its RFC 3339 time" reader works. Only records the server
 * accepted are written unless all_attempts is set. The header says how the
 * payload is written: `data` (as it is, when every payload is UTF-8 text
 * without NUL bytes) or `data_base64`.
 *
 * Path mode (paths given): one row per exchange, one column per path.
 *
 * The CSV is RFC 4180 (fields quoted by libcsv when they need it). Both
 * modes stream: memory does not grow with the snapshot.
 *
 * An exchange the capture cut (its request never seen whole) or the server
 * refused as unreadable has no records to give: it is counted and skipped.
 * Output to a file goes to FILE.partial and is renamed to FILE when the run
 * succeeds; a run that fails keeps FILE.partial with every row built before
 * the failure, so no output that looks complete is ever left behind.
 */
#ifndef KT_EXTRACT_H
#define KT_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"
#include "xfilter.h"

enum extract_encoding { ENC_AUTO, ENC_RAW, ENC_BASE64 };

struct extract_opts {
    enum extract_encoding encoding;
    int all_attempts;
    int skip_bad;
    int no_deaggregate;        /* KPL aggregates are written as the Kinesis records they are */
    const char *ops;           /* comma-separated operations, or NULL */
    const char *stream;
    int64_t since_ns, until_ns;
    int has_since, has_until;
    const struct xfilter *filter;
    struct xpath *const *paths;
    size_t npaths;
    /* With skip_bad: told of each problem skipped (the front end prints them); may be NULL. */
    void (*skipped)(void *ctx, const char *msg);
    void *ctx;
};

struct extract_stats {
    uint64_t lines, exchanges, matched;
    uint64_t records_written, records_rejected, records_unanswered, records_bad;
    uint64_t exchanges_incomplete; /* PutRecord(s) the capture cut before its request was whole: skipped */
    uint64_t exchanges_refused;    /* PutRecord(s) whose unreadable request the server refused: skipped */
    uint64_t bad_lines;        /* skipped with skip_bad */
    uint64_t kpl_aggregates, kpl_user_records; /* KPL aggregates unpacked, and the user records in them */
    uint64_t kpl_corrupt;      /* records with the KPL magic whose checksum or protobuf is wrong: kept as they are */
    int partial_kept;          /* the run failed: what it wrote is in OUT.partial */
    uint64_t bytes_written;
    enum extract_encoding encoding;  /* the one used */
    int passes;
    int cut;                   /* the snapshot had no end record */
    int data_lost;             /* its end record says the capture missed or could not read bytes */
    char lost[512];            /* what it lost, in words ("1 TLS connection not readable ...") */
    char cut_at[512];          /* where it ends in the middle of a line (file:line), or "" */
};

/*
 * Extracts `in` (a snapshot path, "-" for standard input) to `out` (a path,
 * "-" for standard output). Returns 0, or -1 with err naming the file and
 * line of the first problem (not returned with skip_bad: counted instead);
 * st->partial_kept then says whether OUT.partial holds the rows so far.
 */
int extract_run(const char *in, const char *out, const struct extract_opts *o, struct extract_stats *st,
                struct kt_err *err);

#endif
