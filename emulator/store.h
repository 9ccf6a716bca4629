/*
 * store.h — the emulator's streams, shards and records, held in memory.
 *
 * Streams are keyed by (region, name). Each shard keeps its records in
 * append-only chunks: a record costs 14 bytes of header and a 4-byte offset
 * beside its partition key and data, so memory stays close to the payload it
 * holds. Records older than the stream's retention period are dropped a chunk
 * at a time and are never returned.
 *
 * Locking: the store's rwlock guards the stream table and every stream's
 * metadata (status, tags, retention). Operations that read or append records
 * hold it for reading, which keeps their stream alive, and take the shard's
 * mutex around the records. Operations that change metadata hold it for
 * writing. Status changes that only depend on time (CREATING -> ACTIVE,
 * DELETING -> gone) are computed from timestamps, so readers never write.
 */
#ifndef KT_STORE_H
#define KT_STORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "hashkey.h"

enum stream_status { ST_CREATING, ST_ACTIVE, ST_UPDATING, ST_DELETING, ST_GONE };

struct chunk;

struct shard {
    pthread_mutex_t mu;
    uint32_t index;
    u128 start, end;
    uint64_t next;          /* index the next record gets */
    struct chunk **chunks;  /* oldest first */
    size_t nchunks, capchunks;
    int64_t last_ts;        /* arrival of the newest record: arrival times never go back */
    uint64_t bytes;         /* data + key bytes held */
};

struct tag {
    char *key;
    char *value;
};

struct stream {
    struct stream *next;    /* hash bucket chain */
    char region[64];
    char name[129];
    char arn[320];
    char id[25];            /* StreamId: [a-z0-9]{20}-[a-z0-9]{3} */
    uint64_t epoch;         /* unique per incarnation; part of sequence numbers */
    int64_t created_ms;
    int64_t active_at_ms;   /* CREATING until then */
    int64_t delete_at_ms;   /* 0, or DELETING until then and gone after */
    int on_demand;
    int retention_hours;
    int max_record_kib;
    uint32_t nshards;
    struct shard *shards;
    struct tag *tags;       /* sorted by key */
    size_t ntags;
};

/* One record as stored; pointers stay valid while the shard's mutex is held. */
struct rec_view {
    uint64_t index;
    int64_t ts_ms;
    const char *key;
    uint32_t klen;
    const uint8_t *data;
    uint32_t dlen;
};

struct store {
    pthread_rwlock_t lock;
    struct stream **buckets;
    size_t nbuckets;
    size_t nstreams;
    uint64_t last_epoch;
};

void store_init(struct store *st);
void store_free(struct store *st);

void store_rdlock(struct store *st);
void store_wrlock(struct store *st);
void store_unlock(struct store *st);

/* Status of a stream at time now. */
enum stream_status stream_status(const struct stream *s, int64_t now_ms);
const char *stream_status_name(enum stream_status status);

/* Finds a stream that is not gone (lock held). */
struct stream *store_find(struct store *st, const char *region, const char *name, int64_t now_ms);

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
void stream_tag_set(struct stream *s, const char *key, size_t klen, const char *value, size_t vlen);
/* Removes a tag if present (write lock held). */
void stream_tag_remove(struct stream *s, const char *key, size_t klen);
/* Index of the first tag whose key is greater than `after` (or 0 when NULL). */
size_t stream_tag_after(const struct stream *s, const char *after);

/* "shardId-000000000007"; out needs SHARD_ID_MAX bytes. */
#define SHARD_ID_MAX 32
void shard_id_format(char *out, uint32_t index);
/* The index in "shardId-000000000007" (or a bare number); -1 if it is neither. */
long long shard_id_parse(const char *s);
/* Index of the first shard after the one named `after` (0 when NULL). */
uint32_t stream_shard_after(const struct stream *s, const char *after);

/* Shard whose hash-key range holds h. */
struct shard *stream_shard_for(struct stream *s, u128 h);

/* Shard record access: hold sh->mu around these. */

/*
 * Appends a record; arrival time is max(now, the shard's newest). Drops chunks
 * older than retention_ms first. Returns the record's index and sets *ts_ms.
 */
uint64_t shard_append(struct shard *sh, const char *key, size_t klen, const uint8_t *data,
                      size_t dlen, int64_t now_ms, int64_t retention_ms, int64_t *ts_ms);

/* Index of the oldest record within retention (the trim horizon). */
uint64_t shard_trim_horizon(struct shard *sh, int64_t now_ms, int64_t retention_ms);

/* Index of the first record that arrived at or after ts_ms (or sh->next). */
uint64_t shard_index_at(struct shard *sh, int64_t ts_ms);

/* Arrival time of the record at index, which must be held. */
int64_t shard_ts_of(struct shard *sh, uint64_t index);

struct shard_cursor {
    struct shard *sh;
    size_t chunk;
    uint32_t slot;
};

/* Positions a cursor at `index` (clamped to the oldest held record). */
void shard_cursor_seek(struct shard_cursor *c, struct shard *sh, uint64_t index);
/* Returns 1 and the record under the cursor, advancing it; 0 at the end. */
int shard_cursor_next(struct shard_cursor *c, struct rec_view *out);

/* Total data + key bytes and records held (lock held: store read lock). */
void store_totals(struct store *st, int64_t now_ms, uint64_t *bytes, uint64_t *records,
                  uint64_t *shards, uint64_t *streams);

#endif
