/*
 * ops_streams.c — stream management operations of the Kinesis API:
 * CreateStream, DeleteStream, DescribeStream, DescribeStreamSummary,
 * ListStreams, ListShards, Increase/DecreaseStreamRetentionPeriod,
 * DescribeLimits.
 *
 * Follows the Amazon Kinesis Data Streams API Reference for each action;
 * error messages use AWS's wording.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iterator.h"
#include "mem.h"
#include "ops.h"
#include "schema.h"
#include "seqnum.h"
#include "utf8.h"

#define MIN_RETENTION_HOURS 24
#define MAX_RETENTION_HOURS 8760
#define TOKEN_TTL_MS 300000

static void write_shard(struct rw *w, const struct stream *s, const struct shard *sh)
{
    char id[SHARD_ID_MAX], start[HK_TEXT_MAX], end[HK_TEXT_MAX], seq[SEQ_LEN + 1];
    shard_id_format(id, sh->index);
    hk_format(start, sh->start);
    hk_format(end, sh->end);
    rw_map(w);
    rw_kstr(w, "ShardId", id);
    if (sh->parent != SHARD_NONE) {
        shard_id_format(id, sh->parent);
        rw_kstr(w, "ParentShardId", id);
    }
    if (sh->adjacent != SHARD_NONE) {
        shard_id_format(id, sh->adjacent);
        rw_kstr(w, "AdjacentParentShardId", id);
    }
    rw_key(w, "HashKeyRange");
    rw_map(w);
    rw_kstr(w, "StartingHashKey", start);
    rw_kstr(w, "EndingHashKey", end);
    rw_end(w);
    rw_key(w, "SequenceNumberRange");
    rw_map(w);
    seq_format_start(seq, s->epoch, sh->index);
    rw_kstr(w, "StartingSequenceNumber", seq);
    if (sh->closed_ms) {
        /* its last record's number; its start when it had none */
        seq_format(seq, s->epoch, sh->index, sh->end_next);
        rw_kstr(w, "EndingSequenceNumber", seq);
    }
    rw_end(w);
    rw_end(w);
}

/* How many shards a stream shows: none while it is CREATING or DELETING, as on AWS. */
static uint32_t shards_shown(const struct op_call *c, const struct stream *s)
{
    enum stream_status st = stream_status(s, c->now_ms);
    return st == ST_CREATING || st == ST_DELETING ? 0 : s->nshards;
}

/* A closed shard is listed until its records are all past retention, as on AWS. */
static int shard_listed(const struct op_call *c, const struct stream *s, const struct shard *sh)
{
    return !sh->closed_ms || sh->closed_ms + stream_retention_ms(s) > c->now_ms;
}

/* ShardFilter types, as they travel in a NextToken. */
enum shard_filter { SF_NONE, SF_AFTER_SHARD_ID, SF_AT_TRIM_HORIZON, SF_FROM_TRIM_HORIZON, SF_AT_LATEST,
                    SF_AT_TIMESTAMP, SF_FROM_TIMESTAMP };
static const char *const filter_names[] = {"", "AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON",
                                           "AT_LATEST", "AT_TIMESTAMP", "FROM_TIMESTAMP"};

/*
 * Whether a shard passes the filter (AWS's ListShards ShardFilter): open at
 * the time (AT_*), or open at it or after (FROM_*); the trim horizon is the
 * retention period ago, and a time before the stream existed is its creation.
 */
static int shard_passes(const struct op_call *c, const struct stream *s, const struct shard *sh,
                        enum shard_filter f, int64_t ts)
{
    if (!shard_listed(c, s, sh))
        return 0;
    if (f == SF_AT_TRIM_HORIZON || f == SF_FROM_TRIM_HORIZON)
        ts = c->now_ms - stream_retention_ms(s);
    if (ts < s->created_ms)
        ts = s->created_ms;
    switch (f) {
    case SF_AT_LATEST:
        return !sh->closed_ms;
    case SF_AT_TRIM_HORIZON:
    case SF_AT_TIMESTAMP:
        return sh->created_ms <= ts && (!sh->closed_ms || sh->closed_ms >= ts);
    case SF_FROM_TRIM_HORIZON:
    case SF_FROM_TIMESTAMP:
        return !sh->closed_ms || sh->closed_ms >= ts;
    default:
        return 1;
    }
}

/*
 * The Shards list: the shards from index `first` that pass the filter, up to
 * limit. Returns where a next page would start (shards_shown when none is left).
 */
static uint32_t write_shard_list(struct op_call *c, const struct stream *s, uint32_t first, long long limit,
                                 enum shard_filter f, int64_t ts)
{
    struct rw *w = c->w;
    uint32_t i = first, shown = shards_shown(c, s);
    long long n = 0;
    rw_key(w, "Shards");
    rw_list(w);
    for (; i < shown && n < limit; i++) {
        if (shard_passes(c, s, s->shards[i], f, ts)) {
            write_shard(w, s, s->shards[i]);
            n++;
        }
    }
    while (i < shown && !shard_passes(c, s, s->shards[i], f, ts))
        i++;
    rw_end(w);
    return i;
}

static void write_mode(struct rw *w, const struct stream *s)
{
    rw_key(w, "StreamModeDetails");
    rw_map(w);
    rw_kstr(w, "StreamMode", s->on_demand ? "ON_DEMAND" : "PROVISIONED");
    rw_end(w);
}

/* "EnhancedMonitoring": [{"ShardLevelMetrics": [...]}], "EncryptionType" (and "KeyId") */
static void write_monitoring(struct rw *w, const struct stream *s)
{
    rw_key(w, "EnhancedMonitoring");
    rw_list(w);
    rw_map(w);
    rw_key(w, "ShardLevelMetrics");
    op_write_metrics(w, s->metrics);
    rw_end(w);
    rw_end(w);
    rw_kstr(w, "EncryptionType", s->key_id ? "KMS" : "NONE");
    if (s->key_id)
        rw_kstr(w, "KeyId", s->key_id);
}

static const char *status_of(struct op_call *c, const struct stream *s)
{
    return stream_status_name(stream_status(s, c->now_ms));
}

/* ----------------------------------------------------------- CreateStream */

int op_create_stream_named(struct op_call *c, const char *name, long long shards, int on_demand)
{
    struct emu *emu = c->emu;
    if (store_find(&emu->store, c->account, c->region, name, c->now_ms))
        return op_fail(c, 400, "ResourceInUseException", "Stream %s under account %s already exists.", name,
                       c->account);
    if (on_demand && op_on_demand_limit_check(c) != 0)
        return -1;
    if (op_shard_limit_check(c, shards) != 0)
        return -1;
    if (shards > 100000)
        return op_invalid(c, "ShardCount %lld is larger than the emulator supports (100000).", shards);
    store_add(&emu->store, c->account, c->region, name, (uint32_t)shards, on_demand, c->now_ms,
              emu->cfg.create_delay_ms);
    return 0;
}

int op_create_stream(struct op_call *c)
{
    const char *name = op_str(c, "StreamName", NULL);
    long long shards = 0;
    int has_shards = op_int(c, "ShardCount", &shards);
    const char *mode = op_member_str(c, op_get(c, "StreamModeDetails"), "StreamMode", NULL);
    int on_demand = mode && strcmp(mode, "ON_DEMAND") == 0;
    if (on_demand && has_shards)
        return op_invalid(c, "ShardCount must not be given for a stream in ON_DEMAND mode.");
    if (!on_demand && !has_shards)
        return op_invalid(c, "ShardCount is required for a stream in PROVISIONED mode (or give "
                             "StreamModeDetails {\"StreamMode\": \"ON_DEMAND\"}).");
    if (on_demand)
        shards = c->emu->cfg.on_demand_shards;
    const struct in_val *tags = op_get(c, "Tags");
    if (tags && in_type(c->in, tags) != IN_MAP)
        tags = NULL;
    if (tags && !op_tags_valid(c, name, 0, tags, 1))
        return -1;
    if (op_create_stream_named(c, name, shards, on_demand) != 0)
        return -1;
    struct stream *s = store_find(&c->emu->store, c->account, c->region, name, c->now_ms);
    long long kib;
    if (op_int(c, "MaxRecordSizeInKiB", &kib))
        s->max_record_kib = (int)kib;
    if (tags && op_apply_tags(c, &s->tags, s->name, tags) != 0) {
        store_remove(&c->emu->store, s);
        return -1;
    }
    return 0;
}

/* ----------------------------------------------------------- DeleteStream */

int op_delete_stream(struct op_call *c)
{
    struct stream *s = op_stream(c, 0);
    if (!s)
        return -1;
    enum stream_status st = stream_status(s, c->now_ms);
    if (st == ST_DELETING)
        return op_fail(c, 400, "ResourceNotFoundException", "Stream %s under account %s not found.", s->name,
                       c->account);
    const struct in_val *force = op_get(c, "EnforceConsumerDeletion");
    if (s->nconsumers && !(force && in_bool(c->in, force)))
        return op_fail(c, 400, "ResourceInUseException",
                       "Stream %s under account %s has registered consumers: deregister them first, or set "
                       "EnforceConsumerDeletion.",
                       s->name, c->account);
    /* A stream still CREATING may be deleted too, as on AWS: it goes DELETING. */
    if (c->emu->cfg.delete_delay_ms <= 0)
        store_remove(&c->emu->store, s);
    else
        s->delete_at_ms = c->now_ms + c->emu->cfg.delete_delay_ms;
    store_reap(&c->emu->store, c->now_ms);
    return 0;
}

/* --------------------------------------------------------- DescribeStream */

int op_describe_stream(struct op_call *c)
{
    struct stream *s = op_stream(c, 0);
    if (!s)
        return -1;
    long long limit = 100;
    op_int(c, "Limit", &limit);
    uint32_t first = stream_shard_after(s, op_str(c, "ExclusiveStartShardId", NULL));
    struct rw *w = c->w;
    rw_map(w);
    rw_key(w, "StreamDescription");
    rw_map(w);
    rw_kstr(w, "StreamName", s->name);
    rw_kstr(w, "StreamARN", s->arn);
    rw_kstr(w, "StreamStatus", status_of(c, s));
    write_mode(w, s);
    uint32_t next = write_shard_list(c, s, first, limit, SF_NONE, 0);
    rw_key(w, "HasMoreShards");
    rw_bool(w, next < shards_shown(c, s));
    rw_ki64(w, "RetentionPeriodHours", s->retention_hours);
    rw_key(w, "StreamCreationTimestamp");
    rw_timestamp_ms(w, s->created_ms);
    write_monitoring(w, s);
    rw_end(w);
    rw_end(w);
    return 0;
}

int op_describe_stream_summary(struct op_call *c)
{
    struct stream *s = op_stream(c, 0);
    if (!s)
        return -1;
    struct rw *w = c->w;
    rw_map(w);
    rw_key(w, "StreamDescriptionSummary");
    rw_map(w);
    rw_kstr(w, "StreamName", s->name);
    rw_kstr(w, "StreamARN", s->arn);
    rw_kstr(w, "StreamId", s->id);
    rw_kstr(w, "StreamStatus", status_of(c, s));
    write_mode(w, s);
    rw_ki64(w, "RetentionPeriodHours", s->retention_hours);
    rw_key(w, "StreamCreationTimestamp");
    rw_timestamp_ms(w, s->created_ms);
    write_monitoring(w, s);
    rw_ki64(w, "OpenShardCount", s->nopen);
    rw_ki64(w, "ConsumerCount", (int64_t)s->nconsumers);
    rw_ki64(w, "MaxRecordSizeInKiB", s->max_record_kib);
    if (s->on_demand && s->warm_mibps) {
        rw_key(w, "WarmThroughput");
        rw_map(w);
        rw_ki64(w, "TargetMiBps", s->warm_mibps);
        rw_ki64(w, "CurrentMiBps", s->warm_mibps);
        rw_end(w);
    }
    rw_end(w);
    rw_end(w);
    return 0;
}

/* ------------------------------------------------------------ ListStreams */

struct stream_list {
    const char *account, *region;
    struct stream **v;
    size_t n, cap;
};

static void collect_stream(struct stream *s, void *arg)
{
    struct stream_list *l = arg;
    if (strcmp(s->region, l->region) != 0 || strcmp(s->account, l->account) != 0)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = s;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(struct stream *const *)a)->name, (*(struct stream *const *)b)->name);
}

int op_list_streams(struct op_call *c)
{
    long long limit = 100;
    op_int(c, "Limit", &limit);
    const char *after = op_str(c, "ExclusiveStartStreamName", NULL);
    size_t tl = 0;
    const char *token = op_str(c, "NextToken", &tl);
    struct iter_pos tp;
    if (token) {
        if (iter_decode(token, tl, ITER_LIST_STREAMS, &tp) != 0)
            return op_invalid(c, "Invalid NextToken.");
        if (c->now_ms - tp.issued_ms > TOKEN_TTL_MS)
            return op_fail(c, 400, "ExpiredNextTokenException", "The NextToken has expired: it was issued more "
                                                                "than 300 seconds ago.");
        after = tp.stream;
    }
    struct stream_list l = {c->account, c->region, NULL, 0, 0};
    store_each(&c->emu->store, c->now_ms, collect_stream, &l);
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, by_name);
    size_t i = 0;
    if (after)
        while (i < l.n && strcmp(l.v[i]->name, after) <= 0)
            i++;
    size_t start = i, end = i;
    while (end < l.n && (long long)(end - start) < limit)
        end++;
    struct rw *w = c->w;
    rw_map(w);
    rw_key(w, "StreamNames");
    rw_list(w);
    for (i = start; i < end; i++)
        rw_cstr(w, l.v[i]->name);
    rw_end(w);
    rw_key(w, "HasMoreStreams");
    rw_bool(w, end < l.n);
    if (end < l.n && end > start) {
        struct iter_pos np = {.kind = ITER_LIST_STREAMS, .issued_ms = c->now_ms};
        snprintf(np.region, sizeof np.region, "%s", c->region);
        snprintf(np.stream, sizeof np.stream, "%s", l.v[end - 1]->name);
        char text[ITER_TEXT_MAX + 1];
        iter_encode(text, &np);
        rw_kstr(w, "NextToken", text);
    }
    rw_key(w, "StreamSummaries");
    rw_list(w);
    for (i = start; i < end; i++) {
        struct stream *s = l.v[i];
        rw_map(w);
        rw_kstr(w, "StreamName", s->name);
        rw_kstr(w, "StreamARN", s->arn);
        rw_kstr(w, "StreamStatus", status_of(c, s));
        write_mode(w, s);
        rw_key(w, "StreamCreationTimestamp");
        rw_timestamp_ms(w, s->created_ms);
        rw_end(w);
    }
    rw_end(w);
    rw_end(w);
    free(l.v);
    return 0;
}

/* ------------------------------------------------------------- ListShards */

int op_list_shards(struct op_call *c)
{
    size_t tl = 0;
    const char *token = op_str(c, "NextToken", &tl);
    const char *name = op_str(c, "StreamName", NULL);
    const char *arn = op_str(c, "StreamARN", NULL);
    long long limit = 1000;
    op_int(c, "MaxResults", &limit);
    uint32_t first = 0;
    enum shard_filter f = SF_NONE;
    int64_t ts = 0;
    struct stream *s;
    if (token) {
        if (name || arn)
            return op_invalid(c, "NextToken and StreamName cannot be provided together.");
        if (op_get(c, "ExclusiveStartShardId") || op_get(c, "ShardFilter"))
            return op_invalid(c, "NextToken cannot be combined with ExclusiveStartShardId or ShardFilter.");
        struct iter_pos tp;
        if (iter_decode(token, tl, ITER_LIST_SHARDS, &tp) != 0)
            return op_invalid(c, "Invalid ShardId in NextToken: the token is malformed.");
        if (c->now_ms - tp.issued_ms > TOKEN_TTL_MS)
            return op_fail(c, 400, "ExpiredNextTokenException",
                           "The timestamp on the NextToken has expired: it was issued more than 300 seconds ago.");
        s = store_find(&c->emu->store, c->account, tp.region, tp.stream, c->now_ms);
        if (!s || s->epoch != tp.epoch)
            return op_fail(c, 400, "ResourceNotFoundException", "Stream %s under account %s not found.",
                           tp.stream, c->account);
        first = tp.shard;
        f = (enum shard_filter)(tp.index >> 56); /* the filter goes on: its type, and its time below */
        ts = (int64_t)(tp.index & (((uint64_t)1 << 56) - 1)) - ((int64_t)1 << 55);
    } else {
        s = op_stream(c, 0);
        if (!s)
            return -1;
        const char *after = op_str(c, "ExclusiveStartShardId", NULL);
        const struct in_val *filter = op_get(c, "ShardFilter");
        const char *ftype = op_member_str(c, filter, "Type", NULL);
        const struct in_val *fsid = filter ? in_get(c->in, filter, "ShardId") : NULL;
        const struct in_val *fts = filter ? in_get(c->in, filter, "Timestamp") : NULL;
        for (int k = 1; ftype && k <= SF_FROM_TIMESTAMP; k++)
            if (strcmp(ftype, filter_names[k]) == 0)
                f = (enum shard_filter)k;
        if (f == SF_AFTER_SHARD_ID) {
            after = op_member_str(c, filter, "ShardId", NULL);
            if (!after)
                return op_invalid(c, "Must specify ShardId in ShardFilter when ShardFilterType is AFTER_SHARD_ID.");
        } else if (fsid) {
            return op_invalid(c, "Must not specify ShardId in ShardFilter when ShardFilterType is %s.", ftype);
        }
        if (f == SF_AT_TIMESTAMP || f == SF_FROM_TIMESTAMP) {
            if (!fts)
                return op_invalid(c, "Must specify timestamp in ShardFilter when ShardFilterType is %s.", ftype);
            if (op_timestamp_ms(c, fts, &ts) != 0)
                return op_invalid(c, "ShardFilter Timestamp is not a valid timestamp.");
        } else if (fts) {
            return op_invalid(c, "Must not specify timestamp in ShardFilter when ShardFilterType is %s.", ftype);
        }
        first = stream_shard_after(s, after);
    }
    struct rw *w = c->w;
    rw_map(w);
    uint32_t i = write_shard_list(c, s, first, limit, f, ts);
    if (i < shards_shown(c, s)) {
        struct iter_pos np = {.kind = ITER_LIST_SHARDS, .epoch = s->epoch, .shard = i, .issued_ms = c->now_ms};
        np.index = ((uint64_t)f << 56) | ((uint64_t)(ts + ((int64_t)1 << 55)) & (((uint64_t)1 << 56) - 1));
        snprintf(np.region, sizeof np.region, "%s", s->region);
        snprintf(np.stream, sizeof np.stream, "%s", s->name);
        char text[ITER_TEXT_MAX + 1];
        iter_encode(text, &np);
        rw_kstr(w, "NextToken", text);
    }
    rw_end(w);
    return 0;
}

/* -------------------------------------------------------------- Retention */

static int change_retention(struct op_call *c, int increase)
{
    long long hours = 0;
    op_int(c, "RetentionPeriodHours", &hours);
    if (hours < MIN_RETENTION_HOURS)
        return op_invalid(c, "Minimum allowed retention period is %d hours. Requested retention period (%lld "
                             "hours) is too short.",
                          MIN_RETENTION_HOURS, hours);
    if (hours > MAX_RETENTION_HOURS)
        return op_invalid(c, "Maximum allowed retention period is %d hours. Requested retention period (%lld "
                             "hours) is too long.",
                          MAX_RETENTION_HOURS, hours);
    struct stream *s = op_stream_to_change(c);
    if (!s)
        return -1;
    if (increase && hours < s->retention_hours)
        return op_invalid(c, "Requested retention period (%lld hours) for stream %s can not be shorter than "
                             "existing retention period (%d hours). Use DecreaseRetentionPeriod API.",
                          hours, s->name, s->retention_hours);
    if (!increase && hours > s->retention_hours)
        return op_invalid(c, "Requested retention period (%lld hours) for stream %s can not be longer than "
                             "existing retention period (%d hours). Use IncreaseRetentionPeriod API.",
                          hours, s->name, s->retention_hours);
    s->retention_hours = (int)hours;
    return 0;
}

int op_increase_retention(struct op_call *c)
{
    return change_retention(c, 1);
}

int op_decrease_retention(struct op_call *c)
{
    return change_retention(c, 0);
}

/* --------------------------------------------------------- DescribeLimits */

int op_describe_limits(struct op_call *c)
{
    long od = 0, open = op_region_shards(c, &od);
    long limit = c->emu->cfg.shard_limit < 0 ? 1000000 : c->emu->cfg.shard_limit;
    long od_limit = c->emu->cfg.on_demand_stream_limit < 0 ? 1000000 : c->emu->cfg.on_demand_stream_limit;
    struct rw *w = c->w;
    rw_map(w);
    rw_ki64(w, "ShardLimit", limit);
    rw_ki64(w, "OpenShardCount", open);
    rw_ki64(w, "OnDemandStreamCount", od);
    rw_ki64(w, "OnDemandStreamCountLimit", od_limit);
    rw_end(w);
    return 0;
}
