/*
 * schedule.h — when each record is due, and the records read but not yet due.
 *
 * Due times come from one monotonic anchor (the replay's start), so error
 * never accumulates: with --respect-timing a record is due at
 * anchor + (its time - the first record's time - the idle time cut by
 * --max-gap) / speed; with --rate no sooner than anchor + k / rate for the
 * k-th record; records never go out before one due earlier; 0 means at once
 * (full speed). A record whose time is before the one before it is sent
 * right after it, and counted.
 *
 * Records not yet due wait in a queue in due order. A record due more than
 * the linger after the one before it ends a burst: the batches of a burst
 * can go the moment its last record is due.
 */
#ifndef KT_SCHEDULE_H
#define KT_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

/* A record read and waiting for its time; `frag` holds it as JSON text. */
struct rec {
    struct rec *next;
    struct rec *next_burst;    /* the next queued record that ends a burst */
    uint64_t row;
    int64_t due_ns;            /* monotonic time to send at */
    int64_t sched_ns;          /* the schedule's time (0: none), for lateness */
    uint32_t lane;
    uint64_t key;              /* hash of the key, never 0 */
    size_t bytes;              /* data + partition key */
    size_t len;
    char frag[];
};

struct sched {
    int respect_timing;
    double speed;
    int64_t max_gap_ns;
    double rate;
    int64_t linger_ns;
    int64_t anchor_ns;         /* monotonic start of the schedule */
    int64_t ts0;               /* the first record's time */
    int have_ts0;
    int64_t last_ts, last_sched, gap_shift;
    uint64_t taken;            /* records scheduled, for --rate */
    uint64_t out_of_order;     /* records with a time before the one before */
    struct rec *head, *tail;   /* waiting, in due order */
    struct rec *burst_head, *burst_tail; /* those of them the next record follows by more than linger */
    size_t n, bytes;
};

void sched_init(struct sched *s, int respect_timing, double speed, int64_t max_gap_ns, double rate, int64_t linger_ns,
                int64_t anchor_ns);
/* Frees the records still waiting; returns how many there were, lowering *first_row to the first's row. */
size_t sched_clear(struct sched *s, uint64_t *first_row);

/*
 * The due time of the next record, whose own time (when has_ts) is ts_ns;
 * *sched_ns gets the schedule's time for lateness (0 at full speed).
 * Returns 0 for "at once" at full speed.
 */
int64_t sched_due(struct sched *s, int has_ts, int64_t ts_ns, int64_t *sched_ns);

/* How long the schedule runs, for the report: from the first record's due time to the last's. */
int64_t sched_span(const struct sched *s, uint64_t records);

/* The queue of records not yet due (the queue owns them until pop). */
void sched_push(struct sched *s, struct rec *r);
struct rec *sched_pop(struct sched *s);
/* Nothing more follows the last queued record: it ends a burst. */
void sched_end_burst(struct sched *s);

#endif
