/* say.c — messages for the replay's front end (see replay.h). */
#include <stdarg.h>
#include <stdio.h>

#include "replay.h"

void replay_say(const struct replay_hooks *h, enum replay_level level, const char *fmt, ...)
{
    if (!h->message)
        return;
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    h->message(h->ctx, level, msg);
}
