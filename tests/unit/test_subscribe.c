/*
 * Unit tests: a SubscribeToShard subscription paced at 2 MiB a second
 * (--enforce-limits) sends at most that much in a second and goes on at the
 * next, even when its timer fires before the store's second has turned (the
 * event loop's clock and the store's differ; the subscription once stopped
 * there until the next put woke it).
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/evstream.h"
#include "common/ktime.h"
#include "emulator/emu.h"
#include "emulator/reclog.h"
#include "emulator/store.h"
#include "emulator/subscribe.h"
#include "emulator/worker.h"
#include "ktest.h"

#define RECORDS 60
#define RECORD_BYTES 100000

struct seen {
    size_t events;   /* SubscribeToShardEvent messages */
    size_t records;  /* records in them */
    int ended;
};

/* Counts the records of each message (one "SequenceNumber" each in JSON). */
static void sink_send(void *ctx, const void *p, size_t n)
{
    struct seen *sn = ctx;
    const char *s = p, *end = s + n, *key = "\"SequenceNumber\"";
    size_t kl = strlen(key);
    sn->events++;
    for (const char *q = s; q && q + kl <= end; q++) {
        q = memchr(q, '"', (size_t)(end - q));
        if (!q || q + kl > end)
            break;
        if (memcmp(q, key, kl) == 0)
            sn->records++;
    }
}

static size_t sink_backlog(void *ctx)
{
    (void)ctx;
    return 0;
}

static void sink_flush(void *ctx)
{
    (void)ctx;
}

static void sink_end(void *ctx)
{
    ((struct seen *)ctx)->ended = 1;
}

static const struct sub_sink SINK = {sink_send, sink_backlog, sink_flush, sink_end};

/* Runs the worker's loop for ms milliseconds of wall time. */
static void run_for(struct event_base *base, int64_t ms)
{
    int64_t until = kt_now_ms() + ms;
    while (kt_now_ms() < until) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

int main(void)
{
    alarm(60);
    static struct emu e; /* zero: no offset, no TLS */
    e.cfg.enforce_limits = 1;
    e.cfg.subscription_ms = 60000;
    store_init(&e.store);

    /* Start early in a wall-clock second, so the first window is this one. */
    while (kt_now_ms() % 1000 > 100) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    int64_t now = emu_now_ms(&e);
    store_wrlock(&e.store);
    struct stream *st = store_add(&e.store, "000000000000", "us-east-1", "paced", 1, 0, now, 0);
    CHECK(stream_consumer_add(st, "c", "000000000000", now, 0) != NULL);
    static uint8_t data[RECORD_BYTES];
    int64_t ts;
    for (int i = 0; i < RECORDS; i++)
        reclog_append(st->shards[0]->log, "k", 1, data, sizeof data, now, 86400000, &ts);
    store_unlock(&e.store);

    struct worker w;
    memset(&w, 0, sizeof w);
    w.emu = &e;
    w.base = event_base_new();
    CHECK(w.base != NULL);
    CHECK_INT(sub_worker_init(&w), 0);
    struct sub_req req;
    memset(&req, 0, sizeof req);
    strcpy(req.region, "us-east-1");
    strcpy(req.stream, "paced");
    strcpy(req.consumer, "c");
    strcpy(req.account, "000000000000");
    req.epoch = st->epoch;
    struct seen sn = {0};
    struct sub *s = sub_start(&w, &req, &SINK, &sn);

    /* This second: 2 MiB at most, 20 records of 100,000 bytes. */
    run_for(w.base, 200);
    CHECK_INT(sn.records, 20);
    CHECK(sn.records * (RECORD_BYTES + 1) <= (size_t)2 << 20);

    /*
     * Put the store's clock 600 ms behind the loop's: the timer set for the
     * next second now fires while the store is still in this one.
     */
    atomic_store(&e.clock_offset_ms, -600);
    run_for(w.base, 1000 - kt_now_ms() % 1000 + 300); /* past the timer, short of the store's next second */
    CHECK_INT(sn.records, 20);
    run_for(w.base, 700); /* the store's second has turned: the next 20 */
    CHECK_INT(sn.records, 40);
    run_for(w.base, 1000);
    CHECK_INT(sn.records, 60);
    CHECK(!sn.ended);

    sub_cancel(s);
    run_for(w.base, 20);
    sub_worker_free(&w);
    event_base_free(w.base);
    store_wrlock(&e.store);
    store_remove(&e.store, st);
    store_unlock(&e.store);
    store_free(&e.store);
    return ktest_done("test_subscribe");
}
