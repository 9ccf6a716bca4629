/*
 * fuzz_extract.c — libFuzzer harness over the snapshot reader, the --filter
 * and --path compilers and the extractor.
 *
 * Input: a first line used as a --filter expression (ignored when it does
 * not compile; also tried as a --path), the rest a snapshot file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "snapshots/extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
    size_t elen = nl ? (size_t)(nl - data) : 0;
    char expr[260];
    memcpy(expr, data, elen);
    expr[elen] = '\0';
    struct kt_err err;
    struct xfilter *f = xfilter_compile(expr, &err);
    struct xpath *path = xpath_compile(expr, &err);
    int fd = memfd_create("snap", 0);
    if (fd < 0)
        return 0;
    size_t rest = size - (nl ? elen + 1 : 0);
    if (write(fd, data + (nl ? elen + 1 : 0), rest) != (ssize_t)rest) {
        close(fd);
        return 0;
    }
    char in[64];
    snprintf(in, sizeof in, "/proc/self/fd/%d", fd);
    struct extract_stats st;
    for (int mode = 0; mode < 3; mode++) {
        struct extract_opts o = {0};
        o.filter = f;
        o.skip_bad = mode != 0;
        o.all_attempts = mode == 1;
        if (mode == 2 && path) {
            o.paths = &path;
            o.npaths = 1;
        }
        extract_run(in, "/dev/null", &o, &st, &err);
    }
    close(fd);
    xfilter_free(f);
    xpath_free(path);
    return 0;
}
