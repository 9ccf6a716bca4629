/*
 * replay.c — the replay engine (see replay.h).
 *
 * Follows the Kinesis API Reference for PutRecords (at most 500 records and
 * 5 MiB of data and partition keys a call; Records[i] of the answer reports
 * on Records[i] of the request) and the AWS guidance on retries (exponential
 * backoff with full jitter).
 *
 * One thread, one loop: read ahead (bounded), move due records into the
 * open batch of their lane, close batches that are full or have lingered,
 * hand ready batches to libcurl's multi interface up to --concurrency,
 * collect answers, then sleep until the next thing is due. A record is held
 * as the JSON text it will be sent as ({"Data":...,"PartitionKey":...}), so
 * building a request is appending, and retrying a record is copying its text.
 *
 * Order: a partition key's records must reach their shard in the order of
 * the file, even when a call fails half-way and some of its records are
 * retried. So each stream's records are spread over --lanes lanes by a
 * hash of their partition key (or explicit hash key); a lane has at most
 * one call in flight, and the records of a call that must be tried again
 * go back to the front of their lane, before anything later of that lane.
 * Lanes run side by side, so up to --concurrency calls are in flight when
 * the keys are many. Each lane fills its own batches: more lanes, smaller
 * batches when records trickle in on a schedule.
 */
#include "replay.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "buf.h"
#include "csvin.h"
#include "hashkey.h"
#include "jread.h"
#include "jsonw.h"
#include "ktime.h"
#include "mem.h"
#include "rng.h"
#include "sigv4.h"
#include "simd.h"
#include "utf8.h"

#define BATCH_RECORDS 500
#define BATCH_BYTES ((size_t)5 << 20)
#define AHEAD_RECORDS 20000
#define AHEAD_BYTES ((size_t)64 << 20)
#define BACKOFF_BASE_NS (20 * KT_NS_PER_MS)
#define BACKOFF_CAP_NS (2000 * KT_NS_PER_MS)
#define MAX_STREAMS 64

struct rec {
    struct rec *next;
    struct rec *next_burst;    /* the next queued record that ends a burst */
    uint64_t row;
    int64_t due_ns;            /* monotonic time to send at */
    int64_t sched_ns;          /* the schedule's time (0: none), for lateness */
    uint32_t lane;
    uint64_t key;              /* hash of the key, never 0 */
    size_t bytes;              /* data + partition key */
    size_t len;
    char frag[];               /* the record as JSON */
};

struct slot {
    uint64_t row;
    uint64_t key;              /* hash of the record's key, never 0 */
    int64_t sched_ns;
    uint32_t attempts;
    uint32_t off, len;         /* the record's text in the body */
    size_t bytes;
};

struct batch {
    struct batch *next;
    uint32_t lane;
    int64_t due_ns;            /* not sent before (a retry's backoff); 0: at once */
    struct kbuf body;
    struct slot *slots;
    size_t n, cap;
    size_t bytes;
    int64_t opened_ns;
    int64_t earliest_sched;
    uint64_t *keys;            /* --strict-order: the keys in this batch (open addressing) */
};

#define KEYSET 1024            /* slots of a batch's key set: twice the records a batch holds */

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

struct req {
    CURL *easy;
    struct batch *b;
    struct kbuf resp;
    struct curl_slist *hdrs;
    int64_t sent_ns;
    char errbuf[CURL_ERROR_SIZE];
    int busy;
};

/* A stream's records with the same key hash: sent in order, one call at a time. */
struct lane {
    struct batch *open;        /* being filled */
    struct batch *head, *tail; /* closed, waiting their turn */
    int busy;                  /* a call is in flight */
    int active;                /* listed in engine.active */
};

struct stream_info {
    char *name;
    char *prefix;              /* {"StreamName":"x","Records":[ */
};

struct engine {
    const struct replay_opts *o;
    struct replay_stats *st;
    struct kt_err *err;
    int fatal, bad_input;
    struct csvin *csv;
    int csv_done;
    int loop;                  /* current pass over the file, from 0 */
    int64_t loop_offset_ns;    /* added to record times in later loops */
    int64_t anchor_ns;         /* monotonic start of the schedule */
    int64_t ts0;               /* the first record's time */
    int have_ts0;
    int64_t last_ts, last_sched, gap_shift;
    uint64_t taken;            /* records taken, for --rate */
    struct rec *pend_head, *pend_tail;   /* records read and not yet due, in due order */
    struct rec *burst_head, *burst_tail; /* those of them the next record follows by more than linger */
    size_t pend_n, pend_bytes;
    uint32_t nlanes;           /* per stream */
    struct lane *lanes;        /* MAX_STREAMS * nlanes */
    uint32_t *active;          /* lanes that have held anything */
    size_t nactive;
    size_t ready_n;            /* closed batches waiting in lanes */
    size_t retry_n;            /* of which retries */
    size_t rr;                 /* where the next dispatch scan starts */
    struct stream_info streams[MAX_STREAMS];
    size_t nstreams;
    CURLM *multi;
    struct req *reqs;
    int inflight;
    uint64_t rng;
    char url[1024];
    char host[512];
    struct kbuf scratch;
    struct jdoc doc;
    int64_t progress_at;
};

/* ------------------------------------------------------------- helpers */

static volatile sig_atomic_t interrupted;

/* The first SIGINT/SIGTERM stops the replay with its report; a second one ends the process. */
static void on_signal(int sig)
{
    interrupted = sig;
    signal(sig, SIG_DFL);
}

static void count_error(struct replay_stats *st, const char *code)
{
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

static void fatal(struct engine *e, int bad_input, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fatal(struct engine *e, int bad_input, const char *fmt, ...)
{
    if (e->fatal)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kt_err_set(e->err, "%s", msg);
    e->fatal = 1;
    e->bad_input = bad_input;
}

static uint32_t stream_index(struct engine *e, const char *name, size_t len)
{
    for (size_t i = 0; i < e->nstreams; i++)
        if (strlen(e->streams[i].name) == len && memcmp(e->streams[i].name, name, len) == 0)
            return (uint32_t)i;
    if (e->nstreams == MAX_STREAMS)
        return UINT32_MAX;
    struct stream_info *s = &e->streams[e->nstreams];
    s->name = xstrndup(name, len);
    struct kbuf p = KBUF_INIT;
    kbuf_puts(&p, strncmp(s->name, "arn:", 4) == 0 ? "{\"StreamARN\":" : "{\"StreamName\":");
    jw_str(&p, name, len);
    kbuf_puts(&p, ",\"Records\":[");
    s->prefix = kbuf_steal(&p, NULL);
    struct stream_count *sc = &e->st->streams[e->nstreams];
    snprintf(sc->name, sizeof sc->name, "%.*s", (int)len, name);
    e->st->nstreams = e->nstreams + 1;
    return (uint32_t)e->nstreams++;
}

/* -------------------------------------------------------------- batching */

static void batch_free(struct batch *b)
{
    free(b->keys);
    kbuf_free(&b->body);
    free(b->slots);
    free(b);
}

static struct lane *lane_of(struct engine *e, uint32_t li)
{
    struct lane *l = &e->lanes[li];
    if (!l->active) {
        l->active = 1;
        e->active[e->nactive++] = li;
    }
    return l;
}

static void batch_stats(struct engine *e, const struct batch *b)
{
    struct replay_stats *st = e->st;
    st->streams[b->lane / e->nlanes].calls++;
    st->batches++;
    if (b->n > st->max_batch_records)
        st->max_batch_records = b->n;
    if (b->bytes > st->max_batch_bytes)
        st->max_batch_bytes = b->bytes;
}

/* Closes the open batch of a lane: it waits behind the lane's others. */
static void close_batch(struct engine *e, uint32_t li)
{
    struct lane *l = &e->lanes[li];
    struct batch *b = l->open;
    if (!b)
        return;
    l->open = NULL;
    kbuf_puts(&b->body, "]}");
    b->next = NULL;
    if (l->tail)
        l->tail->next = b;
    else
        l->head = b;
    l->tail = b;
    e->ready_n++;
    batch_stats(e, b);
}

static struct batch *batch_new(struct engine *e, uint32_t li, int64_t now, size_t reserve)
{
    struct batch *b = xcalloc(1, sizeof *b);
    b->lane = li;
    b->opened_ns = now;
    kbuf_reserve(&b->body, reserve);
    kbuf_puts(&b->body, e->streams[li / e->nlanes].prefix);
    return b;
}

/* Room for one more slot; the record's text starts here. */
static void batch_slot(struct batch *b)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->slots = xrealloc(b->slots, b->cap * sizeof *b->slots);
    }
    if (b->n)
        kbuf_putc(&b->body, ',');
    b->slots[b->n].off = (uint32_t)b->body.len;
}

/*
 * The open batch of lane li with room for a record of `bytes`: the one
 * open, or a new one when it is full, which lingers from `opened` (the
 * record's due time, so a late wake-up does not add to its wait). The record's text goes at the end of
 * its body, then batch_commit().
 */
static struct batch *batch_for(struct engine *e, uint32_t li, size_t bytes, int64_t opened, uint64_t key)
{
    struct lane *l = lane_of(e, li);
    struct batch *b = l->open;
    /* --strict-order: a key at most once a call, since a call's records fail or succeed one by one. */
    if (b && (b->n == BATCH_RECORDS || b->bytes + bytes > BATCH_BYTES || (b->keys && keyset_has(b->keys, key)))) {
        close_batch(e, li);
        b = NULL;
    }
    if (!b)
        b = l->open = batch_new(e, li, opened, 192 * 1024);
    if (e->o->strict_order) {
        if (!b->keys)
            b->keys = xcalloc(KEYSET, sizeof *b->keys);
        keyset_add(b->keys, key);
    }
    batch_slot(b);
    return b;
}

/* Records the first attempt of a record whose text was just appended to b's body. */
static void batch_commit(struct engine *e, struct batch *b, uint64_t row, uint64_t key, int64_t sched_ns,
                         size_t bytes)
{
    struct slot *sl = &b->slots[b->n++];
    sl->row = row;
    sl->key = key;
    sl->sched_ns = sched_ns;
    sl->attempts = 0;
    sl->len = (uint32_t)(b->body.len - sl->off);
    sl->bytes = bytes;
    b->bytes += bytes;
    if (sched_ns && (!b->earliest_sched || sched_ns < b->earliest_sched))
        b->earliest_sched = sched_ns;
    if (b->n == BATCH_RECORDS || b->bytes >= BATCH_BYTES)
        close_batch(e, b->lane);
}

/* Adds a queued record (taking ownership) to the open batch of its lane. */
static void add_to_batch(struct engine *e, struct rec *r, int64_t now)
{
    struct batch *b = batch_for(e, r->lane, r->bytes, r->due_ns ? r->due_ns : now, r->key);
    kbuf_append(&b->body, r->frag, r->len);
    batch_commit(e, b, r->row, r->key, r->sched_ns, r->bytes);
    free(r);
}

/* Frees every closed batch not yet sent; with count, its records fail for good. */
static void drop_closed(struct engine *e, int count)
{
    for (size_t k = 0; k < e->nactive; k++) {
        struct lane *l = &e->lanes[e->active[k]];
        while (l->head) {
            struct batch *b = l->head;
            l->head = b->next;
            if (count)
                e->st->failed += b->n;
            batch_free(b);
        }
        l->tail = NULL;
    }
    e->ready_n = e->retry_n = 0;
}

/* --------------------------------------------------------------- reading */

static void invalid(struct engine *e, uint64_t row, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void invalid(struct engine *e, uint64_t row, const char *fmt, ...)
{
    e->st->invalid++;
    if (e->st->invalid <= 20) {
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        fprintf(stderr, "%skintape replay: %s row %llu: not sent: %s\n", e->o->progress ? "\r\033[K" : "",
                e->o->csv, (unsigned long long)row, msg);
    }
}

/* This process's share of the records under --split. */
static int in_slice(struct engine *e, const struct csv_row *r, uint64_t index)
{
    const struct replay_opts *o = e->o;
    if (o->split_n <= 1)
        return 1;
    uint64_t h;
    if (o->pk_mode == PK_COLUMN && r->key) {
        u128 k = hk_from_partition_key(r->key, r->key_len);
        h = (uint64_t)(k >> 64);
    } else {
        h = index;
    }
    return (int)(h % (uint64_t)o->split_n) == o->split_i - 1;
}

/* When a record is due, by the options; 0 means at once. */
static int64_t schedule(struct engine *e, const struct csv_row *r, int64_t *sched)
{
    const struct replay_opts *o = e->o;
    int64_t due = 0;
    *sched = 0;
    if (o->respect_timing) {
        int64_t ts = r->ts_ns + e->loop_offset_ns;
        if (!e->have_ts0) {
            e->ts0 = ts;
            e->last_ts = ts;
            e->have_ts0 = 1;
        }
        if (ts < e->last_ts) {
            e->st->out_of_order++;
            ts = e->last_ts; /* sent in file order, right after the one before */
        }
        if (o->max_gap_ns > 0 && ts - e->last_ts > o->max_gap_ns)
            e->gap_shift += ts - e->last_ts - o->max_gap_ns;
        e->last_ts = ts;
        due = e->anchor_ns + (int64_t)((double)(ts - e->ts0 - e->gap_shift) / o->speed);
    }
    if (o->rate > 0) {
        int64_t paced = e->anchor_ns + (int64_t)((double)e->taken * 1e9 / o->rate);
        if (paced > due)
            due = paced;
    }
    if (due < e->last_sched)
        due = e->last_sched;
    e->last_sched = due;
    *sched = due;
    return due;
}

/* Marks the last queued record as the end of a burst. */
static void pend_end_burst(struct engine *e)
{
    struct rec *t = e->pend_tail;
    if (!t || t == e->burst_tail)
        return;
    t->next_burst = NULL;
    if (e->burst_tail)
        e->burst_tail->next_burst = t;
    else
        e->burst_head = t;
    e->burst_tail = t;
}

static void pend_push(struct engine *e, struct rec *r)
{
    if (e->pend_tail && r->due_ns > e->pend_tail->due_ns + e->o->linger_ns)
        pend_end_burst(e);
    r->next = NULL;
    if (e->pend_tail)
        e->pend_tail->next = r;
    else
        e->pend_head = r;
    e->pend_tail = r;
    e->pend_n++;
    e->pend_bytes += r->len;
}

static struct rec *pend_pop(struct engine *e)
{
    struct rec *r = e->pend_head;
    e->pend_head = r->next;
    if (!e->pend_head)
        e->pend_tail = NULL;
    if (r == e->burst_head) {
        e->burst_head = r->next_burst;
        if (!e->burst_head)
            e->burst_tail = NULL;
    }
    e->pend_n--;
    e->pend_bytes -= r->len;
    return r;
}

/* Reads one row into a pending record. Returns 1 if a row was read, 0 at the end, -1 on bad input. */
static int read_one(struct engine *e, int64_t now)
{
    const struct replay_opts *o = e->o;
    struct replay_stats *st = e->st;
    struct csv_row r;
    int rc = csvin_next(e->csv, &r, e->err);
    if (rc < 0) {
        fatal(e, 1, "%s", e->err->msg);
        return -1;
    }
    if (rc == 0)
        return 0;
    st->rows++;
    uint64_t index = st->rows - 1;
    if (!in_slice(e, &r, index))
        return 1;
    if (r.error_code && r.error_code_len && !o->include_refused) {
        /* An attempt the server refused when it was captured; the application sent it again later. */
        st->refused_skipped++;
        return 1;
    }
    st->records++;
    if (r.has_ts) {
        int64_t ts = r.ts_ns + e->loop_offset_ns;
        if (!st->first_ts || ts < st->first_ts)
            st->first_ts = ts;
        if (ts > st->last_ts)
            st->last_ts = ts;
    }
    /* The payload, as base64 for the request (validated when it already is). */
    struct kbuf *sc = &e->scratch;
    kbuf_reset(sc);
    size_t dlen;
    int b64_as_is = r.data_base64 && r.data_len % 4 == 0; /* padded: sent as written once checked */
    if (b64_as_is) {
        size_t bad;
        if (b64_check(r.data, r.data_len, &dlen, &bad) != 0) {
            fatal(e, 1, "%s: row %llu: invalid base64 in data_base64 at character %zu", o->csv,
                  (unsigned long long)r.row, bad + 1);
            return -1;
        }
    } else if (r.data_base64) {
        kbuf_reserve(sc, b64_decoded_max(r.data_len));
        size_t bad;
        if (b64_decode((uint8_t *)sc->p, r.data, r.data_len, &dlen, &bad) != 0) {
            fatal(e, 1, "%s: row %llu: invalid base64 in data_base64 at character %zu", o->csv,
                  (unsigned long long)r.row, bad + 1);
            return -1;
        }
    } else {
        dlen = r.data_len;
    }
    char keybuf[40];
    const char *key;
    size_t klen;
    if (o->pk_mode == PK_FIXED) {
        key = o->pk_fixed;
        klen = strlen(key);
    } else if (o->pk_mode == PK_RANDOM || !r.key) {
        uint64_t a = kt_rand64(&e->rng), b = kt_rand64(&e->rng);
        klen = (size_t)snprintf(keybuf, sizeof keybuf, "%016llx%016llx", (unsigned long long)a,
                                (unsigned long long)b);
        key = keybuf;
    } else {
        key = r.key;
        klen = r.key_len;
    }
    size_t units = utf8_utf16_len(key, klen);
    if (units == 0 || units > 256) {
        invalid(e, r.row, "the partition key has %zu characters (1 to 256 allowed)", units);
        return 1;
    }
    if (dlen + klen > o->max_record) {
        invalid(e, r.row, "data and partition key are %zu bytes, over the record limit of %zu (--max-record-size)",
                dlen + klen, o->max_record);
        return 1;
    }
    if (r.ehk && r.ehk_len) {
        u128 h;
        if (hk_parse(r.ehk, r.ehk_len, &h) != 0) {
            invalid(e, r.row, "explicit_hash_key '%.*s' is not a number from 0 to 2^128-1", (int)r.ehk_len, r.ehk);
            return 1;
        }
    }
    uint32_t sidx;
    if (o->stream)
        sidx = stream_index(e, o->stream, strlen(o->stream));
    else if (r.stream && r.stream_len)
        sidx = stream_index(e, r.stream, r.stream_len);
    else {
        invalid(e, r.row, "no stream: the stream column is empty and no --stream was given");
        return 1;
    }
    if (sidx == UINT32_MAX) {
        fatal(e, 1, "%s: row %llu: more than %d streams", o->csv, (unsigned long long)r.row, MAX_STREAMS);
        return -1;
    }
    /* The lane: records of one key (or explicit hash key) always share one. */
    const char *lk = r.ehk && r.ehk_len ? r.ehk : key;
    size_t lkn = r.ehk && r.ehk_len ? r.ehk_len : klen;
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < lkn; i++)
        h = (h ^ (unsigned char)lk[i]) * 1099511628211ULL;
    uint32_t lane = sidx * e->nlanes + (uint32_t)(h % e->nlanes);
    h |= 1; /* a key set's empty slot is 0 */
    if (o->respect_timing && !r.has_ts) {
        fatal(e, 1, "%s: --respect-timing needs a ts column (row %llu has no time)", o->csv,
              (unsigned long long)r.row);
        return -1;
    }
    st->streams[sidx].records++;
    int64_t sched;
    int64_t due = schedule(e, &r, &sched);
    st->timed = o->respect_timing || o->rate > 0;
    e->taken++;
    /*
     * Due now with nothing queued before it (always so at full speed): the
     * text goes straight into its batch. Otherwise it waits in the queue.
     */
    struct kbuf f = KBUF_INIT, *out;
    struct batch *b = NULL;
    if (due <= now && !e->pend_head) {
        b = batch_for(e, lane, dlen + klen, due ? due : now, h);
        out = &b->body;
    } else {
        kbuf_reserve(&f, sizeof(struct rec) + b64_encoded_len(dlen) + klen + 64);
        f.len = sizeof(struct rec); /* the struct goes in front of the text */
        out = &f;
    }
    size_t start = out->len;
    /* {"Data":"...","PartitionKey":"..."[,"ExplicitHashKey":"..."]} */
    kbuf_puts(out, "{\"Data\":");
    if (b64_as_is) {
        /* The base64 alphabet needs no JSON escaping. */
        kbuf_putc(out, '"');
        kbuf_append(out, r.data, r.data_len);
        kbuf_putc(out, '"');
    } else if (r.data_base64)
        jw_base64(out, (const uint8_t *)sc->p, dlen);
    else
        jw_base64(out, (const uint8_t *)r.data, dlen);
    kbuf_puts(out, ",\"PartitionKey\":");
    jw_str(out, key, klen);
    if (r.ehk && r.ehk_len) {
        kbuf_puts(out, ",\"ExplicitHashKey\":");
        jw_str(out, r.ehk, r.ehk_len);
    }
    kbuf_putc(out, '}');
    if (b) {
        batch_commit(e, b, r.row, h, sched, dlen + klen);
        return 1;
    }
    size_t total = f.len;
    struct rec *rec = (struct rec *)kbuf_steal(&f, NULL);
    memset(rec, 0, sizeof *rec);
    rec->row = r.row;
    rec->lane = lane;
    rec->key = h;
    rec->bytes = dlen + klen;
    rec->len = total - start;
    rec->due_ns = due;
    rec->sched_ns = sched;
    pend_push(e, rec);
    return 1;
}

/* Reads ahead while there is room; handles the end of the file and --loop. */
static void read_ahead(struct engine *e)
{
    int64_t now = kt_mono_ns();
    int limit = 4096;
    while (!e->csv_done && !e->fatal && limit-- > 0 && e->pend_n < AHEAD_RECORDS && e->pend_bytes < AHEAD_BYTES &&
           e->ready_n - e->retry_n < (size_t)e->o->concurrency * 2) {
        int rc = read_one(e, now);
        if (rc < 0)
            return;
        if (rc == 0) {
            if (e->loop + 1 < e->o->loops) {
                csvin_close(e->csv);
                e->csv = csvin_open(e->o->csv, &e->o->csv_opts, e->err);
                if (!e->csv) {
                    fatal(e, 1, "%s", e->err->msg);
                    return;
                }
                e->loop++;
                /* The next pass starts one millisecond after the last record of this one. */
                if (e->have_ts0)
                    e->loop_offset_ns = e->last_ts - e->ts0 + KT_NS_PER_MS;
                continue;
            }
            e->csv_done = 1;
            pend_end_burst(e); /* nothing follows the last record */
        }
    }
}

/* ---------------------------------------------------------------- retries */

/*
 * After a call: retry[i] says what became of record i: 0 delivered, 1 to
 * try again, 2 failed for good. Those to try again go back to the front of
 * their lane as one batch, after a backoff (exponential, full jitter),
 * unless they are out of attempts.
 */
static void requeue(struct engine *e, struct batch *b, const unsigned char *retry, int64_t now)
{
    struct replay_stats *st = e->st;
    /*
     * A record that did not go while a later record of its key in the same
     * call did has been overtaken: its key's order is broken. Counted, from
     * the end of the call back, with the set of keys delivered after.
     */
    uint64_t after[KEYSET];
    int any_delivered = 0, any_failed = 0;
    for (size_t i = 0; i < b->n; i++) {
        any_delivered |= retry[i] == 0;
        any_failed |= retry[i] != 0;
    }
    if (any_delivered && any_failed) {
        memset(after, 0, sizeof after);
        for (size_t i = b->n; i-- > 0;) {
            if (!retry[i])
                keyset_add(after, b->slots[i].key);
            else if (retry[i] == 1 && keyset_has(after, b->slots[i].key))
                st->overtaken++;
        }
    }
    struct batch *rb = NULL;
    uint32_t attempts = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (!retry[i])
            continue;
        struct slot *sl = &b->slots[i];
        if (retry[i] == 2 || (int)sl->attempts >= e->o->max_retries) {
            st->failed++;
            continue;
        }
        st->retried++;
        if (!rb)
            rb = batch_new(e, b->lane, now, b->body.len);
        batch_slot(rb);
        uint32_t off = rb->slots[rb->n].off;
        kbuf_append(&rb->body, b->body.p + sl->off, sl->len);
        struct slot *ns = &rb->slots[rb->n++];
        *ns = *sl;
        ns->off = off;
        ns->attempts = sl->attempts + 1;
        ns->sched_ns = 0; /* lateness is about the first attempt */
        rb->bytes += sl->bytes;
        if (ns->attempts > attempts)
            attempts = ns->attempts;
    }
    if (!rb)
        return;
    kbuf_puts(&rb->body, "]}");
    int64_t cap = BACKOFF_BASE_NS << (attempts < 20 ? attempts : 20);
    if (cap > BACKOFF_CAP_NS || cap <= 0)
        cap = BACKOFF_CAP_NS;
    rb->due_ns = now + (int64_t)(kt_rand64(&e->rng) % (uint64_t)cap);
    struct lane *l = &e->lanes[b->lane];
    rb->next = l->head;
    l->head = rb;
    if (!l->tail)
        l->tail = rb;
    e->ready_n++;
    e->retry_n++;
    batch_stats(e, rb);
}

/* --------------------------------------------------------------- sending */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct req *q = arg;
    if (q->resp.len + size * n > ((size_t)4 << 20))
        return 0; /* no PutRecords answer is this large */
    kbuf_append(&q->resp, p, size * n);
    return size * n;
}

/* Headers and signature for a Kinesis call with this body. */
static struct curl_slist *signed_headers(struct engine *e, const char *target, const char *body, size_t len)
{
    const struct creds *c = &e->o->creds;
    char date[17], hash[65], auth[1024], line[4200];
    sigv4_amz_date(date, kt_now_ns() / KT_NS_PER_SEC);
    sigv4_sha256_hex(body, len, hash);
    struct sigv4_header h[5] = {
        {"content-type", "application/x-amz-json-1.1"},
        {"host", e->host},
        {"x-amz-date", date},
        {"x-amz-target", target},
        {"x-amz-security-token", c->token},
    };
    struct sigv4_request rq = {"POST", "/", "", h, c->token[0] ? 5 : 4, hash, date, c->region, "kinesis",
                               c->access_key, c->secret_key};
    sigv4_sign(&rq, auth, sizeof auth, NULL);
    struct curl_slist *l = NULL;
    l = curl_slist_append(l, "Content-Type: application/x-amz-json-1.1");
    snprintf(line, sizeof line, "X-Amz-Target: %s", target);
    l = curl_slist_append(l, line);
    snprintf(line, sizeof line, "X-Amz-Date: %s", date);
    l = curl_slist_append(l, line);
    snprintf(line, sizeof line, "Authorization: %s", auth);
    l = curl_slist_append(l, line);
    if (c->token[0]) {
        snprintf(line, sizeof line, "X-Amz-Security-Token: %s", c->token);
        l = curl_slist_append(l, line);
    }
    l = curl_slist_append(l, "Expect:");
    return l;
}

static void easy_setup(struct engine *e, CURL *h, struct req *q)
{
    curl_easy_setopt(h, CURLOPT_URL, e->url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, q);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, q->errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, e->o->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, e->o->timeout_ms < 10000 ? e->o->timeout_ms : 10000L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_PRIVATE, q);
    if (e->o->ca_bundle)
        curl_easy_setopt(h, CURLOPT_CAINFO, e->o->ca_bundle);
}

static void send_batch(struct engine *e, struct batch *b, int64_t now)
{
    struct req *q = NULL;
    for (int i = 0; i < e->o->concurrency; i++)
        if (!e->reqs[i].busy) {
            q = &e->reqs[i];
            break;
        }
    q->busy = 1;
    q->b = b;
    q->sent_ns = now;
    kbuf_reset(&q->resp);
    q->errbuf[0] = '\0';
    q->hdrs = signed_headers(e, "Kinesis_20131202.PutRecords", b->body.p, b->body.len);
    if (!q->easy) {
        q->easy = curl_easy_init();
        easy_setup(e, q->easy, q);
    }
    curl_easy_setopt(q->easy, CURLOPT_HTTPHEADER, q->hdrs);
    curl_easy_setopt(q->easy, CURLOPT_POSTFIELDS, b->body.p);
    curl_easy_setopt(q->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->body.len);
    curl_multi_add_handle(e->multi, q->easy);
    e->inflight++;
    if (e->st->timed)
        for (size_t i = 0; i < b->n; i++)
            if (b->slots[i].sched_ns && b->slots[i].attempts == 0)
                hist_add(&e->st->lateness, now - b->slots[i].sched_ns);
}

/*
 * Sends the first batch of each idle lane that is due, up to --concurrency
 * calls in flight, starting where the last scan stopped so lanes take turns.
 * Returns the earliest time a waiting batch becomes due (INT64_MAX: none).
 */
static int64_t dispatch(struct engine *e, int64_t now)
{
    int64_t next = INT64_MAX;
    size_t n = e->nactive;
    for (size_t k = 0; k < n && e->ready_n; k++) {
        size_t at = (e->rr + k) % n;
        struct lane *l = &e->lanes[e->active[at]];
        struct batch *b = l->head;
        if (!b || l->busy)
            continue;
        if (b->due_ns > now) {
            if (b->due_ns < next)
                next = b->due_ns;
            continue;
        }
        if (e->inflight >= e->o->concurrency) {
            e->rr = at;
            return now;
        }
        l->head = b->next;
        if (!l->head)
            l->tail = NULL;
        e->ready_n--;
        if (b->due_ns)
            e->retry_n--;
        l->busy = 1;
        send_batch(e, b, now);
    }
    e->rr = n ? (e->rr + 1) % n : 0;
    return next;
}

/* The exception name of an error answer: "__type" without its namespace. */
static void error_type(struct engine *e, const struct kbuf *resp, char *out, size_t cap, long status)
{
    snprintf(out, cap, "HTTP %ld", status);
    if (!resp->len)
        return;
    struct kbuf copy = KBUF_INIT;
    kbuf_append(&copy, resp->p, resp->len);
    struct kt_err jerr;
    if (jdoc_parse(&e->doc, copy.p, copy.len, &jerr, NULL) == 0) {
        const struct jnode *t = jget(&e->doc, jroot(&e->doc), "__type");
        if (t && t->type == J_STR) {
            const char *s = jstr(&e->doc, t);
            const char *hash = strrchr(s, '#');
            snprintf(out, cap, "%s", hash ? hash + 1 : s);
        }
    }
    kbuf_free(&copy);
}

static int retryable_code(const char *code, long status)
{
    static const char *const retry[] = {"ProvisionedThroughputExceededException", "LimitExceededException",
                                        "ThrottlingException", "Throttling", "RequestLimitExceeded",
                                        "InternalFailure", "InternalFailureException", "InternalServerError",
                                        "ServiceUnavailable", "ServiceUnavailableException",
                                        "KMSThrottlingException", "SlowDown"};
    for (size_t i = 0; i < sizeof retry / sizeof retry[0]; i++)
        if (strcmp(code, retry[i]) == 0)
            return 1;
    return status == 429 || (status >= 500 && status != 501);
}

static int fatal_code(const char *code, long status)
{
    static const char *const stop[] = {"UnrecognizedClientException", "InvalidSignatureException",
                                       "IncompleteSignatureException", "MissingAuthenticationTokenException",
                                       "ExpiredTokenException", "AccessDeniedException",
                                       "ResourceNotFoundException", "InvalidClientTokenId",
                                       "SignatureDoesNotMatch", "NotImplementedException"};
    for (size_t i = 0; i < sizeof stop / sizeof stop[0]; i++)
        if (strcmp(code, stop[i]) == 0)
            return 1;
    return status == 501 || status == 403;
}

/* 1 when a PutRecords answer says FailedRecordCount 0 and holds n record objects. */
static int all_delivered(const char *p, size_t len, size_t n)
{
    static const char key[] = "\"FailedRecordCount\":";
    const char *k = len ? memmem(p, len, key, sizeof key - 1) : NULL;
    if (!k)
        return 0;
    const char *v = k + sizeof key - 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
        v++;
    if (v + 1 >= end || v[0] != '0' || (v[1] >= '0' && v[1] <= '9'))
        return 0;
    /* No string in a successful answer holds a brace: one object per record, and the answer itself. */
    return kt_count_byte(p, len, '{') == n + 1;
}

static void finished(struct engine *e, struct req *q, CURLcode cc, int64_t now)
{
    struct batch *b = q->b;
    struct replay_stats *st = e->st;
    long status = 0;
    curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &status);
    st->requests++;
    hist_add(&st->latency, now - q->sent_ns);
    if (b->earliest_sched)
        hist_add(&st->latency_sched, now - b->earliest_sched);
    unsigned char retry[BATCH_RECORDS];
    if (cc != CURLE_OK) {
        char code[96];
        snprintf(code, sizeof code, "connection: %s", curl_easy_strerror(cc));
        count_error(st, code);
        memset(retry, 1, b->n);
        requeue(e, b, retry, now);
        return;
    }
    if (status != 200) {
        char code[80];
        error_type(e, &q->resp, code, sizeof code, status);
        count_error(st, code);
        if (fatal_code(code, status)) {
            /* Every further call would be refused the same way: stop. */
            fatal(e, st->sent == 0, "PutRecords to %s was refused with %s (HTTP %ld): %.*s",
                  e->streams[b->lane / e->nlanes].name, code, status, (int)(q->resp.len < 290 ? q->resp.len : 290),
                  q->resp.p ? q->resp.p : "");
        }
        memset(retry, retryable_code(code, status) && !fatal_code(code, status) ? 1 : 2, b->n);
        requeue(e, b, retry, now);
        return;
    }
    st->requests_ok++;
    /*
     * The usual answer: every record succeeded. FailedRecordCount 0 (AWS
     * writes it first) with one object per record says so without parsing
     * the rest.
     */
    struct stream_count *sc = &st->streams[b->lane / e->nlanes];
    if (all_delivered(q->resp.p, q->resp.len, b->n)) {
        st->sent += b->n;
        sc->sent += b->n;
        for (size_t i = 0; i < b->n; i++)
            st->bytes_sent += b->slots[i].bytes;
        return;
    }
    /* Per-record results. The answer's text is parsed in place: it is ours. */
    struct kt_err jerr;
    const struct jnode *list = NULL;
    if (q->resp.len && jdoc_parse(&e->doc, q->resp.p, q->resp.len, &jerr, NULL) == 0)
        list = jget(&e->doc, jroot(&e->doc), "Records");
    const struct jnode *res = list && list->type == J_ARR && list->len == b->n ? jfirst(&e->doc, list) : NULL;
    if (!res) {
        count_error(st, "malformed PutRecords answer");
        memset(retry, 1, b->n);
        requeue(e, b, retry, now);
        return;
    }
    for (size_t i = 0; i < b->n; i++, res = jnext(&e->doc, list, res)) {
        const struct jnode *code = jget(&e->doc, res, "ErrorCode");
        if (code && code->type == J_STR) {
            const char *c = jstr(&e->doc, code);
            count_error(st, c);
            retry[i] = retryable_code(c, 0) ? 1 : 2;
        } else {
            retry[i] = 0;
            st->sent++;
            sc->sent++;
            st->bytes_sent += b->slots[i].bytes;
        }
    }
    requeue(e, b, retry, now);
}

/* Takes in the answers that came; returns how many. */
static int collect(struct engine *e, int64_t now)
{
    CURLMsg *m;
    int left, done = 0;
    while ((m = curl_multi_info_read(e->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct req *q;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
        CURLcode cc = m->data.result;
        curl_multi_remove_handle(e->multi, q->easy);
        finished(e, q, cc, now);
        e->lanes[q->b->lane].busy = 0;
        curl_slist_free_all(q->hdrs);
        q->hdrs = NULL;
        batch_free(q->b);
        q->b = NULL;
        q->busy = 0;
        e->inflight--;
        done++;
    }
    return done;
}

/* -------------------------------------------------------------- control */

/* A Kinesis call made and answered before the replay (preflight, creating the stream). */
static int call_sync(struct engine *e, const char *op, const char *body, long *status, struct kbuf *resp,
                     char *cerr)
{
    struct req q;
    memset(&q, 0, sizeof q);
    CURL *h = curl_easy_init();
    easy_setup(e, h, &q);
    char target[80];
    snprintf(target, sizeof target, "Kinesis_20131202.%s", op);
    q.hdrs = signed_headers(e, target, body, strlen(body));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, q.hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    *resp = q.resp;
    if (cc != CURLE_OK)
        snprintf(cerr, CURL_ERROR_SIZE, "%s", q.errbuf[0] ? q.errbuf : curl_easy_strerror(cc));
    curl_slist_free_all(q.hdrs);
    curl_easy_cleanup(h);
    return cc == CURLE_OK ? 0 : -1;
}

/* StreamDescriptionSummary.StreamStatus of a DescribeStreamSummary answer, or "". */
static const char *stream_status(struct engine *e, struct kbuf *resp)
{
    struct kt_err jerr;
    if (!resp->len || jdoc_parse(&e->doc, resp->p, resp->len, &jerr, NULL) != 0)
        return "";
    const struct jnode *sum = jget(&e->doc, jroot(&e->doc), "StreamDescriptionSummary");
    const struct jnode *st = sum && sum->type == J_OBJ ? jget(&e->doc, sum, "StreamStatus") : NULL;
    return st && st->type == J_STR ? jstr(&e->doc, st) : "";
}

/* Checks the endpoint, the credentials and the stream; creates it with --create-stream. */
static int preflight(struct engine *e, const char *stream)
{
    struct kbuf body = KBUF_INIT, resp = KBUF_INIT;
    kbuf_puts(&body, strncmp(stream, "arn:", 4) == 0 ? "{\"StreamARN\":" : "{\"StreamName\":");
    jw_cstr(&body, stream);
    kbuf_putc(&body, '}');
    char cerr[CURL_ERROR_SIZE] = "";
    long status = 0;
    int created = 0;
    int64_t deadline = kt_mono_ns() + 300 * KT_NS_PER_SEC;
    for (;;) {
        kbuf_free(&resp);
        if (call_sync(e, "DescribeStreamSummary", body.p, &status, &resp, cerr) != 0) {
            fatal(e, 0, "cannot reach %s: %s", e->url, cerr);
            break;
        }
        char code[80];
        error_type(e, &resp, code, sizeof code, status);
        if (status == 200) {
            const char *state = stream_status(e, &resp);
            if (strcmp(state, "ACTIVE") == 0 || strcmp(state, "UPDATING") == 0)
                break;
            if (strcmp(state, "DELETING") == 0 || !*state) {
                fatal(e, 1, "stream %s cannot take records: its status is %s", stream, *state ? state : "unknown");
                break;
            }
        } else if (strcmp(code, "ResourceNotFoundException") == 0 && e->o->create_stream && !created) {
            struct kbuf cb = KBUF_INIT, cr = KBUF_INIT;
            kbuf_appendf(&cb, "{\"StreamName\":");
            jw_cstr(&cb, stream);
            kbuf_appendf(&cb, ",\"ShardCount\":%d}", e->o->shards);
            long cs = 0;
            int rc = call_sync(e, "CreateStream", cb.p, &cs, &cr, cerr);
            char ccode[80];
            error_type(e, &cr, ccode, sizeof ccode, cs);
            if (rc != 0 || (cs != 200 && strcmp(ccode, "ResourceInUseException") != 0)) {
                fatal(e, 1, "cannot create stream %s: %s %.*s", stream, rc ? cerr : ccode, (int)(cr.len < 200 ? cr.len : 200),
                      cr.p ? cr.p : "");
                kbuf_free(&cb);
                kbuf_free(&cr);
                break;
            }
            fprintf(stderr, "kintape replay: created stream %s with %d shard%s\n", stream, e->o->shards,
                    e->o->shards == 1 ? "" : "s");
            created = 1;
            kbuf_free(&cb);
            kbuf_free(&cr);
        } else if (strcmp(code, "ResourceNotFoundException") == 0) {
            fatal(e, 1, "stream %s does not exist at %s (in %s); --create-stream --shards N creates it", stream,
                  e->url, e->o->creds.region);
            break;
        } else {
            fatal(e, 1, "%s refused DescribeStreamSummary for %s with %s (HTTP %ld): %.*s; credentials from %s",
                  e->url, stream, code, status, (int)(resp.len < 200 ? resp.len : 200), resp.p ? resp.p : "",
                  e->o->creds.source);
            break;
        }
        if (kt_mono_ns() > deadline) {
            fatal(e, 0, "stream %s did not become ACTIVE within 5 minutes", stream);
            break;
        }
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    kbuf_free(&body);
    kbuf_free(&resp);
    return e->fatal ? -1 : 0;
}

static void progress(struct engine *e, int64_t now, int final)
{
    if (!e->o->progress || (!final && now < e->progress_at))
        return;
    e->progress_at = now + 250 * KT_NS_PER_MS;
    struct replay_stats *st = e->st;
    double secs = (double)(now - st->started_ns) / 1e9;
    uint64_t size = csvin_size(e->csv);
    double pct = size ? 100.0 * (double)csvin_offset(e->csv) / (double)size : 0;
    if (e->o->loops > 1)
        pct = (pct + 100.0 * e->loop) / e->o->loops;
    double rate = secs > 0 ? (double)st->sent / secs : 0;
    double left = pct > 0.5 ? secs * (100.0 - pct) / pct : 0;
    fprintf(stderr, "\r\033[K%llu sent  %.0f rec/s  in flight %d  retries %llu  failed %llu  %.1f%%  %s%.0fs left",
            (unsigned long long)st->sent, rate, e->inflight, (unsigned long long)st->retried,
            (unsigned long long)(st->failed + st->invalid), pct, pct > 0.5 ? "" : "~", left);
    if (final)
        fputc('\n', stderr);
}

static void set_url(struct engine *e)
{
    snprintf(e->url, sizeof e->url, "%s", e->o->endpoint);
    /* The Host header curl sends, which is signed: host[:port] as in the URL. */
    const char *p = strstr(e->url, "://");
    p = p ? p + 3 : e->url;
    size_t n = strcspn(p, "/");
    snprintf(e->host, sizeof e->host, "%.*s", (int)n, p);
}

/*
 * Sleeps up to `ns`, waking early when a connection has something for
 * libcurl. Nanosecond timeouts (pselect), as a schedule needs; poll()'s
 * milliseconds would hold answers back for up to one.
 */
static void wait_for(struct engine *e, int64_t ns)
{
    fd_set r, w, x;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    int maxfd = -1;
    struct timespec ts = {ns / KT_NS_PER_SEC, ns % KT_NS_PER_SEC};
    if (curl_multi_fdset(e->multi, &r, &w, &x, &maxfd) != CURLM_OK || maxfd >= FD_SETSIZE) {
        int numfds;
        curl_multi_poll(e->multi, NULL, 0, (int)((ns + KT_NS_PER_MS - 1) / KT_NS_PER_MS), &numfds);
        return;
    }
    if (maxfd < 0)
        nanosleep(&ts, NULL);
    else
        pselect(maxfd + 1, &r, &w, &x, &ts, NULL);
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
    jdoc_init(&e.doc);
    e.rng = (uint64_t)kt_now_ns() ^ 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
    *bad_input = 0;
    set_url(&e);
    e.csv = csvin_open(o->csv, &o->csv_opts, err);
    if (!e.csv) {
        *bad_input = 1;
        return -1;
    }
    if (!o->stream && !csvin_has_stream(e.csv)) {
        csvin_close(e.csv);
        kt_err_set(err, "no stream to send to: give --stream NAME (%s has no stream column)", o->csv);
        *bad_input = 1;
        return -1;
    }
    if (o->respect_timing && !csvin_has_ts(e.csv)) {
        csvin_close(e.csv);
        kt_err_set(err, "--respect-timing needs the records' times, and %s has no ts column", o->csv);
        *bad_input = 1;
        return -1;
    }
    if (o->pk_mode == PK_COLUMN && !csvin_has_key(e.csv))
        fprintf(stderr, "kintape replay: %s has no partition_key column: using random keys (--partition-key "
                        "KEY sets one)\n",
                o->csv);

    if (!o->dry_run) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (o->stream && preflight(&e, o->stream) != 0) {
            *bad_input = e.bad_input;
            jdoc_free(&e.doc);
            csvin_close(e.csv);
            curl_global_cleanup();
            return -1;
        }
        e.multi = curl_multi_init();
        curl_multi_setopt(e.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o->concurrency);
        e.reqs = xcalloc((size_t)o->concurrency, sizeof *e.reqs);
    }
    if (o->start_at_ns) {
        int64_t wait = o->start_at_ns - kt_now_ns();
        if (wait > 0) {
            struct timespec ts = {wait / KT_NS_PER_SEC, wait % KT_NS_PER_SEC};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
        }
    }
    e.nlanes = (uint32_t)o->lanes;
    e.lanes = xcalloc((size_t)MAX_STREAMS * e.nlanes, sizeof *e.lanes);
    e.active = xcalloc((size_t)MAX_STREAMS * e.nlanes, sizeof *e.active);
    st->started_ns = e.anchor_ns = kt_mono_ns();

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    for (;;) {
        int64_t now = kt_mono_ns();
        if (interrupted && !e.fatal)
            fatal(&e, 0, "interrupted by %s: calls in flight were let finish, nothing more was sent",
                  interrupted == SIGINT ? "SIGINT" : "SIGTERM");
        if (!e.fatal)
            read_ahead(&e);
        if (o->dry_run) {
            /* Everything goes into batches at once; nothing is sent. */
            while (e.pend_head) {
                struct rec *r = pend_pop(&e);
                add_to_batch(&e, r, now);
            }
            drop_closed(&e, 0);
            if (e.csv_done || e.fatal) {
                for (size_t k = 0; k < e.nactive; k++)
                    close_batch(&e, e.active[k]);
                drop_closed(&e, 0);
                break;
            }
            continue;
        }
        while (!e.fatal && e.pend_head && e.pend_head->due_ns <= now) {
            struct rec *r = pend_pop(&e);
            add_to_batch(&e, r, now);
        }
        /*
         * Close batches that waited long enough, and any batch no record can
         * join before its linger ends: the next record is due later than
         * that, or nothing else is coming.
         */
        int64_t next_due = INT64_MAX;
        if (e.pend_head)
            next_due = e.pend_head->due_ns;
        else if (!e.csv_done)
            next_due = now; /* more is being read */
        int64_t next_linger = INT64_MAX;
        size_t still_open = 0;
        for (size_t k = 0; k < e.nactive; k++) {
            struct lane *l = &e.lanes[e.active[k]];
            struct batch *b = l->open;
            if (!b)
                continue;
            int64_t deadline = b->opened_ns + o->linger_ns;
            /* A busy lane's batch keeps filling until its call is answered: it could not go sooner. */
            if (e.fatal || (!l->busy && (now >= deadline || next_due > deadline))) {
                close_batch(&e, e.active[k]);
                continue;
            }
            still_open++;
            if (!l->busy && deadline < next_linger)
                next_linger = deadline;
        }
        if (e.fatal) {
            /* Send nothing more; let what is in flight finish. */
            drop_closed(&e, 1);
            while (e.pend_head) {
                st->failed++;
                free(pend_pop(&e));
            }
        }
        int64_t next_retry = dispatch(&e, now);
        int running;
        curl_multi_perform(e.multi, &running);
        int answered = collect(&e, kt_mono_ns());
        progress(&e, now, 0);
        if ((e.csv_done || e.fatal) && !e.pend_head && !e.ready_n && !e.inflight && !still_open)
            break;
        /* Sleep until something is due: a record, a retry, a batch's linger, or an answer. */
        now = kt_mono_ns();
        int64_t next = now + 100 * KT_NS_PER_MS;
        /*
         * The next record need not be picked up the moment it is due: its
         * batch lingers from its due time, so a wake-up by the end of that
         * linger (or by an open batch's deadline) sends it just as early.
         */
        if (e.pend_head && e.pend_head->due_ns + o->linger_ns < next)
            next = e.pend_head->due_ns + o->linger_ns;
        /* ... unless a burst ends before that: its batches can go the moment its last record is due. */
        if (e.burst_head && e.burst_head->due_ns < next)
            next = e.burst_head->due_ns;
        if (next_retry < next)
            next = next_retry;
        if (next_linger < next)
            next = next_linger;
        if (answered)
            next = now; /* answers freed lanes that may have batches waiting */
        if (!e.csv_done && e.pend_n < AHEAD_RECORDS / 2 && e.ready_n - e.retry_n < (size_t)o->concurrency)
            next = now;
        int64_t wait = next - now;
        if (wait > 0)
            wait_for(&e, wait);
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    st->ended_ns = kt_mono_ns();
    if (o->respect_timing && e.have_ts0)
        st->planned_ns = (int64_t)((double)(e.last_ts - e.ts0 - e.gap_shift) / o->speed);
    if (o->rate > 0 && st->records) {
        int64_t paced = (int64_t)((double)(st->records - 1) * 1e9 / o->rate);
        if (paced > st->planned_ns)
            st->planned_ns = paced;
    }
    progress(&e, st->ended_ns, 1);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    st->cpu_seconds = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                      ru.ru_stime.tv_usec / 1e6;
    /* Free what is left (after a fatal stop). */
    while (e.pend_head) {
        struct rec *r = pend_pop(&e);
        st->failed++;
        free(r);
    }
    for (size_t k = 0; k < e.nactive; k++)
        close_batch(&e, e.active[k]);
    drop_closed(&e, !o->dry_run);
    free(e.lanes);
    free(e.active);
    for (size_t s = 0; s < e.nstreams; s++) {
        free(e.streams[s].name);
        free(e.streams[s].prefix);
    }
    if (e.reqs) {
        for (int i = 0; i < o->concurrency; i++) {
            if (e.reqs[i].easy)
                curl_easy_cleanup(e.reqs[i].easy);
            kbuf_free(&e.reqs[i].resp);
        }
        free(e.reqs);
    }
    if (e.multi)
        curl_multi_cleanup(e.multi);
    if (!o->dry_run)
        curl_global_cleanup();
    csvin_close(e.csv);
    kbuf_free(&e.scratch);
    jdoc_free(&e.doc);
    if (o->dry_run)
        st->failed = 0;
    *bad_input = e.bad_input;
    return e.fatal ? -1 : 0;
}
