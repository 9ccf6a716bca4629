/*
 * reclog.h — the record log of one shard, as an interface.
 *
 * Operations store and read a shard's records only through these calls, so
 * where the records live is the implementation's business: memory
 * (reclog_mem.c) today, append-only files under --data-dir as a second
 * implementation. Each implementation is a table of functions (struct
 * reclog_ops) behind a `struct reclog` header it embeds first.
 *
 * Records get consecutive indexes from 0 in arrival order, and arrival
 * times never go back: a record is stamped max(now, the newest arrival).
 * An append may drop records older than the retention period it is given;
 * the trim horizon is the oldest index still readable.
 *
 * Locking is inside the log: any thread may call any function, and a read
 * (reclog_seek ... reclog_done) does not hold the log against appends,
 * other reads or stats of that shard while it goes (the memory log takes
 * its lock only to find the next chunk of records), so a 10 MiB GetRecords
 * keeps nobody waiting. A record view is valid until the next peek (or
 * next, or done) on its cursor. Records that arrive meanwhile may be read;
 * records dropped meanwhile (retention) are skipped. Every seek needs its
 * reclog_done.
 */
#ifndef KT_RECLOG_H
#define KT_RECLOG_H

#include <stddef.h>
#include <stdint.h>

/* One record as stored; the pointers are valid until the cursor's next peek, next or done. */
struct rec_view {
    uint64_t index;
    int64_t ts_ms;
    const char *key;
    uint32_t klen;
    const uint8_t *data;
    uint32_t dlen;
};

/* What a log holds. */
struct reclog_stat {
    uint64_t next;             /* the index the next record gets */
    uint64_t records;          /* records held (not yet dropped) */
    uint64_t bytes;            /* data + key bytes held */
    int64_t last_ts;           /* arrival of the newest record, 0 when empty */
};

struct reclog;

/* A read in progress; `u` is the implementation's. */
struct reclog_cursor {
    struct reclog *log;
    uint64_t u[3];
};

struct reclog_ops {
    uint64_t (*append)(struct reclog *log, const char *key, size_t klen, const uint8_t *data, size_t dlen,
                       int64_t now_ms, int64_t retention_ms, int64_t *ts_ms);
    void (*seek)(struct reclog *log, struct reclog_cursor *c, uint64_t index, int64_t now_ms, int64_t retention_ms);
    int (*peek)(struct reclog_cursor *c, struct rec_view *out);
    void (*skip)(struct reclog_cursor *c);
    void (*done)(struct reclog_cursor *c);
    uint64_t (*trim_horizon)(struct reclog *log, int64_t now_ms, int64_t retention_ms);
    void (*trim)(struct reclog *log, int64_t now_ms, int64_t retention_ms);
    uint64_t (*index_at)(struct reclog *log, int64_t ts_ms);
    void (*stat)(struct reclog *log, struct reclog_stat *st);
    void (*free)(struct reclog *log);
};

struct reclog {
    const struct reclog_ops *ops;
};

/*
 * Appends a record (key and data are copied); its arrival time is
 * max(now_ms, the newest arrival) and goes to *ts_ms. Records older than
 * retention_ms may be dropped first. Returns the record's index.
 */
static inline uint64_t reclog_append(struct reclog *log, const char *key, size_t klen, const uint8_t *data,
                                     size_t dlen, int64_t now_ms, int64_t retention_ms, int64_t *ts_ms)
{
    return log->ops->append(log, key, klen, data, dlen, now_ms, retention_ms, ts_ms);
}

/*
 * Starts a read at `index`, or at the trim horizon when index is older.
 * End every read with reclog_done.
 */
static inline void reclog_seek(struct reclog *log, struct reclog_cursor *c, uint64_t index, int64_t now_ms,
                               int64_t retention_ms)
{
    log->ops->seek(log, c, index, now_ms, retention_ms);
}

/* The record under the cursor without moving on: 1, or 0 at the end. */
static inline int reclog_peek(struct reclog_cursor *c, struct rec_view *out)
{
    return c->log->ops->peek(c, out);
}

/* Moves past the record reclog_peek returned. */
static inline void reclog_skip(struct reclog_cursor *c)
{
    c->log->ops->skip(c);
}

/* The record under the cursor, moving on: 1, or 0 at the end. */
static inline int reclog_next(struct reclog_cursor *c, struct rec_view *out)
{
    if (!c->log->ops->peek(c, out))
        return 0;
    c->log->ops->skip(c);
    return 1;
}

/* Ends the read and releases the log. */
static inline void reclog_done(struct reclog_cursor *c)
{
    c->log->ops->done(c);
}

/* The oldest index within retention (records before it are gone or due to go). */
static inline uint64_t reclog_trim_horizon(struct reclog *log, int64_t now_ms, int64_t retention_ms)
{
    return log->ops->trim_horizon(log, now_ms, retention_ms);
}

/* Frees what it holds of the records older than retention_ms (as much as it can: the memory log, whole chunks). */
static inline void reclog_trim(struct reclog *log, int64_t now_ms, int64_t retention_ms)
{
    log->ops->trim(log, now_ms, retention_ms);
}

/* The index of the first record that arrived at or after ts_ms (the next index when none did). */
static inline uint64_t reclog_index_at(struct reclog *log, int64_t ts_ms)
{
    return log->ops->index_at(log, ts_ms);
}

static inline void reclog_stat(struct reclog *log, struct reclog_stat *st)
{
    log->ops->stat(log, st);
}

static inline void reclog_free(struct reclog *log)
{
    if (log)
        log->ops->free(log);
}

/* The memory implementation (reclog_mem.c). */
struct reclog *reclog_mem_new(void);

#endif
