/*
 * Unit tests: frame decoding (capture/packet.c) — every link type, VLAN tags,
 * IPv4 options and IPv6 extension headers, fragments, Ethernet padding,
 * snap-length cuts, and truncated and malformed headers told apart.
 */
#include <pcap/dlt.h>

#include "capture/packet.h"
#include "ktest.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

static uint8_t f[2048];

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

/* A TCP header (20 bytes, or more with options) and payload at p; returns their length. */
static size_t tcp_at(uint8_t *p, const char *payload, unsigned optwords)
{
    memset(p, 0, 20 + optwords * 4);
    put16(p, 40000);
    put16(p + 2, 4566);
    put32(p + 4, 0x01020304);
    put32(p + 8, 0x0a0b0c0d);
    p[12] = (uint8_t)((5 + optwords) << 4);
    p[13] = TCP_ACK | TCP_PSH;
    size_t n = strlen(payload);
    memcpy(p + 20 + optwords * 4, payload, n);
    return 20 + optwords * 4 + n;
}

/* An IPv4 header (with `opts` option words) carrying a TCP segment; returns the IP packet's length. */
static size_t ipv4_at(uint8_t *p, const char *payload, unsigned opts)
{
    size_t ihl = 20 + opts * 4;
    memset(p, 0, ihl);
    p[0] = (uint8_t)(0x40 | (ihl / 4));
    p[9] = 6;
    put32(p + 12, 0x0a000001);
    put32(p + 16, 0x0a000002);
    size_t t = tcp_at(p + ihl, payload, 0);
    put16(p + 2, (unsigned)(ihl + t));
    return ihl + t;
}

static size_t ipv6_at(uint8_t *p, const char *payload, int ext)
{
    memset(p, 0, 40);
    p[0] = 0x60;
    p[6] = ext ? 0 : 6;            /* hop-by-hop options first, or TCP */
    p[8] = 0xfd;
    p[23] = 1;
    p[24] = 0xfd;
    p[39] = 2;
    size_t at = 40;
    if (ext) {
        memset(p + at, 0, 8);
        p[at] = 6;                 /* next: TCP */
        p[at + 1] = 0;             /* 8 bytes */
        at += 8;
    }
    size_t t = tcp_at(p + at, payload, 0);
    put16(p + 4, (unsigned)(at - 40 + t));
    return at + t;
}

static size_t ether(uint8_t *p, unsigned type, int vlans)
{
    memset(p, 0, 12);
    size_t at = 12;
    for (int i = 0; i < vlans; i++) {
        put16(p + at, 0x8100);
        put16(p + at + 2, 7);
        at += 4;
    }
    put16(p + at, type);
    return at + 2;
}

static enum pkt_result decode(int link, size_t caplen, size_t wire, struct tcp_segment *s, const char **why)
{
    return pkt_decode(link, f, (uint32_t)caplen, (uint32_t)wire, s, why);
}

static void test_link_types(void)
{
    struct tcp_segment s;
    const char *why;
    size_t h = ether(f, 0x0800, 0), n = h + ipv4_at(f + h, "hello", 0);
    CHECK_INT(decode(DLT_EN10MB, n, n, &s, &why), PKT_TCP);
    CHECK_INT(s.len, 5);
    CHECK(memcmp(s.payload, "hello", 5) == 0);
    CHECK_INT(s.src.family, 4);
    CHECK_INT(s.src.port, 40000);
    CHECK_INT(s.dst.port, 4566);
    CHECK_INT(s.seq, 0x01020304);
    CHECK_INT(s.ack, 0x0a0b0c0d);
    CHECK_INT(s.flags, TCP_ACK | TCP_PSH);
    char text[48];
    pkt_addr_text(&s.src, text);
    CHECK_STR(text, "10.0.0.1");

    h = ether(f, 0x0800, 2); /* two VLAN tags */
    n = h + ipv4_at(f + h, "vlan", 0);
    CHECK_INT(decode(DLT_EN10MB, n, n, &s, &why), PKT_TCP);
    CHECK_INT(s.len, 4);

    memset(f, 0, 16); /* Linux cooked v1: protocol at 14 */
    put16(f + 14, 0x0800);
    n = 16 + ipv4_at(f + 16, "sll", 0);
    CHECK_INT(decode(DLT_LINUX_SLL, n, n, &s, &why), PKT_TCP);
    CHECK_INT(s.len, 3);

    memset(f, 0, 20); /* v2: protocol first */
    put16(f, 0x86dd);
    n = 20 + ipv6_at(f + 20, "sll2", 0);
    CHECK_INT(decode(DLT_LINUX_SLL2, n, n, &s, &why), PKT_TCP);
    CHECK_INT(s.src.family, 6);
    pkt_addr_text(&s.dst, text);
    CHECK_STR(text, "fd00::2");

    memset(f, 0, 4); /* BSD loopback: a family word, then IP */
    f[0] = 2;
    n = 4 + ipv4_at(f + 4, "null", 0);
    CHECK_INT(decode(DLT_NULL, n, n, &s, &why), PKT_TCP);
    n = ipv6_at(f, "raw6", 1); /* raw IP with an IPv6 extension header */
    CHECK_INT(decode(DLT_RAW, n, n, &s, &why), PKT_TCP);
    CHECK_INT(s.len, 4);
    CHECK(memcmp(s.payload, "raw6", 4) == 0);
    CHECK(!pkt_linktype_supported(9999));
    CHECK_INT(decode(9999, n, n, &s, &why), PKT_MALFORMED);
}

static void test_ip_details(void)
{
    struct tcp_segment s;
    const char *why;
    size_t n = ipv4_at(f, "opts", 2); /* 8 bytes of IPv4 options are skipped */
    CHECK_INT(decode(DLT_RAW, n, n, &s, &why), PKT_TCP);
    CHECK(memcmp(s.payload, "opts", 4) == 0);

    size_t h = ether(f, 0x0800, 0);
    n = h + ipv4_at(f + h, "pad", 0);
    memset(f + n, 0, 10); /* Ethernet padding after a short packet is not payload */
    CHECK_INT(decode(DLT_EN10MB, n + 10, n + 10, &s, &why), PKT_TCP);
    CHECK_INT(s.len, 3);
    CHECK_INT(s.missing, 0);

    n = ipv4_at(f, "fragment", 0);
    put16(f + 6, 0x2000); /* more fragments */
    CHECK_INT(decode(DLT_RAW, n, n, &s, &why), PKT_FRAGMENT);
    put16(f + 6, 0x0000);
    f[9] = 17; /* UDP */
    CHECK_INT(decode(DLT_RAW, n, n, &s, &why), PKT_OTHER);
    h = ether(f, 0x0806, 0); /* ARP */
    CHECK_INT(decode(DLT_EN10MB, h + 28, h + 28, &s, &why), PKT_OTHER);

    /* The snap length cut the payload: what is missing is counted, not invented. */
    n = ipv4_at(f, "0123456789", 0);
    CHECK_INT(decode(DLT_RAW, n - 4, n, &s, &why), PKT_TCP);
    CHECK_INT(s.len, 6);
    CHECK_INT(s.missing, 4);
}

static void test_truncated_and_malformed(void)
{
    struct tcp_segment s;
    const char *why;
    size_t h = ether(f, 0x0800, 0), n = h + ipv4_at(f + h, "x", 0);
    CHECK_INT(decode(DLT_EN10MB, 10, n, &s, &why), PKT_TRUNCATED);
    CHECK_CONTAINS(why, "Ethernet header");
    CHECK_INT(decode(DLT_EN10MB, h + 10, n, &s, &why), PKT_TRUNCATED);
    CHECK_CONTAINS(why, "IPv4 header");
    CHECK_INT(decode(DLT_EN10MB, h + 20 + 10, n, &s, &why), PKT_TRUNCATED);
    CHECK_CONTAINS(why, "TCP header");
    h = ether(f, 0x0800, 1);
    CHECK_INT(decode(DLT_EN10MB, 15, 100, &s, &why), PKT_TRUNCATED);
    CHECK_CONTAINS(why, "VLAN");
    CHECK_INT(decode(DLT_LINUX_SLL, 10, 100, &s, &why), PKT_TRUNCATED);
    CHECK_INT(decode(DLT_NULL, 2, 100, &s, &why), PKT_TRUNCATED);
    CHECK_INT(decode(DLT_RAW, 0, 100, &s, &why), PKT_TRUNCATED);

    n = ipv4_at(f, "x", 0);
    f[0] = 0x43; /* IHL of 12 bytes */
    CHECK_INT(decode(DLT_RAW, n, n, &s, &why), PKT_MALFORMED);
    n = ipv4_at(f, "x", 0);
    put16(f + 2, 10); /* total length below the header */
    CHECK_INT(decode(DLT_RAW, n, n, &s, &why), PKT_MALFORMED);
    n = ipv4_at(f, "x", 0);
    f[20 + 12] = 0x40; /* TCP data offset of 16 bytes */
    CHECK_INT(decode(DLT_RAW, n, n, &s, &why), PKT_MALFORMED);
    CHECK_CONTAINS(why, "data offset");
    n = ipv4_at(f, "x", 0);
    f[20 + 12] = 0xf0; /* 60-byte TCP header in a 21-byte IP payload */
    CHECK_INT(decode(DLT_RAW, n, n, &s, &why), PKT_MALFORMED);
    n = ipv6_at(f, "x", 1);
    f[40 + 1] = 200; /* an extension header longer than the payload */
    CHECK_INT(decode(DLT_RAW, n, n, &s, &why), PKT_MALFORMED);
    n = ipv6_at(f, "x", 0);
    CHECK_INT(decode(DLT_RAW, 30, n, &s, &why), PKT_TRUNCATED);
    CHECK_CONTAINS(why, "IPv6 header");
    f[0] = 0x50; /* IP version 5 */
    CHECK_INT(decode(DLT_RAW, n, n, &s, &why), PKT_OTHER);
}

int main(void)
{
    test_link_types();
    test_ip_details();
    test_truncated_and_malformed();
    return ktest_done("test_packet");
}
