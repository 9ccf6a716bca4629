/* pcapsurvey.c — the ports and hosts of a pcap file (see pcapsurvey.h). */
#include "pcapsurvey.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mem.h"
#include "packet.h"

#define MAX_PACKETS 10000000
#define HOSTS 4096             /* distinct hosts counted; more are left out */
#define TOP 5

struct host {
    struct tcp_addr a;         /* port 0 */
    uint64_t n;
};

static void count_host(struct host *hosts, size_t *nhosts, const struct tcp_addr *a)
{
    struct tcp_addr k = *a;
    k.port = 0;
    for (size_t i = 0; i < *nhosts; i++)
        if (hosts[i].a.family == k.family && memcmp(hosts[i].a.ip, k.ip, sizeof k.ip) == 0) {
            hosts[i].n++;
            return;
        }
    if (*nhosts < HOSTS) {
        hosts[*nhosts].a = k;
        hosts[(*nhosts)++].n = 1;
    }
}

int pcap_too_short(const char *file, struct kt_err *err)
{
    struct stat sb;
    if (stat(file, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    if (sb.st_size == 0) {
        kt_err_set(err, "cannot read %s: the file is empty (0 bytes), not a pcap file", file);
        return 1;
    }
    if (sb.st_size < 24) {
        kt_err_set(err, "cannot read %s: it is %lld bytes, shorter than a pcap file header (24 bytes): cut short, "
                        "or not a pcap file", file, (long long)sb.st_size);
        return 1;
    }
    return 0;
}

int pcap_survey(const char *file, struct kbuf *out, struct kt_err *err)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline(file, ebuf);
    if (!p) {
        kt_err_set(err, "cannot read %s: %s", file, ebuf);
        return -1;
    }
    int linktype = pcap_datalink(p);
    uint32_t *ports = xcalloc(65536, sizeof *ports);
    struct host *hosts = xcalloc(HOSTS, sizeof *hosts);
    size_t nhosts = 0;
    uint64_t packets = 0, tcp = 0;
    struct pcap_pkthdr *h;
    const u_char *data;
    while (packets < MAX_PACKETS && pcap_next_ex(p, &h, &data) == 1) {
        packets++;
        struct tcp_segment seg;
        const char *why;
        if (pkt_decode(linktype, data, h->caplen, h->len, &seg, &why) != PKT_TCP)
            continue;
        tcp++;
        ports[seg.src.port]++;
        if (seg.dst.port != seg.src.port)
            ports[seg.dst.port]++;
        count_host(hosts, &nhosts, &seg.src);
        count_host(hosts, &nhosts, &seg.dst);
    }
    pcap_close(p);
    kbuf_appendf(out, "%llu packet%s, %llu of them TCP", (unsigned long long)packets, packets == 1 ? "" : "s",
                 (unsigned long long)tcp);
    if (tcp) {
        kbuf_puts(out, "; TCP ports seen most:");
        for (int k = 0; k < TOP; k++) {
            uint32_t best = 0;
            int at = -1;
            for (int port = 0; port < 65536; port++)
                if (ports[port] > best)
                    best = ports[port], at = port;
            if (at < 0)
                break;
            kbuf_appendf(out, "%s %d (%u packet%s)", k ? "," : "", at, best, best == 1 ? "" : "s");
            ports[at] = 0;
        }
        kbuf_puts(out, "; hosts:");
        for (int k = 0; k < TOP; k++) {
            uint64_t best = 0;
            size_t at = 0;
            for (size_t i = 0; i < nhosts; i++)
                if (hosts[i].n > best)
                    best = hosts[i].n, at = i;
            if (!best)
                break;
            char text[48];
            pkt_addr_text(&hosts[at].a, text);
            kbuf_appendf(out, "%s %s (%llu)", k ? "," : "", text, (unsigned long long)best);
            hosts[at].n = 0;
        }
    }
    free(ports);
    free(hosts);
    return 0;
}
