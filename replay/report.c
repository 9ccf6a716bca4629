/*
 * report.c — the replay's report and progress line (see report.h).
 *
 * The report accounts for every row read exactly once, in the same words
 * as the JSON: records sent, failed for good (after being sent, with the
 * errors), not sendable (named as they were met), and not sent because the
 * replay stopped (with why, and the --skip-rows that resumes at the first).
 */
#include "report.h"

#include <stdio.h>

#include "jsonw.h"

static const char *plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

static unsigned long long u(uint64_t n)
{
    return (unsigned long long)n;
}

static void pct_line(struct kbuf *b, const char *label, const struct hist *h)
{
    kbuf_appendf(b, "%-10s p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms\n", label,
                 hist_pct(h, 50) / 1e6, hist_pct(h, 90) / 1e6, hist_pct(h, 99) / 1e6, hist_pct(h, 99.9) / 1e6,
                 h->max / 1e6);
}

/* Rows read that are not this replay's records: skipped, other slices', refused when captured. */
static void rows_line(struct kbuf *b, const struct replay_stats *st)
{
    if (st->rows == st->records)
        return;
    kbuf_appendf(b, "rows       %llu read:", u(st->rows));
    const char *sep = " ";
    if (st->skipped_rows) {
        kbuf_appendf(b, "%s%llu skipped (--skip-rows)", sep, u(st->skipped_rows));
        sep = ", ";
    }
    if (st->other_slice) {
        kbuf_appendf(b, "%s%llu of other slices (--split)", sep, u(st->other_slice));
        sep = ", ";
    }
    if (st->refused_skipped) {
        kbuf_appendf(b, "%s%llu refused when captured (their error_code; --include-refused sends them)", sep,
                     u(st->refused_skipped));
        sep = ", ";
    }
    kbuf_appendf(b, "%s%llu record%s\n", sep, u(st->records), plural(st->records));
}

static void stop_lines(struct kbuf *b, const struct replay_opts *o, const struct replay_stats *st)
{
    if (!st->stop[0])
        return;
    kbuf_appendf(b, "stopped    %s\n", st->stop);
    if (!st->first_not_sent)
        return;
    if (o->loops > 1) {
        kbuf_appendf(b, "resume     the first row not sent is row %llu (of a --loop pass)\n", u(st->first_not_sent));
        return;
    }
    kbuf_appendf(b, "resume     the first row not sent is row %llu: --skip-rows %llu starts there", u(st->first_not_sent),
                 u(st->resume_skip));
    if (st->sent_after)
        kbuf_appendf(b, " (%llu record%s after it %s sent already and would be sent again)", u(st->sent_after),
                     plural(st->sent_after), st->sent_after == 1 ? "was" : "were");
    kbuf_putc(b, '\n');
}

void report_text(struct kbuf *b, const struct replay_opts *o, const struct replay_stats *st)
{
    double secs = (double)(st->ended_ns - st->started_ns) / 1e9;
    if (o->dry_run) {
        uint64_t planned = st->records - st->invalid - st->not_sent;
        kbuf_appendf(b, "plan       %llu record%s in %llu PutRecords call%s (at most %llu records, %llu bytes a call); "
                        "%llu row%s not sendable\n",
                     u(planned), plural(planned), u(st->batches), plural(st->batches), u(st->max_batch_records),
                     u(st->max_batch_bytes), u(st->invalid), plural(st->invalid));
        for (size_t i = 0; i < st->nstreams; i++)
            kbuf_appendf(b, "  %-24s %llu record%s in %llu call%s\n", st->streams[i].name, u(st->streams[i].records),
                         plural(st->streams[i].records), u(st->streams[i].calls), plural(st->streams[i].calls));
        if (st->timed)
            kbuf_appendf(b, "schedule   %.3f s\n", st->planned_ns / 1e9);
        stop_lines(b, o, st);
        return;
    }
    rows_line(b, st);
    kbuf_appendf(b, "records    %llu read, %llu sent, %llu failed for good, %llu not sendable, %llu not sent; "
                    "%llu retr%s\n",
                 u(st->records), u(st->sent), u(st->failed), u(st->invalid), u(st->not_sent), u(st->retried),
                 st->retried == 1 ? "y" : "ies");
    if (st->bad_times)
        kbuf_appendf(b, "           %llu record%s had a time that could not be read (sent: only --respect-timing "
                        "needs times)\n",
                     u(st->bad_times), plural(st->bad_times));
    stop_lines(b, o, st);
    kbuf_appendf(b, "bytes      %llu of data and keys sent\n", u(st->bytes_sent));
    if (st->requests)
        kbuf_appendf(b, "requests   %llu PutRecords (%llu answered 200); batches of up to %llu record%s, %llu bytes\n",
                     u(st->requests), u(st->requests_ok), u(st->max_batch_records), plural(st->max_batch_records),
                     u(st->max_batch_bytes));
    else
        kbuf_puts(b, "requests   none sent\n");
    if (st->timed_out)
        kbuf_appendf(b, "           %llu timed out after --timeout %.3g s (not in the latency figures)\n",
                     u(st->timed_out), o->timeout_ms / 1000.0);
    kbuf_appendf(b, "throughput %.0f records/s, %.1f MB/s over %.3f s\n", secs > 0 ? st->sent / secs : 0,
                 secs > 0 ? st->bytes_sent / secs / 1e6 : 0, secs);
    if (st->nstreams > 1)
        for (size_t i = 0; i < st->nstreams; i++)
            kbuf_appendf(b, "%-10s %s: %llu records, %llu sent, %llu calls\n", i ? "" : "streams",
                         st->streams[i].name, u(st->streams[i].records), u(st->streams[i].sent),
                         u(st->streams[i].calls));
    if (st->latency.n)
        pct_line(b, "latency", &st->latency);
    for (size_t i = 0; i < st->nerrors; i++)
        kbuf_appendf(b, "%-10s %s %llu\n", i ? "" : "errors", st->errors[i].code, u(st->errors[i].n));
    if (st->overtaken)
        kbuf_appendf(b, "order      %llu record%s overtaken by a later record of the same key that succeeded in "
                        "the same call while %s failed (--strict-order prevents it)\n",
                     u(st->overtaken), st->overtaken == 1 ? " was" : "s were", st->overtaken == 1 ? "it" : "they");
    if (st->timed && st->lateness.n) {
        kbuf_appendf(b, "lateness   p50 %.3f ms  p99 %.3f ms  max %.3f ms (records sent after their scheduled time)\n",
                     hist_pct(&st->lateness, 50) / 1e6, hist_pct(&st->lateness, 99) / 1e6, st->lateness.max / 1e6);
        if (st->latency_sched.n)
            pct_line(b, "latency*", &st->latency_sched);
        kbuf_appendf(b, "timing     took %.3f s for a %.3f s schedule", secs, st->planned_ns / 1e9);
        if (o->respect_timing)
            kbuf_appendf(b, " (original span %.3f s at speed %g)", (st->last_ts - st->first_ts) / 1e9, o->speed);
        kbuf_putc(b, '\n');
        if (st->out_of_order)
            kbuf_appendf(b, "           %llu record%s had a time earlier than the record before: sent right after it\n",
                         u(st->out_of_order), plural(st->out_of_order));
    }
    kbuf_appendf(b, "cpu        %.2f s (%.2f us per record)\n", st->cpu_seconds,
                 st->records ? st->cpu_seconds * 1e6 / (double)st->records : 0);
}

static void hist_json(struct kbuf *b, const char *name, const struct hist *h)
{
    kbuf_appendf(b,
                 "\"%s\":{\"count\":%llu,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,"
                 "\"max_ms\":%.3f}",
                 name, u(h->n), hist_pct(h, 50) / 1e6, hist_pct(h, 90) / 1e6, hist_pct(h, 99) / 1e6,
                 hist_pct(h, 99.9) / 1e6, h->max / 1e6);
}

void report_json(struct kbuf *b, const struct replay_opts *o, const struct replay_stats *st)
{
    double secs = (double)(st->ended_ns - st->started_ns) / 1e9;
    kbuf_puts(b, "{\"csv\":");
    jw_cstr(b, o->csv);
    kbuf_puts(b, ",\"stream\":");
    if (o->stream)
        jw_cstr(b, o->stream);
    else
        kbuf_puts(b, "null");
    kbuf_puts(b, ",\"endpoint\":");
    jw_cstr(b, o->endpoint);
    kbuf_puts(b, ",\"region\":");
    jw_cstr(b, o->creds.region);
    kbuf_appendf(b,
                 ",\"dry_run\":%s,\"rows\":{\"read\":%llu,\"skipped\":%llu,\"other_slices\":%llu,"
                 "\"refused_skipped\":%llu},"
                 "\"records\":{\"read\":%llu,\"sent\":%llu,\"failed\":%llu,\"not_sendable\":%llu,\"not_sent\":%llu,"
                 "\"retries\":%llu,\"overtaken\":%llu,\"refused_skipped\":%llu,\"bad_times\":%llu},",
                 o->dry_run ? "true" : "false", u(st->rows), u(st->skipped_rows), u(st->other_slice),
                 u(st->refused_skipped), u(st->records), u(st->sent), u(st->failed), u(st->invalid), u(st->not_sent),
                 u(st->retried), u(st->overtaken), u(st->refused_skipped), u(st->bad_times));
    kbuf_puts(b, "\"stopped\":");
    if (st->stop[0]) {
        kbuf_puts(b, "{\"reason\":");
        jw_cstr(b, st->stop);
        kbuf_appendf(b, ",\"bad_input\":%s", st->stop_bad_input ? "true" : "false");
        if (st->first_not_sent)
            kbuf_appendf(b, ",\"first_row_not_sent\":%llu,\"skip_rows_to_resume\":%llu,\"sent_after_it\":%llu",
                         u(st->first_not_sent), u(st->resume_skip), u(st->sent_after));
        kbuf_putc(b, '}');
    } else {
        kbuf_puts(b, "null");
    }
    kbuf_appendf(b,
                 ",\"bytes_sent\":%llu,\"requests\":{\"total\":%llu,\"ok\":%llu,\"timed_out\":%llu},"
                 "\"duration_s\":%.6f,\"records_per_s\":%.1f,",
                 u(st->bytes_sent), u(st->requests), u(st->requests_ok), u(st->timed_out), secs,
                 secs > 0 ? st->sent / secs : 0);
    hist_json(b, "latency", &st->latency);
    kbuf_puts(b, ",\"streams\":[");
    for (size_t i = 0; i < st->nstreams; i++) {
        kbuf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        jw_cstr(b, st->streams[i].name);
        kbuf_appendf(b, ",\"records\":%llu,\"sent\":%llu,\"calls\":%llu}", u(st->streams[i].records),
                     u(st->streams[i].sent), u(st->streams[i].calls));
    }
    kbuf_puts(b, "],\"errors\":{");
    for (size_t i = 0; i < st->nerrors; i++) {
        if (i)
            kbuf_putc(b, ',');
        jw_cstr(b, st->errors[i].code);
        kbuf_appendf(b, ":%llu", u(st->errors[i].n));
    }
    kbuf_putc(b, '}');
    if (st->timed) {
        kbuf_putc(b, ',');
        hist_json(b, "lateness", &st->lateness);
        kbuf_putc(b, ',');
        hist_json(b, "latency_from_schedule", &st->latency_sched);
        kbuf_appendf(b, ",\"schedule_s\":%.6f,\"original_span_s\":%.6f,\"speed\":%g,\"out_of_order\":%llu",
                     st->planned_ns / 1e9, (st->last_ts - st->first_ts) / 1e9, o->speed, u(st->out_of_order));
    }
    kbuf_appendf(b,
                 ",\"batches\":{\"count\":%llu,\"max_records\":%llu,\"max_bytes\":%llu},\"cpu_s\":%.3f,"
                 "\"cpu_us_per_record\":%.3f}\n",
                 u(st->batches), u(st->max_batch_records), u(st->max_batch_bytes), st->cpu_seconds,
                 st->records ? st->cpu_seconds * 1e6 / (double)st->records : 0);
}

void report_progress(struct kbuf *b, const struct replay_progress *p, int width)
{
    size_t start = b->len;
    double rate = p->seconds > 0 ? (double)p->sent / p->seconds : 0;
    kbuf_appendf(b, "%llu sent  %.0f rec/s  in flight %d  retries %llu  failed %llu", u(p->sent), rate, p->inflight,
                 u(p->retried), u(p->failed));
    if (p->percent >= 0) {
        double left = p->percent > 0.5 ? p->seconds * (100.0 - p->percent) / p->percent : 0;
        kbuf_appendf(b, "  %.1f%% read  %s%.0fs left", p->percent, p->percent > 0.5 ? "" : "~", left);
    }
    if (p->top_error)
        kbuf_appendf(b, "  top error %s x%llu", p->top_error, u(p->top_error_n));
    /* Never wider than the terminal: a wrapped line cannot be redrawn in place. */
    if (width > 1 && b->len - start > (size_t)width - 1) {
        b->len = start + (size_t)width - 1;
        b->p[b->len] = '\0';
    }
}
