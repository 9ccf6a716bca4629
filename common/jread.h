/*
 * jread.h — a strict, zero-copy JSON reader for request bodies (RFC 8259).
 *
 * Why not jansson here: building a jansson tree for a 500-record PutRecords
 * body costs thousands of allocations, and a profile of the emulator under
 * load showed jansson taking 59% of its CPU. This reader makes one pass over
 * the text, unescapes strings in place (so it needs a mutable buffer) and
 * records a flat array of nodes in document order; nothing else is
 * allocated. Strings are NUL-terminated in place as well.
 *
 *   {"a": [1, "x"]}  ->  [0] OBJ n=1   [1] STR "a"   [2] ARR n=2   [3] NUM 1   [4] STR "x"
 *
 * Each node knows the index just past its subtree (`next`), so siblings are
 * one step apart. An object's children alternate key, value.
 */
#ifndef KT_JREAD_H
#define KT_JREAD_H

#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"

/* J_BYTES (raw bytes, not text) is never made from JSON: the emulator's CBOR reader builds the same tree. */
enum jtype { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ, J_BYTES };

struct jnode {
    uint8_t type;
    uint8_t is_int;     /* J_NUM without fraction or exponent */
    uint8_t epoch_ms;   /* J_NUM that is a timestamp in epoch milliseconds (CBOR tag 1, as the AWS SDKs send it) */
    uint32_t start;     /* offset of the text: string content, number digits */
    uint32_t len;       /* string or byte string bytes (unescaped), number characters, or children of ARR/OBJ */
    uint32_t next;      /* index of the node after this subtree */
};

struct jdoc {
    char *text;
    size_t text_len;
    struct jnode *nodes;
    size_t n, cap;
    int max_depth;
};

#define JREAD_MAX_DEPTH 64
#define JREAD_MAX_NODES 200000  /* values in one document (a 500-record PutRecords has about 2,000) */

void jdoc_init(struct jdoc *d);
void jdoc_free(struct jdoc *d);

/*
 * Parses text[0..len) in place. Returns 0, or -1 with a message in err and
 * the byte offset of the problem in *err_at (when not NULL). The document's
 * nodes stay valid until the next jdoc_parse on the same jdoc.
 */
int jdoc_parse(struct jdoc *d, char *text, size_t len, struct kt_err *err, size_t *err_at);

static inline const struct jnode *jroot(const struct jdoc *d)
{
    return d->n ? &d->nodes[0] : NULL;
}

/* Member `key` of an object (the last one, if repeated), or NULL. */
const struct jnode *jget(const struct jdoc *d, const struct jnode *obj, const char *key);

/* First child of an array, or first key of an object; NULL when empty. */
const struct jnode *jfirst(const struct jdoc *d, const struct jnode *container);
/* The sibling after n inside `container`, or NULL at the end. */
const struct jnode *jnext(const struct jdoc *d, const struct jnode *container, const struct jnode *n);

/* NUL-terminated string content (J_STR only). */
static inline const char *jstr(const struct jdoc *d, const struct jnode *n)
{
    return d->text + n->start;
}

/* Integer value of a J_NUM; returns -1 when it is not an integer or overflows. */
int jint(const struct jdoc *d, const struct jnode *n, long long *out);
/* Any J_NUM as a double. */
double jnum(const struct jdoc *d, const struct jnode *n);

const char *jtype_name(enum jtype t);

/*
 * Finds the string value of top-level member `key` in JSON object text
 * without parsing the rest: other values are skipped, strings by a fast scan
 * for quotes. Returns 1 with the raw (still escaped) value in val and vlen,
 * 0 when absent or not a string, -1 when the text is not a JSON object.
 * The text is not modified. Used where one member of a large body is needed.
 */
int jscan_top_string(const char *text, size_t len, const char *key, const char **val, size_t *vlen);

#endif
