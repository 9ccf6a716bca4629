/*
 * preflight.h — before a replay sends anything: is the endpoint there, are
 * the credentials good, does the stream exist and take records? With
 * create, a missing stream is created and waited for until ACTIVE.
 */
#ifndef KT_PREFLIGHT_H
#define KT_PREFLIGHT_H

#include "errbuf.h"
#include "replay.h"
#include "sender.h"

/*
 * Checks `stream` with DescribeStreamSummary (and creates it with o->shards
 * shards under o->create_stream). Returns 0, or -1 with err set and
 * *bad_input saying whether the user's input is to blame (a missing stream,
 * refused credentials) rather than the endpoint. A stream created is told
 * to hooks->message.
 */
int preflight(struct sender *s, const char *stream, const struct replay_opts *o, int *bad_input, struct kt_err *err);

#endif
