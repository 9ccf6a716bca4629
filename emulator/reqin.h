/*
 * reqin.h — the request reader: how operations and the schema read a
 * request's input without knowing its encoding.
 *
 * A body is decoded into a tree of values (JSON by common/jread.c, CBOR by
 * common/jcbor.c into the same tree), and everything above reads that
 * tree through these accessors only: a value is an opaque `struct in_val`,
 * looked at by type, string, integer, blob or by walking a list's elements
 * and a map's entries. Blobs hide their encoding: a JSON blob is base64
 * text, decoded by in_blob; a CBOR blob is a byte string (or base64 text,
 * as in JSON). A CBOR byte string is IN_BYTES: no string member takes one.
 *
 * Every pointer returned points into the decoded body and stays valid as
 * long as it does (until the next request on the same worker).
 */
#ifndef KT_REQIN_H
#define KT_REQIN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "errbuf.h"
#include "jread.h"

enum in_type { IN_NULL, IN_BOOL, IN_NUM, IN_STR, IN_LIST, IN_MAP, IN_BYTES };

struct in_val;

struct reqin {
    const struct jdoc *doc;    /* the decoded tree */
};

/* Decodes a JSON body in place (the text is modified). 0, or -1 with err set. */
int reqin_parse_json(struct reqin *in, struct jdoc *doc, char *text, size_t len, struct kt_err *err);

/*
 * Decodes a CBOR body (RFC 8949) into doc; its strings and numbers are
 * copied into arena, which must outlive the tree. 0, or -1 with err set
 * (the message names the byte offset).
 */
int reqin_parse_cbor(struct reqin *in, struct jdoc *doc, struct kbuf *arena, const uint8_t *body, size_t len,
                     struct kt_err *err);

/* The top-level value. */
const struct in_val *in_root(const struct reqin *in);

enum in_type in_type(const struct reqin *in, const struct in_val *v);
/* "a string", "an object" ...: the type as a message names it. */
const char *in_type_name(const struct reqin *in, const struct in_val *v);

/* Member `name` of a map (the last one when repeated), or NULL (also when m is NULL or not a map). */
const struct in_val *in_get(const struct reqin *in, const struct in_val *m, const char *name);

/* A string's bytes (NUL-terminated) and length; NULL when v is not a string. */
const char *in_str(const struct reqin *in, const struct in_val *v, size_t *len);

/* 1 when v is a whole number in range (set in *out), else 0. */
int in_int(const struct reqin *in, const struct in_val *v, long long *out);
/* 1 when v is a number written without fraction or exponent. */
int in_is_int(const struct reqin *in, const struct in_val *v);
/* A number as a double. */
double in_num(const struct reqin *in, const struct in_val *v);
/* A number as it was written (for messages), and its length. */
const char *in_num_text(const struct reqin *in, const struct in_val *v, size_t *len);
/* 1 when the number v is a timestamp in epoch milliseconds (CBOR tag 1), not seconds. */
int in_num_is_epoch_ms(const struct reqin *in, const struct in_val *v);
/* 1 when v is true, 0 when false or not a boolean. */
int in_bool(const struct reqin *in, const struct in_val *v);

/* Elements of a list, or entries of a map. */
size_t in_count(const struct reqin *in, const struct in_val *v);
/* The first element of a list, or the first key of a map; NULL when empty. */
const struct in_val *in_first(const struct reqin *in, const struct in_val *c);
/* The next element (or key) of container c after e; NULL at the end. */
const struct in_val *in_next(const struct reqin *in, const struct in_val *c, const struct in_val *e);
/* The value of a map entry, given its key. */
const struct in_val *in_value(const struct reqin *in, const struct in_val *key);

/* 1 when v can hold a blob (base64 text, or a CBOR byte string). */
int in_is_blob(const struct reqin *in, const struct in_val *v);
/* A blob's length in bytes, without decoding it (exact when it is well formed). */
size_t in_blob_len(const struct reqin *in, const struct in_val *v);
/* Bytes in_blob may write (at least in_blob_len). */
size_t in_blob_room(const struct reqin *in, const struct in_val *v);
/*
 * Decodes a blob into dst (room for in_blob_room bytes); *len is set.
 * Returns 0, or -1 with the offset of the first bad character in *bad.
 */
int in_blob(const struct reqin *in, const struct in_val *v, uint8_t *dst, size_t *len, size_t *bad);

#endif
