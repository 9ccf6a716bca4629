/*
 * packet.c — frame → IP → TCP decoding (see packet.h).
 *
 * References: IEEE 802.3 / 802.1Q (Ethernet, VLAN), tcpdump.org LINKTYPE
 * pages (LINUX_SLL, LINUX_SLL2, NULL, LOOP, RAW), RFC 791 (IPv4), RFC 8200
 * (IPv6), RFC 9293 (TCP).
 *
 *   Ethernet: dst(6) src(6) [0x8100/0x88a8 tag(4)]* type(2) | IP ...
 *   SLL:      type(2) arphrd(2) addrlen(2) addr(8) proto(2) | IP ...
 *   SLL2:     proto(2) rsvd(2) ifindex(4) arphrd(2) type(1) addrlen(1) addr(8) | IP ...
 *   NULL:     family(4, host order) | IP ...
 *   IPv4:     ver/ihl(1) tos(1) len(2) id(2) frag(2) ttl(1) proto(1) sum(2) src(4) dst(4) [opts]
 *   IPv6:     ver/tc/flow(4) len(2) next(1) hop(1) src(16) dst(16) [ext headers]
 *   TCP:      sport(2) dport(2) seq(4) ack(4) off/flags(2) win(2) sum(2) urg(2) [opts]
 */
#include "packet.h"

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stdio.h>
#include <string.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

/* A bounds-checked view of the frame. */
struct cur {
    const uint8_t *p;
    uint32_t len;
};

static int need(const struct cur *c, uint32_t off, uint32_t n)
{
    return off <= c->len && n <= c->len - off;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int pkt_linktype_supported(int linktype)
{
    switch (linktype) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_NULL:
    case DLT_LOOP:
    case DLT_RAW:
#ifdef DLT_IPV4
    case DLT_IPV4:
    case DLT_IPV6:
#endif
        return 1;
    }
    return linktype == 12 || linktype == 14; /* DLT_RAW on some systems */
}

#define FAIL(result, text)                                                                         \
    do {                                                                                           \
        *why = text;                                                                               \
        return result;                                                                             \
    } while (0)

static enum pkt_result tcp(struct cur *c, uint32_t off, uint32_t tcp_len, uint32_t wire_tcp_len,
                           struct tcp_segment *seg, const char **why)
{
    if (!need(c, off, 20))
        FAIL(PKT_TRUNCATED, "frame ends inside the TCP header");
    const uint8_t *t = c->p + off;
    uint32_t hlen = (uint32_t)(t[12] >> 4) * 4;
    if (hlen < 20)
        FAIL(PKT_MALFORMED, "TCP data offset below 20 bytes");
    if (hlen > tcp_len)
        FAIL(PKT_MALFORMED, "TCP header longer than the IP payload");
    if (!need(c, off, hlen))
        FAIL(PKT_TRUNCATED, "frame ends inside the TCP options");
    seg->src.port = be16(t);
    seg->dst.port = be16(t + 2);
    seg->seq = be32(t + 4);
    seg->ack = be32(t + 8);
    seg->flags = t[13];
    uint32_t present = c->len - off - hlen;
    uint32_t want = tcp_len - hlen;
    if (present > want)
        present = want; /* Ethernet padding after a short IP packet */
    seg->payload = t + hlen;
    seg->len = present;
    uint32_t wire_payload = wire_tcp_len > hlen ? wire_tcp_len - hlen : 0;
    seg->missing = wire_payload > present ? wire_payload - present : 0;
    return PKT_TCP;
}

static enum pkt_result ipv4(struct cur *c, uint32_t off, uint32_t wire_extra, struct tcp_segment *seg,
                            const char **why)
{
    if (!need(c, off, 20))
        FAIL(PKT_TRUNCATED, "frame ends inside the IPv4 header");
    const uint8_t *ip = c->p + off;
    if (ip[0] >> 4 != 4)
        FAIL(PKT_MALFORMED, "IPv4 header with another version");
    uint32_t ihl = (uint32_t)(ip[0] & 15) * 4;
    uint32_t total = be16(ip + 2);
    if (ihl < 20 || total < ihl)
        FAIL(PKT_MALFORMED, "IPv4 header or total length impossible");
    if (ip[9] != 6)
        return PKT_OTHER;
    uint16_t frag = be16(ip + 6);
    if ((frag & 0x2000) || (frag & 0x1fff))
        FAIL(PKT_FRAGMENT, "IPv4 fragment");
    if (!need(c, off, ihl))
        FAIL(PKT_TRUNCATED, "frame ends inside the IPv4 options");
    seg->src.family = seg->dst.family = 4;
    memset(seg->src.ip, 0, 16);
    memset(seg->dst.ip, 0, 16);
    memcpy(seg->src.ip, ip + 12, 4);
    memcpy(seg->dst.ip, ip + 16, 4);
    /* Bytes of this IP packet present in the frame, and on the wire. */
    uint32_t in_frame = c->len - off;
    struct cur view = {c->p, off + (in_frame < total ? in_frame : total)};
    (void)wire_extra;
    return tcp(&view, off + ihl, total - ihl, total - ihl, seg, why);
}

static enum pkt_result ipv6(struct cur *c, uint32_t off, struct tcp_segment *seg, const char **why)
{
    if (!need(c, off, 40))
        FAIL(PKT_TRUNCATED, "frame ends inside the IPv6 header");
    const uint8_t *ip = c->p + off;
    if (ip[0] >> 4 != 6)
        FAIL(PKT_MALFORMED, "IPv6 header with another version");
    uint32_t payload_len = be16(ip + 4);
    uint8_t next = ip[6];
    seg->src.family = seg->dst.family = 6;
    memcpy(seg->src.ip, ip + 8, 16);
    memcpy(seg->dst.ip, ip + 24, 16);
    uint32_t at = off + 40;
    uint32_t end = at + payload_len;
    /* Walk extension headers: hop-by-hop, routing, destination options; fragments are not followed. */
    for (int hops = 0; hops < 8; hops++) {
        if (next == 6)
            break;
        if (next == 44)
            FAIL(PKT_FRAGMENT, "IPv6 fragment");
        if (next != 0 && next != 43 && next != 60)
            return PKT_OTHER;
        if (!need(c, at, 8))
            FAIL(PKT_TRUNCATED, "frame ends inside an IPv6 extension header");
        uint32_t elen = ((uint32_t)c->p[at + 1] + 1) * 8;
        next = c->p[at];
        at += elen;
        if (at > end)
            FAIL(PKT_MALFORMED, "IPv6 extension headers longer than the payload");
    }
    if (next != 6)
        return PKT_OTHER;
    uint32_t in_frame = c->len - off;
    struct cur view = {c->p, off + (in_frame < 40 + payload_len ? in_frame : 40 + payload_len)};
    return tcp(&view, at, end - at, end - at, seg, why);
}

static enum pkt_result by_ethertype(struct cur *c, uint16_t type, uint32_t off, struct tcp_segment *seg,
                                    const char **why)
{
    if (type == 0x0800)
        return ipv4(c, off, 0, seg, why);
    if (type == 0x86dd)
        return ipv6(c, off, seg, why);
    return PKT_OTHER;
}

static enum pkt_result by_version(struct cur *c, uint32_t off, struct tcp_segment *seg, const char **why)
{
    if (!need(c, off, 1))
        FAIL(PKT_TRUNCATED, "empty IP packet");
    int v = c->p[off] >> 4;
    if (v == 4)
        return ipv4(c, off, 0, seg, why);
    if (v == 6)
        return ipv6(c, off, seg, why);
    return PKT_OTHER;
}

enum pkt_result pkt_decode(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wire_len,
                           struct tcp_segment *seg, const char **why)
{
    struct cur c = {data, caplen};
    *why = NULL;
    (void)wire_len;
    switch (linktype) {
    case DLT_EN10MB: {
        if (!need(&c, 0, 14))
            FAIL(PKT_TRUNCATED, "frame ends inside the Ethernet header");
        uint32_t off = 12;
        uint16_t type = be16(data + off);
        for (int tags = 0; (type == 0x8100 || type == 0x88a8) && tags < 4; tags++) {
            off += 4;
            if (!need(&c, off, 2))
                FAIL(PKT_TRUNCATED, "frame ends inside a VLAN tag");
            type = be16(data + off);
        }
        return by_ethertype(&c, type, off + 2, seg, why);
    }
    case DLT_LINUX_SLL:
        if (!need(&c, 0, 16))
            FAIL(PKT_TRUNCATED, "frame ends inside the Linux cooked header");
        return by_ethertype(&c, be16(data + 14), 16, seg, why);
    case DLT_LINUX_SLL2:
        if (!need(&c, 0, 20))
            FAIL(PKT_TRUNCATED, "frame ends inside the Linux cooked v2 header");
        return by_ethertype(&c, be16(data), 20, seg, why);
    case DLT_NULL:
    case DLT_LOOP:
        if (!need(&c, 0, 4))
            FAIL(PKT_TRUNCATED, "frame ends inside the loopback header");
        return by_version(&c, 4, seg, why);
    default:
        if (pkt_linktype_supported(linktype))
            return by_version(&c, 0, seg, why);
        FAIL(PKT_MALFORMED, "unsupported link type");
    }
}

void pkt_addr_text(const struct tcp_addr *a, char *out)
{
    if (a->family == 4)
        inet_ntop(AF_INET, a->ip, out, 48);
    else
        inet_ntop(AF_INET6, a->ip, out, 48);
}
