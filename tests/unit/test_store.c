/* Unit tests: the store's streams and tags, and the memory record log (appends, cursors, time lookups, retention). */
#include <pthread.h>
#include <unistd.h>

#include "emulator/store.h"
#include "ktest.h"

/* A record whose bytes say its index: data[j] = (index + j) % 251. */
static void fill(uint8_t *d, size_t n, uint64_t index)
{
    for (size_t j = 0; j < n; j++)
        d[j] = (uint8_t)((index + j) % 251);
}

static int holds(const struct rec_view *v)
{
    for (uint32_t j = 0; j < v->dlen; j++)
        if (v->data[j] != (uint8_t)((v->index + j) % 251))
            return 0;
    return v->klen == 1 && v->key[0] == 'k';
}

#define RACE_RECORDS 200000

struct appender {
    struct reclog *log;
    int ok;
};

static void *append_many(void *arg)
{
    struct appender *a = arg;
    uint8_t d[300];
    a->ok = 1;
    for (uint64_t i = 0; i < RACE_RECORDS; i++) {
        size_t n = (size_t)(i % 300);
        fill(d, n, i);
        int64_t ts;
        if (reclog_append(a->log, "k", 1, d, n, 1000, 86400000, &ts) != i)
            a->ok = 0;
    }
    return NULL;
}

/*
 * Reads do not hold the log: appends, stats and other reads go on while a
 * cursor is open; a chunk dropped under a reader stays readable until it
 * moves on; a reader racing an appender sees every record whole, in order.
 */
static void reads_do_not_hold_the_log(struct reclog *log, struct reclog *race)
{
    uint8_t d[1000];
    int64_t ts;
    for (uint64_t i = 0; i < 3000; i++) {
        fill(d, sizeof d, i);
        reclog_append(log, "k", 1, d, sizeof d, 1000, 5000, &ts);
    }
    struct reclog_cursor cur, other;
    struct rec_view v, w;
    reclog_seek(log, &cur, 0, 1000, 5000);
    CHECK(reclog_next(&cur, &v) && v.index == 0 && holds(&v));
    /* With it open: a stat, a second read, and appends 10 s later that drop the first chunks (retention 5 s). */
    struct reclog_stat rs;
    reclog_stat(log, &rs);
    CHECK_INT(rs.next, 3000);
    reclog_seek(log, &other, 2999, 1000, 5000);
    CHECK(reclog_next(&other, &w) && w.index == 2999 && holds(&w));
    reclog_done(&other);
    for (uint64_t i = 3000; i < 6000; i++) {
        fill(d, sizeof d, i);
        reclog_append(log, "k", 1, d, sizeof d, 11000, 5000, &ts);
    }
    reclog_stat(log, &rs);
    CHECK(rs.records < 6000); /* chunks were dropped, the one being read among them */
    uint64_t first_left = rs.next - rs.records;
    /* The reader finishes its chunk, then goes on at the oldest record left. */
    uint64_t last = 0, jumps = 0, bad = 0, n = 1;
    while (reclog_next(&cur, &v)) {
        if (!holds(&v))
            bad++;
        if (v.index != last + 1) {
            jumps++;
            if (v.index != first_left)
                bad++;
        }
        last = v.index;
        n++;
    }
    reclog_done(&cur);
    CHECK_INT(bad, 0);
    CHECK_INT(jumps, 1);
    CHECK_INT(last, 5999);
    CHECK(n < 6000);

    /* An appender thread and this reader at once. */
    struct appender a = {race, 0};
    pthread_t t;
    pthread_create(&t, NULL, append_many, &a);
    uint64_t seen = 0;
    bad = 0;
    while (seen < RACE_RECORDS) {
        reclog_seek(race, &cur, seen, 1000, 86400000);
        while (reclog_next(&cur, &v)) {
            if (v.index != seen || !holds(&v) || v.dlen != v.index % 300)
                bad++;
            seen = v.index + 1;
        }
        reclog_done(&cur);
    }
    pthread_join(t, NULL);
    CHECK(a.ok);
    CHECK_INT(bad, 0);
    CHECK_INT(seen, RACE_RECORDS);
}

/* The open shards cover the key space in order, each of target i's even range; every closed shard's children its range. */
static int rescaled_right(const struct stream *s, uint32_t n)
{
    if (s->nopen != n)
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        u128 lo, hi;
        hk_range(n, i, &lo, &hi);
        if (s->open[i]->start != lo || s->open[i]->end != hi || s->open[i]->closed_ms)
            return 0;
    }
    for (uint32_t i = 0; i < s->nshards; i++) {
        const struct shard *sh = s->shards[i];
        if (!sh->closed_ms)
            continue;
        const struct shard *a = s->shards[sh->child[0]];
        if (sh->child[1] == SHARD_NONE) { /* merged: the child holds it whole, and names it as a parent */
            if (a->start > sh->start || a->end < sh->end || (a->parent != sh->index && a->adjacent != sh->index))
                return 0;
        } else { /* split: two children side by side over it */
            const struct shard *b = s->shards[sh->child[1]];
            if (a->start != sh->start || a->end + 1 != b->start || b->end != sh->end || a->parent != sh->index ||
                b->parent != sh->index)
                return 0;
        }
    }
    return 1;
}

static void rescale_cases(struct store *st)
{
    static const uint32_t steps[][2] = {{3, 5}, {5, 3}, {4, 7}, {7, 4}, {1, 2}, {2, 1}, {6, 12}, {12, 6}, {9, 10}};
    store_wrlock(st);
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        char name[32];
        snprintf(name, sizeof name, "rescale%zu", k);
        struct stream *s = store_add(st, "000000000000", "us-east-1", name, steps[k][0], 0, 1000, 0);
        stream_rescale(st, s, steps[k][1], 2000);
        if (!rescaled_right(s, steps[k][1]))
            CHECK(!"UpdateShardCount's even ranges and lineage");
        /* a key goes to the open shard that holds it */
        u128 h = HK_MAX / 3;
        struct shard *sh = stream_shard_for(s, h);
        CHECK(sh->start <= h && h <= sh->end && !sh->closed_ms);
        store_remove(st, s);
    }
    store_unlock(st);
}

int main(void)
{
    alarm(60); /* a read that held the log against its own appends would hang here: fail instead */
    struct store st;
    store_init(&st);
    store_wrlock(&st);
    struct stream *s = store_add(&st, "000000000000", "us-east-1", "orders", 4, 0, 1000, 0);
    struct stream *t = store_add(&st, "000000000000", "us-east-1", "other", 1, 0, 1000, 0);
    store_unlock(&st);
    CHECK(s->epoch < t->epoch); /* epochs are unique even within one millisecond */
    CHECK(store_find(&st, "000000000000", "us-east-1", "orders", 1000) == s);
    CHECK(store_find(&st, "000000000000", "eu-west-1", "orders", 1000) == NULL);
    CHECK(store_find(&st, "111111111111", "us-east-1", "orders", 1000) == NULL);
    CHECK_STR(s->arn, "arn:aws:kinesis:us-east-1:000000000000:stream/orders");
    CHECK_INT(strlen(s->id), 24);

    /* 20,000 records of growing size across chunk boundaries, read back in order. */
    struct shard *sh = s->shards[0];
    struct reclog *log = sh->log;
    char data[3000];
    for (int i = 0; i < (int)sizeof data; i++)
        data[i] = (char)(i * 7);
    int64_t ts;
    for (int i = 0; i < 20000; i++) {
        char key[16];
        int kl = snprintf(key, sizeof key, "k%d", i);
        uint64_t idx = reclog_append(log, key, (size_t)kl, (const uint8_t *)data, (size_t)(i % 3000), 5000 + i / 10,
                                     86400000, &ts);
        if (idx != (uint64_t)i)
            CHECK_INT(idx, i);
    }
    struct reclog_stat rs;
    reclog_stat(log, &rs);
    CHECK_INT(rs.next, 20000);
    CHECK_INT(rs.records, 20000);
    struct reclog_cursor cur;
    struct rec_view v;
    reclog_seek(log, &cur, 0, 6000, 86400000);
    int n = 0, ok = 1;
    while (reclog_next(&cur, &v)) {
        char key[16];
        int kl = snprintf(key, sizeof key, "k%d", n);
        if (v.index != (uint64_t)n || v.klen != (uint32_t)kl || memcmp(v.key, key, (size_t)kl) ||
            v.dlen != (uint32_t)(n % 3000) || memcmp(v.data, data, v.dlen) || v.ts_ms != 5000 + n / 10)
            ok = 0;
        n++;
    }
    reclog_done(&cur);
    CHECK(ok);
    CHECK_INT(n, 20000);
    reclog_seek(log, &cur, 12345, 6000, 86400000);
    CHECK(reclog_peek(&cur, &v) && v.index == 12345);
    CHECK(reclog_peek(&cur, &v) && v.index == 12345); /* peek does not move */
    reclog_skip(&cur);
    CHECK(reclog_next(&cur, &v) && v.index == 12346);
    reclog_done(&cur);
    reclog_seek(log, &cur, 20000, 6000, 86400000); /* at the end */
    CHECK(!reclog_peek(&cur, &v));
    reclog_done(&cur);

    /* Arrival-time lookups. */
    CHECK_INT(reclog_index_at(log, 0), 0);
    CHECK_INT(reclog_index_at(log, 5000 + 1234), 12340);
    CHECK_INT(reclog_index_at(log, 1 << 30), 20000);

    /* Arrival times never go backwards within a shard. */
    reclog_append(log, "k", 1, NULL, 0, 10, 86400000, &ts);
    CHECK(ts >= 5000 + 1999);

    /* Retention: appending long after drops old chunks; the horizon moves past them. */
    reclog_stat(log, &rs);
    uint64_t before = rs.bytes;
    for (int i = 0; i < 5000; i++)
        reclog_append(log, "late", 4, (const uint8_t *)data, 100, 100000000, 1000, &ts);
    reclog_stat(log, &rs);
    CHECK(rs.bytes < before);
    CHECK(rs.records < 25001);
    uint64_t horizon = reclog_trim_horizon(log, 100000000, 1000);
    CHECK_INT(horizon, 20001);
    reclog_seek(log, &cur, 0, 100000000, 1000); /* seeking before the horizon starts at it */
    CHECK(reclog_next(&cur, &v) && v.index == 20001);
    reclog_done(&cur);
    reclog_seek(log, &cur, 0, 100000000, 200000000); /* a long retention: the oldest record still held */
    CHECK(reclog_next(&cur, &v) && v.index >= 4096 && v.index <= 20001);
    reclog_done(&cur);

    /* Trim without appends: an idle log gives back all it holds past retention. */
    reclog_trim(log, 200000000, 1000);
    reclog_stat(log, &rs);
    CHECK_INT(rs.records, 0);
    CHECK_INT(rs.bytes, 0);
    CHECK_INT(reclog_trim_horizon(log, 200000000, 1000), rs.next);
    CHECK_INT(reclog_append(log, "k", 1, NULL, 0, 200000000, 1000, &ts), rs.next); /* and goes on numbering */

    reads_do_not_hold_the_log(s->shards[1]->log, s->shards[2]->log);
    rescale_cases(&st);

    /* A split closes its shard at its last record and routes keys to the two children. */
    store_wrlock(&st);
    struct shard *p = s->shards[3];
    reclog_append(p->log, "k", 1, NULL, 0, 7000, 86400000, &ts);
    u128 at = p->start + (p->end - p->start) / 2;
    struct shard *left = stream_split(&st, s, p, at, 8000);
    CHECK(p->closed_ms == 8000 && p->end_next == 1);
    CHECK(stream_shard_for(s, at - 1) == left && stream_shard_for(s, at) == s->shards[left->index + 1]);
    CHECK(stream_shard_for(s, HK_MAX)->index == left->index + 1);
    struct shard *m = stream_merge(&st, s, left, s->shards[left->index + 1], 9000);
    CHECK(m->start == p->start && m->end == p->end && m->parent == left->index && s->nopen == 4);
    store_unlock(&st);

    /* Tags stay sorted and unique. */
    store_wrlock(&st);
    tagset_set(&s->tags, "b", 1, "2", 1);
    tagset_set(&s->tags, "a", 1, "1", 1);
    tagset_set(&s->tags, "b", 1, "3", 1);
    CHECK_INT(s->tags.n, 2);
    CHECK_STR(s->tags.v[0].key, "a");
    CHECK_STR(s->tags.v[1].value, "3");
    CHECK_INT(tagset_after(&s->tags, "a"), 1);
    tagset_remove(&s->tags, "a", 1);
    CHECK_INT(s->tags.n, 1);

    /* Deletion with a delay: DELETING, then gone and reaped. */
    t->delete_at_ms = 2000;
    CHECK_INT(stream_status(t, 1500), ST_DELETING);
    CHECK(store_find(&st, "000000000000", "us-east-1", "other", 2500) == NULL);
    store_reap(&st, 2500);
    CHECK_INT(st.nstreams, 1);
    store_remove(&st, s);
    CHECK_INT(st.nstreams, 0);
    store_unlock(&st);
    store_free(&st);
    return ktest_done("test_store");
}
