/*
 * replay.h — sending a CSV of records as PutRecords calls.
 *
 *   reader ─▶ schedule ─▶ batcher (lanes per stream) ─▶ sender (libcurl multi) ─▶ answer
 *                              ▲                                                  │
 *                              └──────────── retry (backoff, jitter) ◀────────────┘
 *
 * reader.c turns rows into records, schedule.c says when each is due,
 * batcher.c makes PutRecords calls of them, sender.c makes the calls,
 * answer.c says what became of each record, preflight.c checks the stream
 * first; replay.c runs the loop. Library code all of it: what the user sees
 * (notes, the progress line) goes through replay_hooks to the front end,
 * which also owns the signals (it asks the replay to stop through `stop`).
 *
 * Schedule: full speed, the original timing (each record at start + (its
 * time - the first time) / speed, from one monotonic anchor, so error never
 * accumulates), and/or a rate in records per second. Batches hold at most
 * 500 records and 5 MiB of data and partition keys, and close when full or
 * when their oldest record has waited `linger`. Records a PutRecords answer
 * reports as failed are retried, only those, as are whole requests that
 * were throttled or lost; every record ends sent or failed for good.
 */
#ifndef KT_REPLAY_H
#define KT_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "creds.h"
#include "csvin.h"
#include "errbuf.h"
#include "hist.h"

enum pk_mode { PK_COLUMN, PK_FIXED, PK_RANDOM };

/* Where a running replay stands, for a progress line. */
struct replay_progress {
    uint64_t sent, retried, failed;  /* failed: after being sent, and not sendable */
    int inflight;
    double seconds;            /* since the start */
    double percent;            /* of the file's bytes read (all passes), -1 when its size is unknown */
    const char *top_error;     /* the error met most often so far, or NULL */
    uint64_t top_error_n;
};

/* A message's weight: notes (a stream created, how times are read) are for the curious, warnings for all. */
enum replay_level { REPLAY_NOTE, REPLAY_WARN };

/* What the replay tells its front end, and asks it; any may be NULL. */
struct replay_hooks {
    void *ctx;
    /* A line for the user: a row not sent, a stream created, a warning. */
    void (*message)(void *ctx, enum replay_level level, const char *msg);
    /* About four times a second while running, and once at the end (final = 1). */
    void (*progress)(void *ctx, const struct replay_progress *p, int final);
    /* Polled between steps: a reason to stop ("SIGINT"), or NULL to go on. */
    const char *(*stop)(void *ctx);
};

/* Formats a message and hands it to h->message (nothing when there is none). */
void replay_say(const struct replay_hooks *h, enum replay_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct replay_opts {
    const char *csv;
    struct csvin_opts csv_opts;  /* column names, time format */
    const char *stream;          /* NULL: the CSV's stream column */
    const char *endpoint;
    const char *ca_bundle;       /* NULL: the system's certificate authorities */
    struct creds creds;
    int respect_timing;
    double speed;
    int64_t max_gap_ns;          /* 0: no cap */
    double rate;                 /* records/s; 0: no pacing */
    int loops;
    int split_i, split_n;        /* this process takes slice split_i (1-based) of split_n */
    int64_t start_at_ns;         /* wall clock; 0: now */
    int64_t linger_ns;
    size_t max_record;           /* data + partition key bytes */
    enum pk_mode pk_mode;
    const char *pk_fixed;
    int dry_run;
    uint64_t skip_rows;          /* the first rows after the header are not sent (--skip-rows) */
    int skip_bad;                /* a row that is not a record is counted and skipped, not a stop */
    int64_t deadline_ns;         /* stop sending this long after the start; 0: none */
    int include_refused;         /* also send rows whose error_code says the server refused them */
    int concurrency;
    int strict_order;            /* a key at most once a call */
    int lanes;                   /* per stream: each key's records in order, one call in flight a lane */
    long timeout_ms;
    int max_retries;
    int create_stream;
    int shards;
    struct replay_hooks hooks;
};

struct error_count {
    char code[80];
    uint64_t n;
};

struct stream_count {
    char name[260];
    uint64_t records, sent, calls;
};

/*
 * Every row read is counted once: skipped (--skip-rows), another slice's,
 * refused when captured, or a record; and every record once: sent, failed
 * after being sent, not sendable, or not sent because the replay stopped.
 */
struct replay_stats {
    uint64_t rows, records;      /* rows read, records this process takes (slice) */
    uint64_t skipped_rows, other_slice;
    uint64_t sent, failed, invalid, not_sent, retried;
    uint64_t bad_times;          /* records whose time could not be read (sent: only a schedule needs times) */
    uint64_t no_offset_times;    /* RFC 3339 times without an offset, read as UTC */
    char stop[400];              /* why the replay stopped before the end, or "" */
    int stop_bad_input;          /* the stop was the input's fault (a bad row) */
    uint64_t first_not_sent;     /* the row (as numbered in messages) of the first record not sent, or 0 */
    uint64_t resume_skip;        /* --skip-rows that starts at first_not_sent */
    uint64_t sent_after;         /* records after first_not_sent that were sent all the same */
    uint64_t timed_out;          /* requests that got no answer within --timeout (not in latency) */
    uint64_t bytes_sent;         /* data bytes of delivered records */
    uint64_t requests, requests_ok;
    uint64_t out_of_order;
    uint64_t refused_skipped;    /* rows with an error_code, not sent */
    uint64_t overtaken;          /* records a later record of their key got ahead of (a failure in the call) */
    struct stream_count streams[64];
    size_t nstreams;
    struct error_count errors[48];
    size_t nerrors;
    struct hist latency;         /* request round trip */
    struct hist latency_sched;   /* from the batch's earliest scheduled time (coordinated omission corrected) */
    struct hist lateness;        /* dispatch time - scheduled time, per record */
    int64_t started_ns, ended_ns;   /* monotonic */
    int64_t first_ts, last_ts;   /* the records' own times */
    int64_t planned_ns;          /* the schedule's length (respect timing / rate) */
    uint64_t batches, max_batch_records, max_batch_bytes;
    int timed;                   /* a schedule was followed */
    double cpu_seconds;          /* user + system time of this process */
};

/*
 * Runs the replay. Returns 0 when it ran to the end (st says what was
 * delivered), or -1 with err set when it could not start (st->started_ns
 * 0) or had to stop (st->stop says why: a bad row, interrupted, the
 * deadline, a refusal every call would get); *bad_input tells whether that
 * was the user's input (a bad row, no payload column, a missing stream).
 */
int replay_run(const struct replay_opts *o, struct replay_stats *st, int *bad_input, struct kt_err *err);

#endif
