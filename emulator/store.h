/*
 * store.h — the emulator's streams and shards.
 *
 * Streams are keyed by (account, region, name). Each shard's records are in its
 * record log (reclog.h), an interface with its own locking; the store
 * makes a log for every shard it creates through its reclog_factory
 * (memory unless told otherwise). Records older than the stream's retention
 * period are never returned.
 *
 * Locking: the store's rwlock guards the stream table and every stream's
 * metadata (status, tags, retention). Operations that read or append records
 * hold it for reading, which keeps their stream and its shards alive; the
 * record log locks itself. Operations that change metadata hold it for
 * writing. Status changes that only depend on time (CREATING -> ACTIVE,
 * DELETING -> gone) are computed from timestamps, so readers never write.
 */
#ifndef KT_STORE_H
#define KT_STORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hashkey.h"
#include "reclog.h"

enum stream_status { ST_CREATING, ST_ACTIVE, ST_UPDATING, ST_DELETING, ST_GONE };

/* What a shard took in the current second, for --enforce-limits (approximate at the second's edge). */
struct shard_rate {
    _Atomic int64_t sec;
    _Atomic uint64_t records, bytes;     /* writes */
    _Atomic uint64_t reads, read_bytes;  /* GetRecords calls and what they returned */
};

#define SHARD_NONE UINT32_MAX

/*
 * Something waiting for a shard's records (a SubscribeToShard): woken from
 * whatever thread appends to the shard or closes it, so wake must be quick
 * and must not take the store lock. A watch is added and removed with the
 * store lock held for reading; when its stream is freed (write lock held)
 * the store sets `gone`, wakes it and lets it go.
 */
struct shard_watch {
    struct shard_watch *next;
    void (*wake)(struct shard_watch *wt);
    int gone;
};

/*
 * A shard. Shards are never moved or freed while their stream lives, so a
 * pointer to one stays good as long as the store lock is held. A shard is
 * open until a split, a merge or UpdateShardCount closes it: then it takes
 * no more records, its EndingSequenceNumber is that of its last record
 * (its start when it had none) and its children carry on its hash keys.
 */
/* What an ON_DEMAND stream took in, this second and the one before (--enforce-limits), for its scaling. */
struct demand {
    _Atomic int64_t sec;
    _Atomic uint64_t records, bytes, prev_records, prev_bytes;
};

struct shard {
    uint32_t index;
    u128 start, end;
    struct reclog *log;     /* its records */
    struct shard_rate rate;
    int64_t created_ms;
    int64_t closed_ms;      /* 0 while open */
    uint64_t end_next;      /* closed: the index the next record would have had */
    uint32_t parent, adjacent;  /* SHARD_NONE when none */
    uint32_t child[2];      /* closed: what carries on its keys (child[1] SHARD_NONE after a merge) */
    pthread_mutex_t watch_mu;
    struct shard_watch *watches;
    _Atomic int nwatch;     /* read without the mutex on every append */
};

struct tag {
    char *key;
    char *value;
};

/* A resource's tags, sorted by key. */
struct tagset {
    struct tag *v;
    size_t n;
};

/* A registered enhanced fan-out consumer (RegisterStreamConsumer). */
struct consumer {
    struct consumer *next;
    char name[129];
    char arn[512];
    int64_t created_ms;
    int64_t active_at_ms;   /* CREATING until then */
    /* SubscribeToShard calls of the last 5 seconds, by shard: a new one within them is refused (mutex). */
    pthread_mutex_t mu;
    struct recent_sub { uint32_t shard; int64_t at_ms; } *recent;
    size_t nrecent;
    struct tagset tags;
    char *policy;           /* PutResourcePolicy, or NULL */
};


struct stream {
    struct stream *next;    /* hash bucket chain */
    char account[13];
    char region[64];
    char name[129];
    char arn[320];
    char id[25];            /* StreamId: [a-z0-9]{20}-[a-z0-9]{3} */
    uint64_t epoch;         /* unique per incarnation; part of sequence numbers */
    int64_t created_ms;
    int64_t active_at_ms;   /* CREATING until then */
    int64_t delete_at_ms;   /* 0, or DELETING until then and gone after */
    int64_t update_until_ms; /* UPDATING until then (a reshard) */
    int on_demand;
    int retention_hours;
    int max_record_kib;
    uint32_t nshards;       /* every shard, open and closed: shards[i]->index == i */
    uint32_t capshards;
    struct shard **shards;
    uint32_t nopen;         /* the open ones, by StartingHashKey: they cover the key space */
    struct shard **open;
    int even;               /* never resharded: open shard i is shard i of an even split */
    struct tagset tags;
    char *policy;           /* PutResourcePolicy, or NULL */
    char *key_id;           /* StartStreamEncryption's KMS key (recorded: payloads are not encrypted), or NULL */
    unsigned metrics;       /* EnableEnhancedMonitoring: bit i for shard-level metric i */
    int warm_mibps;         /* UpdateStreamWarmThroughput (ON_DEMAND), 0 when none */
    struct demand demand;
    struct consumer *consumers; /* newest first */
    size_t nconsumers;
};

/* Makes the record log of a new shard; the store owns what it returns. */
struct reclog_factory {
    struct reclog *(*new_log)(void *ctx, const struct stream *s, uint32_t shard);
    void *ctx;
};

/* UpdateAccountSettings: the minimum throughput billing commitment (recorded, billed to no one). */
struct account_settings {
    struct account_settings *next;
    char account[13];
    int committed;
    int64_t started_ms, ended_ms, earliest_end_ms;
};

struct store {
    pthread_rwlock_t lock;
    struct account_settings *accounts;
    struct stream **buckets;
    size_t nbuckets;
    size_t nstreams;
    uint64_t last_epoch;
    struct reclog_factory logs;
};

/* An empty store whose shards keep their records in memory. */
void store_init(struct store *st);
void store_free(struct store *st);

void store_rdlock(struct store *st);
void store_wrlock(struct store *st);
void store_unlock(struct store *st);

/* The stream's retention period in milliseconds. */
static inline int64_t stream_retention_ms(const struct stream *s)
{
    return (int64_t)s->retention_hours * 3600000;
}

/* Status of a stream at time now. */
enum stream_status stream_status(const struct stream *s, int64_t now_ms);
const char *stream_status_name(enum stream_status status);

/* Finds a stream that is not gone (lock held). */
struct stream *store_find(struct store *st, const char *account, const char *region, const char *name,
                          int64_t now_ms);

/*
 * Adds a stream (write lock held). The store owns it. `account` names the
 * ARN's account. Returns the stream.
 */
struct stream *store_add(struct store *st, const char *account, const char *region,
                         const char *name, uint32_t nshards, int on_demand, int64_t now_ms,
                         int64_t create_delay_ms);

/* Removes and frees a stream now (write lock held). */
void store_remove(struct store *st, struct stream *s);

/* Frees every stream whose deletion delay has passed (write lock held). */
void store_reap(struct store *st, int64_t now_ms);

/*
 * Calls fn for every stream not gone, in no particular order (lock held).
 * Returns the number of streams visited.
 */
size_t store_each(struct store *st, int64_t now_ms, void (*fn)(struct stream *, void *), void *arg);

/* Sets a tag, replacing one with the same key (write lock held). */
void tagset_set(struct tagset *t, const char *key, size_t klen, const char *value, size_t vlen);
/* Removes a tag if present (write lock held). */
void tagset_remove(struct tagset *t, const char *key, size_t klen);
/* Index of the first tag whose key is greater than `after` (or 0 when NULL). */
size_t tagset_after(const struct tagset *t, const char *after);
/* 1 when the set has the key. */
int tagset_has(const struct tagset *t, const char *key);
void tagset_free(struct tagset *t);

/* Watches (see struct shard_watch): add/remove with the store lock held for reading or writing. */
void shard_watch_add(struct shard *sh, struct shard_watch *wt);
void shard_watch_remove(struct shard *sh, struct shard_watch *wt);
/* Wakes the shard's watches: after an append, or when it closes. Cheap when it has none. */
void shard_wake_slow(struct shard *sh);
static inline void shard_wake(struct shard *sh)
{
    if (atomic_load_explicit(&sh->nwatch, memory_order_acquire))
        shard_wake_slow(sh);
}

/* Consumers (write lock held to add or remove; read lock to find). */
struct consumer *stream_consumer_add(struct stream *s, const char *name, const char *account, int64_t now_ms,
                                     int64_t create_delay_ms);
struct consumer *stream_consumer_find(const struct stream *s, const char *name);
void stream_consumer_remove(struct stream *s, struct consumer *cn);
/* 1 when the consumer may subscribe to the shard now (and it is noted), 0 within 5 s of the last time. */
int consumer_subscribe_ok(struct consumer *cn, uint32_t shard, int64_t now_ms);

/* "shardId-000000000007" (SHARD_ID_LEN characters); out needs SHARD_ID_MAX bytes. */
#define SHARD_ID_LEN 20
#define SHARD_ID_MAX 32
void shard_id_format(char *out, uint32_t index);
/* The index in "shardId-000000000007" (or a bare number); -1 if it is neither. */
long long shard_id_parse(const char *s);
/* Index of the first shard after the one named `after` (0 when NULL). */
uint32_t stream_shard_after(const struct stream *s, const char *after);

/* The open shard whose hash-key range holds h. */
struct shard *stream_shard_for(struct stream *s, u128 h);

/*
 * Resharding (write lock held; the caller has checked the request). Split
 * closes sh and opens two children, [start, at - 1] and [at, end]; merge
 * closes a and b (b's range right after a's) and opens one child over both.
 * Return the first new shard.
 */
struct shard *stream_split(struct store *st, struct stream *s, struct shard *sh, u128 at, int64_t now_ms);
struct shard *stream_merge(struct store *st, struct stream *s, struct shard *a, struct shard *b, int64_t now_ms);
/* UNIFORM_SCALING to n open shards of even ranges, by splits and then merges, as AWS does it. */
void stream_rescale(struct store *st, struct stream *s, uint32_t n, int64_t now_ms);

/* An account's settings, made on first use (write lock held). */
struct account_settings *store_account(struct store *st, const char *account);

/*
 * Counts a write of `bytes` into an ON_DEMAND stream (any thread, store lock held for reading).
 * store_scale_on_demand (write lock held, once a second) doubles the open shards of an ON_DEMAND
 * stream that took more than half its capacity in the last whole second (1 MiB or 1,000 records
 * a second a shard), up to max_shards, as AWS scales on-demand streams with their traffic.
 */
void stream_demand_add(struct stream *s, int64_t now_ms, uint64_t bytes);
void store_scale_on_demand(struct store *st, int64_t now_ms, uint32_t max_shards);

/* Frees the records past every stream's retention (store lock held for reading). */
void store_trim(struct store *st, int64_t now_ms);

/* Total data + key bytes and records held (store lock held). */
void store_totals(struct store *st, int64_t now_ms, uint64_t *bytes, uint64_t *records,
                  uint64_t *shards, uint64_t *streams);

#endif
