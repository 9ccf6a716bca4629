/*
 * ops_consumers.c — enhanced fan-out operations of the Kinesis API:
 * RegisterStreamConsumer, DeregisterStreamConsumer, DescribeStreamConsumer,
 * ListStreamConsumers and SubscribeToShard (its checks and where its
 * stream starts; the events themselves are subscribe.c's).
 *
 * A consumer's ARN is arn:aws:kinesis:<region>:<account>:stream/<stream>/
 * consumer/<name>:<creation time, epoch seconds>; a consumer is CREATING
 * for --create-stream-ms, then ACTIVE, and up to 20 are registered per
 * stream, as on AWS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iterator.h"
#include "mem.h"
#include "ops.h"

#define MAX_CONSUMERS 20
#define TOKEN_TTL_MS 300000

static const char *consumer_status(const struct op_call *c, const struct consumer *cn)
{
    return c->now_ms < cn->active_at_ms ? "CREATING" : "ACTIVE";
}

/*
 * The consumer a call names: ConsumerARN, or StreamARN and ConsumerName.
 * NULL after the error; *sp is its stream.
 */
static struct consumer *named_consumer(struct op_call *c, struct stream **sp)
{
    const char *arn = op_str(c, "ConsumerARN", NULL);
    const char *sarn = op_str(c, "StreamARN", NULL);
    const char *name = op_str(c, "ConsumerName", NULL);
    struct stream *s;
    struct consumer *cn;
    if (arn) {
        if (!(cn = op_consumer_by_arn(c, arn, "ConsumerARN", &s)))
            return NULL;
    } else {
        if (!sarn || !name) {
            op_invalid(c, "Either ConsumerARN or both ConsumerName and StreamARN must be provided.");
            return NULL;
        }
        if (!(s = op_stream(c, 0)))
            return NULL;
        if (!(cn = stream_consumer_find(s, name))) {
            op_fail(c, 400, "ResourceNotFoundException", "Consumer %s under stream %s not found.", name, s->arn);
            return NULL;
        }
    }
    *sp = s;
    return cn;
}

static void write_consumer(struct op_call *c, const struct stream *s, const struct consumer *cn, int with_stream)
{
    struct rw *w = c->w;
    rw_map(w);
    rw_kstr(w, "ConsumerName", cn->name);
    rw_kstr(w, "ConsumerARN", cn->arn);
    rw_kstr(w, "ConsumerStatus", consumer_status(c, cn));
    rw_key(w, "ConsumerCreationTimestamp");
    rw_timestamp_ms(w, cn->created_ms);
    if (with_stream)
        rw_kstr(w, "StreamARN", s->arn);
    rw_end(w);
}

/* ------------------------------------------------- RegisterStreamConsumer */

int op_register_consumer(struct op_call *c)
{
    struct stream *s = op_stream(c, 0);
    if (!s)
        return -1;
    const char *name = op_str(c, "ConsumerName", NULL);
    if (stream_consumer_find(s, name))
        return op_fail(c, 400, "ResourceInUseException", "Consumer %s under stream %s already exists for account %s.",
                       name, s->name, c->account);
    if (s->nconsumers >= MAX_CONSUMERS)
        return op_fail(c, 400, "LimitExceededException", "Consumer limit of %d has been reached for stream %s under "
                       "account %s.", MAX_CONSUMERS, s->name, c->account);
    enum stream_status st = stream_status(s, c->now_ms);
    if (st != ST_ACTIVE && st != ST_UPDATING)
        return op_fail(c, 400, "ResourceInUseException", "Stream %s under account %s not ACTIVE, instead in state %s",
                       s->name, c->account, stream_status_name(st));
    struct consumer *cn = stream_consumer_add(s, name, c->account, c->now_ms, c->emu->cfg.create_delay_ms);
    rw_map(c->w);
    rw_key(c->w, "Consumer");
    write_consumer(c, s, cn, 0);
    rw_end(c->w);
    return 0;
}

/* ----------------------------------------------- DeregisterStreamConsumer */

int op_deregister_consumer(struct op_call *c)
{
    struct stream *s;
    struct consumer *cn = named_consumer(c, &s);
    if (!cn)
        return -1;
    stream_consumer_remove(s, cn);
    /* its subscriptions see it gone at their next look: wake them now */
    for (uint32_t i = 0; i < s->nshards; i++)
        shard_wake(s->shards[i]);
    return 0;
}

/* ------------------------------------------------- DescribeStreamConsumer */

int op_describe_consumer(struct op_call *c)
{
    struct stream *s;
    struct consumer *cn = named_consumer(c, &s);
    if (!cn)
        return -1;
    rw_map(c->w);
    rw_key(c->w, "ConsumerDescription");
    write_consumer(c, s, cn, 1);
    rw_end(c->w);
    return 0;
}

/* ---------------------------------------------------- ListStreamConsumers */

int op_list_consumers(struct op_call *c)
{
    struct stream *s = op_stream(c, 0);
    if (!s)
        return -1;
    long long limit = 100;
    op_int(c, "MaxResults", &limit);
    size_t tl = 0, first = 0;
    const char *token = op_str(c, "NextToken", &tl);
    if (token) {
        struct iter_pos tp;
        if (iter_decode(token, tl, ITER_LIST_CONSUMERS, &tp) != 0 || tp.epoch != s->epoch)
            return op_invalid(c, "Invalid NextToken.");
        if (c->now_ms - tp.issued_ms > TOKEN_TTL_MS)
            return op_fail(c, 400, "ExpiredNextTokenException", "The NextToken has expired: it was issued more "
                                                                "than 300 seconds ago.");
        first = (size_t)tp.index;
    }
    /* oldest first: the list is newest first */
    size_t n = s->nconsumers;
    const struct consumer **v = xcalloc(n ? n : 1, sizeof *v);
    size_t k = n;
    for (const struct consumer *cn = s->consumers; cn; cn = cn->next)
        v[--k] = cn;
    struct rw *w = c->w;
    rw_map(w);
    rw_key(w, "Consumers");
    rw_list(w);
    size_t i = first;
    for (; i < n && (long long)(i - first) < limit; i++)
        write_consumer(c, s, v[i], 0);
    rw_end(w);
    if (i < n) {
        struct iter_pos np = {.kind = ITER_LIST_CONSUMERS, .epoch = s->epoch, .index = i, .issued_ms = c->now_ms};
        snprintf(np.region, sizeof np.region, "%s", s->region);
        snprintf(np.stream, sizeof np.stream, "%s", s->name);
        char text[ITER_TEXT_MAX + 1];
        iter_encode(text, &np);
        rw_kstr(w, "NextToken", text);
    }
    rw_end(w);
    free(v);
    return 0;
}

/* ------------------------------------------------------- SubscribeToShard */

int op_subscribe_to_shard(struct op_call *c)
{
    const char *acct = c->account;
    struct stream *s;
    struct consumer *cn = named_consumer(c, &s);
    if (!cn)
        return -1;
    enum stream_status st = stream_status(s, c->now_ms);
    if (st != ST_ACTIVE && st != ST_UPDATING)
        return op_fail(c, 400, "ResourceNotFoundException", "Stream %s under account %s not found.", s->name, acct);
    if (c->now_ms < cn->active_at_ms)
        return op_fail(c, 400, "ResourceInUseException", "Consumer %s is not ACTIVE, instead in state CREATING.",
                       cn->arn);
    const char *shard_text = op_str(c, "ShardId", NULL);
    long long si = op_shard_index(shard_text);
    if (si < 0 || si >= s->nshards)
        return op_fail(c, 400, "ResourceNotFoundException", "Could not find shard %s in stream %s under account %s.",
                       shard_text, s->name, acct);
    struct shard *sh = s->shards[si];
    const struct in_val *pos = op_get(c, "StartingPosition");
    size_t seql = 0;
    const char *seqtext = op_member_str(c, pos, "SequenceNumber", &seql);
    uint64_t index;
    if (op_start_position(c, s, sh, op_member_str(c, pos, "Type", NULL), seqtext, seql,
                          in_get(c->in, pos, "Timestamp"), "SubscribeToShard", &index) != 0)
        return -1;
    if (!c->sub)
        return op_fail(c, 400, "InvalidArgumentException", "SubscribeToShard cannot be answered on this path.");
    if (!consumer_subscribe_ok(cn, sh->index, c->now_ms)) {
        char sid[SHARD_ID_MAX];
        shard_id_format(sid, sh->index);
        return op_fail(c, 400, "ResourceInUseException",
                       "Consumer %s subscribed to shard %s less than 5 seconds ago: a subscription lasts 5 "
                       "minutes, and a consumer may subscribe to a shard again 5 seconds after the last time.",
                       cn->arn, sid);
    }
    struct sub_req *r = c->sub;
    memset(r, 0, sizeof *r);
    snprintf(r->region, sizeof r->region, "%s", s->region);
    snprintf(r->stream, sizeof r->stream, "%s", s->name);
    snprintf(r->consumer, sizeof r->consumer, "%s", cn->name);
    snprintf(r->account, sizeof r->account, "%s", acct);
    r->epoch = s->epoch;
    r->shard = sh->index;
    r->index = index;
    r->cbor = strcmp(rw_content_type(c->w), "application/x-amz-cbor-1.1") == 0;
    c->streaming = 1;
    return 0;
}
