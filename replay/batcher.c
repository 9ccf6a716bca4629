/* batcher.c — streams, lanes and PutRecords batches (see batcher.h). */
#include "batcher.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "ktime.h"
#include "mem.h"
#include "rng.h"

#define BACKOFF_BASE_NS (20 * KT_NS_PER_MS)
#define BACKOFF_CAP_NS (2000 * KT_NS_PER_MS)
#define KEYSET 1024            /* slots of a batch's key set: twice the records a batch holds */

/* A stream's records with the same key hash: sent in order, one call at a time. */
struct lane {
    struct batch *open;        /* being filled */
    struct batch *head, *tail; /* closed, waiting their turn */
    int busy;                  /* a call is in flight */
    int active;                /* listed in batcher.active */
};

struct stream_info {
    char *name;
    char *prefix;              /* {"StreamName":"x","Records":[ */
};

struct batcher {
    struct batcher_opts o;
    struct replay_stats *st;
    struct lane *lanes;        /* MAX_STREAMS * nlanes */
    uint32_t *active;          /* lanes that have held anything */
    size_t nactive;
    size_t ready_n;            /* closed batches waiting in lanes */
    int stopping;              /* batcher_stop: nothing is tried again */
    size_t retry_n;            /* of which retries */
    size_t rr;                 /* where the next take scan starts */
    struct stream_info streams[MAX_STREAMS];
    size_t nstreams;
};

/* Adds key to the set; returns 0 when it was there already. */
static int keyset_add(uint64_t *set, uint64_t key)
{
    for (size_t i = key % KEYSET;; i = (i + 1) % KEYSET) {
        if (set[i] == key)
            return 0;
        if (!set[i]) {
            set[i] = key;
            return 1;
        }
    }
}

static int keyset_has(const uint64_t *set, uint64_t key)
{
    for (size_t i = key % KEYSET; set[i]; i = (i + 1) % KEYSET)
        if (set[i] == key)
            return 1;
    return 0;
}

struct batcher *batcher_new(const struct batcher_opts *o, struct replay_stats *st)
{
    struct batcher *b = xcalloc(1, sizeof *b);
    b->o = *o;
    if (b->o.nlanes < 1)
        b->o.nlanes = 1;
    b->st = st;
    b->lanes = xcalloc((size_t)MAX_STREAMS * b->o.nlanes, sizeof *b->lanes);
    b->active = xcalloc((size_t)MAX_STREAMS * b->o.nlanes, sizeof *b->active);
    return b;
}

void batch_free(struct batch *bt)
{
    free(bt->keys);
    kbuf_free(&bt->body);
    free(bt->slots);
    free(bt);
}

void batcher_free(struct batcher *b)
{
    if (!b)
        return;
    for (size_t k = 0; k < b->nactive; k++) {
        struct lane *l = &b->lanes[b->active[k]];
        if (l->open)
            batch_free(l->open);
        while (l->head) {
            struct batch *bt = l->head;
            l->head = bt->next;
            batch_free(bt);
        }
    }
    for (size_t s = 0; s < b->nstreams; s++) {
        free(b->streams[s].name);
        free(b->streams[s].prefix);
    }
    free(b->lanes);
    free(b->active);
    free(b);
}

uint32_t batcher_stream(struct batcher *b, const char *name, size_t len)
{
    for (size_t i = 0; i < b->nstreams; i++)
        if (strlen(b->streams[i].name) == len && memcmp(b->streams[i].name, name, len) == 0)
            return (uint32_t)i;
    if (b->nstreams == MAX_STREAMS)
        return UINT32_MAX;
    struct stream_info *s = &b->streams[b->nstreams];
    s->name = xstrndup(name, len);
    struct kbuf p = KBUF_INIT;
    kbuf_puts(&p, strncmp(s->name, "arn:", 4) == 0 ? "{\"StreamARN\":" : "{\"StreamName\":");
    jw_str(&p, name, len);
    kbuf_puts(&p, ",\"Records\":[");
    s->prefix = kbuf_steal(&p, NULL);
    struct stream_count *sc = &b->st->streams[b->nstreams];
    snprintf(sc->name, sizeof sc->name, "%.*s", (int)len, name);
    b->st->nstreams = b->nstreams + 1;
    return (uint32_t)b->nstreams++;
}

const char *batcher_stream_name(const struct batcher *b, uint32_t stream)
{
    return b->streams[stream].name;
}

uint32_t batcher_lane_stream(const struct batcher *b, uint32_t lane)
{
    return lane / b->o.nlanes;
}

uint32_t batcher_lane(const struct batcher *b, uint32_t stream, uint64_t key_hash)
{
    return stream * b->o.nlanes + (uint32_t)(key_hash % b->o.nlanes);
}

static struct lane *lane_of(struct batcher *b, uint32_t li)
{
    struct lane *l = &b->lanes[li];
    if (!l->active) {
        l->active = 1;
        b->active[b->nactive++] = li;
    }
    return l;
}

void batcher_sent(struct batcher *b, const struct batch *bt)
{
    struct replay_stats *st = b->st;
    st->streams[bt->lane / b->o.nlanes].calls++;
    st->batches++;
    if (bt->n > st->max_batch_records)
        st->max_batch_records = bt->n;
    if (bt->bytes > st->max_batch_bytes)
        st->max_batch_bytes = bt->bytes;
}

/* Closes the open batch of a lane: it waits behind the lane's others. */
static void close_batch(struct batcher *b, uint32_t li)
{
    struct lane *l = &b->lanes[li];
    struct batch *bt = l->open;
    if (!bt)
        return;
    l->open = NULL;
    kbuf_puts(&bt->body, "]}");
    bt->next = NULL;
    if (l->tail)
        l->tail->next = bt;
    else
        l->head = bt;
    l->tail = bt;
    b->ready_n++;
}

static struct batch *batch_new(struct batcher *b, uint32_t li, int64_t now, size_t reserve)
{
    struct batch *bt = xcalloc(1, sizeof *bt);
    bt->lane = li;
    bt->opened_ns = now;
    kbuf_reserve(&bt->body, reserve);
    kbuf_puts(&bt->body, b->streams[li / b->o.nlanes].prefix);
    return bt;
}

/* Room for one more slot; the record's text starts here. */
static void batch_slot(struct batch *bt)
{
    if (bt->n == bt->cap) {
        bt->cap = bt->cap ? bt->cap * 2 : 64;
        bt->slots = xrealloc(bt->slots, bt->cap * sizeof *bt->slots);
    }
    if (bt->n)
        kbuf_putc(&bt->body, ',');
    bt->slots[bt->n].off = (uint32_t)bt->body.len;
}

struct kbuf *batcher_open(struct batcher *b, uint32_t li, size_t bytes, int64_t opened_ns, uint64_t key)
{
    struct lane *l = lane_of(b, li);
    struct batch *bt = l->open;
    /* strict_order: a key at most once a call, since a call's records fail or succeed one by one. */
    if (bt && (bt->n == BATCH_RECORDS || bt->bytes + bytes > BATCH_BYTES || (bt->keys && keyset_has(bt->keys, key)))) {
        close_batch(b, li);
        bt = NULL;
    }
    if (!bt)
        bt = l->open = batch_new(b, li, opened_ns, 192 * 1024);
    if (b->o.strict_order) {
        if (!bt->keys)
            bt->keys = xcalloc(KEYSET, sizeof *bt->keys);
        keyset_add(bt->keys, key);
    }
    batch_slot(bt);
    return &bt->body;
}

void batcher_commit(struct batcher *b, uint32_t li, uint64_t row, uint64_t key, int64_t sched_ns, size_t bytes)
{
    struct batch *bt = b->lanes[li].open;
    struct slot *sl = &bt->slots[bt->n++];
    sl->row = row;
    sl->key = key;
    sl->sched_ns = sched_ns;
    sl->attempts = 0;
    sl->len = (uint32_t)(bt->body.len - sl->off);
    sl->bytes = bytes;
    bt->bytes += bytes;
    if (sched_ns && (!bt->earliest_sched || sched_ns < bt->earliest_sched))
        bt->earliest_sched = sched_ns;
    if (bt->n == BATCH_RECORDS || bt->bytes >= BATCH_BYTES)
        close_batch(b, li);
}

size_t batcher_close_due(struct batcher *b, int64_t now, int64_t next_due, int all, int64_t *next_linger)
{
    size_t still_open = 0;
    *next_linger = INT64_MAX;
    for (size_t k = 0; k < b->nactive; k++) {
        struct lane *l = &b->lanes[b->active[k]];
        struct batch *bt = l->open;
        if (!bt)
            continue;
        int64_t deadline = bt->opened_ns + b->o.linger_ns;
        /* A busy lane's batch keeps filling until its call is answered: it could not go sooner. */
        if (all || (!l->busy && (now >= deadline || next_due > deadline))) {
            close_batch(b, b->active[k]);
            continue;
        }
        still_open++;
        if (!l->busy && deadline < *next_linger)
            *next_linger = deadline;
    }
    return still_open;
}

struct batch *batcher_take(struct batcher *b, int64_t now, int64_t *next_ready)
{
    *next_ready = INT64_MAX;
    size_t n = b->nactive;
    if (!b->ready_n || !n)
        return NULL;
    for (size_t k = 0; k < n; k++) {
        size_t at = (b->rr + k) % n;
        struct lane *l = &b->lanes[b->active[at]];
        struct batch *bt = l->head;
        if (!bt || l->busy)
            continue;
        if (bt->due_ns > now) {
            if (bt->due_ns < *next_ready)
                *next_ready = bt->due_ns;
            continue;
        }
        l->head = bt->next;
        if (!l->head)
            l->tail = NULL;
        b->ready_n--;
        if (bt->due_ns)
            b->retry_n--;
        l->busy = 1;
        b->rr = (at + 1) % n; /* lanes take turns */
        return bt;
    }
    return NULL;
}

int64_t batcher_backoff_ns(uint32_t attempts, uint64_t *rng)
{
    int64_t cap = BACKOFF_BASE_NS << (attempts < 20 ? attempts : 20);
    if (cap > BACKOFF_CAP_NS || cap <= 0)
        cap = BACKOFF_CAP_NS;
    return (int64_t)(kt_rand64(rng) % (uint64_t)cap);
}

void batcher_answered(struct batcher *b, struct batch *bt, const unsigned char *fates, int64_t now, uint64_t *rng)
{
    struct replay_stats *st = b->st;
    b->lanes[bt->lane].busy = 0;
    /*
     * A record that did not go while a later record of its key in the same
     * call did has been overtaken: its key's order is broken. Counted, from
     * the end of the call back, with the set of keys delivered after.
     */
    int any_delivered = 0, any_failed = 0;
    for (size_t i = 0; i < bt->n; i++) {
        any_delivered |= fates[i] == 0;
        any_failed |= fates[i] != 0;
    }
    if (any_delivered && any_failed) {
        uint64_t after[KEYSET];
        memset(after, 0, sizeof after);
        for (size_t i = bt->n; i-- > 0;) {
            if (!fates[i])
                keyset_add(after, bt->slots[i].key);
            else if (fates[i] == 1 && keyset_has(after, bt->slots[i].key))
                st->overtaken++;
        }
    }
    struct batch *rb = NULL;
    uint32_t attempts = 0;
    for (size_t i = 0; i < bt->n; i++) {
        if (!fates[i])
            continue;
        struct slot *sl = &bt->slots[i];
        if (fates[i] == 2 || (int)sl->attempts >= b->o.max_retries) {
            st->failed++;
            continue;
        }
        if (b->stopping) {
            /* Would be tried again, but the replay has stopped. */
            st->not_sent++;
            if (!st->first_not_sent || sl->row < st->first_not_sent)
                st->first_not_sent = sl->row;
            continue;
        }
        st->retried++;
        if (!rb)
            rb = batch_new(b, bt->lane, now, bt->body.len);
        batch_slot(rb);
        uint32_t off = rb->slots[rb->n].off;
        kbuf_append(&rb->body, bt->body.p + sl->off, sl->len);
        struct slot *ns = &rb->slots[rb->n++];
        *ns = *sl;
        ns->off = off;
        ns->attempts = sl->attempts + 1;
        ns->sched_ns = 0; /* lateness is about the first attempt */
        rb->bytes += sl->bytes;
        if (ns->attempts > attempts)
            attempts = ns->attempts;
    }
    batch_free(bt);
    if (!rb)
        return;
    kbuf_puts(&rb->body, "]}");
    rb->due_ns = now + batcher_backoff_ns(attempts, rng);
    struct lane *l = &b->lanes[rb->lane];
    rb->next = l->head;
    l->head = rb;
    if (!l->tail)
        l->tail = rb;
    b->ready_n++;
    b->retry_n++;
}

/* The records of bt will not be sent: counted, with the first of them. */
static void count_not_sent(struct batcher *b, const struct batch *bt)
{
    struct replay_stats *st = b->st;
    st->not_sent += bt->n;
    for (size_t i = 0; i < bt->n; i++)
        if (!st->first_not_sent || bt->slots[i].row < st->first_not_sent)
            st->first_not_sent = bt->slots[i].row;
}

void batcher_stop(struct batcher *b)
{
    b->stopping = 1;
}

void batcher_unsent(struct batcher *b, struct batch *bt)
{
    b->lanes[bt->lane].busy = 0;
    count_not_sent(b, bt);
    batch_free(bt);
}

void batcher_drop(struct batcher *b, enum drop_mode mode)
{
    for (size_t k = 0; k < b->nactive; k++) {
        struct lane *l = &b->lanes[b->active[k]];
        while (l->head) {
            struct batch *bt = l->head;
            l->head = bt->next;
            if (mode == DROP_PLAN)
                batcher_sent(b, bt);
            else
                count_not_sent(b, bt);
            batch_free(bt);
        }
        l->tail = NULL;
    }
    b->ready_n = b->retry_n = 0;
}

size_t batcher_ready(const struct batcher *b)
{
    return b->ready_n;
}

size_t batcher_retries_waiting(const struct batcher *b)
{
    return b->retry_n;
}
