/* log.c — stderr diagnostics (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *log_prefix = "kintape";
static enum kt_log_level log_min = KT_LOG_INFO;

void kt_log_setup(const char *prefix, enum kt_log_level min)
{
    log_prefix = prefix;
    log_min = min;
}

int kt_log_enabled(enum kt_log_level level)
{
    return level >= log_min;
}

void kt_log(enum kt_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"debug: ", "", "warning: ", "error: "};
    if (level < log_min)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One write per line so lines from several threads do not interleave. */
    fprintf(stderr, "%s: %s%s\n", log_prefix, names[level], line);
}
