/* errbuf.c — caller-owned error messages (see errbuf.h). */
#include "errbuf.h"

#include <stdio.h>

void kt_err_set(struct kt_err *e, const char *fmt, ...)
{
    if (!e)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}
