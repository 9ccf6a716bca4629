/*
 * xfilter.h — the --filter expression language of `kintape extract`, and the
 * --path language that picks fields of an exchange.
 *
 * Filter grammar (whitespace between tokens is ignored):
 *
 *   expr    := and ( "||" and )*
 *   and     := unary ( "&&" unary )*
 *   unary   := "!" unary | "(" expr ")" | compare
 *   compare := FIELD OP VALUE
 *   FIELD   := op | stream | status | ts | method | conn | incomplete
 *   OP      := == | != | < | <= | > | >= | contains
 *   VALUE   := "text" | number | true | false | null
 *
 *   op        the Kinesis operation ("PutRecords")      text
 *   stream    the stream named by the request            text (null when none)
 *   status    the response status                        number (null without a response)
 *   ts        the request time: compare with "2026-11-21T10:00:00Z"
 *   method    the HTTP method                            text
 *   conn      the connection number                      number
 *   incomplete  whether the exchange is incomplete       true / false
 *
 * Path grammar: "." followed by member names or [index] / ["key"] steps, e.g.
 *   .ts   .http.request.body   .http.response.status   .kinesis.stream
 *   .http.request.headers[2][1]   .client["ip"]
 *
 * Both are compiled once, before any input is read; an error names the
 * offending character by its position.
 */
#ifndef KT_XFILTER_H
#define KT_XFILTER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "errbuf.h"
#include "jread.h"

struct xfilter;

/* The exchange fields filters compare, taken from a snapshot line. */
struct xfields {
    const char *op;
    const char *stream;
    int status;                /* 0: no response */
    int64_t ts_ns;
    const char *method;
    long long conn;
    int incomplete;
};

/*
 * Compiles `text`. Returns NULL with err set to a message that quotes the
 * expression and points at the character (a caret under it).
 */
struct xfilter *xfilter_compile(const char *text, struct kt_err *err);
void xfilter_free(struct xfilter *f);
int xfilter_match(const struct xfilter *f, const struct xfields *x);

struct xpath;

struct xpath *xpath_compile(const char *text, struct kt_err *err);
void xpath_free(struct xpath *p);
/* The path's text, as given (for the CSV header). */
const char *xpath_text(const struct xpath *p);
/* The node the path names in the document, or NULL when it is absent. */
const struct jnode *xpath_eval(const struct xpath *p, const struct jdoc *d, const struct jnode *root);

#endif
