/*
 * ops_records.c — record operations of the Kinesis API: PutRecord,
 * PutRecords, GetShardIterator, GetRecords.
 *
 * Follows the Amazon Kinesis Data Streams API Reference for each action.
 * These are the hot paths of a load test. A request's records are read and
 * validated in full before any is stored, so a rejected request stores
 * nothing.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "iterator.h"
#include "ktime.h"
#include "mem.h"
#include "ops.h"
#include "seqnum.h"

#define PUT_RECORDS_MAX_BYTES ((size_t)5 << 20)
#define GET_RECORDS_MAX_BYTES ((size_t)10 << 20)


/* "records.3.member." for the 3rd record of PutRecords, "" for PutRecord. */
static void record_where(char *out, size_t cap, size_t pos)
{
    if (pos)
        snprintf(out, cap, "records.%zu.member.", pos);
    else
        out[0] = '\0';
}

/* A record as read from the request, checked but not yet stored. */
struct in_record {
    const struct in_val *data;
    size_t data_len;
    const char *key;
    size_t key_len;
    u128 hash;
    size_t data_off;   /* decoded data, in the thread's scratch buffer */
};

/*
 * Reads and checks one record's Data, PartitionKey and ExplicitHashKey.
 * `pos` is the record's 1-based position in PutRecords (0 for PutRecord),
 * used to name it in messages. Returns 0, or -1 after op_fail.
 */
static int read_record(struct op_call *c, const struct in_val *obj, const struct stream *s, size_t pos,
                       struct in_record *r)
{
    char where[48];
    const struct reqin *in = c->in;
    r->data = in_get(in, obj, "Data");
    r->data_len = in_blob_len(in, r->data);
    r->key = op_member_str(c, obj, "PartitionKey", &r->key_len);
    size_t hl;
    const char *hs = op_member_str(c, obj, "ExplicitHashKey", &hl);
    size_t max = (size_t)s->max_record_kib * 1024;
    if (r->data_len > max || r->data_len + r->key_len > max)
        record_where(where, sizeof where, pos); /* only messages need it */
    if (r->data_len > max)
        return op_fail(c, 400, "ValidationException",
                       "1 validation error detected: Value at '%sdata' failed to satisfy constraint: Member "
                       "must have length less than or equal to %zu",
                       where, max);
    if (r->data_len + r->key_len > max)
        return op_invalid(c, "Record size (data plus partition key) of %zu bytes at '%sdata' exceeds the "
                             "maximum record size of %zu bytes of stream %s.",
                          r->data_len + r->key_len, where, max, s->name);
    if (hs) {
        if (hk_parse(hs, hl, &r->hash) != 0)
            return op_invalid(c, "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                                 "Specified value was %s",
                              hs);
    } else {
        r->hash = hk_from_partition_key(r->key, r->key_len);
    }
    return 0;
}

/*
 * Decodes a record's data and appends it to the thread's scratch buffer
 * (reserved by the caller); -1 after op_fail.
 */
static int decode_data(struct op_call *c, struct in_record *r, size_t pos)
{
    struct kbuf *sc = c->scratch;
    size_t bad = 0, len = 0;
    kbuf_reserve(sc, in_blob_room(c->in, r->data));
    if (in_blob(c->in, r->data, (uint8_t *)sc->p + sc->len, &len, &bad) != 0) {
        char where[48];
        record_where(where, sizeof where, pos);
        return op_fail(c, 400, "SerializationException",
                       "Value of '%sData' is not valid base64: unexpected character at offset %zu", where, bad);
    }
    r->data_off = sc->len;
    r->data_len = len;
    sc->len += len;
    return 0;
}

static uint64_t store_record(struct op_call *c, struct stream *s, struct shard *sh, const struct in_record *r)
{
    int64_t ts;
    const uint8_t *data = (const uint8_t *)c->scratch->p + r->data_off;
    return reclog_append(sh->log, r->key, r->key_len, data, r->data_len, c->now_ms, stream_retention_ms(s), &ts);
}

#define LIMIT_WRITE_RECORDS 1000
#define LIMIT_WRITE_BYTES ((uint64_t)1 << 20)
#define LIMIT_READS 5
#define LIMIT_READ_BYTES ((uint64_t)2 << 20)

/* The shard's counters, started afresh when the second changed. */
static struct shard_rate *rate_now(struct shard *sh, int64_t now_ms)
{
    int64_t sec = now_ms / 1000, cur = atomic_load(&sh->rate.sec);
    if (cur != sec && atomic_compare_exchange_strong(&sh->rate.sec, &cur, sec)) {
        atomic_store(&sh->rate.records, 0);
        atomic_store(&sh->rate.bytes, 0);
        atomic_store(&sh->rate.reads, 0);
        atomic_store(&sh->rate.read_bytes, 0);
    }
    return &sh->rate;
}

/* With --enforce-limits: 1 when a write of `bytes` fits the shard's second (and it is counted). */
static int write_allowed(struct op_call *c, struct shard *sh, size_t bytes)
{
    if (!c->emu->cfg.enforce_limits)
        return 1;
    struct shard_rate *r = rate_now(sh, c->now_ms);
    uint64_t n = atomic_fetch_add(&r->records, 1) + 1, b = atomic_fetch_add(&r->bytes, bytes) + bytes;
    if (n <= LIMIT_WRITE_RECORDS && b <= LIMIT_WRITE_BYTES)
        return 1;
    atomic_fetch_sub(&r->records, 1);
    atomic_fetch_sub(&r->bytes, bytes);
    return 0;
}

/* A write refused: at random (--error-probability), or over the shard's limits (--enforce-limits). */
static int throttle(struct op_call *c, struct stream *s, struct shard *sh, size_t bytes)
{
    double p = c->emu->cfg.error_probability;
    if (c->emu->cfg.enforce_limits && s->on_demand)
        stream_demand_add(s, c->now_ms, bytes); /* what it is asked to take drives its scaling */
    return (p > 0 && op_random(c) < p) || !write_allowed(c, sh, bytes);
}

/* -------------------------------------------------------------- PutRecord */

int op_put_record(struct op_call *c)
{
    struct stream *s = op_stream(c, 1);
    if (!s)
        return -1;
    struct in_record r;
    if (read_record(c, c->root, s, 0, &r) != 0)
        return -1;
    struct shard *sh = stream_shard_for(s, r.hash);
    char sid[SHARD_ID_MAX];
    shard_id_format(sid, sh->index);
    kbuf_reset(c->scratch);
    if (decode_data(c, &r, 0) != 0)
        return -1;
    if (throttle(c, s, sh, r.data_len + r.key_len))
        return op_fail(c, 400, "ProvisionedThroughputExceededException",
                       "Rate exceeded for shard %s in stream %s under account %s.", sid, s->name,
                       c->account);
    uint64_t idx = store_record(c, s, sh, &r);
    shard_wake(sh);
    char seq[SEQ_LEN + 1];
    seq_format_record(seq, s->epoch, sh->index, idx);
    struct rw *w = c->w;
    rw_map(w);
    rw_kascii(w, "ShardId", sid);
    rw_kascii(w, "SequenceNumber", seq);
    rw_kascii(w, "EncryptionType", s->key_id ? "KMS" : "NONE");
    rw_end(w);
    return 0;
}

/* ------------------------------------------------------------- PutRecords */

int op_put_records(struct op_call *c)
{
    struct stream *s = op_stream(c, 1);
    if (!s)
        return -1;
    const struct reqin *in = c->in;
    const struct in_val *list = op_get(c, "Records");
    size_t n = in_count(in, list);
    struct in_record recs[500];
    size_t total = 0;
    size_t room = 0;
    const struct in_val *e = in_first(in, list);
    for (size_t i = 0; i < n; i++, e = in_next(in, list, e)) {
        if (read_record(c, e, s, i + 1, &recs[i]) != 0)
            return -1;
        total += recs[i].data_len + recs[i].key_len;
        room += in_blob_room(in, recs[i].data);
    }
    if (total > PUT_RECORDS_MAX_BYTES)
        return op_invalid(c, "Records size exceeds 5 MB limit: the request holds %zu bytes of data and "
                             "partition keys (at most %zu).",
                          total, PUT_RECORDS_MAX_BYTES);
    /* Decode everything before storing anything: a bad record rejects the whole request. */
    kbuf_reset(c->scratch);
    kbuf_reserve(c->scratch, room);
    for (size_t i = 0; i < n; i++) {
        if (decode_data(c, &recs[i], i + 1) != 0)
            return -1;
    }

    struct rw *w = c->w;
    kbuf_reserve(w->out, n * 110 + 64);
    rw_map(w);
    rw_key(w, "Records");
    rw_list(w);
    unsigned failed = 0;
    char seq[SEQ_LEN + 1], sid[SHARD_ID_MAX], msg[400];
    struct shard *woken[16]; /* shards with subscribers to wake once the records are in */
    size_t nwoken = 0;
    for (size_t i = 0; i < n; i++) {
        struct in_record *r = &recs[i];
        struct shard *sh = stream_shard_for(s, r->hash);
        shard_id_format(sid, sh->index);
        rw_map(w);
        if (throttle(c, s, sh, r->data_len + r->key_len)) {
            failed++;
            snprintf(msg, sizeof msg, "Rate exceeded for shard %s in stream %s under account %s.", sid, s->name,
                     c->account);
            rw_kstr(w, "ErrorCode", "ProvisionedThroughputExceededException");
            rw_kstr(w, "ErrorMessage", msg);
        } else {
            uint64_t idx = store_record(c, s, sh, r);
            if (atomic_load_explicit(&sh->nwatch, memory_order_relaxed)) {
                size_t k = 0;
                while (k < nwoken && woken[k] != sh)
                    k++;
                if (k == nwoken) {
                    if (nwoken == KT_ARRAY_LEN(woken))
                        shard_wake(woken[--nwoken]);
                    woken[nwoken++] = sh;
                }
            }
            seq_format_record(seq, s->epoch, sh->index, idx);
            rw_key(w, "SequenceNumber");
            rw_ascii(w, seq, SEQ_LEN);
            rw_key(w, "ShardId");
            rw_ascii(w, sid, SHARD_ID_LEN);
        }
        rw_end(w);
    }
    rw_end(w);
    for (size_t k = 0; k < nwoken; k++)
        shard_wake(woken[k]);
    rw_ki64(w, "FailedRecordCount", failed);
    rw_kascii(w, "EncryptionType", s->key_id ? "KMS" : "NONE");
    rw_end(w);
    return 0;
}

/* ------------------------------------------------------- GetShardIterator */

int op_get_shard_iterator(struct op_call *c)
{
    /*
     * As AWS: the shard id is read first (the digits after "shardId-", or the
     * whole id), then the stream; messages name the shard in full
     * (shardId-000000000005 for "shardId-5"), and a stream that is not there
     * is answered in the shard's words.
     */
    const char *acct = c->account;
    const char *shard_text = op_str(c, "ShardId", NULL);
    long long si = op_shard_index(shard_text);
    if (si < 0) {
        const char *name = op_str(c, "StreamName", NULL);
        return op_fail(c, 400, "ResourceNotFoundException", "Could not find shard %s in stream %s under account %s.",
                       shard_text, name ? name : "", acct);
    }
    char stream_name[129];
    int missing;
    struct stream *s = op_find_stream(c, 1, stream_name, sizeof stream_name, &missing);
    if (!s && !missing)
        return -1;
    if (!s || si >= s->nshards)
        return op_fail(c, 400, "ResourceNotFoundException", "Shard shardId-%012lld in stream %s under account %s does "
                                                            "not exist",
                       si, s ? s->name : stream_name, acct);
    struct shard *sh = s->shards[si];
    size_t seql = 0;
    const char *seqtext = op_str(c, "StartingSequenceNumber", &seql);
    uint64_t pos;
    if (op_start_position(c, s, sh, op_str(c, "ShardIteratorType", NULL), seqtext, seql, op_get(c, "Timestamp"),
                          "GetShardIterator", &pos) != 0)
        return -1;

    struct iter_pos ip = {.kind = ITER_SHARD, .epoch = s->epoch, .shard = sh->index, .index = pos,
                          .issued_ms = c->now_ms};
    snprintf(ip.region, sizeof ip.region, "%s", s->region);
    snprintf(ip.stream, sizeof ip.stream, "%s", s->name);
    char text[ITER_TEXT_MAX + 1];
    iter_encode(text, &ip);
    rw_map(c->w);
    rw_kascii(c->w, "ShardIterator", text);
    rw_end(c->w);
    return 0;
}

/* ------------------------------------------------------------- GetRecords */

static void amz_utc(char *out, size_t cap, int64_t ms)
{
    /* "Thu Jan 22 01:22:02 UTC 2015", as AWS writes times in this message */
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%a %b %d %H:%M:%S UTC %Y", &tm);
}

int op_get_records(struct op_call *c)
{
    size_t tl = 0;
    const char *text = op_str(c, "ShardIterator", &tl);
    const char *acct = c->account;
    struct iter_pos ip;
    if (iter_decode(text, tl, ITER_SHARD, &ip) != 0)
        return op_invalid(c, "Invalid ShardIterator.");
    if (c->now_ms - ip.issued_ms > c->emu->cfg.iterator_ttl_ms) {
        char then[64], now[64];
        amz_utc(then, sizeof then, ip.issued_ms);
        amz_utc(now, sizeof now, c->now_ms);
        return op_fail(c, 400, "ExpiredIteratorException",
                       "Iterator expired. The iterator was created at time %s while right now it is %s which is "
                       "further in the future than the tolerated delay of %lld milliseconds.",
                       then, now, (long long)c->emu->cfg.iterator_ttl_ms);
    }
    struct stream *s = store_find(&c->emu->store, c->account, ip.region, ip.stream, c->now_ms);
    enum stream_status st = s ? stream_status(s, c->now_ms) : ST_GONE;
    if (!s || s->epoch != ip.epoch || ip.shard >= s->nshards || (st != ST_ACTIVE && st != ST_UPDATING))
        return op_fail(c, 400, "ResourceNotFoundException", "Shard shardId-%012u in stream %s under account %s does "
                                                            "not exist",
                       ip.shard, ip.stream, acct);
    const char *arn = op_str(c, "StreamARN", NULL);
    if (arn && strcmp(arn, s->arn) != 0)
        return op_invalid(c, "StreamARN %s does not match the stream of the ShardIterator (%s).", arn, s->arn);
    long long limit = 10000;
    op_int(c, "Limit", &limit);

    struct shard *sh = s->shards[ip.shard];
    if (c->emu->cfg.enforce_limits) {
        /* 5 calls a second per shard, and 2 MiB a second of what they return (the call that passes it is whole). */
        struct shard_rate *rt = rate_now(sh, c->now_ms);
        if (atomic_fetch_add(&rt->reads, 1) >= LIMIT_READS || atomic_load(&rt->read_bytes) >= LIMIT_READ_BYTES) {
            char sid[SHARD_ID_MAX];
            shard_id_format(sid, sh->index);
            return op_fail(c, 400, "ProvisionedThroughputExceededException",
                           "Rate exceeded for shard %s in stream %s under account %s.", sid, s->name, acct);
        }
    }
    struct rw *w = c->w;
    rw_map(w);
    rw_key(w, "Records");
    rw_list(w);
    struct reclog_cursor cur;
    struct rec_view v;
    size_t bytes = 0;
    long long n = 0;
    uint64_t pos = ip.index;
    int64_t behind = 0;
    reclog_seek(sh->log, &cur, pos, c->now_ms, stream_retention_ms(s));
    while (reclog_peek(&cur, &v)) {
        if (n >= limit || (n > 0 && bytes + v.dlen + v.klen > GET_RECORDS_MAX_BYTES)) {
            behind = c->now_ms - v.ts_ms; /* the oldest record not handed over */
            break;
        }
        reclog_skip(&cur);
        if (v.index < pos)
            continue;
        bytes += v.dlen + v.klen;
        n++;
        op_write_record(w, s, sh, &v);
        pos = v.index + 1;
    }
    reclog_done(&cur);
    if (c->emu->cfg.enforce_limits)
        atomic_fetch_add(&sh->rate.read_bytes, bytes);
    if (behind < 0)
        behind = 0;
    rw_end(w);

    if (sh->closed_ms && pos >= sh->end_next) {
        /* A closed shard read to its end: no next iterator, and where its keys went on, as AWS answers. */
        rw_ki64(w, "MillisBehindLatest", 0);
        op_write_child_shards(w, s, sh);
        rw_end(w);
        return 0;
    }
    ip.index = pos;
    ip.issued_ms = c->now_ms;
    char next[ITER_TEXT_MAX + 1];
    iter_encode(next, &ip);
    rw_kascii(w, "NextShardIterator", next);
    rw_ki64(w, "MillisBehindLatest", behind);
    rw_end(w);
    return 0;
}
