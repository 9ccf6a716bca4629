/*
 * fuzz_capture.c — libFuzzer harness over the pcap-to-exchanges path:
 * frame decoding, TCP reassembly, HTTP/1.1 pairing and snapshot writing.
 *
 * Input: a mode byte, then records.
 *   mode & 1 == 0: raw frames, each [u16 length][bytes], of link type RAW / EN10MB / NULL / SLL
 *                  chosen by (mode >> 1) & 3
 *   mode & 1 == 1: TCP segments of one IPv4 connection, each
 *                  [u8 flags][u8 direction][u16 sequence offset][u16 length][payload],
 *                  so that reordering, overlaps, gaps and HTTP bodies are reached quickly;
 *                  with mode & 2 the offset is a u32 added to the direction's next sequence
 *                  number, so segments land anywhere in sequence space, 2^31 away included
 */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct kt_err err;
    struct snap_source src = {"file", "fuzz", "", 65535, NULL, NULL};
    struct snap_writer *w = snap_writer_open("/dev/null", &src, 0, "fuzz", &err);
    if (!w)
        abort();
    struct xwriter *xw = xw_new(w, 10 * 1000000000LL);
    uint16_t port = 4566;
    struct capture_config cfg;
    capture_config_defaults(&cfg);
    cfg.server_ports = &port;
    cfg.nports = 1;
    cfg.max_body = 1 << 16;
    cfg.max_memory = 1 << 20;
    cfg.held_cap = 1 << 14;
    struct capture *c = capture_new(&cfg, xw);
    uint8_t mode = data[0];
    size_t at = 1;
    int64_t ts = 1000000000;
    static const int links[] = {DLT_RAW, DLT_EN10MB, DLT_NULL, DLT_LINUX_SLL};
    uint32_t seq[2] = {1000, 900000};
    static uint8_t frame[70000];
    while (at < size) {
        ts += 1000;
        if (!(mode & 1)) {
            if (at + 2 > size)
                break;
            size_t n = (size_t)data[at] << 8 | data[at + 1];
            at += 2;
            if (n > size - at)
                n = size - at;
            capture_frame(c, links[(mode >> 1) & 3], ts, data + at, (uint32_t)n, (uint32_t)n + (mode >> 3), &err);
            at += n;
            continue;
        }
        int wide = (mode & 2) != 0;
        if (at + 6 + (wide ? 2 : 0) > size)
            break;
        uint8_t flags = data[at], dir = data[at + 1] & 1;
        uint32_t seqno;
        int in_order;
        size_t n;
        if (wide) {
            uint32_t off = (uint32_t)data[at + 2] << 24 | (uint32_t)data[at + 3] << 16 | (uint32_t)data[at + 4] << 8 |
                           data[at + 5];
            n = (size_t)data[at + 6] << 8 | data[at + 7];
            at += 8;
            seqno = seq[dir] + off;
            in_order = off == 0;
        } else {
            unsigned off = (unsigned)data[at + 2] << 8 | data[at + 3];
            n = (size_t)data[at + 4] << 8 | data[at + 5];
            at += 6;
            seqno = seq[dir] + off - 32768;
            in_order = off == 32768;
        }
        if (n > size - at)
            n = size - at;
        uint8_t *ip = frame;
        memset(ip, 0, 40);
        ip[0] = 0x45;
        put16(ip + 2, (unsigned)(40 + n));
        ip[9] = 6;
        put32(ip + 12, dir ? 0x0a000002 : 0x0a000001);
        put32(ip + 16, dir ? 0x0a000001 : 0x0a000002);
        uint8_t *t = ip + 20;
        put16(t, dir ? 4566 : 40000);
        put16(t + 2, dir ? 40000 : 4566);
        put32(t + 4, seqno);
        put32(t + 8, seq[!dir]);
        t[12] = 5 << 4;
        t[13] = flags;
        memcpy(t + 20, data + at, n);
        if (in_order)
            seq[dir] += (uint32_t)n;
        capture_frame(c, DLT_RAW, ts, frame, (uint32_t)(40 + n), (uint32_t)(40 + n), &err);
        at += n;
    }
    struct snap_stats st;
    capture_finish(c, ts, CAPTURE_END_FILE, &st, &err);
    if (st.complete + st.incomplete != st.exchanges)
        abort();
    capture_free(c);
    xw_free(xw);
    snap_writer_close(w, &st, &err);
    return 0;
}
