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
    uint64_t sent, retried, failed;
    int inflight;
    double seconds;            /* since the start */
    double percent;            /* of the file (all passes) read */
};

/* What the replay tells its front end, and asks it; any may be NULL. */
struct replay_hooks {
    void *ctx;
    /* A line for the user: a row not sent, a stream created, a warning. */
    void (*message)(void *ctx, const char *msg);
    /* About four times a second while running, and once at the end (final = 1). */
    void (*progress)(void *ctx, const struct replay_progress *p, int final);
    /* Polled between steps: a reason to stop ("SIGINT"), or NULL to go on. */
    const char *(*stop)(void *ctx);
};

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

struct replay_stats {
    uint64_t rows, records;      /* rows read, records this process takes (slice) */
    uint64_t sent, failed, invalid, retried;
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
 * delivered), or -1 with err set when it could not start or had to stop
 * (bad input, unreachable endpoint, bad credentials, missing stream);
 * *bad_input tells which of these is the user's input.
 */
int replay_run(const struct replay_opts *o, struct replay_stats *st, int *bad_input, struct kt_err *err);

#endif
