/*
 * errbuf.h — the error buffer library code fills for its caller.
 *
 * A function that can fail on bad input returns a status and writes one
 * readable sentence (what, and where: file, line, byte offset) into a
 * caller-owned `struct kt_err`. Only front ends print it.
 */
#ifndef KT_ERRBUF_H
#define KT_ERRBUF_H

#include <stdarg.h>

struct kt_err {
    char msg[512];
};

void kt_err_set(struct kt_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
