/*
 * opcall.c — helpers of the operations (see opcall.h).
 *
 * Error types and messages follow the Amazon Kinesis Data Streams API
 * Reference ("Common Errors" and each action's errors).
 */
#include "opcall.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ktime.h"
#include "rng.h"
#include "schema.h"
#include "seqnum.h"

int op_fail(struct op_call *c, int status, const char *type, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->status = status;
    rw_error(c->w, type, msg);
    return -1;
}

const struct in_val *op_get(struct op_call *c, const char *name)
{
    return c->root ? in_get(c->in, c->root, name) : NULL;
}

const char *op_str(struct op_call *c, const char *name, size_t *len)
{
    const struct in_val *v = op_get(c, name);
    return v ? in_str(c->in, v, len) : NULL;
}

int op_int(struct op_call *c, const char *name, long long *out)
{
    const struct in_val *v = op_get(c, name);
    return v && in_int(c->in, v, out);
}

const char *op_member_str(struct op_call *c, const struct in_val *m, const char *name, size_t *len)
{
    const struct in_val *v = m ? in_get(c->in, m, name) : NULL;
    return v ? in_str(c->in, v, len) : NULL;
}

int op_timestamp_ms(struct op_call *c, const struct in_val *v, int64_t *ms)
{
    enum in_type t = in_type(c->in, v);
    if (t == IN_NUM && in_num_is_epoch_ms(c->in, v)) {
        double ms_in = in_num(c->in, v);
        if (!(ms_in > -1e15 && ms_in < 1e15))
            return -1;
        *ms = (int64_t)ms_in;
        return 0;
    }
    if (t == IN_NUM) {
        double sec = in_num(c->in, v);
        if (!(sec > -1e12 && sec < 1e12))
            return -1;
        *ms = (int64_t)(sec * 1000.0 + (sec >= 0 ? 0.5 : -0.5));
        return 0;
    }
    size_t n;
    const char *s = in_str(c->in, v, &n);
    if (s) {
        char *end;
        double sec = strtod(s, &end);
        if (n && end == s + n && sec > -1e12 && sec < 1e12) {
            *ms = (int64_t)(sec * 1000.0);
            return 0;
        }
        int64_t ns;
        if (kt_parse_rfc3339(s, n, &ns, NULL) == 0) {
            *ms = ns / KT_NS_PER_MS;
            return 0;
        }
    }
    return -1;
}

/* arn:<partition>:kinesis:<region>:<account>:stream/<name> */
int op_parse_stream_arn(const char *arn, size_t n, char *region, size_t rcap, char *account,
                            char *name, size_t ncap)
{
    const char *f[6];
    size_t fl[6];
    size_t nf = 0, s = 0;
    for (size_t i = 0; i <= n && nf < 6; i++) {
        if (i == n || (arn[i] == ':' && nf < 5)) {
            f[nf] = arn + s;
            fl[nf++] = i - s;
            s = i + 1;
        }
    }
    if (nf != 6 || fl[0] != 3 || memcmp(f[0], "arn", 3) != 0 || fl[2] != 7 ||
        memcmp(f[2], "kinesis", 7) != 0 || fl[3] == 0 || fl[3] >= rcap || fl[4] != 12 ||
        fl[5] < 8 || memcmp(f[5], "stream/", 7) != 0 || fl[5] - 7 >= ncap)
        return -1;
    memcpy(region, f[3], fl[3]);
    region[fl[3]] = '\0';
    memcpy(account, f[4], 12);
    account[12] = '\0';
    memcpy(name, f[5] + 7, fl[5] - 7);
    name[fl[5] - 7] = '\0';
    if (!schema_pattern_ok(PAT_NAME, name, fl[5] - 7))
        return -1;
    return 0;
}

int op_parse_consumer_arn(const char *arn, char *region, size_t rcap, char *account, char *stream, char *name)
{
    const char *p = arn;
    const char *f[5];
    size_t fl[5];
    for (int i = 0; i < 5; i++) {
        const char *colon = strchr(p, ':');
        if (!colon)
            return -1;
        f[i] = p;
        fl[i] = (size_t)(colon - p);
        p = colon + 1;
    }
    if (fl[0] != 3 || memcmp(f[0], "arn", 3) != 0 || fl[2] != 7 || memcmp(f[2], "kinesis", 7) != 0 ||
        fl[3] == 0 || fl[3] >= rcap || fl[4] != 12 || strncmp(p, "stream/", 7) != 0)
        return -1;
    memcpy(region, f[3], fl[3]);
    region[fl[3]] = '\0';
    memcpy(account, f[4], 12);
    account[12] = '\0';
    p += 7;
    const char *slash = strstr(p, "/consumer/");
    const char *last = strrchr(p, ':');
    if (!slash || !last || last < slash || slash == p || (size_t)(slash - p) > 128)
        return -1;
    memcpy(stream, p, (size_t)(slash - p));
    stream[slash - p] = '\0';
    const char *cn = slash + 10;
    if (last == cn || (size_t)(last - cn) > 128 || !last[1] || strspn(last + 1, "0123456789") != strlen(last + 1))
        return -1;
    memcpy(name, cn, (size_t)(last - cn));
    name[last - cn] = '\0';
    return 0;
}

struct consumer *op_consumer_by_arn(struct op_call *c, const char *arn, const char *member, struct stream **sp)
{
    char region[64], account[13], stream[129], cname[129];
    if (op_parse_consumer_arn(arn, region, sizeof region, account, stream, cname) != 0) {
        op_invalid(c, "Invalid %s %s.", member, arn);
        return NULL;
    }
    struct stream *s =
        strcmp(account, c->account) == 0 ? store_find(&c->emu->store, account, region, stream, c->now_ms) : NULL;
    struct consumer *cn = s ? stream_consumer_find(s, cname) : NULL;
    if (!cn || strcmp(cn->arn, arn) != 0) {
        op_fail(c, 400, "ResourceNotFoundException", "Consumer %s under stream %s not found.", arn, stream);
        return NULL;
    }
    *sp = s;
    return cn;
}

struct stream *op_find_stream(struct op_call *c, int active, char *name, size_t cap, int *missing)
{
    size_t nl = 0, al = 0;
    const char *given = op_str(c, "StreamName", &nl);
    const char *arn = op_str(c, "StreamARN", &al);
    char region[64], account[13], aname[129];
    const char *want_region = c->region;
    const char *want_name = given;
    *missing = 0;
    if (arn) {
        if (op_parse_stream_arn(arn, al, region, sizeof region, account, aname, sizeof aname) != 0) {
            op_invalid(c, "Invalid StreamARN %s: expected arn:aws:kinesis:<region>:<account>:stream/<name>", arn);
            return NULL;
        }
        if (given && strcmp(given, aname) != 0) {
            op_invalid(c, "StreamARN %s and StreamName %s do not name the same stream.", arn, given);
            return NULL;
        }
        if (strcmp(account, c->account) != 0) {
            op_fail(c, 400, "ResourceNotFoundException", "Stream %s under account %s not found.", aname, account);
            return NULL;
        }
        want_region = region;
        want_name = aname;
    } else if (!given) {
        op_invalid(c, "Either StreamName or StreamARN must be provided.");
        return NULL;
    }
    struct stream *s = store_find(&c->emu->store, c->account, want_region, want_name, c->now_ms);
    enum stream_status st = s ? stream_status(s, c->now_ms) : ST_GONE;
    if (!s || (active && st != ST_ACTIVE && st != ST_UPDATING)) {
        snprintf(name, cap, "%s", want_name);
        *missing = 1;
        return NULL;
    }
    return s;
}

struct stream *op_stream(struct op_call *c, int active)
{
    char name[129];
    int missing;
    struct stream *s = op_find_stream(c, active, name, sizeof name, &missing);
    if (missing)
        op_fail(c, 400, "ResourceNotFoundException", "Stream %s under account %s not found.", name,
                c->account);
    return s;
}

long long op_shard_index(const char *text)
{
    const char *d = text ? strchr(text, '-') : NULL;
    const char *p = d ? d + 1 : text;
    long long v = 0;
    if (!p || !*p || *p == '-')
        return -1;
    for (; *p && *p != '-'; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
        if (v > INT32_MAX)
            return -1;
    }
    return v;
}

struct region_count {
    const char *account, *region;
    long shards, on_demand;
};

static void count_region(struct stream *s, void *arg)
{
    struct region_count *rc = arg;
    if (strcmp(s->region, rc->region) != 0 || strcmp(s->account, rc->account) != 0)
        return;
    rc->shards += s->nopen;
    rc->on_demand += s->on_demand;
}

long op_region_shards(struct op_call *c, long *on_demand)
{
    struct region_count rc = {c->account, c->region, 0, 0};
    store_each(&c->emu->store, c->now_ms, count_region, &rc);
    if (on_demand)
        *on_demand = rc.on_demand;
    return rc.shards;
}

int op_shard_limit_check(struct op_call *c, long long more)
{
    const struct emu_config *cfg = &c->emu->cfg;
    long now = op_region_shards(c, NULL);
    if (cfg->shard_limit < 0 || now + more <= cfg->shard_limit)
        return 0;
    return op_fail(c, 400, "LimitExceededException",
                   "This request would exceed the shard limit for the account %s in %s. Current shard "
                   "count for the account: %ld. Limit: %ld. Number of additional shards that would have "
                   "resulted from this request: %lld. Refer to the AWS Service Limits page "
                   "(http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current "
                   "limits and how to request higher limits.",
                   cfg->account, c->region, now, cfg->shard_limit, more);
}

void op_write_child_shards(struct rw *w, const struct stream *s, const struct shard *sh)
{
    char id[SHARD_ID_MAX], lo[HK_TEXT_MAX], hi[HK_TEXT_MAX];
    rw_key(w, "ChildShards");
    rw_list(w);
    for (int k = 0; k < 2 && sh->child[k] != SHARD_NONE; k++) {
        const struct shard *ch = s->shards[sh->child[k]];
        rw_map(w);
        shard_id_format(id, ch->index);
        rw_kstr(w, "ShardId", id);
        rw_key(w, "ParentShards");
        rw_list(w);
        shard_id_format(id, ch->parent);
        rw_cstr(w, id);
        if (ch->adjacent != SHARD_NONE) {
            shard_id_format(id, ch->adjacent);
            rw_cstr(w, id);
        }
        rw_end(w);
        rw_key(w, "HashKeyRange");
        rw_map(w);
        hk_format(lo, ch->start);
        hk_format(hi, ch->end);
        rw_kstr(w, "StartingHashKey", lo);
        rw_kstr(w, "EndingHashKey", hi);
        rw_end(w);
        rw_end(w);
    }
    rw_end(w);
}

int op_require_active(struct op_call *c, const struct stream *s)
{
    enum stream_status st = stream_status(s, c->now_ms);
    if (st == ST_ACTIVE)
        return 0;
    return op_fail(c, 400, "ResourceInUseException", "Stream %s under account %s not ACTIVE, instead in state %s",
                   s->name, c->account, stream_status_name(st));
}

struct stream *op_stream_to_change(struct op_call *c)
{
    struct stream *s = op_stream(c, 0);
    return s && op_require_active(c, s) == 0 ? s : NULL;
}

void op_updating(struct op_call *c, struct stream *s)
{
    if (c->emu->cfg.update_delay_ms > 0)
        s->update_until_ms = c->now_ms + c->emu->cfg.update_delay_ms;
}

int op_on_demand_limit_check(struct op_call *c)
{
    long od = 0, limit = c->emu->cfg.on_demand_stream_limit;
    op_region_shards(c, &od);
    if (limit < 0 || od < limit)
        return 0;
    return op_fail(c, 400, "LimitExceededException",
                   "This request would exceed the on-demand stream limit for the account %s in %s. "
                   "Current on-demand stream count for the account: %ld. Limit: %ld.",
                   c->account, c->region, od, limit);
}

int op_start_position(struct op_call *c, const struct stream *s, const struct shard *sh, const char *type,
                      const char *seqtext, size_t seql, const struct in_val *ts, const char *opname, uint64_t *out)
{
    const char *acct = c->account;
    char sid[SHARD_ID_MAX];
    shard_id_format(sid, sh->index);
    uint64_t pos;
    int by_seq = strcmp(type, "AT_SEQUENCE_NUMBER") == 0 || strcmp(type, "AFTER_SEQUENCE_NUMBER") == 0;
    int at_ts = strcmp(type, "AT_TIMESTAMP") == 0;

    if (seqtext && !by_seq)
        return op_invalid(c, "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
                             "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
                             "Request specified %s and also a StartingSequenceNumber.",
                          type);
    if (by_seq && !seqtext)
        return op_invalid(c, "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and "
                             "StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. "
                             "Request specified %s and no StartingSequenceNumber.",
                          type);
    int64_t ts_ms = 0;
    if (at_ts) {
        if (!ts)
            return op_invalid(c, "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. "
                                 "Current request has no timestamp parameter.");
        if (op_timestamp_ms(c, ts, &ts_ms) != 0)
            return op_invalid(c, "The Timestamp parameter is not a valid timestamp.");
        if (ts_ms > c->now_ms)
            return op_invalid(c, "The timestampInMillis parameter cannot be greater than the "
                                 "currentTimestampInMillis. timestampInMillis: %lld, currentTimestampInMillis: %lld",
                              (long long)ts_ms, (long long)c->now_ms);
    }

    /* Positions only grow (appends) or move forward (retention), so reading them one by one is safe. */
    struct reclog_stat rs;
    reclog_stat(sh->log, &rs);
    if (sh->closed_ms)
        rs.next = sh->end_next;
    if (by_seq) {
        uint64_t epoch, number; /* 0: the shard's start; i + 1: the record at index i */
        uint32_t seq_shard;
        int ok = seq_parse(seqtext, seql, &epoch, &seq_shard, &number) == 0;
        if (ok && seq_shard != sh->index)
            return op_invalid(c, "Invalid StartingSequenceNumber. It encodes shardId-%012u, while it was used in a "
                                 "call to a shard with %s",
                              seq_shard, sid);
        if (!ok || epoch != s->epoch || number > rs.next)
            return op_invalid(c, "StartingSequenceNumber %s used in %s on shard %s in stream %s under "
                                 "account %s is invalid because it did not come from this stream.",
                              seqtext, opname, sid, s->name, acct);
        /* AT a record: that record; AFTER it: the next one; AT or AFTER the start: the first record. */
        if (type[0] == 'A' && type[1] == 'F')
            pos = number;
        else
            pos = number ? number - 1 : 0;
        if (pos > rs.next)
            pos = rs.next;
    } else if (strcmp(type, "TRIM_HORIZON") == 0) {
        pos = 0;
    } else if (strcmp(type, "LATEST") == 0) {
        pos = rs.next;
    } else {
        pos = reclog_index_at(sh->log, ts_ms);
    }
    uint64_t horizon = reclog_trim_horizon(sh->log, c->now_ms, stream_retention_ms(s));
    if (pos < horizon)
        pos = horizon;

    *out = pos;
    return 0;
}

void op_write_record(struct rw *w, const struct stream *s, const struct shard *sh, const struct rec_view *v)
{
    char seq[SEQ_LEN + 1];
    seq_format_record(seq, s->epoch, sh->index, v->index);
    rw_map(w);
    rw_key(w, "SequenceNumber");
    rw_ascii(w, seq, SEQ_LEN);
    rw_key(w, "ApproximateArrivalTimestamp");
    rw_timestamp_ms(w, v->ts_ms);
    rw_key(w, "Data");
    rw_blob(w, v->data, v->dlen);
    rw_key(w, "PartitionKey");
    rw_str(w, v->key, v->klen);
    rw_end(w);
}

double op_random(struct op_call *c)
{
    return (double)(kt_rand64(c->rng) >> 11) / 9007199254740992.0;
}
