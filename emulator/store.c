/* store.c — in-memory streams, shards and record chunks (see store.h). */
#include "store.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

/*
 * A chunk holds up to CHUNK_RECORDS records back to back in `data`, each as
 *
 *   i64 arrival_ms | u32 data_len | u16 key_len | key bytes | data bytes
 *
 * with offs[i] the offset of record first + i. A chunk's data is allocated
 * once and never moved (a realloc would copy megabytes under the shard lock);
 * each new chunk of a shard is twice the size of the one before, from
 * CHUNK_MIN_BYTES up to CHUNK_BYTES (or one record, if larger), so a shard
 * with few records costs little and a busy one allocates rarely.
 */
#define CHUNK_RECORDS 4096
#define CHUNK_BYTES ((size_t)1 << 20)
#define CHUNK_MIN_BYTES 4096
#define REC_HDR 14

struct chunk {
    uint64_t first;
    uint32_t count;
    uint32_t cap_offs;
    int64_t last_ts;
    size_t used, cap;
    uint32_t *offs;
    uint8_t *data;
};

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

/* ---------------------------------------------------------------- shards */

static void shard_init(struct shard *sh, uint32_t index, uint32_t n)
{
    memset(sh, 0, sizeof *sh);
    pthread_mutex_init(&sh->mu, NULL);
    sh->index = index;
    hk_range(n, index, &sh->start, &sh->end);
}

static void shard_destroy(struct shard *sh)
{
    for (size_t i = 0; i < sh->nchunks; i++)
        chunk_free(sh->chunks[i]);
    free(sh->chunks);
    pthread_mutex_destroy(&sh->mu);
}

static void shard_drop_expired(struct shard *sh, int64_t cutoff_ms)
{
    size_t drop = 0;
    /* Keep the newest chunk: it is the one being appended to. */
    while (drop + 1 < sh->nchunks && sh->chunks[drop]->last_ts < cutoff_ms) {
        struct chunk *c = sh->chunks[drop];
        sh->bytes -= c->used - (size_t)c->count * REC_HDR;
        chunk_free(c);
        drop++;
    }
    if (drop) {
        memmove(sh->chunks, sh->chunks + drop, (sh->nchunks - drop) * sizeof *sh->chunks);
        sh->nchunks -= drop;
    }
}

static struct chunk *shard_new_chunk(struct shard *sh, size_t need)
{
    struct chunk *c = xcalloc(1, sizeof *c);
    size_t cap = sh->nchunks ? KT_MIN(sh->chunks[sh->nchunks - 1]->cap * 2, CHUNK_BYTES) : CHUNK_MIN_BYTES;
    c->first = sh->next;
    c->cap = KT_MAX(need, cap);
    c->data = xmalloc(c->cap);
    c->cap_offs = 16;
    c->offs = xmalloc(c->cap_offs * sizeof *c->offs);
    if (sh->nchunks == sh->capchunks) {
        sh->capchunks = sh->capchunks ? sh->capchunks * 2 : 8;
        sh->chunks = xrealloc(sh->chunks, sh->capchunks * sizeof *sh->chunks);
    }
    sh->chunks[sh->nchunks++] = c;
    return c;
}

uint64_t shard_append(struct shard *sh, const char *key, size_t klen, const uint8_t *data,
                      size_t dlen, int64_t now_ms, int64_t retention_ms, int64_t *ts_ms)
{
    size_t need = REC_HDR + klen + dlen;
    struct chunk *c = sh->nchunks ? sh->chunks[sh->nchunks - 1] : NULL;
    if (!c || c->count == CHUNK_RECORDS || c->used + need > c->cap) {
        shard_drop_expired(sh, now_ms - retention_ms);
        c = shard_new_chunk(sh, need);
    }
    if (c->count == c->cap_offs) {
        c->cap_offs *= 2;
        c->offs = xrealloc(c->offs, c->cap_offs * sizeof *c->offs);
    }
    int64_t ts = now_ms > sh->last_ts ? now_ms : sh->last_ts;
    uint32_t dl = (uint32_t)dlen;
    uint16_t kl = (uint16_t)klen;
    uint8_t *p = c->data + c->used;
    memcpy(p, &ts, 8);
    memcpy(p + 8, &dl, 4);
    memcpy(p + 12, &kl, 2);
    memcpy(p + REC_HDR, key, klen);
    if (dlen)
        memcpy(p + REC_HDR + klen, data, dlen);
    c->offs[c->count++] = (uint32_t)c->used;
    c->used += need;
    c->last_ts = ts;
    sh->last_ts = ts;
    sh->bytes += klen + dlen;
    *ts_ms = ts;
    return sh->next++;
}

/* Index of the chunk holding `index`, or nchunks when it is past the end. */
static size_t chunk_of(const struct shard *sh, uint64_t index)
{
    size_t lo = 0, hi = sh->nchunks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct chunk *c = sh->chunks[mid];
        if (index < c->first)
            hi = mid;
        else if (index >= c->first + c->count)
            lo = mid + 1;
        else
            return mid;
    }
    return sh->nchunks;
}

uint64_t shard_index_at(struct shard *sh, int64_t ts_ms)
{
    size_t lo = 0, hi = sh->nchunks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sh->chunks[mid]->last_ts < ts_ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == sh->nchunks)
        return sh->next;
    const struct chunk *c = sh->chunks[lo];
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

uint64_t shard_trim_horizon(struct shard *sh, int64_t now_ms, int64_t retention_ms)
{
    return shard_index_at(sh, now_ms - retention_ms);
}

int64_t shard_ts_of(struct shard *sh, uint64_t index)
{
    size_t ci = chunk_of(sh, index);
    if (ci == sh->nchunks)
        return sh->last_ts;
    const struct chunk *c = sh->chunks[ci];
    return rec_ts(c, (uint32_t)(index - c->first));
}

void shard_cursor_seek(struct shard_cursor *cur, struct shard *sh, uint64_t index)
{
    cur->sh = sh;
    if (sh->nchunks && index < sh->chunks[0]->first)
        index = sh->chunks[0]->first;
    cur->chunk = chunk_of(sh, index);
    cur->slot = cur->chunk < sh->nchunks ? (uint32_t)(index - sh->chunks[cur->chunk]->first) : 0;
}

int shard_cursor_next(struct shard_cursor *cur, struct rec_view *out)
{
    struct shard *sh = cur->sh;
    while (cur->chunk < sh->nchunks) {
        const struct chunk *c = sh->chunks[cur->chunk];
        if (cur->slot < c->count) {
            rec_read(c, cur->slot++, out);
            return 1;
        }
        cur->chunk++;
        cur->slot = 0;
    }
    return 0;
}

/* --------------------------------------------------------------- streams */

static uint64_t name_hash(const char *region, const char *name)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = region; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

void store_init(struct store *st)
{
    memset(st, 0, sizeof *st);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* Metadata writers are rare; do not let a stream of readers starve them. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&st->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    st->nbuckets = 256;
    st->buckets = xcalloc(st->nbuckets, sizeof *st->buckets);
}

static void stream_free(struct stream *s)
{
    for (uint32_t i = 0; i < s->nshards; i++)
        shard_destroy(&s->shards[i]);
    free(s->shards);
    for (size_t i = 0; i < s->ntags; i++) {
        free(s->tags[i].key);
        free(s->tags[i].value);
    }
    free(s->tags);
    free(s);
}

void store_free(struct store *st)
{
    for (size_t b = 0; b < st->nbuckets; b++) {
        struct stream *s = st->buckets[b];
        while (s) {
            struct stream *next = s->next;
            stream_free(s);
            s = next;
        }
    }
    free(st->buckets);
    pthread_rwlock_destroy(&st->lock);
}

void store_rdlock(struct store *st)
{
    pthread_rwlock_rdlock(&st->lock);
}

void store_wrlock(struct store *st)
{
    pthread_rwlock_wrlock(&st->lock);
}

void store_unlock(struct store *st)
{
    pthread_rwlock_unlock(&st->lock);
}

enum stream_status stream_status(const struct stream *s, int64_t now_ms)
{
    if (s->delete_at_ms)
        return now_ms >= s->delete_at_ms ? ST_GONE : ST_DELETING;
    return now_ms < s->active_at_ms ? ST_CREATING : ST_ACTIVE;
}

const char *stream_status_name(enum stream_status status)
{
    static const char *names[] = {"CREATING", "ACTIVE", "UPDATING", "DELETING", "DELETED"};
    return names[status];
}

struct stream *store_find(struct store *st, const char *region, const char *name, int64_t now_ms)
{
    size_t b = name_hash(region, name) & (st->nbuckets - 1);
    for (struct stream *s = st->buckets[b]; s; s = s->next)
        if (strcmp(s->name, name) == 0 && strcmp(s->region, region) == 0 &&
            stream_status(s, now_ms) != ST_GONE)
            return s;
    return NULL;
}

static void grow_buckets(struct store *st)
{
    size_t n = st->nbuckets * 2;
    struct stream **nb = xcalloc(n, sizeof *nb);
    for (size_t b = 0; b < st->nbuckets; b++) {
        struct stream *s = st->buckets[b];
        while (s) {
            struct stream *next = s->next;
            size_t nbk = name_hash(s->region, s->name) & (n - 1);
            s->next = nb[nbk];
            nb[nbk] = s;
            s = next;
        }
    }
    free(st->buckets);
    st->buckets = nb;
    st->nbuckets = n;
}

static void random_id(char *out, size_t n)
{
    static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[32];
    if (RAND_bytes(r, (int)n) != 1)
        for (size_t i = 0; i < n; i++)
            r[i] = (unsigned char)rand();
    for (size_t i = 0; i < n; i++)
        out[i] = set[r[i] % 36];
}

struct stream *store_add(struct store *st, const char *account, const char *region,
                         const char *name, uint32_t nshards, int on_demand, int64_t now_ms,
                         int64_t create_delay_ms)
{
    if (st->nstreams + 1 > st->nbuckets)
        grow_buckets(st);
    struct stream *s = xcalloc(1, sizeof *s);
    snprintf(s->region, sizeof s->region, "%s", region);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->arn, sizeof s->arn, "arn:aws:kinesis:%s:%s:stream/%s", region, account, name);
    random_id(s->id, 20);
    s->id[20] = '-';
    random_id(s->id + 21, 3);
    s->id[24] = '\0';
    uint64_t epoch = (uint64_t)now_ms;
    if (epoch <= st->last_epoch)
        epoch = st->last_epoch + 1;
    st->last_epoch = epoch;
    s->epoch = epoch;
    s->created_ms = now_ms;
    s->active_at_ms = now_ms + create_delay_ms;
    s->on_demand = on_demand;
    s->retention_hours = 24;
    s->max_record_kib = 1024;
    s->nshards = nshards;
    s->shards = xcalloc(nshards, sizeof *s->shards);
    for (uint32_t i = 0; i < nshards; i++)
        shard_init(&s->shards[i], i, nshards);
    size_t b = name_hash(region, name) & (st->nbuckets - 1);
    s->next = st->buckets[b];
    st->buckets[b] = s;
    st->nstreams++;
    return s;
}

void store_remove(struct store *st, struct stream *s)
{
    size_t b = name_hash(s->region, s->name) & (st->nbuckets - 1);
    for (struct stream **pp = &st->buckets[b]; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            st->nstreams--;
            stream_free(s);
            return;
        }
    }
}

void store_reap(struct store *st, int64_t now_ms)
{
    for (size_t b = 0; b < st->nbuckets; b++) {
        struct stream **pp = &st->buckets[b];
        while (*pp) {
            struct stream *s = *pp;
            if (stream_status(s, now_ms) == ST_GONE) {
                *pp = s->next;
                st->nstreams--;
                stream_free(s);
            } else {
                pp = &s->next;
            }
        }
    }
}

size_t store_each(struct store *st, int64_t now_ms, void (*fn)(struct stream *, void *), void *arg)
{
    size_t n = 0;
    for (size_t b = 0; b < st->nbuckets; b++)
        for (struct stream *s = st->buckets[b]; s; s = s->next)
            if (stream_status(s, now_ms) != ST_GONE) {
                fn(s, arg);
                n++;
            }
    return n;
}

void shard_id_format(char *out, uint32_t index)
{
    snprintf(out, SHARD_ID_MAX, "shardId-%012u", index);
}

long long shard_id_parse(const char *s)
{
    const char *dash = strrchr(s, '-');
    const char *digits = dash ? dash + 1 : s;
    if (!*digits || strlen(digits) > 12)
        return -1;
    long long v = 0;
    for (const char *p = digits; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

uint32_t stream_shard_after(const struct stream *s, const char *after)
{
    if (!after)
        return 0;
    long long idx = shard_id_parse(after);
    if (idx < 0)
        return 0;
    return idx + 1 > s->nshards ? s->nshards : (uint32_t)(idx + 1);
}

struct shard *stream_shard_for(struct stream *s, u128 h)
{
    return &s->shards[hk_shard_of(h, s->nshards)];
}

/* ------------------------------------------------------------------ tags */

static int tag_cmp(const char *a, const char *b, size_t blen)
{
    int c = strncmp(a, b, blen);
    if (c)
        return c;
    return a[blen] ? 1 : 0;
}

void stream_tag_set(struct stream *s, const char *key, size_t klen, const char *value, size_t vlen)
{
    size_t i = 0;
    while (i < s->ntags && tag_cmp(s->tags[i].key, key, klen) < 0)
        i++;
    if (i < s->ntags && tag_cmp(s->tags[i].key, key, klen) == 0) {
        free(s->tags[i].value);
        s->tags[i].value = xstrndup(value, vlen);
        return;
    }
    s->tags = xrealloc(s->tags, (s->ntags + 1) * sizeof *s->tags);
    memmove(s->tags + i + 1, s->tags + i, (s->ntags - i) * sizeof *s->tags);
    s->tags[i].key = xstrndup(key, klen);
    s->tags[i].value = xstrndup(value, vlen);
    s->ntags++;
}

void stream_tag_remove(struct stream *s, const char *key, size_t klen)
{
    for (size_t i = 0; i < s->ntags; i++) {
        if (tag_cmp(s->tags[i].key, key, klen) == 0) {
            free(s->tags[i].key);
            free(s->tags[i].value);
            memmove(s->tags + i, s->tags + i + 1, (s->ntags - i - 1) * sizeof *s->tags);
            s->ntags--;
            return;
        }
    }
}

size_t stream_tag_after(const struct stream *s, const char *after)
{
    size_t i = 0;
    if (after)
        while (i < s->ntags && strcmp(s->tags[i].key, after) <= 0)
            i++;
    return i;
}

struct totals {
    int64_t now;
    uint64_t bytes, records, shards;
};

static void add_totals(struct stream *s, void *arg)
{
    struct totals *t = arg;
    for (uint32_t i = 0; i < s->nshards; i++) {
        struct shard *sh = &s->shards[i];
        pthread_mutex_lock(&sh->mu);
        t->bytes += sh->bytes;
        if (sh->nchunks)
            t->records += sh->next - sh->chunks[0]->first;
        pthread_mutex_unlock(&sh->mu);
    }
    t->shards += s->nshards;
}

void store_totals(struct store *st, int64_t now_ms, uint64_t *bytes, uint64_t *records,
                  uint64_t *shards, uint64_t *streams)
{
    struct totals t = {now_ms, 0, 0, 0};
    *streams = store_each(st, now_ms, add_totals, &t);
    *bytes = t.bytes;
    *records = t.records;
    *shards = t.shards;
}
