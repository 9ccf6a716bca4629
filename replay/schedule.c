/* schedule.c — due times and the queue of records not yet due (see schedule.h). */
#include "schedule.h"

#include <stdlib.h>
#include <string.h>

void sched_init(struct sched *s, int respect_timing, double speed, int64_t max_gap_ns, double rate, int64_t linger_ns,
                int64_t anchor_ns)
{
    memset(s, 0, sizeof *s);
    s->respect_timing = respect_timing;
    s->speed = speed > 0 ? speed : 1;
    s->max_gap_ns = max_gap_ns;
    s->rate = rate;
    s->linger_ns = linger_ns;
    s->anchor_ns = anchor_ns;
}

size_t sched_clear(struct sched *s, uint64_t *first_row)
{
    size_t n = 0;
    while (s->head) {
        struct rec *r = sched_pop(s);
        if (!*first_row || r->row < *first_row)
            *first_row = r->row;
        free(r);
        n++;
    }
    return n;
}

int64_t sched_due(struct sched *s, int has_ts, int64_t ts, int64_t *sched_ns)
{
    int64_t due = 0;
    if (s->respect_timing && has_ts) {
        if (!s->have_ts0) {
            s->ts0 = ts;
            s->last_ts = ts;
            s->have_ts0 = 1;
        }
        if (ts < s->last_ts) {
            s->out_of_order++;
            ts = s->last_ts; /* sent in file order, right after the one before */
        }
        if (s->max_gap_ns > 0 && ts - s->last_ts > s->max_gap_ns)
            s->gap_shift += ts - s->last_ts - s->max_gap_ns;
        s->last_ts = ts;
        due = s->anchor_ns + (int64_t)((double)(ts - s->ts0 - s->gap_shift) / s->speed);
    }
    if (s->rate > 0) {
        int64_t paced = s->anchor_ns + (int64_t)((double)s->taken * 1e9 / s->rate);
        if (paced > due)
            due = paced;
    }
    if (due < s->last_sched)
        due = s->last_sched;
    s->last_sched = due;
    s->taken++;
    *sched_ns = due;
    return due;
}

int64_t sched_span(const struct sched *s, uint64_t records)
{
    int64_t planned = 0;
    if (s->respect_timing && s->have_ts0)
        planned = (int64_t)((double)(s->last_ts - s->ts0 - s->gap_shift) / s->speed);
    if (s->rate > 0 && records) {
        int64_t paced = (int64_t)((double)(records - 1) * 1e9 / s->rate);
        if (paced > planned)
            planned = paced;
    }
    return planned;
}

void sched_end_burst(struct sched *s)
{
    struct rec *t = s->tail;
    if (!t || t == s->burst_tail)
        return;
    t->next_burst = NULL;
    if (s->burst_tail)
        s->burst_tail->next_burst = t;
    else
        s->burst_head = t;
    s->burst_tail = t;
}

void sched_push(struct sched *s, struct rec *r)
{
    if (s->tail && r->due_ns > s->tail->due_ns + s->linger_ns)
        sched_end_burst(s);
    r->next = NULL;
    if (s->tail)
        s->tail->next = r;
    else
        s->head = r;
    s->tail = r;
    s->n++;
    s->bytes += r->len;
}

struct rec *sched_pop(struct sched *s)
{
    struct rec *r = s->head;
    s->head = r->next;
    if (!s->head)
        s->tail = NULL;
    if (r == s->burst_head) {
        s->burst_head = r->next_burst;
        if (!s->burst_head)
            s->burst_tail = NULL;
    }
    s->n--;
    s->bytes -= r->len;
    return r;
}
