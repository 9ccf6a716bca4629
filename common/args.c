/* args.c — command-line numbers and lists (see args.h). */
#include "args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int kt_parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int kt_parse_num(const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= min && v <= max))
        return -1;
    *out = v;
    return 0;
}

int kt_arg_int(const char *flag, const char *s, const char *what, long long min, long long max, long long *out,
               struct kt_err *err)
{
    if (kt_parse_int(s, min, max, out) == 0)
        return 0;
    kt_err_set(err, "%s takes %s from %lld to %lld (got '%s')", flag, what, min, max, s);
    return -1;
}

int kt_arg_num(const char *flag, const char *s, const char *what, double min, double max, double *out,
               struct kt_err *err)
{
    if (kt_parse_num(s, min, max, out) == 0)
        return 0;
    kt_err_set(err, "%s takes %s from %g to %g (got '%s')", flag, what, min, max, s);
    return -1;
}

int kt_list_has(const char *list, const char *item)
{
    if (!list)
        return 1;
    if (!item)
        return 0;
    size_t n = strlen(item);
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        if (l == n && memcmp(p, item, n) == 0)
            return 1;
        p += l + (comma ? 1 : 0);
    }
    return 0;
}
