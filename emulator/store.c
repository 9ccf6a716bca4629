/*
 * store.c — streams and shards (see store.h): the stream table, resharding,
 * on-demand scaling and retention trimming. Records are in each shard's log
 * (reclog.h); consumers, tags and account settings in store_meta.c.
 */
#include "store.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "mem.h"

/* ---------------------------------------------------------------- shards */

static struct reclog *memory_log(void *ctx, const struct stream *s, uint32_t shard)
{
    (void)ctx;
    (void)s;
    (void)shard;
    return reclog_mem_new();
}

/* A new open shard over [start, end], shards[nshards] (its lineage given; the open list is not touched). */
static struct shard *shard_add(struct store *st, struct stream *s, u128 start, u128 end, int64_t now_ms,
                               uint32_t parent, uint32_t adjacent)
{
    if (s->nshards == s->capshards) {
        s->capshards = s->capshards ? s->capshards * 2 : 4;
        s->shards = xrealloc(s->shards, s->capshards * sizeof *s->shards);
    }
    struct shard *sh = xcalloc(1, sizeof *sh);
    sh->index = s->nshards;
    sh->start = start;
    sh->end = end;
    sh->created_ms = now_ms;
    sh->parent = parent;
    sh->adjacent = adjacent;
    sh->child[0] = sh->child[1] = SHARD_NONE;
    pthread_mutex_init(&sh->watch_mu, NULL);
    sh->log = st->logs.new_log(st->logs.ctx, s, sh->index);
    s->shards[s->nshards++] = sh;
    return sh;
}

/* Closes sh: it takes no more records (the caller holds the write lock, so no append is under way). */
static void shard_close(struct shard *sh, int64_t now_ms, uint32_t child0, uint32_t child1)
{
    struct reclog_stat rs;
    reclog_stat(sh->log, &rs);
    sh->end_next = rs.next;
    sh->closed_ms = now_ms;
    sh->child[0] = child0;
    sh->child[1] = child1;
    shard_wake(sh); /* its subscribers send the ChildShards and end */
}

void shard_watch_add(struct shard *sh, struct shard_watch *wt)
{
    pthread_mutex_lock(&sh->watch_mu);
    wt->gone = 0;
    wt->next = sh->watches;
    sh->watches = wt;
    atomic_fetch_add(&sh->nwatch, 1);
    pthread_mutex_unlock(&sh->watch_mu);
}

void shard_watch_remove(struct shard *sh, struct shard_watch *wt)
{
    pthread_mutex_lock(&sh->watch_mu);
    for (struct shard_watch **pp = &sh->watches; *pp; pp = &(*pp)->next) {
        if (*pp == wt) {
            *pp = wt->next;
            atomic_fetch_sub(&sh->nwatch, 1);
            break;
        }
    }
    pthread_mutex_unlock(&sh->watch_mu);
}

void shard_wake_slow(struct shard *sh)
{
    pthread_mutex_lock(&sh->watch_mu);
    for (struct shard_watch *wt = sh->watches; wt; wt = wt->next)
        wt->wake(wt);
    pthread_mutex_unlock(&sh->watch_mu);
}

/* The stream is being freed: every watch is let go, and told (write lock held). */
static void shard_release_watches(struct shard *sh)
{
    pthread_mutex_lock(&sh->watch_mu);
    while (sh->watches) {
        struct shard_watch *wt = sh->watches;
        sh->watches = wt->next;
        wt->gone = 1;
        wt->wake(wt);
    }
    atomic_store(&sh->nwatch, 0);
    pthread_mutex_unlock(&sh->watch_mu);
}

static int by_start(const void *a, const void *b)
{
    u128 x = (*(struct shard *const *)a)->start, y = (*(struct shard *const *)b)->start;
    return x < y ? -1 : x > y;
}

/* The open list made again from the shards (after a reshard). */
static void open_rebuild(struct stream *s)
{
    free(s->open);
    s->open = xcalloc(s->nshards ? s->nshards : 1, sizeof *s->open);
    s->nopen = 0;
    for (uint32_t i = 0; i < s->nshards; i++)
        if (!s->shards[i]->closed_ms)
            s->open[s->nopen++] = s->shards[i];
    qsort(s->open, s->nopen, sizeof *s->open, by_start);
    s->even = 0;
}

static struct shard *split_raw(struct store *st, struct stream *s, struct shard *sh, u128 at, int64_t now_ms)
{
    struct shard *a = shard_add(st, s, sh->start, at - 1, now_ms, sh->index, SHARD_NONE);
    struct shard *b = shard_add(st, s, at, sh->end, now_ms, sh->index, SHARD_NONE);
    shard_close(sh, now_ms, a->index, b->index);
    return a;
}

static struct shard *merge_raw(struct store *st, struct stream *s, struct shard *a, struct shard *b, int64_t now_ms)
{
    u128 lo = a->start < b->start ? a->start : b->start, hi = a->end > b->end ? a->end : b->end;
    struct shard *c = shard_add(st, s, lo, hi, now_ms, a->index, b->index);
    shard_close(a, now_ms, c->index, SHARD_NONE);
    shard_close(b, now_ms, c->index, SHARD_NONE);
    return c;
}

struct shard *stream_split(struct store *st, struct stream *s, struct shard *sh, u128 at, int64_t now_ms)
{
    struct shard *a = split_raw(st, s, sh, at, now_ms);
    open_rebuild(s);
    return a;
}

struct shard *stream_merge(struct store *st, struct stream *s, struct shard *a, struct shard *b, int64_t now_ms)
{
    struct shard *c = merge_raw(st, s, a, b, now_ms);
    open_rebuild(s);
    return c;
}

void stream_rescale(struct store *st, struct stream *s, uint32_t n, int64_t now_ms)
{
    /* 1: split every open shard at each target boundary inside it, so each lies within one target range. */
    uint32_t nold = s->nopen;
    struct shard **old = xmalloc(nold * sizeof *old);
    memcpy(old, s->open, nold * sizeof *old);
    uint32_t t = 1; /* the next target boundary: the start of target shard t */
    for (uint32_t k = 0; k < nold; k++) {
        struct shard *cur = old[k];
        for (;; t++) {
            u128 b, e;
            if (t >= n)
                break;
            hk_range(n, t, &b, &e);
            if (b > cur->end)
                break;
            if (b > cur->start) {
                split_raw(st, s, cur, b, now_ms);
                cur = s->shards[s->nshards - 1]; /* the right child goes on to the next boundary */
            }
        }
    }
    free(old);
    open_rebuild(s);
    /* 2: merge, left to right, the shards inside each target range into one. */
    nold = s->nopen;
    old = xmalloc(nold * sizeof *old);
    memcpy(old, s->open, nold * sizeof *old);
    uint32_t k = 0;
    for (t = 0; t < n && k < nold; t++) {
        u128 b, e;
        hk_range(n, t, &b, &e);
        struct shard *acc = old[k++];
        while (k < nold && old[k]->end <= e)
            acc = merge_raw(st, s, acc, old[k++], now_ms);
    }
    free(old);
    open_rebuild(s);
}

/* --------------------------------------------------------------- streams */

static uint64_t name_hash(const char *account, const char *region, const char *name)
{
    static const char sep = '\xff'; /* no region ends with it, so ("ab","c") and ("a","bc") differ */
    uint64_t h = kt_fnv1a(KT_FNV_OFFSET, account, strlen(account));
    h = kt_fnv1a(h, &sep, 1);
    h = kt_fnv1a(h, region, strlen(region));
    h = kt_fnv1a(h, &sep, 1);
    return kt_fnv1a(h, name, strlen(name));
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
    st->logs = (struct reclog_factory){memory_log, NULL};
}

static void stream_free(struct stream *s)
{
    for (uint32_t i = 0; i < s->nshards; i++) {
        shard_release_watches(s->shards[i]);
        reclog_free(s->shards[i]->log);
        pthread_mutex_destroy(&s->shards[i]->watch_mu);
        free(s->shards[i]);
    }
    while (s->consumers)
        stream_consumer_remove(s, s->consumers);
    free(s->shards);
    free(s->open);
    tagset_free(&s->tags);
    free(s->policy);
    free(s->key_id);
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
    while (st->accounts) {
        struct account_settings *a = st->accounts;
        st->accounts = a->next;
        free(a);
    }
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
    if (now_ms < s->active_at_ms)
        return ST_CREATING;
    return now_ms < s->update_until_ms ? ST_UPDATING : ST_ACTIVE;
}

const char *stream_status_name(enum stream_status status)
{
    static const char *names[] = {"CREATING", "ACTIVE", "UPDATING", "DELETING", "DELETED"};
    return names[status];
}

struct stream *store_find(struct store *st, const char *account, const char *region, const char *name,
                          int64_t now_ms)
{
    size_t b = name_hash(account, region, name) & (st->nbuckets - 1);
    for (struct stream *s = st->buckets[b]; s; s = s->next)
        if (strcmp(s->name, name) == 0 && strcmp(s->region, region) == 0 && strcmp(s->account, account) == 0 &&
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
            size_t nbk = name_hash(s->account, s->region, s->name) & (n - 1);
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
    snprintf(s->account, sizeof s->account, "%s", account);
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
    for (uint32_t i = 0; i < nshards; i++) {
        u128 lo, hi;
        hk_range(nshards, i, &lo, &hi);
        shard_add(st, s, lo, hi, now_ms, SHARD_NONE, SHARD_NONE);
    }
    s->open = xmalloc((nshards ? nshards : 1) * sizeof *s->open);
    memcpy(s->open, s->shards, nshards * sizeof *s->open);
    s->nopen = nshards;
    s->even = 1;
    size_t b = name_hash(account, region, name) & (st->nbuckets - 1);
    s->next = st->buckets[b];
    st->buckets[b] = s;
    st->nstreams++;
    return s;
}

void store_remove(struct store *st, struct stream *s)
{
    size_t b = name_hash(s->account, s->region, s->name) & (st->nbuckets - 1);
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
    /* "shardId-%012u", without printf: PutRecords names a shard per record. */
    memcpy(out, "shardId-", 8);
    for (int i = 19; i >= 8; i--, index /= 10)
        out[i] = (char)('0' + index % 10);
    out[20] = '\0';
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
    if (s->even)
        return s->open[hk_shard_of(h, s->nopen)];
    uint32_t lo = 0, hi = s->nopen; /* the last open shard starting at or below h */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->open[mid]->start <= h)
            lo = mid;
        else
            hi = mid;
    }
    return s->open[lo];
}

/* ------------------------------------------------------- on-demand, trim */

void stream_demand_add(struct stream *s, int64_t now_ms, uint64_t bytes)
{
    struct demand *d = &s->demand;
    int64_t sec = now_ms / 1000, cur = atomic_load(&d->sec);
    if (cur != sec && atomic_compare_exchange_strong(&d->sec, &cur, sec)) {
        /* the second before, when it was the last one: its totals (approximate at the edge) */
        atomic_store(&d->prev_records, cur == sec - 1 ? atomic_load(&d->records) : 0);
        atomic_store(&d->prev_bytes, cur == sec - 1 ? atomic_load(&d->bytes) : 0);
        atomic_store(&d->records, 0);
        atomic_store(&d->bytes, 0);
    }
    atomic_fetch_add(&d->records, 1);
    atomic_fetch_add(&d->bytes, bytes);
}

struct scale {
    int64_t now;
    uint32_t max;
    struct store *st;
};

static void scale_stream(struct stream *s, void *arg)
{
    struct scale *sc = arg;
    if (!s->on_demand || stream_status(s, sc->now) != ST_ACTIVE || s->nopen * 2 > sc->max)
        return;
    struct demand *d = &s->demand;
    int64_t sec = sc->now / 1000, at = atomic_load(&d->sec);
    uint64_t records = 0, bytes = 0; /* the last whole second */
    if (at == sec) {
        records = atomic_load(&d->prev_records);
        bytes = atomic_load(&d->prev_bytes);
    } else if (at == sec - 1) {
        records = atomic_load(&d->records);
        bytes = atomic_load(&d->bytes);
    }
    if (records * 2 > (uint64_t)s->nopen * 1000 || bytes * 2 > (uint64_t)s->nopen << 20)
        stream_rescale(sc->st, s, s->nopen * 2, sc->now);
}

void store_scale_on_demand(struct store *st, int64_t now_ms, uint32_t max_shards)
{
    struct scale sc = {now_ms, max_shards, st};
    store_each(st, now_ms, scale_stream, &sc);
}

static void trim_stream(struct stream *s, void *arg)
{
    int64_t now = *(const int64_t *)arg, retention = stream_retention_ms(s);
    for (uint32_t i = 0; i < s->nshards; i++)
        reclog_trim(s->shards[i]->log, now, retention);
}

void store_trim(struct store *st, int64_t now_ms)
{
    store_each(st, now_ms, trim_stream, &now_ms);
}

struct totals {
    int64_t now;
    uint64_t bytes, records, shards;
};

static void add_totals(struct stream *s, void *arg)
{
    struct totals *t = arg;
    for (uint32_t i = 0; i < s->nshards; i++) {
        struct reclog_stat rs;
        reclog_stat(s->shards[i]->log, &rs);
        t->bytes += rs.bytes;
        t->records += rs.records;
    }
    t->shards += s->nopen;
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
