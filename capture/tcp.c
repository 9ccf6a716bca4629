/*
 * tcp.c — TCP reassembly for capture (see tcp.h).
 *
 * Sequence numbers are compared as RFC 1982 serial numbers, in unsigned
 * arithmetic only (as tcpdump's print-tcp.c does): the distance from b to a
 * is a - b mod 2^32, and a is after b when that distance is below 2^31. A
 * segment exactly 2^31 away counts as old. No signed difference is ever
 * negated, so no crafted sequence number reaches undefined behaviour.
 */
#include "tcp.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "mem.h"

struct tcp_seg_held {
    struct tcp_seg_held *next;
    uint32_t seq;
    uint32_t len;
    int64_t ts_ns;
    uint8_t data[];
};

struct tcp_table {
    struct tcp_sink sink;
    uint16_t *server_ports;
    size_t nports;
    size_t held_cap, total_cap;
    size_t held_total;         /* out-of-order bytes held, and the flows themselves */
    struct tcp_flow **buckets;
    size_t nbuckets, nflows;
    struct tcp_flow *oldest, *newest;
    uint64_t next_id;
    struct tcp_stats st;
};

#define SEQ_HALF 0x80000000u

/* 1 when sequence number a comes after b (0 < a - b < 2^31). */
static int seq_after(uint32_t a, uint32_t b)
{
    uint32_t d = a - b;
    return d != 0 && d < SEQ_HALF;
}

/* 1 when a is b or comes after it. */
static int seq_at_or_after(uint32_t a, uint32_t b)
{
    return a - b < SEQ_HALF;
}

static uint64_t addr_hash(const struct tcp_addr *a)
{
    uint64_t h = kt_fnv1a(KT_FNV_OFFSET, a->ip, a->family == 4 ? 4 : 16);
    return kt_fnv1a(h, &a->port, sizeof a->port);
}

static int addr_eq(const struct tcp_addr *a, const struct tcp_addr *b)
{
    return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16) == 0;
}

/* Order-independent: both directions of a connection land in one bucket. */
static size_t bucket_of(const struct tcp_table *t, const struct tcp_addr *a, const struct tcp_addr *b)
{
    return (size_t)((addr_hash(a) ^ addr_hash(b)) & (t->nbuckets - 1));
}

struct tcp_table *tcp_table_new(const struct tcp_sink *sink, const uint16_t *server_ports, size_t n,
                                size_t held_cap, size_t total_cap)
{
    struct tcp_table *t = xcalloc(1, sizeof *t);
    t->sink = *sink;
    if (n) {
        t->server_ports = xmalloc(n * sizeof *server_ports);
        memcpy(t->server_ports, server_ports, n * sizeof *server_ports);
    }
    t->nports = n;
    t->held_cap = held_cap;
    t->total_cap = total_cap;
    t->nbuckets = 1024;
    t->buckets = xcalloc(t->nbuckets, sizeof *t->buckets);
    return t;
}

static void lru_unlink(struct tcp_table *t, struct tcp_flow *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        t->oldest = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        t->newest = f->prev;
    f->prev = f->next = NULL;
}

static void lru_append(struct tcp_table *t, struct tcp_flow *f)
{
    f->prev = t->newest;
    f->next = NULL;
    if (t->newest)
        t->newest->next = f;
    else
        t->oldest = f;
    t->newest = f;
}

static void grow(struct tcp_table *t)
{
    size_t n = t->nbuckets * 2;
    struct tcp_flow **nb = xcalloc(n, sizeof *nb);
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct tcp_flow *f = t->buckets[i];
        while (f) {
            struct tcp_flow *next = f->hnext;
            size_t b = (size_t)((addr_hash(&f->cli) ^ addr_hash(&f->srv)) & (n - 1));
            f->hnext = nb[b];
            nb[b] = f;
            f = next;
        }
    }
    free(t->buckets);
    t->buckets = nb;
    t->nbuckets = n;
}

static int is_server_port(const struct tcp_table *t, uint16_t port)
{
    for (size_t i = 0; i < t->nports; i++)
        if (t->server_ports[i] == port)
            return 1;
    return 0;
}

/* Who serves, for a connection joined without its handshake: 1 if the segment's sender does. */
static int sender_serves(const struct tcp_table *t, const struct tcp_segment *s)
{
    int src = is_server_port(t, s->src.port), dst = is_server_port(t, s->dst.port);
    if (src != dst)
        return src;
    if (s->len >= 5 && memcmp(s->payload, "HTTP/", 5) == 0)
        return 1;
    static const char *const methods[] = {"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH "};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        size_t ml = strlen(methods[i]);
        if (s->len >= ml && memcmp(s->payload, methods[i], ml) == 0)
            return 0;
    }
    /* Ephemeral ports are the high ones. */
    return s->src.port < s->dst.port;
}

static struct tcp_flow *lookup(struct tcp_table *t, const struct tcp_segment *s, int *dir)
{
    size_t b = bucket_of(t, &s->src, &s->dst);
    for (struct tcp_flow *f = t->buckets[b]; f; f = f->hnext) {
        if (addr_eq(&f->cli, &s->src) && addr_eq(&f->srv, &s->dst)) {
            *dir = TCP_C2S;
            return f;
        }
        if (addr_eq(&f->srv, &s->src) && addr_eq(&f->cli, &s->dst)) {
            *dir = TCP_S2C;
            return f;
        }
    }
    return NULL;
}

static struct tcp_flow *create(struct tcp_table *t, const struct tcp_segment *s, int *dir)
{
    if (t->nflows + 1 > t->nbuckets)
        grow(t);
    struct tcp_flow *f = xcalloc(1, sizeof *f);
    int serves;
    if (s->flags & TCP_SYN)
        serves = (s->flags & TCP_ACK) != 0;
    else
        serves = sender_serves(t, s);
    f->cli = serves ? s->dst : s->src;
    f->srv = serves ? s->src : s->dst;
    *dir = serves ? TCP_S2C : TCP_C2S;
    f->id = ++t->next_id;
    f->first_ts = f->last_ts = s->ts_ns;
    size_t b = bucket_of(t, &f->cli, &f->srv);
    f->hnext = t->buckets[b];
    t->buckets[b] = f;
    t->nflows++;
    t->st.flows++;
    t->held_total += sizeof *f;
    lru_append(t, f);
    return f;
}

static void half_free_held(struct tcp_table *t, struct tcp_half *h)
{
    while (h->held) {
        struct tcp_seg_held *n = h->held->next;
        t->held_total -= h->held->len;
        free(h->held);
        h->held = n;
    }
    h->held_bytes = 0;
}

static void deliver(struct tcp_table *t, struct tcp_flow *f, int dir, const uint8_t *p, uint32_t n, int64_t ts)
{
    struct tcp_half *h = &f->half[dir];
    h->next_seq += n;
    h->delivered += n;
    if (n && !h->closed)
        t->sink.data(t->sink.ctx, f, dir, p, n, ts);
}

/* Delivers held segments that have become contiguous. */
static void drain(struct tcp_table *t, struct tcp_flow *f, int dir)
{
    struct tcp_half *h = &f->half[dir];
    while (h->held) {
        struct tcp_seg_held *s = h->held;
        if (seq_after(s->seq, h->next_seq))
            break;
        uint32_t skip = h->next_seq - s->seq; /* how far it starts before what is next */
        if (skip < s->len)
            deliver(t, f, dir, s->data + skip, s->len - skip, s->ts_ns);
        h->held = s->next;
        h->held_bytes -= s->len;
        t->held_total -= s->len;
        free(s);
    }
}

/* Gives up on the hole before the first held segment: a gap, then what follows. */
static void skip_hole(struct tcp_table *t, struct tcp_flow *f, int dir, int64_t ts)
{
    struct tcp_half *h = &f->half[dir];
    if (!h->held)
        return;
    uint32_t missing = h->held->seq - h->next_seq;
    t->st.gaps++;
    t->st.gap_bytes += missing;
    h->next_seq = h->held->seq;
    if (!h->closed)
        t->sink.gap(t->sink.ctx, f, dir, missing, ts);
    drain(t, f, dir);
}

static void hold(struct tcp_table *t, struct tcp_flow *f, int dir, uint32_t seq, const uint8_t *p, uint32_t n,
                 int64_t ts)
{
    struct tcp_half *h = &f->half[dir];
    struct tcp_seg_held **pp = &h->held;
    while (*pp && seq_after(seq, (*pp)->seq))
        pp = &(*pp)->next;
    if (*pp && (*pp)->seq == seq && (*pp)->len >= n) {
        t->st.retransmissions++; /* the same out-of-order segment again */
        return;
    }
    struct tcp_seg_held *s = xmalloc(sizeof *s + n);
    s->seq = seq;
    s->len = n;
    s->ts_ns = ts;
    memcpy(s->data, p, n);
    s->next = *pp;
    *pp = s;
    h->held_bytes += n;
    t->held_total += n;
    t->st.out_of_order++;
    while (h->held && h->held_bytes > t->held_cap)
        skip_hole(t, f, dir, ts);
}

static void end_half(struct tcp_table *t, struct tcp_flow *f, int dir, enum tcp_end why, int64_t ts)
{
    struct tcp_half *h = &f->half[dir];
    if (h->closed)
        return;
    h->closed = 1;
    half_free_held(t, h);
    t->sink.end(t->sink.ctx, f, dir, why, ts);
}

static void destroy(struct tcp_table *t, struct tcp_flow *f)
{
    t->sink.gone(t->sink.ctx, f);
    size_t b = bucket_of(t, &f->cli, &f->srv);
    for (struct tcp_flow **pp = &t->buckets[b]; *pp; pp = &(*pp)->hnext) {
        if (*pp == f) {
            *pp = f->hnext;
            break;
        }
    }
    lru_unlink(t, f);
    half_free_held(t, &f->half[0]);
    half_free_held(t, &f->half[1]);
    t->nflows--;
    t->held_total -= sizeof *f;
    free(f);
}

/* Ends a flow now: holes become gaps, both directions end (saying why), the flow is freed. */
static void flush_flow(struct tcp_table *t, struct tcp_flow *f, enum tcp_end why, int64_t ts)
{
    for (int d = 0; d < 2; d++) {
        struct tcp_half *h = &f->half[d];
        while (h->held && !h->closed)
            skip_hole(t, f, d, ts);
    }
    end_half(t, f, TCP_C2S, why, ts);
    end_half(t, f, TCP_S2C, why, ts);
    destroy(t, f);
}

void tcp_table_segment(struct tcp_table *t, const struct tcp_segment *s)
{
    t->st.segments++;
    int dir;
    struct tcp_flow *f = lookup(t, s, &dir);
    if (f && (s->flags & TCP_SYN) && !(s->flags & TCP_ACK) && dir == TCP_C2S && f->half[0].started &&
        f->half[0].next_seq != s->seq + 1) {
        /* A new connection reusing the 4-tuple of an old one. */
        flush_flow(t, f, TCP_END_CLOSED, s->ts_ns);
        f = NULL;
    }
    if (!f) {
        if (s->flags & TCP_RST)
            return; /* a reset for a connection we never saw */
        f = create(t, s, &dir);
    }
    f->last_ts = s->ts_ns;
    lru_unlink(t, f);
    lru_append(t, f);

    struct tcp_half *h = &f->half[dir];
    uint32_t seq = s->seq;
    if (s->flags & TCP_SYN) {
        if (!h->started) {
            h->started = 1;
            h->next_seq = seq + 1;
        }
        seq += 1;
    }
    if (s->flags & TCP_RST) {
        flush_flow(t, f, TCP_END_CLOSED, s->ts_ns);
        return;
    }
    /*
     * The peer acknowledged bytes of the other direction that we hold beyond
     * a hole: it received the hole, so the capture missed it for good. Done
     * before this segment's own bytes, which were sent after those arrived
     * (an answer comes after its request).
     */
    struct tcp_half *o = &f->half[!dir];
    if ((s->flags & TCP_ACK) && o->started && !o->closed) {
        while (o->held && seq_at_or_after(s->ack, o->held->seq + o->held->len))
            skip_hole(t, f, !dir, s->ts_ns);
    }
    if (!h->started && (s->len || s->missing || (s->flags & TCP_FIN))) {
        h->started = 1;
        h->next_seq = seq;
        t->sink.gap(t->sink.ctx, f, dir, 0, s->ts_ns); /* joined mid-stream */
    }
    if (h->started && !h->closed && (s->len || s->missing)) {
        uint32_t total = s->len + s->missing;
        if (s->missing)
            t->st.truncated++;
        if (seq_after(seq, h->next_seq)) {
            if (s->len)
                hold(t, f, dir, seq, s->payload, s->len, s->ts_ns);
            if (s->missing) {
                /* The cut-off tail is lost for good; hold a marker-free hole after it. */
            }
        } else {
            uint32_t skip = h->next_seq - seq; /* bytes of it already delivered */
            if (skip >= total) {
                t->st.retransmissions++;
            } else {
                if (skip < s->len) {
                    deliver(t, f, dir, s->payload + skip, s->len - skip, s->ts_ns);
                    skip = 0;
                } else {
                    skip -= s->len;
                }
                if (s->missing > skip) {
                    /* Bytes the snap length cut off: a gap of their size. */
                    uint32_t lost = s->missing - skip;
                    t->st.gaps++;
                    t->st.gap_bytes += lost;
                    h->next_seq += lost;
                    t->sink.gap(t->sink.ctx, f, dir, lost, s->ts_ns);
                }
                drain(t, f, dir);
            }
        }
    }
    if (s->flags & TCP_FIN) {
        h->fin_seen = 1;
        h->fin_seq = seq + s->len + s->missing;
    }
    if (h->fin_seen && h->started && seq_at_or_after(h->next_seq, h->fin_seq))
        end_half(t, f, dir, TCP_END_CLOSED, s->ts_ns);
    if (f->half[0].closed && f->half[1].closed) {
        destroy(t, f);
        return;
    }
    if (t->held_total > t->total_cap)
        tcp_table_evict(t, s->ts_ns);
}

void tcp_table_expire(struct tcp_table *t, int64_t now_ns, int64_t idle_ns)
{
    while (t->oldest && now_ns - t->oldest->last_ts > idle_ns) {
        t->st.evicted_idle++;
        flush_flow(t, t->oldest, TCP_END_IDLE, now_ns);
    }
}

/* Bytes held for f: its out-of-order segments, itself, and what the consumer holds for it. */
static size_t flow_bytes(const struct tcp_table *t, struct tcp_flow *f)
{
    size_t n = f->half[0].held_bytes + f->half[1].held_bytes + sizeof *f;
    if (t->sink.held)
        n += t->sink.held(t->sink.ctx, f);
    return n;
}

#define EVICT_SAMPLE 64

int tcp_table_evict(struct tcp_table *t, int64_t now_ns)
{
    /*
     * The biggest of the least recently active flows and of the most recent
     * one: a connection that piles up data is the one sending now, and a
     * crowd of small ones is trimmed from its oldest end, in constant time
     * however many flows there are.
     */
    struct tcp_flow *big = t->newest;
    size_t most = big ? flow_bytes(t, big) : 0;
    int k = 0;
    for (struct tcp_flow *f = t->oldest; f && k < EVICT_SAMPLE; f = f->next, k++) {
        size_t n = flow_bytes(t, f);
        if (n > most) {
            most = n;
            big = f;
        }
    }
    if (!big)
        return 0;
    t->st.evicted_memory++;
    t->st.evicted_bytes += most;
    flush_flow(t, big, TCP_END_EVICTED, now_ns);
    return 1;
}

void tcp_table_flush(struct tcp_table *t, int64_t now_ns)
{
    while (t->oldest)
        flush_flow(t, t->oldest, TCP_END_CAPTURE, now_ns);
}

void tcp_table_free(struct tcp_table *t)
{
    if (!t)
        return;
    tcp_table_flush(t, 0);
    free(t->buckets);
    free(t->server_ports);
    free(t);
}

const struct tcp_stats *tcp_table_stats(const struct tcp_table *t)
{
    return &t->st;
}

size_t tcp_table_held_bytes(const struct tcp_table *t)
{
    return t->held_total;
}

size_t tcp_table_flows(const struct tcp_table *t)
{
    return t->nflows;
}
