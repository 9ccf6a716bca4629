/* preflight.c — the stream check and creation before a replay (see preflight.h). */
#include "preflight.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "answer.h"
#include "batcher.h"
#include "jread.h"
#include "jsonw.h"
#include "ktime.h"
#include "rng.h"

/* StreamDescriptionSummary.StreamStatus of a DescribeStreamSummary answer, or "". */
static const char *stream_status_of(struct jdoc *doc, struct kbuf *resp)
{
    struct kt_err jerr;
    if (!resp->len || jdoc_parse(doc, resp->p, resp->len, &jerr, NULL) != 0)
        return "";
    const struct jnode *sum = jget(doc, jroot(doc), "StreamDescriptionSummary");
    const struct jnode *st = sum && sum->type == J_OBJ ? jget(doc, sum, "StreamStatus") : NULL;
    return st && st->type == J_STR ? jstr(doc, st) : "";
}

int preflight(struct sender *s, const char *stream, const struct replay_opts *o, int *bad_input, struct kt_err *err)
{
    struct kbuf body = KBUF_INIT, resp = KBUF_INIT;
    struct jdoc doc;
    jdoc_init(&doc);
    kbuf_puts(&body, strncmp(stream, "arn:", 4) == 0 ? "{\"StreamARN\":" : "{\"StreamName\":");
    jw_cstr(&body, stream);
    kbuf_putc(&body, '}');
    long status = 0;
    int created = 0, rc = -1, tries = 0;
    uint64_t rng = kt_rand_seed(7);
    *bad_input = 0;
    int64_t deadline = kt_mono_ns() + 300 * KT_NS_PER_SEC;
    for (;;) {
        const char *why = o->hooks.stop ? o->hooks.stop(o->hooks.ctx) : NULL;
        if (why) {
            kt_err_set(err, "interrupted by %s while checking stream %s", why, stream);
            break;
        }
        if (sender_call(s, "DescribeStreamSummary", body.p, &status, &resp, err) != 0)
            break;
        char code[80];
        answer_error_type(&doc, resp.p, resp.len, status, code, sizeof code);
        if (status == 200) {
            const char *state = stream_status_of(&doc, &resp);
            if (strcmp(state, "ACTIVE") == 0 || strcmp(state, "UPDATING") == 0) {
                rc = 0;
                break;
            }
            if (strcmp(state, "DELETING") == 0 || !*state) {
                kt_err_set(err, "stream %s cannot take records: its status is %s", stream, *state ? state : "unknown");
                *bad_input = 1;
                break;
            }
        } else if (strcmp(code, "ResourceNotFoundException") == 0 && o->create_stream && !created) {
            struct kbuf cb = KBUF_INIT, cr = KBUF_INIT;
            kbuf_appendf(&cb, "{\"StreamName\":");
            jw_cstr(&cb, stream);
            kbuf_appendf(&cb, ",\"ShardCount\":%d}", o->shards);
            long cs = 0;
            struct kt_err cerr;
            int crc = sender_call(s, "CreateStream", cb.p, &cs, &cr, &cerr);
            char ccode[80];
            answer_error_type(&doc, cr.p, cr.len, cs, ccode, sizeof ccode);
            if (crc != 0 || (cs != 200 && strcmp(ccode, "ResourceInUseException") != 0)) {
                kt_err_set(err, "cannot create stream %s: %s %.*s", stream, crc ? cerr.msg : ccode,
                           (int)(cr.len < 200 ? cr.len : 200), cr.p ? cr.p : "");
                *bad_input = 1;
                kbuf_free(&cb);
                kbuf_free(&cr);
                break;
            }
            replay_say(&o->hooks, REPLAY_NOTE, "created stream %s with %d shard%s", stream, o->shards, o->shards == 1 ? "" : "s");
            created = 1;
            kbuf_free(&cb);
            kbuf_free(&cr);
        } else if (strcmp(code, "ResourceNotFoundException") == 0) {
            kt_err_set(err, "stream %s does not exist at %s (in %s); --create-stream --shards N creates it", stream,
                       sender_url(s), o->creds.region);
            *bad_input = 1;
            break;
        } else if (answer_retryable(code, status) && tries < o->max_retries) {
            /* Throttled, or a server fault: tried again as a PutRecords call would be. */
            if (tries++ == 0)
                replay_say(&o->hooks, REPLAY_WARN, "DescribeStreamSummary for %s got %s (HTTP %ld): trying again (up to %d times)",
                     stream, code, status, o->max_retries);
            int64_t wait = batcher_backoff_ns((uint32_t)tries, &rng);
            struct timespec ts = {wait / KT_NS_PER_SEC, wait % KT_NS_PER_SEC};
            nanosleep(&ts, NULL);
            continue;
        } else {
            kt_err_set(err, "%s refused DescribeStreamSummary for %s with %s (HTTP %ld%s): %.*s; credentials from %s",
                       sender_url(s), stream, code, status, tries ? ", after retries" : "",
                       (int)(resp.len < 200 ? resp.len : 200), resp.p ? resp.p : "", o->creds.source);
            *bad_input = !answer_retryable(code, status);
            break;
        }
        if (kt_mono_ns() > deadline) {
            kt_err_set(err, "stream %s did not become ACTIVE within 5 minutes", stream);
            break;
        }
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    kbuf_free(&body);
    kbuf_free(&resp);
    jdoc_free(&doc);
    return rc;
}
