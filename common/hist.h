/*
 * hist.h — latency histograms: fixed log-linear buckets, percentiles from the
 * running totals (the HdrHistogram layout, much reduced).
 *
 * Values are nanoseconds from 0 to about 2^40 (18 minutes); each bucket is
 * within 1/64 (1.6%) of the values it holds. Merging is adding counts.
 */
#ifndef KT_HIST_H
#define KT_HIST_H

#include <stdint.h>

#define HIST_SUB 64                    /* buckets per power of two */
#define HIST_BUCKETS (HIST_SUB * 36)

struct hist {
    uint64_t counts[HIST_BUCKETS];
    uint64_t n;
    int64_t min, max;
    double sum;
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, int64_t v);
void hist_merge(struct hist *into, const struct hist *from);
/* The value at percentile p (0..100): the upper edge of its bucket, capped at max. */
int64_t hist_pct(const struct hist *h, double p);

#endif
