/*
 * Unit tests: TCP reassembly (capture/tcp.c) — in-order and out-of-order
 * delivery, retransmissions and overlaps, wrap-around, segments exactly
 * 2^31 away, holes proven by ACKs, snap-length cuts, FIN and RST, the
 * per-direction cap and eviction by the memory cap.
 */
#include <stdlib.h>

#include "capture/tcp.h"
#include "ktest.h"

#define MAXB 4096

/* What the sink saw, per direction. */
struct seen {
    unsigned char data[2][MAXB];
    size_t n[2];
    int gaps[2], joined[2], ends[2];
    uint64_t missing[2];
    enum tcp_end why[2];
    int gone;
    size_t held;               /* what this consumer says it holds per flow */
};

static void on_data(void *ctx, struct tcp_flow *f, int dir, const uint8_t *p, size_t n, int64_t ts)
{
    struct seen *s = ctx;
    for (size_t i = 0; i < n && s->n[dir] < MAXB; i++)
        s->data[dir][s->n[dir]++] = p[i];
}

static void on_gap(void *ctx, struct tcp_flow *f, int dir, uint64_t missing, int64_t ts)
{
    struct seen *s = ctx;
    if (missing == 0)
        s->joined[dir]++;
    else
        s->gaps[dir]++;
    s->missing[dir] += missing;
}

static void on_end(void *ctx, struct tcp_flow *f, int dir, enum tcp_end why, int64_t ts)
{
    struct seen *s = ctx;
    s->ends[dir]++;
    s->why[dir] = why;
}

static void on_gone(void *ctx, struct tcp_flow *f)
{
    ((struct seen *)ctx)->gone++;
}

static size_t on_held(void *ctx, struct tcp_flow *f)
{
    return ((struct seen *)ctx)->held;
}

static struct tcp_table *table(struct seen *s, size_t held_cap, size_t total_cap)
{
    memset(s, 0, sizeof *s);
    uint16_t port = 4566;
    struct tcp_sink k = {s, on_data, on_gap, on_end, on_gone, on_held};
    return tcp_table_new(&k, &port, 1, held_cap, total_cap);
}

/* A segment of the test connection 10.0.0.1:40000 <-> 10.0.0.2:4566; dir 1 is the server's. */
static void seg(struct tcp_table *t, int dir, uint8_t flags, uint32_t seq, uint32_t ack, const char *payload,
                uint32_t missing)
{
    static int64_t ts = 1000;
    struct tcp_segment s;
    memset(&s, 0, sizeof s);
    s.ts_ns = ts++;
    struct tcp_addr a = {4, {10, 0, 0, 1}, 40000}, b = {4, {10, 0, 0, 2}, 4566};
    s.src = dir ? b : a;
    s.dst = dir ? a : b;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.payload = (const uint8_t *)payload;
    s.len = payload ? (uint32_t)strlen(payload) : 0;
    s.missing = missing;
    tcp_table_segment(t, &s);
}

static int got(const struct seen *s, int dir, const char *want)
{
    return s->n[dir] == strlen(want) && memcmp(s->data[dir], want, s->n[dir]) == 0;
}

static void test_in_order_and_reordered(void)
{
    struct seen s;
    struct tcp_table *t = table(&s, 1 << 20, 1 << 24);
    seg(t, 0, TCP_SYN, 100, 0, NULL, 0);
    seg(t, 1, TCP_SYN | TCP_ACK, 900, 101, NULL, 0);
    seg(t, 0, TCP_ACK, 101, 901, "hello ", 0);
    seg(t, 0, TCP_ACK, 113, 901, "there", 0);      /* ahead: held */
    CHECK(got(&s, 0, "hello "));
    seg(t, 0, TCP_ACK, 107, 901, "world ", 0);     /* fills the hole */
    CHECK(got(&s, 0, "hello world there"));
    seg(t, 0, TCP_ACK, 101, 901, "hello ", 0);     /* a retransmission */
    seg(t, 0, TCP_ACK, 110, 901, "ld thereXY", 0); /* overlaps the end: only XY is new */
    CHECK(got(&s, 0, "hello world thereXY"));
    const struct tcp_stats *st = tcp_table_stats(t);
    CHECK(st->retransmissions >= 1);
    CHECK_INT(st->out_of_order, 1);
    CHECK_INT(st->gaps, 0);
    seg(t, 1, TCP_ACK, 901, 120, "ok", 0);
    CHECK(got(&s, 1, "ok"));
    seg(t, 0, TCP_FIN | TCP_ACK, 120, 903, NULL, 0);
    seg(t, 1, TCP_FIN | TCP_ACK, 903, 121, NULL, 0);
    CHECK_INT(s.ends[0], 1);
    CHECK_INT(s.ends[1], 1);
    CHECK_INT(s.why[0], TCP_END_CLOSED);
    CHECK_INT(s.gone, 1);
    CHECK_INT(tcp_table_flows(t), 0);
    tcp_table_free(t);
}

static void test_wrap_around(void)
{
    struct seen s;
    struct tcp_table *t = table(&s, 1 << 20, 1 << 24);
    uint32_t isn = 0xfffffffcu;
    seg(t, 0, TCP_SYN, isn, 0, NULL, 0);
    seg(t, 0, TCP_ACK, isn + 1 + 6, 0, "second", 0); /* wraps past 0, arrives first */
    seg(t, 0, TCP_ACK, isn + 1, 0, "first ", 0);
    CHECK(got(&s, 0, "first second"));
    CHECK_INT(s.gaps[0], 0);
    tcp_table_free(t);
}

static void test_half_the_sequence_space_away(void)
{
    /* A SYN at 0, then data at 0x80000001: exactly 2^31 past the next byte (1). Counted as old, no undefined behaviour. */
    struct seen s;
    struct tcp_table *t = table(&s, 1 << 20, 1 << 24);
    seg(t, 0, TCP_SYN, 0, 0, NULL, 0);
    seg(t, 0, TCP_ACK, 0x80000001u, 0, "far", 0);
    CHECK_INT(s.n[0], 0);
    CHECK_INT(tcp_table_stats(t)->retransmissions, 1);
    /* Just under 2^31 ahead is ahead: held, waiting for the hole. */
    seg(t, 0, TCP_ACK, 0x80000000u, 0, "near", 0);
    CHECK_INT(s.n[0], 0);
    CHECK_INT(tcp_table_stats(t)->out_of_order, 1);
    /* Just over 2^31 ahead is behind: old. */
    seg(t, 0, TCP_ACK, 0x80000002u, 0, "old", 0);
    CHECK_INT(tcp_table_stats(t)->retransmissions, 2);
    seg(t, 0, TCP_ACK, 1, 0, "in order", 0);
    CHECK(got(&s, 0, "in order"));
    /* The same far segment against a wrapped next sequence number. */
    struct seen s2;
    struct tcp_table *t2 = table(&s2, 1 << 20, 1 << 24);
    seg(t2, 0, TCP_SYN, 0x7fffffffu, 0, NULL, 0);
    seg(t2, 0, TCP_ACK, 0x80000000u + 0x80000000u, 0, "x", 0); /* next is 0x80000000: 2^31 away */
    CHECK_INT(s2.n[0], 0);
    seg(t2, 0, TCP_ACK, 0x80000000u, 0, "y", 0);
    CHECK(got(&s2, 0, "y"));
    tcp_table_free(t);
    tcp_table_free(t2);
}

static void test_holes_become_gaps(void)
{
    struct seen s;
    struct tcp_table *t = table(&s, 1 << 20, 1 << 24);
    seg(t, 0, TCP_SYN, 100, 0, NULL, 0);
    seg(t, 1, TCP_SYN | TCP_ACK, 900, 101, NULL, 0);
    seg(t, 0, TCP_ACK, 101, 901, "aaaa", 0);
    seg(t, 0, TCP_ACK, 109, 901, "cccc", 0); /* bbbb at 105 never comes */
    CHECK(got(&s, 0, "aaaa"));
    /* The server acknowledges past the hole: it got bbbb, the capture did not. */
    seg(t, 1, TCP_ACK, 901, 113, NULL, 0);
    CHECK(got(&s, 0, "aaaacccc"));
    CHECK_INT(s.gaps[0], 1);
    CHECK_INT(s.missing[0], 4);
    /* Bytes cut by the snap length are a gap of their size. */
    seg(t, 0, TCP_ACK, 113, 901, "dd", 6);
    seg(t, 0, TCP_ACK, 121, 901, "ee", 0);
    CHECK(got(&s, 0, "aaaaccccddee"));
    CHECK_INT(s.gaps[0], 2);
    CHECK_INT(s.missing[0], 10);
    CHECK_INT(tcp_table_stats(t)->truncated, 1);
    tcp_table_free(t);
}

static void test_joined_mid_stream_and_rst(void)
{
    struct seen s;
    struct tcp_table *t = table(&s, 1 << 20, 1 << 24);
    seg(t, 0, TCP_ACK, 5000, 1, "POST / HTTP/1.1\r\n", 0); /* no SYN seen */
    CHECK_INT(s.joined[0], 1);
    CHECK(got(&s, 0, "POST / HTTP/1.1\r\n"));
    seg(t, 1, TCP_RST, 1, 0, NULL, 0);
    CHECK_INT(s.ends[0], 1);
    CHECK_INT(s.ends[1], 1);
    CHECK_INT(s.gone, 1);
    /* A reset for a connection never seen creates nothing. */
    seg(t, 1, TCP_RST, 77, 0, NULL, 0);
    CHECK_INT(tcp_table_flows(t), 0);
    tcp_table_free(t);
}

static void test_caps(void)
{
    /* Out-of-order bytes over the per-direction cap: the hole is given up. */
    struct seen s;
    struct tcp_table *t = table(&s, 8, 1 << 24);
    seg(t, 0, TCP_SYN, 100, 0, NULL, 0);
    seg(t, 0, TCP_ACK, 111, 0, "0123456789", 0); /* 10 held bytes > 8 */
    CHECK_INT(s.gaps[0], 1);
    CHECK(got(&s, 0, "0123456789"));
    tcp_table_free(t);

    /* The memory cap counts the consumer's bytes: the flow holding most (what the consumer holds) is evicted. */
    struct seen m;
    struct tcp_table *u = table(&m, 1 << 20, 1 << 30);
    seg(u, 0, TCP_SYN, 100, 0, NULL, 0);
    CHECK_INT(tcp_table_flows(u), 1);
    CHECK(tcp_table_held_bytes(u) > 0); /* the flow itself counts */
    m.held = 1 << 20;
    CHECK(tcp_table_evict(u, 5000) == 1);
    CHECK_INT(tcp_table_flows(u), 0);
    CHECK_INT(m.why[0], TCP_END_EVICTED);
    CHECK_INT(tcp_table_stats(u)->evicted_memory, 1);
    CHECK(tcp_table_stats(u)->evicted_bytes >= (1 << 20));
    CHECK(tcp_table_evict(u, 5000) == 0);
    CHECK_INT(tcp_table_held_bytes(u), 0);
    tcp_table_free(u);
}

int main(void)
{
    test_in_order_and_reordered();
    test_wrap_around();
    test_half_the_sequence_space_away();
    test_holes_become_gaps();
    test_joined_mid_stream_and_rst();
    test_caps();
    return ktest_done("test_tcp");
}
