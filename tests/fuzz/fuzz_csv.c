/*
 * fuzz_csv.c — libFuzzer harness over the replay's CSV reader: the header,
 * plain lines split in place, quoted ones through libcsv, times, and the
 * row hand-over across buffer refills. Every row handed out must have its
 * fields inside the row's storage; the reader must end or stop with an
 * error, never crash or loop.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "replay/csvin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void touch(const char *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++)
        sink += (unsigned char)p[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("csv", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char in[64];
    snprintf(in, sizeof in, "/proc/self/fd/%d", fd);
    struct kt_err err;
    struct csvin *c = csvin_open(in, NULL, &err);
    if (c) {
        struct csv_row r;
        uint64_t last = 0;
        int rc;
        while ((rc = csvin_next(c, &r, &err)) == 1 || rc == -2) {
            if (r.row <= last)
                abort(); /* row numbers only grow, past bad rows too */
            last = r.row;
            if (rc == -2)
                continue;
            touch(r.data, r.data_len);
            touch(r.key, r.key_len);
            touch(r.ehk, r.ehk_len);
            touch(r.stream, r.stream_len);
        }
        csvin_close(c);
    }
    close(fd);
    return 0;
}
