/* ktime.c — clocks and RFC 3339 text (see ktime.h). */
#include "ktime.h"

#include <stdio.h>
#include <time.h>

int64_t kt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * KT_NS_PER_SEC + ts.tv_nsec;
}

int64_t kt_now_ms(void)
{
    return kt_now_ns() / KT_NS_PER_MS;
}

int64_t kt_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * KT_NS_PER_SEC + ts.tv_nsec;
}

/* Howard Hinnant's civil-date algorithms: exact for every Gregorian date. */
int64_t kt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

size_t kt_fmt_rfc3339(char *out, int64_t ns, int digits)
{
    int64_t sec = floordiv(ns, KT_NS_PER_SEC);
    int64_t frac = ns - sec * KT_NS_PER_SEC;
    int64_t days = floordiv(sec, 86400);
    int64_t rem = sec - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(out, KT_RFC3339_MAX, "%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, m, d,
                     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    if (digits > 0) {
        int64_t div = 1;
        for (int i = digits; i < 9; i++)
            div *= 10;
        n += snprintf(out + n, KT_RFC3339_MAX - (size_t)n, ".%0*lld", digits, (long long)(frac / div));
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return (size_t)n;
}

size_t kt_fmt_http_date(char *out, int64_t sec)
{
    static const char *wd[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t days = floordiv(sec, 86400);
    int64_t rem = sec - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(out, 30, "%s, %02u %s %04lld %02d:%02d:%02d GMT", wd[((days % 7) + 7) % 7], d,
                     mon[m - 1], (long long)y, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    return (size_t)n;
}

static int digits_at(const char *s, size_t len, size_t at, int count, int *val)
{
    int v = 0;
    for (int i = 0; i < count; i++) {
        if (at + (size_t)i >= len || s[at + i] < '0' || s[at + i] > '9')
            return -1;
        v = v * 10 + (s[at + i] - '0');
    }
    *val = v;
    return 0;
}

int kt_rfc3339_has_offset(const char *s, size_t len)
{
    if (len > 19 && (s[len - 1] == 'Z' || s[len - 1] == 'z'))
        return 1;
    for (size_t i = 19; i < len; i++)
        if (s[i] == '+' || s[i] == '-')
            return 1;
    return 0;
}

int kt_parse_rfc3339(const char *s, size_t len, int64_t *ns, size_t *bad_at)
{
    int Y, M, D, h, mi, se;
    size_t at = 0;
#define NEED(cond, where)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            if (bad_at)                                                                            \
                *bad_at = (where);                                                                 \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)
    NEED(digits_at(s, len, 0, 4, &Y) == 0, 0);
    NEED(len > 4 && s[4] == '-', 4);
    NEED(digits_at(s, len, 5, 2, &M) == 0 && M >= 1 && M <= 12, 5);
    NEED(len > 7 && s[7] == '-', 7);
    NEED(digits_at(s, len, 8, 2, &D) == 0 && D >= 1 && D <= 31, 8);
    NEED(len > 10 && (s[10] == 'T' || s[10] == 't' || s[10] == ' '), 10);
    NEED(digits_at(s, len, 11, 2, &h) == 0 && h <= 23, 11);
    NEED(len > 13 && s[13] == ':', 13);
    NEED(digits_at(s, len, 14, 2, &mi) == 0 && mi <= 59, 14);
    NEED(len > 16 && s[16] == ':', 16);
    NEED(digits_at(s, len, 17, 2, &se) == 0 && se <= 60, 17);
    at = 19;
    int64_t frac = 0;
    if (at < len && (s[at] == '.' || s[at] == ',')) {
        at++;
        int nd = 0;
        while (at < len && s[at] >= '0' && s[at] <= '9') {
            if (nd < 9) {
                frac = frac * 10 + (s[at] - '0');
                nd++;
            }
            at++;
        }
        NEED(nd > 0, at);
        for (; nd < 9; nd++)
            frac *= 10;
    }
    int64_t offset = 0;
    if (at < len) {
        if (s[at] == 'Z' || s[at] == 'z') {
            at++;
        } else if (s[at] == '+' || s[at] == '-') {
            int oh, om;
            int sign = s[at] == '-' ? -1 : 1;
            NEED(digits_at(s, len, at + 1, 2, &oh) == 0 && oh <= 23, at + 1);
            size_t mpos = at + 3;
            if (mpos < len && s[mpos] == ':')
                mpos++;
            NEED(digits_at(s, len, mpos, 2, &om) == 0 && om <= 59, mpos);
            offset = sign * ((int64_t)oh * 3600 + om * 60);
            at = mpos + 2;
        } else {
            NEED(0, at);
        }
    }
    NEED(at == len, at);
    int64_t days = kt_days_from_civil(Y, (unsigned)M, (unsigned)D);
    int64_t sec = days * 86400 + h * 3600 + mi * 60 + se - offset;
    /* Nanoseconds in 64 bits reach from 1677 to 2262. */
    NEED(sec > -9223372036LL && sec < 9223372036LL - 1, 0);
    *ns = sec * KT_NS_PER_SEC + frac;
    return 0;
#undef NEED
}
