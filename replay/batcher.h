/*
 * batcher.h — records into PutRecords calls: streams, lanes, batches.
 *
 * A batch is the body of one PutRecords call being built: at most 500
 * records and 5 MiB of data and partition keys (the Kinesis limits). Order:
 * a partition key's records must reach their shard in file order even when
 * a call fails half-way, so each stream's records are spread over `nlanes`
 * lanes by a hash of their key; a lane has at most one call in flight, and
 * the records of a call that must be tried again go back to the front of
 * their lane, before anything later. With strict_order a key appears at
 * most once in a call, so a record that fails cannot be overtaken by a later
 * one of its key in the same call.
 *
 *   batcher_open ─ (append the record's JSON text) ─ batcher_commit   a record joins its lane's open batch
 *   batcher_close_due                                                  open batches that lingered close
 *   batcher_take ─ (the call) ─ batcher_answered                       a closed batch goes, its records' fates come back
 *
 * The counts of the replay's report that batches decide (calls, batch
 * sizes, retries, records failed for good or not sent, overtaken) go to
 * `st`.
 */
#ifndef KT_BATCHER_H
#define KT_BATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "replay.h"

#define BATCH_RECORDS 500
#define BATCH_BYTES ((size_t)5 << 20)
#define MAX_STREAMS 64

/* A record in a batch: where its text is in the body, and what it is. */
struct slot {
    uint64_t row;
    uint64_t key;              /* hash of the record's key, never 0 */
    int64_t sched_ns;          /* its scheduled time, 0 on a retry */
    uint32_t attempts;
    uint32_t off, len;         /* its text in the body */
    size_t bytes;              /* data + partition key */
};

struct batch {
    struct batch *next;
    uint32_t lane;             /* stream * nlanes + lane of the stream */
    int64_t due_ns;            /* not sent before (a retry's backoff); 0: at once */
    struct kbuf body;          /* {"StreamName":...,"Records":[...]} */
    struct slot *slots;
    size_t n, cap;
    size_t bytes;
    int64_t opened_ns;
    int64_t earliest_sched;
    uint64_t *keys;            /* strict_order: the keys in this batch (open addressing) */
};

struct batcher_opts {
    uint32_t nlanes;           /* per stream */
    int strict_order;
    int max_retries;           /* per record */
    int64_t linger_ns;         /* longest a batch stays open after it opened */
};

struct batcher;

/* Counts go to st (not owned): streams, calls, batch sizes, retries, failed, overtaken. */
struct batcher *batcher_new(const struct batcher_opts *o, struct replay_stats *st);
void batcher_free(struct batcher *b);

/* The index of a stream (a name or an ARN), added on first use; UINT32_MAX past MAX_STREAMS. */
uint32_t batcher_stream(struct batcher *b, const char *name, size_t len);
const char *batcher_stream_name(const struct batcher *b, uint32_t stream);

/* The stream a lane belongs to. */
uint32_t batcher_lane_stream(const struct batcher *b, uint32_t lane);

/* The lane of a record of stream `stream` whose key (or explicit hash key) hashes to key_hash. */
uint32_t batcher_lane(const struct batcher *b, uint32_t stream, uint64_t key_hash);

/*
 * Makes room in lane li's open batch for a record of `bytes` with key hash
 * `key` (a batch that is full, or already has the key under strict_order,
 * is closed first; a new one lingers from `opened_ns`), and returns the body
 * the record's JSON text is to be appended to. Then batcher_commit.
 */
struct kbuf *batcher_open(struct batcher *b, uint32_t li, size_t bytes, int64_t opened_ns, uint64_t key);
/* The text appended since batcher_open is the record's first attempt. */
void batcher_commit(struct batcher *b, uint32_t li, uint64_t row, uint64_t key, int64_t sched_ns, size_t bytes);

/*
 * Closes open batches that lingered (opened + linger <= now), that no record
 * can join before their linger ends (next_due after it, INT64_MAX: nothing
 * more comes), or all with `all`. A lane with a call in flight keeps its
 * batch open (it could not go sooner). Returns the open batches left, and
 * the earliest deadline among them in *next_linger.
 */
size_t batcher_close_due(struct batcher *b, int64_t now, int64_t next_due, int all, int64_t *next_linger);

/*
 * The next closed batch that may go now: the first of a lane with nothing
 * in flight whose backoff is over, lanes taking turns. Marks its lane busy.
 * NULL when none may go; *next_ready is then the earliest time a waiting
 * batch's backoff ends (INT64_MAX: none waits).
 */
struct batch *batcher_take(struct batcher *b, int64_t now, int64_t *next_ready);

/*
 * The call of batch bt (taken, and the caller's until now) was answered:
 * fates[i] says what became of record i (answer.h). Records to try again go
 * back to the front of their lane as one batch after a backoff (exponential,
 * full jitter from rng), unless out of attempts; bt is freed and its lane
 * free again.
 */
void batcher_answered(struct batcher *b, struct batch *bt, const unsigned char *fates, int64_t now, uint64_t *rng);

/* A batch taken went out: its call is counted (calls, batches, their sizes). */
void batcher_sent(struct batcher *b, const struct batch *bt);

/* The wait before attempt `attempts` + 1: exponential backoff with full jitter from rng. */
int64_t batcher_backoff_ns(uint32_t attempts, uint64_t *rng);

/* The replay stops: records an answer says to try again are counted not sent instead. */
void batcher_stop(struct batcher *b);

/* A batch taken could not go: its lane is free, its records are counted not sent; bt is freed. */
void batcher_unsent(struct batcher *b, struct batch *bt);

/*
 * Frees every closed batch not yet sent: DROP_PLAN counts each as a call
 * (a dry run's plan), DROP_NOT_SENT counts their records not sent (the
 * replay stopped), with the first such row in st->first_not_sent.
 */
enum drop_mode { DROP_PLAN, DROP_NOT_SENT };
void batcher_drop(struct batcher *b, enum drop_mode mode);

/* Closed batches waiting, and how many of them are retries. */
size_t batcher_ready(const struct batcher *b);
size_t batcher_retries_waiting(const struct batcher *b);

void batch_free(struct batch *bt);

#endif
