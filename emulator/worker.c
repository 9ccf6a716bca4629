/* worker.c — per-worker helpers (see worker.h). */
#include "worker.h"

#include <stdio.h>
#include <string.h>

#include "b64.h"
#include "ktime.h"
#include "rng.h"

void worker_request_id(struct worker *w, char *out)
{
    uint64_t a = kt_rand64(&w->rng), b = kt_rand64(&w->rng);
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
             (unsigned)a & 0xfff, (unsigned)((b >> 48) & 0x3fff) | 0x8000,
             (unsigned long long)(b & 0xffffffffffffULL));
}

void worker_amz_id2(struct worker *w, char *out)
{
    uint8_t raw[WORKER_ID2_LEN / 4 * 3];
    for (size_t i = 0; i < sizeof raw; i += 8) {
        uint64_t r = kt_rand64(&w->rng);
        memcpy(raw + i, &r, sizeof raw - i < 8 ? sizeof raw - i : 8);
    }
    b64_encode(out, raw, sizeof raw);
}

const char *worker_http_date(struct worker *w)
{
    int64_t now = kt_now_ns() / KT_NS_PER_SEC;
    if (now != w->date_sec) {
        kt_fmt_http_date(w->date, now);
        w->date_sec = now;
    }
    return w->date;
}
