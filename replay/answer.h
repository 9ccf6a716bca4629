/*
 * answer.h — what a PutRecords answer means for each record it carried:
 * delivered, to be tried again, or failed for good. Pure functions of the
 * answer (transport result, HTTP status, body), so they are tested alone.
 *
 * Follows the Kinesis API Reference for PutRecords (Records[i] of the answer
 * reports on Records[i] of the request, FailedRecordCount first) and "Common
 * Errors" (which errors are throttling or server faults worth a retry, and
 * which refuse every further call the same way).
 */
#ifndef KT_ANSWER_H
#define KT_ANSWER_H

#include <stddef.h>

#include "jread.h"

enum fate { FATE_DELIVERED = 0, FATE_RETRY = 1, FATE_FAILED = 2 };

/* What became of one call, as a whole. */
struct answer {
    int ok;                    /* HTTP 200 */
    int fatal;                 /* every further call would be refused the same way: stop */
    char code[96];             /* the whole call's error ("connection: ...", an exception name, "HTTP 500"), or "" */
    size_t delivered;
};

/* The exception name of an error answer: "__type" without its namespace, or "HTTP <status>". */
void answer_error_type(struct jdoc *doc, const char *body, size_t len, long status, char *out, size_t cap);

/* 1 when an error is worth trying again (throttling, a server fault). */
int answer_retryable(const char *code, long status);
/* 1 when an error refuses every further call the same way (credentials, a missing stream, ...). */
int answer_fatal(const char *code, long status);

/* 1 when a PutRecords answer says FailedRecordCount 0 and holds n record results (read without parsing). */
int answer_all_delivered(const char *body, size_t len, size_t n);

/*
 * Classifies the answer to a PutRecords call of n records: fates[i] for
 * record i, the call's outcome in *out. transport_error is NULL when an
 * HTTP answer came (status, body), else curl's reason. The body is parsed
 * in place (doc is scratch). Each error code met is told to count(ctx, code):
 * the call's own, or one per failed record.
 */
void answer_classify(struct jdoc *doc, const char *transport_error, long status, char *body, size_t len, size_t n,
                     unsigned char *fates, struct answer *out, void (*count)(void *ctx, const char *code),
                     void *ctx);

#endif
