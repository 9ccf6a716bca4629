/* Unit tests: record chunks, cursors, time lookups and retention in the store. */
#include "emulator/store.h"
#include "ktest.h"

int main(void)
{
    struct store st;
    store_init(&st);
    store_wrlock(&st);
    struct stream *s = store_add(&st, "000000000000", "us-east-1", "orders", 4, 0, 1000, 0);
    struct stream *t = store_add(&st, "000000000000", "us-east-1", "other", 1, 0, 1000, 0);
    store_unlock(&st);
    CHECK(s->epoch < t->epoch); /* epochs are unique even within one millisecond */
    CHECK(store_find(&st, "us-east-1", "orders", 1000) == s);
    CHECK(store_find(&st, "eu-west-1", "orders", 1000) == NULL);
    CHECK_STR(s->arn, "arn:aws:kinesis:us-east-1:000000000000:stream/orders");
    CHECK_INT(strlen(s->id), 24);

    /* 20,000 records of growing size across chunk boundaries, read back in order. */
    struct shard *sh = &s->shards[0];
    char data[3000];
    for (int i = 0; i < (int)sizeof data; i++)
        data[i] = (char)(i * 7);
    int64_t ts;
    for (int i = 0; i < 20000; i++) {
        char key[16];
        int kl = snprintf(key, sizeof key, "k%d", i);
        uint64_t idx = shard_append(sh, key, (size_t)kl, (const uint8_t *)data, (size_t)(i % 3000), 5000 + i / 10,
                                    86400000, &ts);
        if (idx != (uint64_t)i)
            CHECK_INT(idx, i);
    }
    CHECK_INT(sh->next, 20000);
    struct shard_cursor cur;
    struct rec_view v;
    shard_cursor_seek(&cur, sh, 0);
    int n = 0, ok = 1;
    while (shard_cursor_next(&cur, &v)) {
        char key[16];
        int kl = snprintf(key, sizeof key, "k%d", n);
        if (v.index != (uint64_t)n || v.klen != (uint32_t)kl || memcmp(v.key, key, (size_t)kl) ||
            v.dlen != (uint32_t)(n % 3000) || memcmp(v.data, data, v.dlen) || v.ts_ms != 5000 + n / 10)
            ok = 0;
        n++;
    }
    CHECK(ok);
    CHECK_INT(n, 20000);
    shard_cursor_seek(&cur, sh, 12345);
    CHECK(shard_cursor_next(&cur, &v) && v.index == 12345);

    /* Arrival-time lookups. */
    CHECK_INT(shard_index_at(sh, 0), 0);
    CHECK_INT(shard_index_at(sh, 5000 + 1234), 12340);
    CHECK_INT(shard_index_at(sh, 1 << 30), 20000);
    CHECK_INT(shard_ts_of(sh, 12349), 5000 + 1234);

    /* Arrival times never go backwards within a shard. */
    shard_append(sh, "k", 1, NULL, 0, 10, 86400000, &ts);
    CHECK(ts >= 5000 + 1999);

    /* Retention: appending long after drops old chunks; the horizon moves past them. */
    uint64_t before = sh->bytes;
    for (int i = 0; i < 5000; i++)
        shard_append(sh, "late", 4, (const uint8_t *)data, 100, 100000000, 1000, &ts);
    CHECK(sh->bytes < before);
    uint64_t horizon = shard_trim_horizon(sh, 100000000, 1000);
    CHECK_INT(horizon, 20001);
    shard_cursor_seek(&cur, sh, 0); /* seeking before the oldest held record clamps */
    CHECK(shard_cursor_next(&cur, &v) && v.index >= 4096);

    /* Tags stay sorted and unique. */
    store_wrlock(&st);
    stream_tag_set(s, "b", 1, "2", 1);
    stream_tag_set(s, "a", 1, "1", 1);
    stream_tag_set(s, "b", 1, "3", 1);
    CHECK_INT(s->ntags, 2);
    CHECK_STR(s->tags[0].key, "a");
    CHECK_STR(s->tags[1].value, "3");
    CHECK_INT(stream_tag_after(s, "a"), 1);
    stream_tag_remove(s, "a", 1);
    CHECK_INT(s->ntags, 1);

    /* Deletion with a delay: DELETING, then gone and reaped. */
    t->delete_at_ms = 2000;
    CHECK_INT(stream_status(t, 1500), ST_DELETING);
    CHECK(store_find(&st, "us-east-1", "other", 2500) == NULL);
    store_reap(&st, 2500);
    CHECK_INT(st.nstreams, 1);
    store_remove(&st, s);
    CHECK_INT(st.nstreams, 0);
    store_unlock(&st);
    store_free(&st);
    return ktest_done("test_store");
}
