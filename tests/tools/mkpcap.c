/*
 * mkpcap.c — writes crafted pcap files with libpcap, for the capture tests.
 *
 *   mkpcap OUT.pcap < description
 *
 * Description lines (fields separated by spaces; '#' starts a comment):
 *   link ETHERNET|RAW|NULL|SLL|ETHERNET_VLAN    link type of the frames that follow (first line only)
 *   snaplen N                                   snap length written in the file header
 *   tcp TS_NS SRC SPORT DST DPORT FLAGS SEQ ACK HEX|- [CUT]
 *       a TCP segment; FLAGS from S A P F R (or "-"); SRC/DST IPv4 or IPv6 text;
 *       CUT > 0 keeps only that many payload bytes in the capture (as a short snaplen does)
 *   raw TS_NS HEX                               a frame of arbitrary bytes
 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int link_type = DLT_EN10MB;
static int vlan;

static int nibble(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Hex digits into bytes (a 64 KiB payload is 128 KiB of hex: one pass, no sscanf per byte). */
static size_t hex_decode(const char *hex, unsigned char *out, size_t cap)
{
    size_t n = 0;
    if (strcmp(hex, "-") == 0)
        return 0;
    for (const char *p = hex; p[0] && p[1] && n < cap; p += 2) {
        int hi = nibble(p[0]), lo = nibble(p[1]);
        if (hi < 0 || lo < 0) {
            fprintf(stderr, "mkpcap: bad hex at '%.8s'\n", p);
            exit(2);
        }
        out[n++] = (unsigned char)(hi << 4 | lo);
    }
    return n;
}

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, unsigned long v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkpcap OUT.pcap < description\n");
        return 2;
    }
    static char line[40 * 1024 * 1024];
    static unsigned char payload[20 * 1024 * 1024];
    static unsigned char frame[20 * 1024 * 1024 + 128];
    int snaplen = 262144;
    pcap_t *dead = NULL;
    pcap_dumper_t *dump = NULL;
    while (fgets(line, sizeof line, stdin)) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char kind[16];
        if (sscanf(line, "%15s", kind) != 1)
            continue;
        if (strcmp(kind, "link") == 0 || strcmp(kind, "snaplen") == 0) {
            char arg[32];
            sscanf(line, "%*s %31s", arg);
            if (strcmp(kind, "snaplen") == 0)
                snaplen = atoi(arg);
            else if (strcmp(arg, "RAW") == 0)
                link_type = DLT_RAW;
            else if (strcmp(arg, "NULL") == 0)
                link_type = DLT_NULL;
            else if (strcmp(arg, "SLL") == 0)
                link_type = DLT_LINUX_SLL;
            else if (strcmp(arg, "ETHERNET_VLAN") == 0)
                link_type = DLT_EN10MB, vlan = 1;
            else
                link_type = DLT_EN10MB;
            continue;
        }
        if (!dump) {
            dead = pcap_open_dead_with_tstamp_precision(link_type, snaplen, PCAP_TSTAMP_PRECISION_NANO);
            dump = pcap_dump_open(dead, argv[1]);
            if (!dump) {
                fprintf(stderr, "mkpcap: %s\n", pcap_geterr(dead));
                return 1;
            }
        }
        long long ts;
        size_t flen = 0;
        size_t wire_len;
        if (strcmp(kind, "raw") == 0) {
            char *hex = malloc(strlen(line));
            sscanf(line, "%*s %lld %s", &ts, hex);
            flen = hex_decode(hex, frame, sizeof frame);
            wire_len = flen;
            free(hex);
        } else {
            char src[64], dst[64], flags[8];
            unsigned sport, dport;
            unsigned long seq, ack;
            char *hex = malloc(strlen(line));
            long cut = 0;
            if (sscanf(line, "%*s %lld %63s %u %63s %u %7s %lu %lu %s %ld", &ts, src, &sport, dst, &dport, flags,
                       &seq, &ack, hex, &cut) < 9) {
                fprintf(stderr, "mkpcap: bad line: %.100s\n", line);
                return 2;
            }
            size_t plen = hex_decode(hex, payload, sizeof payload);
            free(hex);
            int v6 = strchr(src, ':') != NULL;
            unsigned char *p = frame;
            if (link_type == DLT_EN10MB) {
                memset(p, 0, 12);
                p[5] = 1;
                p[11] = 2;
                p += 12;
                if (vlan) {
                    put16(p, 0x8100);
                    put16(p + 2, 42);
                    p += 4;
                }
                put16(p, v6 ? 0x86dd : 0x0800);
                p += 2;
            } else if (link_type == DLT_NULL) {
                unsigned fam = v6 ? 10 : 2;
                memcpy(p, &fam, 4);
                p += 4;
            } else if (link_type == DLT_LINUX_SLL) {
                memset(p, 0, 16);
                put16(p + 2, 1);
                put16(p + 4, 6);
                put16(p + 14, v6 ? 0x86dd : 0x0800);
                p += 16;
            }
            size_t tcp_len = 20 + plen;
            if (v6) {
                memset(p, 0, 40);
                p[0] = 0x60;
                put16(p + 4, (unsigned)tcp_len);
                p[6] = 6;
                p[7] = 64;
                inet_pton(AF_INET6, src, p + 8);
                inet_pton(AF_INET6, dst, p + 24);
                p += 40;
            } else {
                memset(p, 0, 20);
                p[0] = 0x45;
                put16(p + 2, (unsigned)(20 + tcp_len));
                p[8] = 64;
                p[9] = 6;
                inet_pton(AF_INET, src, p + 12);
                inet_pton(AF_INET, dst, p + 16);
                p += 20;
            }
            memset(p, 0, 20);
            put16(p, sport);
            put16(p + 2, dport);
            put32(p + 4, seq);
            put32(p + 8, ack);
            p[12] = 5 << 4;
            unsigned char f = 0;
            for (const char *c = flags; *c; c++)
                f |= *c == 'F' ? 1 : *c == 'S' ? 2 : *c == 'R' ? 4 : *c == 'P' ? 8 : *c == 'A' ? 16 : 0;
            p[13] = f;
            put16(p + 14, 65535);
            p += 20;
            memcpy(p, payload, plen);
            p += plen;
            flen = (size_t)(p - frame);
            wire_len = flen;
            if (cut > 0 && (size_t)cut < plen)
                flen -= plen - (size_t)cut;
        }
        struct pcap_pkthdr h;
        h.ts.tv_sec = (time_t)(ts / 1000000000LL);
        h.ts.tv_usec = (suseconds_t)(ts % 1000000000LL); /* nanoseconds: the file is nanosecond-precision */
        h.caplen = (bpf_u_int32)flen;
        h.len = (bpf_u_int32)wire_len;
        pcap_dump((u_char *)dump, &h, frame);
    }
    if (!dump) {
        dead = pcap_open_dead_with_tstamp_precision(link_type, snaplen, PCAP_TSTAMP_PRECISION_NANO);
        dump = pcap_dump_open(dead, argv[1]);
    }
    pcap_dump_close(dump);
    pcap_close(dead);
    return 0;
}
