/*
 * report.h — the replay's words for people and programs: the final report
 * as text and as JSON, and the one-line progress. Each is written into a
 * buffer; the front end (replay_cmd.c) decides where it goes.
 */
#ifndef KT_REPORT_H
#define KT_REPORT_H

#include "buf.h"
#include "replay.h"

void report_text(struct kbuf *out, const struct replay_opts *o, const struct replay_stats *st);
void report_json(struct kbuf *out, const struct replay_opts *o, const struct replay_stats *st);

/* The progress line, cut to `width` columns (0: no limit), without its line end. */
void report_progress(struct kbuf *out, const struct replay_progress *p, int width);

#endif
