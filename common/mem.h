/*
 * mem.h — allocation helpers shared by every part of kintape.
 *
 * Allocation failure is not bad input: the x* helpers print one line and
 * abort, so callers never carry an out-of-memory path. Everything that is
 * bounded by input (lengths a client declares, rows in a file) must be capped
 * by the caller *before* it asks for memory.
 */
#ifndef KT_MEM_H
#define KT_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#define KT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define KT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define KT_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
