/*
 * opcall.h — what every operation works with: the call (its input, its
 * writer, where and when), and the helpers operations share to read their
 * input, find their stream and fail in AWS's words.
 *
 * It sits below the dispatcher (api.c) and the operations (ops_*.c), so
 * neither calls up into the other. Operations read their input only through
 * the request reader (reqin.h) and write their answer only through the
 * response writer (rw.h): they do not know the encoding.
 */
#ifndef KT_OPCALL_H
#define KT_OPCALL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "emu.h"
#include "reqin.h"
#include "rw.h"
#include "subreq.h"

/* One call in progress. */
struct op_call {
    struct emu *emu;
    const struct reqin *in;
    const struct in_val *root;   /* the request's map; NULL when the call has no input */
    const char *account;         /* the caller's: its access key's (--accounts), or the configured account */
    const char *region;
    int64_t now_ms;
    struct rw *w;                /* the answer */
    struct kbuf *scratch;        /* the worker's: decoded record data */
    uint64_t *rng;               /* the worker's generator */
    int status;                  /* HTTP status of the answer */
    struct sub_req *sub;         /* SubscribeToShard: where its stream starts (NULL: the caller cannot stream) */
    int streaming;               /* ... and the op set it: the answer is that stream */
};

/* Replaces the answer with an error; returns -1 for `return op_fail(...)`. */
int op_fail(struct op_call *c, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define op_invalid(c, ...) op_fail(c, 400, "InvalidArgumentException", __VA_ARGS__)

/* Member `name` of the request, or NULL. */
const struct in_val *op_get(struct op_call *c, const char *name);
/* A string member (the schema has checked its type), or NULL; *len when len is not NULL. */
const char *op_str(struct op_call *c, const char *name, size_t *len);
/* An integer member: 1 with *out set, 0 when absent. */
int op_int(struct op_call *c, const char *name, long long *out);
/* Member `name` of map m, as a string (NULL when absent or not a string). */
const char *op_member_str(struct op_call *c, const struct in_val *m, const char *name, size_t *len);

/* A timestamp value (epoch seconds number, or text) in ms; -1 if bad. */
int op_timestamp_ms(struct op_call *c, const struct in_val *v, int64_t *ms);

/* arn:<partition>:kinesis:<region>:<account>:stream/<name>: 0 with its parts (region, account, name), or -1. */
int op_parse_stream_arn(const char *arn, size_t n, char *region, size_t rcap, char *account, char *name, size_t ncap);
/* arn:aws:kinesis:<region>:<account>:stream/<stream>/consumer/<name>:<seconds>: 0 with its parts, or -1. */
int op_parse_consumer_arn(const char *arn, char *region, size_t rcap, char *account, char *stream, char *name);

/* The consumer of a consumer ARN (member names it in messages), its stream in *sp; NULL after the error. */
struct consumer *op_consumer_by_arn(struct op_call *c, const char *arn, const char *member, struct stream **sp);

/*
 * The stream named by StreamName and/or StreamARN. With `active`, a stream
 * that is not ACTIVE counts as not found (as for record operations).
 * Returns NULL after setting the error.
 */
struct stream *op_stream(struct op_call *c, int active);
/*
 * The same, answering nothing when the stream is not there (or not ACTIVE
 * or UPDATING with active): NULL with *missing set and its name in name, for
 * an operation that words that case its own way; other errors are answered.
 */
struct stream *op_find_stream(struct op_call *c, int active, char *name, size_t cap, int *missing);

/* 0 when the stream is ACTIVE; else -1 after AWS's ResourceInUseException. */
int op_require_active(struct op_call *c, const struct stream *s);
/* The stream of op_stream, which must be ACTIVE to be changed (ResourceInUseException otherwise). */
struct stream *op_stream_to_change(struct op_call *c);
/* A change (a reshard, encryption, the mode) leaves the stream UPDATING for --update-stream-ms. */
void op_updating(struct op_call *c, struct stream *s);
/* 0 when one more ON_DEMAND stream fits the region's limit; else -1 after AWS's LimitExceededException. */
int op_on_demand_limit_check(struct op_call *c);

/* A ShardId as AWS reads it: the digits after its first '-' (up to the next), or all of it; -1 when not 0..2^31-1. */
long long op_shard_index(const char *text);

/* Open shards of the call's region (and, when on_demand is not NULL, its ON_DEMAND streams) (lock held). */
long op_region_shards(struct op_call *c, long *on_demand);

/* 0 when `more` open shards fit the region's --shard-limit; else -1 after AWS's LimitExceededException. */
int op_shard_limit_check(struct op_call *c, long long more);

/*
 * "ChildShards": [{"ShardId", "ParentShards": [...], "HashKeyRange"}] of a
 * closed shard, as GetRecords and SubscribeToShard send them at its end.
 */
void op_write_child_shards(struct rw *w, const struct stream *s, const struct shard *sh);
/*
 * Where a read of shard sh starts, for an iterator type (AT_/AFTER_SEQUENCE_NUMBER with
 * seqtext, TRIM_HORIZON, LATEST, AT_TIMESTAMP with ts), as GetShardIterator and SubscribeToShard
 * (opname, for messages) read it: 0 with the index in *out, or -1 after the error.
 */
int op_start_position(struct op_call *c, const struct stream *s, const struct shard *sh, const char *type,
                      const char *seqtext, size_t seql, const struct in_val *ts, const char *opname, uint64_t *out);
/* One record as GetRecords and SubscribeToShard send it. */
void op_write_record(struct rw *w, const struct stream *s, const struct shard *sh, const struct rec_view *v);

/* Uniform random in [0, 1) from the worker's generator. */
double op_random(struct op_call *c);

#endif
