/*
 * packet.h — decoding captured frames down to TCP segments.
 *
 * Link layers: Ethernet (with 802.1Q/802.1ad VLAN tags), Linux cooked v1 and
 * v2 (SLL, SLL2: `-i any`), BSD loopback (NULL/LOOP) and raw IP. Network:
 * IPv4 (options skipped; fragments are not reassembled and are counted) and
 * IPv6 (extension headers skipped). Every field is read through bounds
 * checks; a frame that ends early is "truncated", one whose fields make no
 * sense is "malformed", and each says where.
 */
#ifndef KT_PACKET_H
#define KT_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

struct tcp_addr {
    uint8_t family;            /* 4 or 6 */
    uint8_t ip[16];            /* IPv4 in the first 4 bytes */
    uint16_t port;
};

struct tcp_segment {
    int64_t ts_ns;
    struct tcp_addr src, dst;
    uint32_t seq, ack;
    uint8_t flags;
    const uint8_t *payload;
    uint32_t len;              /* payload bytes present in the capture */
    uint32_t missing;          /* payload bytes the snap length cut off */
};

enum pkt_result {
    PKT_TCP,                   /* seg filled */
    PKT_OTHER,                 /* not TCP (ARP, UDP, ...): ignored */
    PKT_FRAGMENT,              /* an IP fragment: not reassembled */
    PKT_TRUNCATED,             /* the capture ended before the headers did */
    PKT_MALFORMED,             /* a header field is impossible */
};

/*
 * Decodes one frame of link type `linktype` (a DLT_ value) captured with
 * caplen bytes present of wire_len. `why` (when not PKT_TCP/PKT_OTHER)
 * points to a static description of the problem.
 */
enum pkt_result pkt_decode(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wire_len,
                           struct tcp_segment *seg, const char **why);

/* 1 when linktype is one pkt_decode understands. */
int pkt_linktype_supported(int linktype);

/* "127.0.0.1" or "::1" into out (48 bytes). */
void pkt_addr_text(const struct tcp_addr *a, char *out);

#endif
