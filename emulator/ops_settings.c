/*
 * ops_settings.c — the stream and account settings of the Kinesis API:
 * Start/StopStreamEncryption, Enable/DisableEnhancedMonitoring,
 * UpdateStreamMode, UpdateMaxRecordSize, UpdateStreamWarmThroughput,
 * DescribeAccountSettings, UpdateAccountSettings.
 *
 * What is only recorded: the KMS key (payloads are kept as they came), the
 * shard-level metrics (none are published), warm throughput (an ON_DEMAND
 * stream is as warm as asked at once) and the billing commitment. What is
 * acted on: the stream mode (ON_DEMAND streams count against their limit,
 * UpdateShardCount refuses them) and the record size (PutRecord and
 * PutRecords take records up to it). Changes leave the stream UPDATING for
 * --update-stream-ms, as a reshard does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "ops.h"

#define DAY_MS 86400000LL

static const char *const metric_names[] = {"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
                                           "WriteProvisionedThroughputExceeded",
                                           "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds"};
#define NMETRICS (sizeof metric_names / sizeof metric_names[0])
#define ALL_METRICS ((1u << NMETRICS) - 1)

void op_write_metrics(struct rw *w, unsigned metrics)
{
    rw_list(w);
    for (size_t i = 0; i < NMETRICS; i++)
        if (metrics & (1u << i))
            rw_cstr(w, metric_names[i]);
    rw_end(w);
}

/* ------------------------------------------------------------- Encryption */

static int change_encryption(struct op_call *c, int start)
{
    struct stream *s = op_stream_to_change(c);
    if (!s)
        return -1;
    const char *type = op_str(c, "EncryptionType", NULL);
    const char *key = op_str(c, "KeyId", NULL);
    if (strcmp(type, "KMS") != 0)
        return op_invalid(c, "EncryptionType %s is not valid for %s: the only encryption type is KMS.", type,
                          start ? "StartStreamEncryption" : "StopStreamEncryption");
    if (start) {
        free(s->key_id);
        s->key_id = xstrdup(key);
    } else {
        if (!s->key_id)
            return op_invalid(c, "Stream %s under account %s is not encrypted.", s->name, c->account);
        free(s->key_id);
        s->key_id = NULL;
    }
    op_updating(c, s);
    return 0;
}

int op_start_encryption(struct op_call *c)
{
    return change_encryption(c, 1);
}

int op_stop_encryption(struct op_call *c)
{
    return change_encryption(c, 0);
}

/* ------------------------------------------------------ EnhancedMonitoring */

static int change_monitoring(struct op_call *c, int enable)
{
    struct stream *s = op_stream_to_change(c);
    if (!s)
        return -1;
    const struct reqin *in = c->in;
    const struct in_val *list = op_get(c, "ShardLevelMetrics");
    unsigned asked = 0;
    for (const struct in_val *e = in_first(in, list); e; e = in_next(in, list, e)) {
        const char *name = in_str(in, e, NULL);
        if (strcmp(name, "ALL") == 0)
            asked = ALL_METRICS;
        for (size_t i = 0; i < NMETRICS; i++)
            if (strcmp(name, metric_names[i]) == 0)
                asked |= 1u << i;
    }
    unsigned before = s->metrics;
    s->metrics = enable ? before | asked : before & ~asked;
    struct rw *w = c->w;
    rw_map(w);
    rw_kstr(w, "StreamName", s->name);
    rw_key(w, "CurrentShardLevelMetrics");
    op_write_metrics(w, before);
    rw_key(w, "DesiredShardLevelMetrics");
    op_write_metrics(w, s->metrics);
    rw_kstr(w, "StreamARN", s->arn);
    rw_end(w);
    return 0;
}

int op_enable_monitoring(struct op_call *c)
{
    return change_monitoring(c, 1);
}

int op_disable_monitoring(struct op_call *c)
{
    return change_monitoring(c, 0);
}

/* --------------------------------------------------------- UpdateStreamMode */

int op_update_stream_mode(struct op_call *c)
{
    struct stream *s = op_stream_to_change(c);
    if (!s)
        return -1;
    const char *mode = op_member_str(c, op_get(c, "StreamModeDetails"), "StreamMode", NULL);
    int on_demand = strcmp(mode, "ON_DEMAND") == 0;
    long long warm = 0;
    int has_warm = op_int(c, "WarmThroughputMiBps", &warm);
    if (has_warm && !on_demand)
        return op_invalid(c, "WarmThroughputMiBps can only be given for a stream in ON_DEMAND mode.");
    if (on_demand && !s->on_demand && op_on_demand_limit_check(c) != 0)
        return -1;
    s->on_demand = on_demand;
    s->warm_mibps = on_demand ? (int)warm : 0;
    op_updating(c, s);
    return 0;
}

/* ------------------------------------------------------ UpdateMaxRecordSize */

int op_update_max_record_size(struct op_call *c)
{
    struct stream *s = op_stream_to_change(c);
    if (!s)
        return -1;
    long long kib = 0;
    op_int(c, "MaxRecordSizeInKiB", &kib);
    s->max_record_kib = (int)kib;
    op_updating(c, s);
    return 0;
}

/* ------------------------------------------------- UpdateStreamWarmThroughput */

int op_update_warm_throughput(struct op_call *c)
{
    struct stream *s = op_stream_to_change(c);
    if (!s)
        return -1;
    if (!s->on_demand)
        return op_invalid(c, "Warm throughput can only be set for a stream in ON_DEMAND mode; stream %s under "
                             "account %s is PROVISIONED.",
                          s->name, c->account);
    long long mibps = 0;
    op_int(c, "WarmThroughputMiBps", &mibps);
    s->warm_mibps = (int)mibps;
    struct rw *w = c->w;
    rw_map(w);
    rw_kstr(w, "StreamARN", s->arn);
    rw_kstr(w, "StreamName", s->name);
    rw_key(w, "WarmThroughput");
    rw_map(w);
    rw_ki64(w, "TargetMiBps", s->warm_mibps);
    rw_ki64(w, "CurrentMiBps", s->warm_mibps);
    rw_end(w);
    rw_end(w);
    return 0;
}

/* ---------------------------------------------------------- AccountSettings */

static void write_commitment(struct op_call *c)
{
    const struct account_settings *a = store_account(&c->emu->store, c->account);
    const char *status = "DISABLED";
    if (a->committed)
        status = a->ended_ms ? "ENABLED_UNTIL_EARLIEST_ALLOWED_END" : "ENABLED";
    struct rw *w = c->w;
    rw_map(w);
    rw_key(w, "MinimumThroughputBillingCommitment");
    rw_map(w);
    rw_kstr(w, "Status", status);
    if (a->started_ms) {
        rw_key(w, "StartedAt");
        rw_timestamp_ms(w, a->started_ms);
    }
    if (a->ended_ms) {
        rw_key(w, "EndedAt");
        rw_timestamp_ms(w, a->ended_ms);
    }
    if (a->committed) {
        rw_key(w, "EarliestAllowedEndAt");
        rw_timestamp_ms(w, a->earliest_end_ms);
    }
    rw_end(w);
    rw_end(w);
}

/* The commitment as of now: one that asked to end has ended once its earliest end has passed. */
static void settle(struct op_call *c)
{
    struct account_settings *a = store_account(&c->emu->store, c->account);
    if (a->committed && a->ended_ms && c->now_ms >= a->ended_ms)
        a->committed = 0;
}

int op_describe_account_settings(struct op_call *c)
{
    settle(c);
    write_commitment(c);
    return 0;
}

int op_update_account_settings(struct op_call *c)
{
    settle(c);
    struct account_settings *a = store_account(&c->emu->store, c->account);
    const char *status = op_member_str(c, op_get(c, "MinimumThroughputBillingCommitment"), "Status", NULL);
    if (strcmp(status, "ENABLED") == 0) {
        if (!a->committed || a->ended_ms) {
            if (!a->committed) {
                a->started_ms = c->now_ms;
                a->earliest_end_ms = c->now_ms + DAY_MS;
            }
            a->committed = 1;
            a->ended_ms = 0;
        }
    } else if (a->committed && !a->ended_ms) {
        /* it ends at its earliest allowed end, not before */
        a->ended_ms = a->earliest_end_ms > c->now_ms ? a->earliest_end_ms : c->now_ms;
        settle(c);
    }
    write_commitment(c);
    return 0;
}
