/*
 * subscribe.c — SubscribeToShard's event streams (see subscribe.h).
 *
 * Events, as AWS sends them (application/vnd.amazon.eventstream, headers
 * :message-type, :event-type, :content-type): an "initial-response" with
 * an empty map, then "SubscribeToShardEvent"s of
 *
 *   {"Records": [...], "ContinuationSequenceNumber": "...", "MillisBehindLatest": n, "ChildShards": [...]}
 *
 * the first at once, the others when records arrive; ChildShards in the
 * last event of a closed shard, after which the stream ends. An error
 * after the 200 (the stream or the consumer deleted) is an "exception"
 * message (:exception-type) and the end of the stream.
 */
#include "subscribe.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "evstream.h"
#include "ktime.h"
#include "mem.h"
#include "opcall.h"
#include "rw.h"
#include "seqnum.h"

#define LIMIT_BYTES_PER_SEC ((uint64_t)2 << 20) /* per subscription (consumer and shard), --enforce-limits */
#define CACHE_ENTRIES 8

/*
 * The events a worker encoded last: its other subscribers of the same shard,
 * at the same position, are sent the same bytes (20 consumers of a busy
 * shard cost one encoding, not 20). An entry says what it covers, records
 * [from, to) of one shard of one stream incarnation in one encoding; it is
 * used only while it is still what an encoding now would give: it stopped
 * for its size (more), or at the shard's end, or nothing has come since.
 */
struct cache_entry {
    uint64_t epoch, from, to, use;
    uint32_t shard;
    int cbor, more, at_end, used;
    size_t records;
    struct kbuf msg;
};

struct sub_cache {
    struct cache_entry e[CACHE_ENTRIES];
    uint64_t clock;
};

struct sub {
    struct shard_watch watch;  /* first: the store wakes &sub->watch */
    struct worker *w;
    struct sub *prev, *next;   /* the worker's subscriptions */
    struct sub_req req;
    const struct sub_sink *sink;
    void *ctx;
    struct event *kick_ev, *end_ev, *rate_ev;
    _Atomic int dirty;         /* woken since the last pump */
    int started, first_sent, blocked, ending, watching;
    int cancelled;             /* the peer went (sub_cancel): freed at its next callback, the sink forgotten */
    struct shard *sh;          /* while watching and not watch.gone: its shard (read only under the store lock) */
    uint64_t pos;
    int64_t rate_sec;
    uint64_t rate_bytes;
    struct kbuf payload, msg;
};

static void signal_worker(struct worker *w)
{
    if (!atomic_exchange(&w->sub_signalled, 1)) {
        uint64_t one = 1;
        ssize_t n = write(w->sub_fd, &one, sizeof one);
        (void)n; /* the counter is full only if the worker is far behind: it is signalled already */
    }
}

/* From any thread (shard_wake): mark it, and signal its worker once. */
static void wake(struct shard_watch *wt)
{
    struct sub *s = (struct sub *)wt;
    if (!atomic_exchange(&s->dirty, 1))
        signal_worker(s->w);
}

static void unlink_sub(struct sub *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        s->w->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
}

static void sub_free(struct sub *s)
{
    unlink_sub(s);
    event_free(s->kick_ev);
    event_free(s->end_ev);
    if (s->rate_ev)
        event_free(s->rate_ev);
    kbuf_free(&s->payload);
    kbuf_free(&s->msg);
    free(s);
}

/* Stops watching its shard (store lock held). */
static void unwatch(struct sub *s)
{
    if (s->watching && !s->watch.gone)
        shard_watch_remove(s->sh, &s->watch);
    s->watching = 0;
}

static void send_message(struct sub *s, const char *mtype, const char *etype)
{
    const char *ctype = s->req.cbor ? "application/x-amz-cbor-1.1" : "application/json";
    struct evs_header h[3] = {
        {":message-type", mtype},
        {strcmp(mtype, "exception") == 0 ? ":exception-type" : ":event-type", etype},
        {":content-type", ctype},
    };
    kbuf_reset(&s->msg);
    evs_encode(&s->msg, h, 3, s->payload.p, s->payload.len);
    s->sink->send(s->ctx, s->msg.p, s->msg.len);
}

static void begin_payload(struct sub *s, struct rw *w)
{
    kbuf_reset(&s->payload);
    if (s->req.cbor)
        rw_cbor_init(w, &s->payload);
    else
        rw_json_init(w, &s->payload);
}

static void send_exception(struct sub *s, const char *type, const char *msg)
{
    struct rw w;
    begin_payload(s, &w);
    rw_map(&w);
    rw_kstr(&w, "message", msg);
    rw_end(&w);
    send_message(s, "exception", type);
}

/* Its stream, consumer and shard, or an exception sent and NULL (store lock held). */
static struct stream *locate(struct sub *s, struct shard **shp, int64_t now_ms)
{
    char msg[512];
    struct stream *st = s->watching && s->watch.gone
                            ? NULL
                            : store_find(&s->w->emu->store, s->req.account, s->req.region, s->req.stream, now_ms);
    enum stream_status status = st ? stream_status(st, now_ms) : ST_GONE;
    if (!st || st->epoch != s->req.epoch || (status != ST_ACTIVE && status != ST_UPDATING)) {
        snprintf(msg, sizeof msg, "Stream %s under account %s not found.", s->req.stream, s->req.account);
        send_exception(s, "ResourceNotFoundException", msg);
        return NULL;
    }
    if (!stream_consumer_find(st, s->req.consumer)) {
        snprintf(msg, sizeof msg, "Consumer %s of stream %s under account %s not found.", s->req.consumer,
                 s->req.stream, s->req.account);
        send_exception(s, "ResourceNotFoundException", msg);
        return NULL;
    }
    *shp = st->shards[s->req.shard];
    return st;
}

/* Bytes this second still allowed under --enforce-limits (or no bound). */
static uint64_t rate_room(struct sub *s, int64_t now_ms)
{
    if (!s->w->emu->cfg.enforce_limits)
        return UINT64_MAX;
    if (now_ms / 1000 != s->rate_sec) {
        s->rate_sec = now_ms / 1000;
        s->rate_bytes = 0;
    }
    return s->rate_bytes >= LIMIT_BYTES_PER_SEC ? 0 : LIMIT_BYTES_PER_SEC - s->rate_bytes;
}

/*
 * 2 MiB sent this second: the rest at the next. The timer runs on the event
 * loop's clock, which may be a little behind the store's; one that fires
 * before the second has turned finds no room and comes here again.
 */
static void wait_next_second(struct sub *s, int64_t now_ms)
{
    struct timeval tv = {0, (suseconds_t)((1000 - now_ms % 1000 + 1) * 1000)};
    if (tv.tv_usec >= 1000000) {
        tv.tv_sec = 1;
        tv.tv_usec -= 1000000;
    }
    evtimer_add(s->rate_ev, &tv);
}

/* The entry for this subscription's next event, if one is still good (store lock held). */
static struct cache_entry *cache_find(struct sub *s, const struct stream *st, const struct shard *sh)
{
    struct sub_cache *sc = s->w->sub_cache;
    for (int i = 0; i < CACHE_ENTRIES; i++) {
        struct cache_entry *e = &sc->e[i];
        if (!e->used || e->epoch != st->epoch || e->shard != sh->index || e->from != s->pos ||
            e->cbor != s->req.cbor || (e->records == 0 && s->first_sent && !e->at_end))
            continue;
        if (!e->more && !e->at_end) {
            struct reclog_stat rs;
            reclog_stat(sh->log, &rs);
            if (rs.next > e->to)
                continue; /* records came since: an encoding now would have them */
        }
        e->use = ++sc->clock;
        return e;
    }
    return NULL;
}

static void cache_put(struct sub *s, const struct stream *st, const struct shard *sh, uint64_t from, size_t records,
                      int more, int at_end)
{
    struct sub_cache *sc = s->w->sub_cache;
    struct cache_entry *e = &sc->e[0];
    for (int i = 1; i < CACHE_ENTRIES; i++)
        if (!sc->e[i].used || (e->used && sc->e[i].use < e->use))
            e = &sc->e[i];
    e->used = 1;
    e->use = ++sc->clock;
    e->epoch = st->epoch;
    e->shard = sh->index;
    e->from = from;
    e->to = s->pos;
    e->cbor = s->req.cbor;
    e->records = records;
    e->more = more;
    e->at_end = at_end;
    kbuf_reset(&e->msg);
    kbuf_append(&e->msg, s->msg.p, s->msg.len);
}

/*
 * One SubscribeToShardEvent of the records from s->pos (store lock held).
 * Returns 1 when it was sent and more may follow, 0 when nothing more now.
 */
static int one_event(struct sub *s, struct stream *st, struct shard *sh, int64_t now_ms)
{
    int64_t retention = stream_retention_ms(st);
    uint64_t room = rate_room(s, now_ms);
    struct cache_entry *hit = room == UINT64_MAX ? cache_find(s, st, sh) : NULL;
    if (hit) {
        s->sink->send(s->ctx, hit->msg.p, hit->msg.len);
        s->pos = hit->to;
        s->first_sent = 1;
        if (hit->at_end)
            s->ending = 1;
        return hit->more;
    }
    uint64_t from = s->pos;
    struct rw w;
    begin_payload(s, &w);
    rw_map(&w);
    rw_key(&w, "Records");
    rw_list(&w);
    struct reclog_cursor cur;
    struct rec_view v;
    size_t n = 0, bytes = 0;
    int64_t behind = 0;
    int more = 0, paced = 0;
    reclog_seek(sh->log, &cur, s->pos, now_ms, retention);
    while (reclog_peek(&cur, &v)) {
        size_t sz = v.dlen + v.klen;
        /* the first record of a second goes out whole, even past 2 MiB (records may be 10 MiB) */
        paced = room != UINT64_MAX && (room == 0 || (bytes + sz > room && (n > 0 || s->rate_bytes > 0)));
        if (n >= SUB_EVENT_RECORDS || (n > 0 && bytes + sz > SUB_EVENT_BYTES) || paced) {
            behind = now_ms - v.ts_ms;
            more = 1;
            break;
        }
        reclog_skip(&cur);
        if (v.index < s->pos)
            continue;
        op_write_record(&w, st, sh, &v);
        bytes += sz;
        n++;
        s->pos = v.index + 1;
    }
    reclog_done(&cur);
    uint64_t horizon = reclog_trim_horizon(sh->log, now_ms, retention);
    if (s->pos < horizon)
        s->pos = horizon; /* records dropped meanwhile (retention): go on at the oldest kept */
    rw_end(&w);
    int at_end = sh->closed_ms && s->pos >= sh->end_next;
    int wait = paced || (more && room != UINT64_MAX && bytes >= room);
    if (wait)
        wait_next_second(s, now_ms);
    if (n == 0 && s->first_sent && !at_end)
        return 0;
    char seq[SEQ_LEN + 1];
    seq_format(seq, st->epoch, sh->index, s->pos); /* the last record sent (or where it starts): AFTER_ goes on */
    rw_kascii(&w, "ContinuationSequenceNumber", seq);
    rw_ki64(&w, "MillisBehindLatest", behind > 0 ? behind : 0);
    if (at_end)
        op_write_child_shards(&w, st, sh);
    rw_end(&w);
    send_message(s, "event", "SubscribeToShardEvent");
    if (room == UINT64_MAX)
        cache_put(s, st, sh, from, n, more, at_end);
    s->first_sent = 1;
    s->rate_bytes += bytes;
    if (at_end) {
        s->ending = 1;
        return 0;
    }
    return more && !wait;
}

static void finish(struct sub *s)
{
    if (!s->cancelled)
        s->sink->end(s->ctx);
    sub_free(s);
}

static void pump(struct sub *s)
{
    if (s->cancelled) {
        sub_free(s);
        return;
    }
    if (s->ending)
        return;
    if (s->sink->backlog(s->ctx) >= SUB_BACKLOG) {
        s->blocked = 1; /* the protocol kicks it once the peer has read */
        return;
    }
    struct store *store = &s->w->emu->store;
    int64_t now_ms = emu_now_ms(s->w->emu);
    store_rdlock(store);
    struct shard *sh = NULL;
    struct stream *st = locate(s, &sh, now_ms);
    if (!st) {
        s->ending = 1;
    } else {
        if (!s->watching) {
            s->sh = sh;
            shard_watch_add(sh, &s->watch);
            s->watching = 1;
        }
        if (!s->started) {
            struct rw w;
            begin_payload(s, &w);
            rw_map(&w);
            rw_end(&w);
            send_message(s, "event", "initial-response");
            s->started = 1;
        }
        while (one_event(s, st, sh, now_ms)) {
            if (s->sink->backlog(s->ctx) >= SUB_BACKLOG) {
                s->blocked = 1;
                break;
            }
        }
    }
    if (s->ending)
        unwatch(s);
    store_unlock(store);
    s->sink->flush(s->ctx); /* may close the connection: then sub_cancel has marked it */
    if (s->ending || s->cancelled)
        finish(s);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump(arg);
}

/* --subscription-ms passed: the stream ends, as AWS ends it after 5 minutes. */
static void end_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sub *s = arg;
    store_rdlock(&s->w->emu->store);
    unwatch(s);
    store_unlock(&s->w->emu->store);
    s->ending = 1;
    if (!s->cancelled)
        s->sink->flush(s->ctx);
    finish(s);
}

struct sub *sub_start(struct worker *w, const struct sub_req *req, const struct sub_sink *sink, void *ctx)
{
    struct sub *s = xcalloc(1, sizeof *s);
    s->watch.wake = wake;
    s->w = w;
    s->req = *req;
    s->pos = req->index;
    s->sink = sink;
    s->ctx = ctx;
    s->kick_ev = event_new(w->base, -1, 0, kick_cb, s);
    s->end_ev = evtimer_new(w->base, end_cb, s);
    s->rate_ev = evtimer_new(w->base, kick_cb, s);
    int64_t ms = w->emu->cfg.subscription_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000 * 1000)};
    evtimer_add(s->end_ev, &tv);
    s->next = w->subs;
    if (w->subs)
        w->subs->prev = s;
    w->subs = s;
    event_active(s->kick_ev, EV_TIMEOUT, 0);
    return s;
}

void sub_kick(struct sub *s)
{
    if (!s->blocked)
        return;
    s->blocked = 0;
    event_active(s->kick_ev, EV_TIMEOUT, 0);
}

void sub_cancel(struct sub *s)
{
    /*
     * Called from inside the protocol (its stream or connection is being
     * freed), maybe from inside this subscription's own flush: stop the
     * wakes now, free at the next callback.
     */
    store_rdlock(&s->w->emu->store);
    unwatch(s);
    store_unlock(&s->w->emu->store);
    s->cancelled = 1;
    event_active(s->kick_ev, EV_TIMEOUT, 0);
}

/* The worker was signalled: pump every subscription woken since. */
static void worker_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct worker *w = arg;
    uint64_t v;
    while (read(fd, &v, sizeof v) < 0 && errno == EINTR)
        ;
    atomic_store(&w->sub_signalled, 0);
    for (struct sub *s = w->subs, *next; s; s = next) {
        next = s->next; /* pump may free s, and only s */
        if (atomic_exchange(&s->dirty, 0))
            pump(s);
    }
}

int sub_worker_init(struct worker *w)
{
    w->subs = NULL;
    w->sub_cache = xcalloc(1, sizeof *w->sub_cache);
    atomic_store(&w->sub_signalled, 0);
    w->sub_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->sub_fd < 0)
        return -1;
    w->sub_ev = event_new(w->base, w->sub_fd, EV_READ | EV_PERSIST, worker_cb, w);
    if (!w->sub_ev || event_add(w->sub_ev, NULL) != 0)
        return -1;
    return 0;
}

void sub_worker_free(struct worker *w)
{
    while (w->subs) /* cancelled when their connections closed, not yet called back */
        sub_free(w->subs);
    if (w->sub_cache) {
        for (int i = 0; i < CACHE_ENTRIES; i++)
            kbuf_free(&w->sub_cache->e[i].msg);
        free(w->sub_cache);
        w->sub_cache = NULL;
    }
    if (w->sub_ev)
        event_free(w->sub_ev);
    if (w->sub_fd >= 0)
        close(w->sub_fd);
    w->sub_ev = NULL;
    w->sub_fd = -1;
}
