/*
 * ktest.h — the unit-test harness: CHECK macros that count and report
 * failures with file and line, and a summary line tests/run.py reads:
 *
 *   test_hashkey: 42 passed, 0 failed
 */
#ifndef KT_KTEST_H
#define KT_KTEST_H

#include <stdio.h>
#include <string.h>

static int kt_passed, kt_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            kt_passed++;                                                                           \
        } else {                                                                                   \
            kt_failed++;                                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (_a == _b) {                                                                            \
            kt_passed++;                                                                           \
        } else {                                                                                   \
            kt_failed++;                                                                           \
            fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, _a, _b); \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *_a = (a), *_b = (b);                                                           \
        if (_a && _b && strcmp(_a, _b) == 0) {                                                     \
            kt_passed++;                                                                           \
        } else {                                                                                   \
            kt_failed++;                                                                           \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,       \
                    _a ? _a : "(null)", _b ? _b : "(null)");                                       \
        }                                                                                          \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                                                \
    do {                                                                                           \
        const char *_h = (hay), *_n = (needle);                                                    \
        if (_h && strstr(_h, _n)) {                                                                \
            kt_passed++;                                                                           \
        } else {                                                                                   \
            kt_failed++;                                                                           \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,         \
                    _h ? _h : "(null)", _n);                                                       \
        }                                                                                          \
    } while (0)

static inline int ktest_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, kt_passed, kt_failed);
    return kt_failed ? 1 : 0;
}

#endif
