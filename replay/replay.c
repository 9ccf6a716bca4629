/*
 * replay.c — the replay's run loop (see replay.h).
 *
 * Follows the Kinesis API Reference for PutRecords (at most 500 records and
 * 5 MiB of data and partition keys a call) and the AWS guidance on retries
 * (exponential backoff with full jitter: batcher.c).
 *
 * One thread, one loop: read ahead (bounded), move due records into the
 * open batch of their lane, close batches that are full or have lingered,
 * hand ready batches to the sender up to --concurrency, collect answers and
 * let the batcher requeue what must be tried again, then sleep until the
 * next thing is due. A record due at once with nothing queued before it
 * (always so at full speed) is written straight into its batch; others wait
 * in the schedule's queue as the JSON text they will be sent as.
 */
#include "replay.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "answer.h"
#include "batcher.h"
#include "b64.h"
#include "jread.h"
#include "ktime.h"
#include "mem.h"
#include "preflight.h"
#include "reader.h"
#include "rng.h"
#include "rowmap.h"
#include "schedule.h"
#include "sender.h"

#define AHEAD_RECORDS 20000
#define AHEAD_BYTES ((size_t)64 << 20)

struct engine {
    const struct replay_opts *o;
    struct replay_stats *st;
    struct kt_err *err;
    int fatal;                 /* halted: nothing more is sent (st->stop says why) */
    uint64_t last_row;         /* the row read last */
    struct rowmap delivered;   /* with one pass: the rows delivered */
    struct reader *rd;
    struct batcher *b;
    struct sender *snd;
    struct sched sc;
    int csv_done;
    int loop;                  /* current pass over the file, from 0 */
    int64_t loop_offset_ns;    /* added to record times in later loops */
    uint64_t rng;
    struct jdoc doc;           /* answers, parsed */
    int64_t progress_at;
};

/* Records why the replay stops before the end: the first reason, and a later one after it. */
static void set_stop(struct engine *e, int bad_input, const char *msg)
{
    struct replay_stats *st = e->st;
    if (!st->stop[0]) {
        snprintf(st->stop, sizeof st->stop, "%s", msg);
        st->stop_bad_input = bad_input;
    } else if (!e->fatal) {
        size_t n = strlen(st->stop);
        snprintf(st->stop + n, sizeof st->stop - n, "; then %s", msg);
    }
    kt_err_set(e->err, "%s", st->stop);
}

/* Stops sending: what is in flight may finish, every other record read is not sent. */
static void halt(struct engine *e, int bad_input, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void halt(struct engine *e, int bad_input, const char *fmt, ...)
{
    if (e->fatal)
        return;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    set_stop(e, bad_input, msg);
    e->fatal = 1;
    batcher_stop(e->b);
}

/*
 * Stops reading at a row that cannot be read (row 0: the one after the
 * last read): the records read before it are still sent.
 */
static void stop_reading(struct engine *e, uint64_t row, const char *msg)
{
    if (!row)
        row = e->last_row + 1;
    set_stop(e, 1, msg);
    if (!e->st->first_not_sent || row < e->st->first_not_sent)
        e->st->first_not_sent = row;
    e->csv_done = 1;
    sched_end_burst(&e->sc);
}

static void count_error(void *ctx, const char *code)
{
    struct replay_stats *st = ctx;
    for (size_t i = 0; i < st->nerrors; i++)
        if (strcmp(st->errors[i].code, code) == 0) {
            st->errors[i].n++;
            return;
        }
    if (st->nerrors < sizeof st->errors / sizeof st->errors[0]) {
        snprintf(st->errors[st->nerrors].code, sizeof st->errors[0].code, "%s", code);
        st->errors[st->nerrors++].n = 1;
    }
}

/* --------------------------------------------------------------- reading */

/* Reads one row: into its batch at once, or into the schedule's queue. 1 a row was read, 0 the end, -1 fatal. */
static int read_one(struct engine *e, int64_t now)
{
    struct row_rec rr;
    struct kt_err err;
    rr.row = 0;
    switch (reader_next(e->rd, e->loop_offset_ns, &rr, &err)) {
    case READ_FATAL:
        stop_reading(e, 0, err.msg);
        return -1;
    case READ_BAD:
        e->st->invalid++; /* the row itself: not sendable */
        stop_reading(e, rr.row, err.msg);
        return -1;
    case READ_END:
        return 0;
    case READ_SKIPPED:
        e->last_row = rr.row;
        return 1;
    case READ_RECORD:
        e->last_row = rr.row;
        break;
    }
    int64_t sched;
    int64_t due = sched_due(&e->sc, rr.has_ts, rr.ts_ns, &sched);
    e->st->timed = e->o->respect_timing || e->o->rate > 0;
    uint32_t lane = batcher_lane(e->b, rr.stream, rr.key_hash);
    uint64_t key = rr.key_hash | 1; /* a key set's empty slot is 0 */
    size_t bytes = rr.dlen + rr.klen;
    if (due <= now && !e->sc.head) {
        reader_json(&rr, batcher_open(e->b, lane, bytes, due ? due : now, key));
        batcher_commit(e->b, lane, rr.row, key, sched, bytes);
        return 1;
    }
    /* The struct goes in front of the text. */
    struct kbuf f = KBUF_INIT;
    kbuf_reserve(&f, sizeof(struct rec) + b64_encoded_len(rr.dlen) + rr.klen + rr.ehk_len + 64);
    f.len = sizeof(struct rec);
    reader_json(&rr, &f);
    size_t total = f.len;
    struct rec *rec = (struct rec *)kbuf_steal(&f, NULL);
    memset(rec, 0, sizeof *rec);
    rec->row = rr.row;
    rec->lane = lane;
    rec->key = key;
    rec->bytes = bytes;
    rec->len = total - sizeof(struct rec);
    rec->due_ns = due;
    rec->sched_ns = sched;
    sched_push(&e->sc, rec);
    return 1;
}

/* A queued record (taken over) joins the open batch of its lane. */
static void add_to_batch(struct engine *e, struct rec *r, int64_t now)
{
    struct kbuf *body = batcher_open(e->b, r->lane, r->bytes, r->due_ns ? r->due_ns : now, r->key);
    kbuf_append(body, r->frag, r->len);
    batcher_commit(e->b, r->lane, r->row, r->key, r->sched_ns, r->bytes);
    free(r);
}

/* Reads ahead while there is room; handles the end of the file and --loop. */
static void read_ahead(struct engine *e)
{
    int64_t now = kt_mono_ns();
    int limit = 4096;
    size_t concurrency = (size_t)e->o->concurrency;
    while (!e->csv_done && !e->fatal && limit-- > 0 && e->sc.n < AHEAD_RECORDS && e->sc.bytes < AHEAD_BYTES &&
           batcher_ready(e->b) - batcher_retries_waiting(e->b) < concurrency * 2) {
        int rc = read_one(e, now);
        if (rc < 0)
            return;
        if (rc > 0)
            continue;
        if (e->loop + 1 < e->o->loops) {
            struct kt_err err;
            if (reader_restart(e->rd, &err) != 0) {
                stop_reading(e, 0, err.msg);
                return;
            }
            e->last_row = 0;
            e->loop++;
            /* The next pass starts one millisecond after the last record of this one. */
            if (e->sc.have_ts0)
                e->loop_offset_ns = e->sc.last_ts - e->sc.ts0 + KT_NS_PER_MS;
            continue;
        }
        e->csv_done = 1;
        sched_end_burst(&e->sc); /* nothing follows the last record */
    }
}

/* --------------------------------------------------------------- answers */

static void answered(void *ctx, const struct sent *r)
{
    struct engine *e = ctx;
    struct replay_stats *st = e->st;
    struct batch *b = r->batch;
    int64_t now = kt_mono_ns();
    if (r->timed_out) {
        st->timed_out++; /* no answer: not a round trip */
    } else if (!r->transport_error) {
        hist_add(&st->latency, now - r->sent_ns);
        if (b->earliest_sched)
            hist_add(&st->latency_sched, now - b->earliest_sched);
    }
    unsigned char fates[BATCH_RECORDS];
    struct answer a;
    answer_classify(&e->doc, r->transport_error, r->status, r->body, r->len, b->n, fates, &a, count_error, st);
    if (a.fatal)
        /* Every further call would be refused the same way: stop. */
        halt(e, st->sent == 0, "PutRecords to %s was refused with %s (HTTP %ld): %.*s",
              batcher_stream_name(e->b, batcher_lane_stream(e->b, b->lane)), a.code, r->status,
              (int)(r->len < 290 ? r->len : 290), r->body ? r->body : "");
    if (a.ok)
        st->requests_ok++;
    struct stream_count *sc = &st->streams[batcher_lane_stream(e->b, b->lane)];
    for (size_t i = 0; i < b->n; i++)
        if (fates[i] == FATE_DELIVERED) {
            st->sent++;
            sc->sent++;
            st->bytes_sent += b->slots[i].bytes;
            if (e->o->loops == 1)
                rowmap_set(&e->delivered, b->slots[i].row);
        }
    batcher_answered(e->b, b, fates, now, &e->rng);
}

/*
 * Sends what may go, up to --concurrency in flight. Returns when the next
 * waiting batch may go (INT64_MAX: none, or none before an answer frees a
 * slot, which wakes the loop anyway).
 */
static int64_t dispatch(struct engine *e, int64_t now)
{
    int64_t next = INT64_MAX;
    while (sender_can_send(e->snd)) {
        struct batch *b = batcher_take(e->b, now, &next);
        if (!b)
            break;
        struct kt_err err;
        if (sender_put(e->snd, b, now, &err) != 0) {
            halt(e, 0, "%s", err.msg);
            batcher_unsent(e->b, b);
            break;
        }
        e->st->requests++; /* a call is counted when it goes */
        batcher_sent(e->b, b);
        if (e->st->timed)
            for (size_t i = 0; i < b->n; i++)
                if (b->slots[i].sched_ns && b->slots[i].attempts == 0)
                    hist_add(&e->st->lateness, now - b->slots[i].sched_ns);
    }
    return next;
}

/* -------------------------------------------------------------- control */

static void progress(struct engine *e, int64_t now, int final)
{
    const struct replay_hooks *h = &e->o->hooks;
    if (!h->progress || (!final && now < e->progress_at))
        return;
    e->progress_at = now + 250 * KT_NS_PER_MS;
    struct replay_stats *st = e->st;
    uint64_t size = reader_size(e->rd);
    double pct = size ? 100.0 * (double)reader_offset(e->rd) / (double)size : -1;
    if (size && e->o->loops > 1)
        pct = (pct + 100.0 * e->loop) / e->o->loops;
    struct replay_progress p = {st->sent, st->retried, st->failed + st->invalid,
                                e->snd ? sender_inflight(e->snd) : 0, (double)(now - st->started_ns) / 1e9, pct,
                                NULL, 0};
    for (size_t i = 0; i < st->nerrors; i++)
        if (st->errors[i].n > p.top_error_n) {
            p.top_error = st->errors[i].code;
            p.top_error_n = st->errors[i].n;
        }
    h->progress(h->ctx, &p, final);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* One turn of the loop in a dry run: everything goes into batches at once; nothing is sent. 1 when done. */
static int dry_turn(struct engine *e, int64_t now)
{
    while (e->sc.head)
        add_to_batch(e, sched_pop(&e->sc), now);
    batcher_drop(e->b, DROP_PLAN);
    if (!e->csv_done && !e->fatal)
        return 0;
    int64_t ignored;
    batcher_close_due(e->b, now, INT64_MAX, 1, &ignored);
    batcher_drop(e->b, DROP_PLAN);
    return 1;
}

/* One turn of the loop; 1 when the replay is over. */
static int turn(struct engine *e)
{
    const struct replay_opts *o = e->o;
    int64_t now = kt_mono_ns();
    while (!e->fatal && e->sc.head && e->sc.head->due_ns <= now)
        add_to_batch(e, sched_pop(&e->sc), now);
    /*
     * Close batches that waited long enough, and any batch no record can
     * join before its linger ends: the next record is due later than that,
     * or nothing else is coming.
     */
    int64_t next_due = e->sc.head ? e->sc.head->due_ns : !e->csv_done ? now : INT64_MAX;
    int64_t next_linger;
    size_t still_open = batcher_close_due(e->b, now, next_due, e->fatal, &next_linger);
    if (e->fatal) {
        /* Send nothing more; let what is in flight finish. */
        batcher_drop(e->b, DROP_NOT_SENT);
        e->st->not_sent += sched_clear(&e->sc, &e->st->first_not_sent);
    }
    int64_t next_retry = dispatch(e, now);
    sender_perform(e->snd);
    int answers = sender_collect(e->snd, answered, e);
    progress(e, now, 0);
    if ((e->csv_done || e->fatal) && !e->sc.head && !batcher_ready(e->b) && !sender_inflight(e->snd) && !still_open)
        return 1;
    /* Sleep until something is due: a record, a retry, a batch's linger, or an answer. */
    now = kt_mono_ns();
    int64_t next = now + 100 * KT_NS_PER_MS;
    /*
     * The next record need not be picked up the moment it is due: its
     * batch lingers from its due time, so a wake-up by the end of that
     * linger (or by an open batch's deadline) sends it just as early.
     */
    if (e->sc.head && e->sc.head->due_ns + o->linger_ns < next)
        next = e->sc.head->due_ns + o->linger_ns;
    /* ... unless a burst ends before that: its batches can go the moment its last record is due. */
    if (e->sc.burst_head && e->sc.burst_head->due_ns < next)
        next = e->sc.burst_head->due_ns;
    if (next_retry < next)
        next = next_retry;
    if (next_linger < next)
        next = next_linger;
    if (answers)
        next = now; /* answers freed lanes that may have batches waiting */
    if (!e->csv_done && e->sc.n < AHEAD_RECORDS / 2 &&
        batcher_ready(e->b) - batcher_retries_waiting(e->b) < (size_t)o->concurrency)
        next = now;
    if (next > now)
        sender_wait(e->snd, next - now);
    return 0;
}

int replay_run(const struct replay_opts *o, struct replay_stats *st, int *bad_input, struct kt_err *err)
{
    struct engine e;
    memset(&e, 0, sizeof e);
    memset(st, 0, sizeof *st);
    hist_init(&st->latency);
    hist_init(&st->latency_sched);
    hist_init(&st->lateness);
    e.o = o;
    e.st = st;
    e.err = err;
    e.rng = kt_rand_seed(0);
    *bad_input = 0;
    kt_err_set(err, "%s", "");
    jdoc_init(&e.doc);
    struct batcher_opts bo = {(uint32_t)o->lanes, o->strict_order, o->max_retries, o->linger_ns};
    e.b = batcher_new(&bo, st);
    e.rd = reader_open(o, e.b, st, err);
    int rc = -1;
    if (!e.rd) {
        *bad_input = 1;
        goto out;
    }
    if (!o->stream && !reader_has_stream(e.rd)) {
        kt_err_set(err, "no stream to send to: give --stream NAME (%s has no stream column)", o->csv);
        *bad_input = 1;
        goto out;
    }
    if (o->respect_timing && !reader_has_ts(e.rd)) {
        kt_err_set(err, "--respect-timing needs the records' times, and %s has no ts column", o->csv);
        *bad_input = 1;
        goto out;
    }
    if (o->pk_mode == PK_COLUMN && !reader_has_key(e.rd) && o->hooks.message) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s has no partition_key column: using random keys (--partition-key KEY sets one)",
                 o->csv);
        o->hooks.message(o->hooks.ctx, REPLAY_WARN, msg);
    }
    if (!o->dry_run) {
        struct sender_opts so = {o->endpoint, o->ca_bundle, &o->creds, o->timeout_ms, o->concurrency};
        e.snd = sender_new(&so, err);
        if (!e.snd)
            goto out;
        if (o->stream && preflight(e.snd, o->stream, o, bad_input, err) != 0)
            goto out;
    }
    if (o->start_at_ns) {
        int64_t wait = o->start_at_ns - kt_now_ns();
        if (wait > 0) {
            struct timespec ts = {wait / KT_NS_PER_SEC, wait % KT_NS_PER_SEC};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !(o->hooks.stop && o->hooks.stop(o->hooks.ctx)))
                ;
        }
    }
    st->started_ns = kt_mono_ns();
    sched_init(&e.sc, o->respect_timing, o->speed, o->max_gap_ns, o->rate, o->linger_ns, st->started_ns);
    for (;;) {
        const char *why = o->hooks.stop ? o->hooks.stop(o->hooks.ctx) : NULL;
        if (why && !e.fatal)
            halt(&e, 0, "interrupted by %s (calls in flight were let finish)", why);
        if (o->deadline_ns && !e.fatal && kt_mono_ns() - st->started_ns >= o->deadline_ns)
            halt(&e, 0, "the deadline of %.3g s was reached (--deadline; calls in flight were let finish)",
                 o->deadline_ns / 1e9);
        if (!e.fatal)
            read_ahead(&e);
        if (o->dry_run ? dry_turn(&e, kt_mono_ns()) : turn(&e))
            break;
    }
    st->ended_ns = kt_mono_ns();
    st->planned_ns = sched_span(&e.sc, st->records);
    st->out_of_order = e.sc.out_of_order;
    /* Whatever is left was not sent. */
    st->not_sent += sched_clear(&e.sc, &st->first_not_sent);
    int64_t ignored;
    batcher_close_due(e.b, st->ended_ns, INT64_MAX, 1, &ignored);
    batcher_drop(e.b, o->dry_run ? DROP_PLAN : DROP_NOT_SENT);
    if (st->stop[0] && !e.csv_done && (!st->first_not_sent || e.last_row + 1 < st->first_not_sent))
        st->first_not_sent = e.last_row + 1; /* the rows not read yet */
    if (st->first_not_sent && st->stop[0]) {
        st->resume_skip = reader_skip_for(e.rd, st->first_not_sent);
        st->sent_after = rowmap_count_above(&e.delivered, st->first_not_sent);
    }
    progress(&e, st->ended_ns, 1);
    st->cpu_seconds = cpu_seconds();
    rc = st->stop[0] ? -1 : 0;
    *bad_input = st->stop_bad_input;
out:
    sender_free(e.snd);
    batcher_free(e.b);
    reader_close(e.rd);
    jdoc_free(&e.doc);
    rowmap_free(&e.delivered);
    return rc;
}
