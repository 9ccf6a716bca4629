/*
 * iterator.h — shard iterators: opaque, tamper-evident positions in a shard.
 *
 * An iterator names its stream (region, name and epoch, so a re-created
 * stream of the same name does not accept old iterators), its shard, the
 * index of the next record to read and when it was issued (iterators expire
 * after five minutes). The bytes are authenticated with HMAC-SHA256 under a
 * key drawn at start-up and sent as base64. The same encoding, with another
 * kind, makes the NextToken of ListShards and ListStreams.
 *
 *   u8 version<<4|kind | u64 epoch | u32 shard | u64 index | i64 issued_ms |
 *   u8 region_len | region | u8 name_len | name | 16-byte MAC
 */
#ifndef KT_ITERATOR_H
#define KT_ITERATOR_H

#include <stddef.h>
#include <stdint.h>

#define ITER_TEXT_MAX 512
#define ITER_TTL_MS 300000

enum iter_kind { ITER_SHARD = 1, ITER_LIST_SHARDS = 2, ITER_LIST_STREAMS = 3, ITER_LIST_CONSUMERS = 4 };

struct iter_pos {
    enum iter_kind kind;
    uint64_t epoch;
    uint32_t shard;
    uint64_t index;
    int64_t issued_ms;
    char region[64];
    char stream[129];
};

/* Draws the process's MAC key; call once before any other iter_ function. */
void iter_init(void);

/* Writes the base64 iterator and a NUL into out (ITER_TEXT_MAX + 1 bytes); returns its length. */
size_t iter_encode(char *out, const struct iter_pos *pos);

/* Returns 0 and fills *pos, or -1 when the text is not a token of `kind` this process issued. */
int iter_decode(const char *s, size_t len, enum iter_kind kind, struct iter_pos *pos);

#endif
