/*
 * Unit tests: records into PutRecords calls (replay/batcher.c) — the 500
 * records and 5 MiB limits, strict order, lanes with one call in flight,
 * retries to the front of their lane after a backoff, attempts running out,
 * overtaken records, linger, and dropping.
 */
#include <stdlib.h>

#include "ktest.h"
#include "replay/answer.h"
#include "replay/batcher.h"

static struct replay_stats st;

static struct batcher *make(uint32_t lanes, int strict, int retries)
{
    memset(&st, 0, sizeof st);
    struct batcher_opts o = {lanes, strict, retries, 1000000};
    return batcher_new(&o, &st);
}

/* Adds a record whose text is {"n":row} to lane li. */
static void add(struct batcher *b, uint32_t li, uint64_t row, uint64_t key, size_t bytes, int64_t now)
{
    struct kbuf *body = batcher_open(b, li, bytes, now, key);
    kbuf_appendf(body, "{\"n\":%llu}", (unsigned long long)row);
    batcher_commit(b, li, row, key, 0, bytes);
}

/* A batch goes, as the replay's dispatch takes and sends it: counted as a call. */
static struct batch *take(struct batcher *b, int64_t now, int64_t *next)
{
    struct batch *bt = batcher_take(b, now, next);
    if (bt)
        batcher_sent(b, bt);
    return bt;
}

static size_t records_in_body(struct batch *bt)
{
    struct jdoc d;
    jdoc_init(&d);
    struct kbuf copy = KBUF_INIT;
    kbuf_append(&copy, bt->body.p, bt->body.len);
    struct kt_err err;
    size_t n = (size_t)-1;
    if (jdoc_parse(&d, copy.p, copy.len, &err, NULL) == 0) {
        const struct jnode *r = jget(&d, jroot(&d), "Records");
        n = r && r->type == J_ARR ? r->len : (size_t)-1;
    }
    jdoc_free(&d);
    kbuf_free(&copy);
    return n;
}

static void test_limits(void)
{
    struct batcher *b = make(1, 0, 3);
    CHECK_INT(batcher_stream(b, "orders", 6), 0);
    CHECK_INT(batcher_stream(b, "orders", 6), 0);
    CHECK_INT(batcher_stream(b, "arn:aws:kinesis:us-east-1:000000000000:stream/x", 48), 1);
    for (int i = 2; i < MAX_STREAMS; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        CHECK(batcher_stream(b, name, strlen(name)) == (uint32_t)i);
    }
    CHECK(batcher_stream(b, "one-too-many", 12) == UINT32_MAX);
    CHECK_INT(st.nstreams, MAX_STREAMS);

    /* 500 records close a batch by themselves. */
    for (uint64_t i = 0; i < 501; i++)
        add(b, 0, i, i + 1, 10, 100);
    CHECK_INT(batcher_ready(b), 1);
    int64_t next;
    struct batch *bt = take(b, 100, &next);
    CHECK(bt != NULL);
    CHECK_INT(bt->n, BATCH_RECORDS);
    CHECK_INT(records_in_body(bt), BATCH_RECORDS);
    CHECK(strncmp(bt->body.p, "{\"StreamName\":\"orders\",\"Records\":[{\"n\":0}", 41) == 0);
    /* One call a lane: the next batch of this lane waits for the answer. */
    int64_t linger;
    batcher_close_due(b, 100, INT64_MAX, 1, &linger);
    CHECK_INT(batcher_ready(b), 1);
    CHECK(take(b, 100, &next) == NULL);
    unsigned char fates[BATCH_RECORDS];
    memset(fates, FATE_DELIVERED, sizeof fates);
    batcher_answered(b, bt, fates, 200, &(uint64_t){7});
    bt = take(b, 200, &next);
    CHECK(bt && bt->n == 1 && bt->slots[0].row == 500);
    batcher_answered(b, bt, fates, 300, &(uint64_t){7});

    /* 5 MiB of data and keys a call: a record that would pass it starts the next batch. */
    size_t mib = (size_t)1 << 20;
    for (uint64_t i = 0; i < 6; i++)
        add(b, 0, i, i + 1, mib, 400);
    bt = take(b, 400, &next);
    CHECK(bt && bt->n == 5 && bt->bytes == 5 * mib);
    CHECK_INT(st.max_batch_bytes, 5 * mib);
    CHECK_INT(st.max_batch_records, BATCH_RECORDS);
    batcher_answered(b, bt, fates, 500, &(uint64_t){7});
    batcher_free(b);
}

static void test_strict_order_and_lanes(void)
{
    struct batcher *b = make(4, 1, 3);
    uint32_t s = batcher_stream(b, "s", 1);
    uint32_t la = batcher_lane(b, s, 12345), lb = batcher_lane(b, s, 12346);
    CHECK(la != lb);
    CHECK_INT(batcher_lane_stream(b, la), s);
    add(b, la, 1, 77, 10, 0);
    add(b, la, 2, 77, 10, 0); /* the same key again: a new call */
    add(b, la, 3, 78, 10, 0);
    int64_t linger;
    size_t open = batcher_close_due(b, 0, 0, 0, &linger);
    CHECK_INT(open, 1);          /* the second batch lingers */
    CHECK_INT(linger, 1000000);
    CHECK_INT(batcher_ready(b), 1);
    open = batcher_close_due(b, 1000000, 0, 0, &linger); /* its linger is over */
    CHECK_INT(open, 0);
    CHECK_INT(batcher_ready(b), 2);
    int64_t next;
    struct batch *x = take(b, 2000000, &next);
    CHECK(x && x->n == 1 && x->slots[0].row == 1);
    add(b, lb, 9, 99, 10, 2000000); /* another lane goes while the first is busy */
    batcher_close_due(b, 2000000, INT64_MAX, 0, &linger);
    struct batch *y = take(b, 2000000, &next);
    CHECK(y && y->lane == lb);
    CHECK(take(b, 2000000, &next) == NULL);
    unsigned char ok[1] = {FATE_DELIVERED};
    batcher_answered(b, x, ok, 2000001, &(uint64_t){3});
    struct batch *z = take(b, 2000001, &next);
    CHECK(z && z->n == 2 && z->slots[0].row == 2 && z->slots[1].row == 3);
    batcher_answered(b, z, (unsigned char[2]){FATE_DELIVERED, FATE_DELIVERED}, 2000002, &(uint64_t){3});
    batcher_answered(b, y, ok, 2000002, &(uint64_t){3});
    CHECK_INT(st.batches, 3);
    batcher_free(b);
}

static void test_retries(void)
{
    struct batcher *b = make(1, 0, 2);
    batcher_stream(b, "s", 1);
    add(b, 0, 1, 5, 10, 0);
    add(b, 0, 2, 6, 10, 0);
    add(b, 0, 3, 5, 10, 0);
    add(b, 0, 4, 7, 10, 0);
    int64_t linger, next;
    batcher_close_due(b, 0, INT64_MAX, 0, &linger);
    struct batch *bt = take(b, 0, &next);
    CHECK(bt && bt->n == 4);
    /* Record 1 (key 5) to retry while record 3 (key 5 too) went: overtaken. Record 2 failed for good. */
    unsigned char f[4] = {FATE_RETRY, FATE_FAILED, FATE_DELIVERED, FATE_RETRY};
    uint64_t rng = 42;
    batcher_answered(b, bt, f, 1000, &rng);
    CHECK_INT(st.overtaken, 1);
    CHECK_INT(st.failed, 1);
    CHECK_INT(st.retried, 2);
    CHECK_INT(batcher_ready(b), 1);
    CHECK_INT(batcher_retries_waiting(b), 1);
    /* The retry waits out its backoff, then goes first. */
    add(b, 0, 5, 8, 10, 1000);
    batcher_close_due(b, 1000, INT64_MAX, 0, &linger);
    struct batch *r = take(b, 1000, &next);
    int64_t due = next;
    if (!r) {
        CHECK(due > 1000 && due <= 1000 + 40000000);
        r = take(b, due, &next);
    }
    CHECK(r && r->n == 2 && r->slots[0].row == 1 && r->slots[1].row == 4);
    CHECK_INT(r->slots[0].attempts, 1);
    CHECK_INT(r->slots[0].sched_ns, 0);
    CHECK_INT(records_in_body(r), 2);
    /* Out of attempts after max_retries: failed for good. */
    unsigned char again[2] = {FATE_RETRY, FATE_DELIVERED};
    batcher_answered(b, r, again, due + 1, &rng);
    struct batch *r2 = take(b, INT64_MAX / 2, &next);
    CHECK(r2 && r2->slots[0].row == 1 && r2->slots[0].attempts == 2);
    unsigned char fail[1] = {FATE_RETRY};
    uint64_t failed_before = st.failed;
    batcher_answered(b, r2, fail, INT64_MAX / 2, &rng);
    CHECK_INT(st.failed, failed_before + 1);
    /* Dropping counts what waits as not sent, never as failed, with the first row not sent. */
    struct batch *left = take(b, INT64_MAX / 2, &next);
    CHECK(left && left->slots[0].row == 5);
    batcher_answered(b, left, (unsigned char[1]){FATE_DELIVERED}, INT64_MAX / 2, &rng);
    add(b, 0, 7, 9, 10, 0);
    add(b, 0, 6, 9, 10, 0);
    batcher_close_due(b, 0, INT64_MAX, 1, &linger);
    failed_before = st.failed;
    batcher_drop(b, DROP_NOT_SENT);
    CHECK_INT(st.failed, failed_before);
    CHECK_INT(st.not_sent, 2);
    CHECK_INT(st.first_not_sent, 6);
    CHECK_INT(batcher_ready(b), 0);
    /* Once stopped, what an answer says to try again is not sent, not retried. */
    add(b, 0, 8, 9, 10, 0);
    add(b, 0, 9, 9, 10, 0);
    batcher_close_due(b, 0, INT64_MAX, 1, &linger);
    uint64_t calls = st.batches;
    struct batch *last = take(b, INT64_MAX / 2, &next);
    CHECK(last && last->n == 2);
    CHECK_INT(st.batches, calls + 1);
    batcher_stop(b);
    uint64_t retried = st.retried;
    batcher_answered(b, last, (unsigned char[2]){FATE_DELIVERED, FATE_RETRY}, INT64_MAX / 2, &rng);
    CHECK_INT(st.retried, retried);
    CHECK_INT(st.not_sent, 3);
    CHECK_INT(batcher_ready(b), 0);
    batcher_free(b);
}

int main(void)
{
    test_limits();
    test_strict_order_and_lanes();
    test_retries();
    return ktest_done("test_batcher");
}
