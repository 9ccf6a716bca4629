/* hist.c — log-linear latency histograms (see hist.h). */
#include "hist.h"

#include <string.h>

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof *h);
}

/* Values below HIST_SUB have a bucket each; above, HIST_SUB buckets per power of two. */
static int bucket_of(int64_t v)
{
    if (v < 0)
        v = 0;
    uint64_t u = (uint64_t)v;
    if (u < HIST_SUB)
        return (int)u;
    int e = 63 - __builtin_clzll(u);          /* u in [2^e, 2^(e+1)) */
    int shift = e - 6;                          /* 64 = 2^6 sub-buckets */
    int idx = (shift + 1) * HIST_SUB + (int)((u >> shift) - HIST_SUB);
    return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

static int64_t bucket_top(int i)
{
    if (i < HIST_SUB)
        return i;
    int shift = i / HIST_SUB - 1;
    int64_t sub = i % HIST_SUB + HIST_SUB;
    return ((sub + 1) << shift) - 1;
}

void hist_add(struct hist *h, int64_t v)
{
    h->counts[bucket_of(v)]++;
    if (!h->n || v < h->min)
        h->min = v;
    if (!h->n || v > h->max)
        h->max = v;
    h->n++;
    h->sum += (double)v;
}

void hist_merge(struct hist *into, const struct hist *from)
{
    if (!from->n)
        return;
    for (int i = 0; i < HIST_BUCKETS; i++)
        into->counts[i] += from->counts[i];
    if (!into->n || from->min < into->min)
        into->min = from->min;
    if (!into->n || from->max > into->max)
        into->max = from->max;
    into->n += from->n;
    into->sum += from->sum;
}

int64_t hist_pct(const struct hist *h, double p)
{
    if (!h->n)
        return 0;
    uint64_t want = (uint64_t)((p / 100.0) * (double)h->n + 0.5);
    if (want < 1)
        want = 1;
    if (want > h->n)
        want = h->n;
    uint64_t seen = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= want) {
            int64_t top = bucket_top(i);
            return top > h->max ? h->max : top < h->min ? h->min : top;
        }
    }
    return h->max;
}
