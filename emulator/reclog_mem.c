/*
 * reclog_mem.c — the record log held in memory (see reclog.h).
 *
 * Records go back to back into chunks, each record as
 *
 *   i64 arrival_ms | u32 data_len | u16 key_len | key bytes | data bytes
 *
 * with offs[i] the offset of record first + i, so a record costs 14 bytes of
 * header and a 4-byte offset beside its key and data, and memory stays close
 * to the payload held. A chunk's data is allocated once and never moved (a
 * realloc would copy megabytes under the lock); each new chunk is twice the
 * size of the one before, from CHUNK_MIN_BYTES up to CHUNK_BYTES (or one
 * record, if larger), so a shard with few records costs little and a busy
 * one allocates rarely. A chunk's records arrive within CHUNK_SPAN_MS of its
 * first, so a chunk ages as a whole. Records past retention are dropped a chunk at a
 * time, when a new chunk is started, and by reclog_trim (the store calls
 * it every second), so an idle shard gives its memory back too.
 *
 * One mutex guards the chunk list and each chunk's count. A reader holds it
 * only to find its place: it pins the chunk it reads (refs), notes how many
 * of its records exist then, and reads those with the lock let go; records
 * are written once, before the count that shows them is raised under the
 * lock, and a chunk's offsets are sized when it is made, so nothing a
 * reader looks at moves. A chunk dropped while pinned is freed by its last
 * reader. So a 10,000-record GetRecords building a 14 MB answer keeps the
 * shard's appends, its other readers and /health waiting for nothing.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "reclog.h"

#define CHUNK_RECORDS 4096
#define CHUNK_BYTES ((size_t)1 << 20)
#define CHUNK_MIN_BYTES 4096
#define REC_HDR 14
#define CHUNK_SPAN_MS 60000        /* a chunk's records arrive within a minute: retention frees them within one */
#define CHUNK_SPAN_MIN_BYTES 256

struct chunk {
    uint64_t first;
    uint32_t count;
    uint32_t cap_offs;         /* records it can take: its offsets never move */
    uint32_t refs;             /* cursors reading it */
    int dropped;               /* out of the list (retention): freed when refs falls to 0 */
    int64_t first_ts, last_ts;
    size_t used, cap;
    uint32_t *offs;
    uint8_t *data;
};

struct memlog {
    struct reclog base;
    pthread_mutex_t mu;
    uint64_t next;             /* index the next record gets */
    struct chunk **chunks;     /* oldest first */
    size_t nchunks, capchunks;
    int64_t last_ts;           /* arrival of the newest record */
    uint64_t bytes;            /* data + key bytes held */
};

static struct memlog *ml(struct reclog *log)
{
    return (struct memlog *)log;
}

static void chunk_free(struct chunk *c)
{
    free(c->offs);
    free(c->data);
    free(c);
}

static void rec_read(const struct chunk *c, uint32_t slot, struct rec_view *v)
{
    const uint8_t *p = c->data + c->offs[slot];
    uint16_t klen;
    memcpy(&v->ts_ms, p, 8);
    memcpy(&v->dlen, p + 8, 4);
    memcpy(&klen, p + 12, 2);
    v->klen = klen;
    v->key = (const char *)p + REC_HDR;
    v->data = p + REC_HDR + klen;
    v->index = c->first + slot;
}

static int64_t rec_ts(const struct chunk *c, uint32_t slot)
{
    int64_t ts;
    memcpy(&ts, c->data + c->offs[slot], 8);
    return ts;
}

/* Frees the chunks whose newest record arrived before the cutoff; all but the newest when keep_last (lock held). */
static void drop_expired(struct memlog *m, int64_t cutoff_ms, int keep_last)
{
    size_t drop = 0;
    while (drop + (keep_last ? 1 : 0) < m->nchunks && m->chunks[drop]->last_ts < cutoff_ms) {
        struct chunk *c = m->chunks[drop];
        m->bytes -= c->used - (size_t)c->count * REC_HDR;
        if (c->refs)
            c->dropped = 1; /* a reader has it: the reader frees it */
        else
            chunk_free(c);
        drop++;
    }
    if (drop) {
        memmove(m->chunks, m->chunks + drop, (m->nchunks - drop) * sizeof *m->chunks);
        m->nchunks -= drop;
    }
}

static struct chunk *new_chunk(struct memlog *m, size_t need)
{
    struct chunk *c = xcalloc(1, sizeof *c);
    /* twice what the last one held: a full chunk's capacity, a chunk started for its age what it used */
    size_t last = m->nchunks ? m->chunks[m->nchunks - 1]->used : 0;
    size_t cap = m->nchunks ? KT_MAX(KT_MIN(last * 2, CHUNK_BYTES), CHUNK_SPAN_MIN_BYTES) : CHUNK_MIN_BYTES;
    c->first = m->next;
    c->cap = KT_MAX(need, cap);
    c->data = xmalloc(c->cap);
    /* A record takes at least REC_HDR + a 1-byte key: no more than that many fit. */
    c->cap_offs = (uint32_t)KT_MIN((size_t)CHUNK_RECORDS, c->cap / (REC_HDR + 1) + 1);
    c->offs = xmalloc(c->cap_offs * sizeof *c->offs);
    if (m->nchunks == m->capchunks) {
        m->capchunks = m->capchunks ? m->capchunks * 2 : 8;
        m->chunks = xrealloc(m->chunks, m->capchunks * sizeof *m->chunks);
    }
    m->chunks[m->nchunks++] = c;
    return c;
}

static uint64_t mem_append(struct reclog *log, const char *key, size_t klen, const uint8_t *data, size_t dlen,
                           int64_t now_ms, int64_t retention_ms, int64_t *ts_ms)
{
    struct memlog *m = ml(log);
    size_t need = REC_HDR + klen + dlen;
    pthread_mutex_lock(&m->mu);
    struct chunk *c = m->nchunks ? m->chunks[m->nchunks - 1] : NULL;
    if (!c || c->count == c->cap_offs || c->used + need > c->cap || now_ms - c->first_ts >= CHUNK_SPAN_MS) {
        drop_expired(m, now_ms - retention_ms, 1); /* the newest is the one appended to */
        c = new_chunk(m, need);
    }
    int64_t ts = now_ms > m->last_ts ? now_ms : m->last_ts;
    uint32_t dl = (uint32_t)dlen;
    uint16_t kl = (uint16_t)klen;
    uint8_t *p = c->data + c->used;
    memcpy(p, &ts, 8);
    memcpy(p + 8, &dl, 4);
    memcpy(p + 12, &kl, 2);
    memcpy(p + REC_HDR, key, klen);
    if (dlen)
        memcpy(p + REC_HDR + klen, data, dlen);
    if (!c->count)
        c->first_ts = ts;
    c->offs[c->count++] = (uint32_t)c->used;
    c->used += need;
    c->last_ts = ts;
    m->last_ts = ts;
    m->bytes += klen + dlen;
    uint64_t idx = m->next++;
    pthread_mutex_unlock(&m->mu);
    *ts_ms = ts;
    return idx;
}

/* Index of the chunk holding `index`, or nchunks when it is past the end (lock held). */
static size_t chunk_of(const struct memlog *m, uint64_t index)
{
    size_t lo = 0, hi = m->nchunks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct chunk *c = m->chunks[mid];
        if (index < c->first)
            hi = mid;
        else if (index >= c->first + c->count)
            lo = mid + 1;
        else
            return mid;
    }
    return m->nchunks;
}

/* The first index that arrived at or after ts_ms (lock held). */
static uint64_t index_at_locked(const struct memlog *m, int64_t ts_ms)
{
    size_t lo = 0, hi = m->nchunks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->chunks[mid]->last_ts < ts_ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == m->nchunks)
        return m->next;
    const struct chunk *c = m->chunks[lo];
    uint32_t a = 0, b = c->count;
    while (a < b) {
        uint32_t mid = a + (b - a) / 2;
        if (rec_ts(c, mid) < ts_ms)
            a = mid + 1;
        else
            b = mid;
    }
    return c->first + a;
}

static uint64_t mem_index_at(struct reclog *log, int64_t ts_ms)
{
    struct memlog *m = ml(log);
    pthread_mutex_lock(&m->mu);
    uint64_t i = index_at_locked(m, ts_ms);
    pthread_mutex_unlock(&m->mu);
    return i;
}

static uint64_t mem_trim_horizon(struct reclog *log, int64_t now_ms, int64_t retention_ms)
{
    return mem_index_at(log, now_ms - retention_ms);
}

/*
 * Cursor state: u[0] the pinned chunk (or 0), u[1] the index of the next
 * record, u[2] the end (exclusive) of the records of the chunk known to
 * exist, which are read without the lock.
 */
static struct chunk *cur_chunk(const struct reclog_cursor *cur)
{
    return (struct chunk *)(uintptr_t)cur->u[0];
}

/* Lets go of the cursor's chunk (lock held). */
static void unpin(struct reclog_cursor *cur)
{
    struct chunk *c = cur_chunk(cur);
    if (!c)
        return;
    if (--c->refs == 0 && c->dropped)
        chunk_free(c);
    cur->u[0] = 0;
}

/* Pins the chunk holding u[1] and notes what of it exists (lock held); past the end, none. */
static void find(struct memlog *m, struct reclog_cursor *cur)
{
    /* Records may have been dropped since: the oldest left is next. */
    if (m->nchunks && cur->u[1] < m->chunks[0]->first)
        cur->u[1] = m->chunks[0]->first;
    size_t ci = chunk_of(m, cur->u[1]);
    if (ci == m->nchunks)
        return;
    struct chunk *c = m->chunks[ci];
    c->refs++;
    cur->u[0] = (uintptr_t)c;
    cur->u[2] = c->first + c->count;
}

static void mem_seek(struct reclog *log, struct reclog_cursor *cur, uint64_t index, int64_t now_ms,
                     int64_t retention_ms)
{
    struct memlog *m = ml(log);
    pthread_mutex_lock(&m->mu);
    uint64_t horizon = index_at_locked(m, now_ms - retention_ms);
    cur->log = log;
    cur->u[0] = 0;
    cur->u[1] = index < horizon ? horizon : index;
    cur->u[2] = 0;
    find(m, cur);
    pthread_mutex_unlock(&m->mu);
}

static int mem_peek(struct reclog_cursor *cur, struct rec_view *out)
{
    struct chunk *c = cur_chunk(cur);
    if (!c || cur->u[1] >= cur->u[2]) {
        /* What this chunk held is read: more of it, or the next one. */
        struct memlog *m = ml(cur->log);
        pthread_mutex_lock(&m->mu);
        if (c && !c->dropped && cur->u[1] < c->first + c->count) {
            cur->u[2] = c->first + c->count;
        } else {
            unpin(cur);
            find(m, cur);
        }
        pthread_mutex_unlock(&m->mu);
        c = cur_chunk(cur);
        if (!c || cur->u[1] >= cur->u[2])
            return 0;
    }
    rec_read(c, (uint32_t)(cur->u[1] - c->first), out);
    return 1;
}

static void mem_skip(struct reclog_cursor *cur)
{
    cur->u[1]++;
}

static void mem_done(struct reclog_cursor *cur)
{
    if (!cur_chunk(cur))
        return;
    struct memlog *m = ml(cur->log);
    pthread_mutex_lock(&m->mu);
    unpin(cur);
    pthread_mutex_unlock(&m->mu);
}

static void mem_stat(struct reclog *log, struct reclog_stat *st)
{
    struct memlog *m = ml(log);
    pthread_mutex_lock(&m->mu);
    st->next = m->next;
    st->records = m->nchunks ? m->next - m->chunks[0]->first : 0;
    st->bytes = m->bytes;
    st->last_ts = m->last_ts;
    pthread_mutex_unlock(&m->mu);
}

static void mem_trim(struct reclog *log, int64_t now_ms, int64_t retention_ms)
{
    struct memlog *m = ml(log);
    pthread_mutex_lock(&m->mu);
    drop_expired(m, now_ms - retention_ms, 0);
    pthread_mutex_unlock(&m->mu);
}

static void mem_free(struct reclog *log)
{
    struct memlog *m = ml(log);
    for (size_t i = 0; i < m->nchunks; i++)
        chunk_free(m->chunks[i]);
    free(m->chunks);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static const struct reclog_ops mem_ops = {
    .append = mem_append,
    .seek = mem_seek,
    .peek = mem_peek,
    .skip = mem_skip,
    .done = mem_done,
    .trim_horizon = mem_trim_horizon,
    .trim = mem_trim,
    .index_at = mem_index_at,
    .stat = mem_stat,
    .free = mem_free,
};

struct reclog *reclog_mem_new(void)
{
    struct memlog *m = xcalloc(1, sizeof *m);
    m->base.ops = &mem_ops;
    pthread_mutex_init(&m->mu, NULL);
    return &m->base;
}
