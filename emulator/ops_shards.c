/*
 * ops_shards.c — resharding operations of the Kinesis API: SplitShard,
 * MergeShards, UpdateShardCount (see store.h for what a reshard does to
 * the shards).
 *
 * As on AWS, the shard ids are read before the stream is looked up, a
 * reshard leaves the stream UPDATING (for --update-stream-ms, default 0)
 * and another reshard is refused until it is ACTIVE again. The new shards
 * take records at once; the closed ones keep theirs for reading.
 */
#include <stdio.h>
#include <string.h>

#include "ops.h"

#define MAX_SHARDS_PER_STREAM 10000

/* The shard named by member `member`, read as AWS reads ids; NULL after the error. */
static struct shard *named_shard(struct op_call *c, const char *member, struct stream **sp)
{
    const char *text = op_str(c, member, NULL);
    const char *name = op_str(c, "StreamName", NULL);
    long long si = op_shard_index(text);
    if (si < 0) {
        op_fail(c, 400, "ResourceNotFoundException", "Could not find shard %s in stream %s under account %s.", text,
                name ? name : "", c->account);
        return NULL;
    }
    if (!*sp && !(*sp = op_stream(c, 0)))
        return NULL;
    struct stream *s = *sp;
    if (si >= s->nshards) {
        op_fail(c, 400, "ResourceNotFoundException", "Could not find shard shardId-%012lld in stream %s under "
                "account %s.", si, s->name, c->account);
        return NULL;
    }
    return s->shards[si];
}

static int refuse_closed(struct op_call *c, const struct stream *s, const struct shard *sh, const char *what)
{
    char id[SHARD_ID_MAX];
    shard_id_format(id, sh->index);
    return op_invalid(c, "Shard %s in stream %s under account %s has already been merged or split, and thus is "
                         "not eligible for %s.", id, s->name, c->account, what);
}

/* ------------------------------------------------------------- SplitShard */

int op_split_shard(struct op_call *c)
{
    struct stream *s = NULL;
    struct shard *sh = named_shard(c, "ShardToSplit", &s);
    if (!sh)
        return -1;
    if (op_shard_limit_check(c, 1) != 0)
        return -1;
    size_t hl;
    const char *ht = op_str(c, "NewStartingHashKey", &hl);
    u128 at;
    char id[SHARD_ID_MAX], lo[HK_TEXT_MAX], hi[HK_TEXT_MAX];
    shard_id_format(id, sh->index);
    hk_format(lo, sh->start);
    hk_format(hi, sh->end);
    if (hk_parse(ht, hl, &at) != 0 || at <= sh->start + 1 || at >= sh->end)
        return op_invalid(c, "NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s "
                             "is not both greater than one plus the shard's StartingHashKey %s and less than the "
                             "shard's EndingHashKey %s.",
                          ht, id, s->name, c->account, lo, hi);
    if (op_require_active(c, s) != 0)
        return -1;
    if (sh->closed_ms)
        return refuse_closed(c, s, sh, "splitting");
    if (s->nopen + 1 > MAX_SHARDS_PER_STREAM)
        return op_fail(c, 400, "LimitExceededException", "Stream %s under account %s would have more than %d open "
                       "shards.", s->name, c->account, MAX_SHARDS_PER_STREAM);
    stream_split(&c->emu->store, s, sh, at, c->now_ms);
    op_updating(c, s);
    return 0;
}

/* ------------------------------------------------------------ MergeShards */

int op_merge_shards(struct op_call *c)
{
    struct stream *s = NULL;
    struct shard *a = named_shard(c, "ShardToMerge", &s);
    if (!a)
        return -1;
    struct shard *b = named_shard(c, "AdjacentShardToMerge", &s);
    if (!b)
        return -1;
    char ida[SHARD_ID_MAX], idb[SHARD_ID_MAX];
    shard_id_format(ida, a->index);
    shard_id_format(idb, b->index);
    if (a == b || !(a->end + 1 == b->start || b->end + 1 == a->start))
        return op_invalid(c, "Shards %s and %s in stream %s under account %s are not an adjacent pair of shards "
                             "eligible for merging",
                          ida, idb, s->name, c->account);
    if (op_require_active(c, s) != 0)
        return -1;
    if (a->closed_ms || b->closed_ms)
        return refuse_closed(c, s, a->closed_ms ? a : b, "merging");
    stream_merge(&c->emu->store, s, a, b, c->now_ms);
    op_updating(c, s);
    return 0;
}

/* ------------------------------------------------------- UpdateShardCount */

int op_update_shard_count(struct op_call *c)
{
    struct stream *s = op_stream(c, 0);
    if (!s)
        return -1;
    long long target = 0;
    op_int(c, "TargetShardCount", &target);
    if (op_require_active(c, s) != 0)
        return -1;
    if (s->on_demand)
        return op_invalid(c, "UpdateShardCount is not supported for stream %s under account %s: its capacity mode "
                             "is ON_DEMAND.",
                          s->name, c->account);
    long long open = s->nopen;
    if (target > 2 * open)
        return op_invalid(c, "UpdateShardCount failed for stream %s under account %s: the target shard count %lld "
                             "is more than double the current shard count %lld.",
                          s->name, c->account, target, open);
    if (2 * target < open)
        return op_invalid(c, "UpdateShardCount failed for stream %s under account %s: the target shard count %lld "
                             "is less than half the current shard count %lld.",
                          s->name, c->account, target, open);
    if (target > MAX_SHARDS_PER_STREAM)
        return op_fail(c, 400, "LimitExceededException", "UpdateShardCount failed for stream %s under account %s: "
                       "a stream can have at most %d shards.", s->name, c->account, MAX_SHARDS_PER_STREAM);
    if (target > open && op_shard_limit_check(c, target - open) != 0)
        return -1;
    if (target != open)
        stream_rescale(&c->emu->store, s, (uint32_t)target, c->now_ms);
    op_updating(c, s);
    struct rw *w = c->w;
    rw_map(w);
    rw_kstr(w, "StreamName", s->name);
    rw_ki64(w, "CurrentShardCount", open);
    rw_ki64(w, "TargetShardCount", target);
    rw_kstr(w, "StreamARN", s->arn);
    rw_end(w);
    return 0;
}
