/*
 * rw.h — the response writer: how operations write their answers without
 * knowing the encoding.
 *
 * An operation describes its answer as a tree of calls (maps, lists, keys,
 * values); the writer's implementation turns them into bytes: JSON
 * (application/x-amz-json-1.1, rw_json.c) or CBOR
 * (application/x-amz-cbor-1.1, rw_cbor.c), two tables of the same calls, as
 * Redis's reply layer writes RESP2 or RESP3 from the same addReply* calls.
 *
 *   rw_map(w);  rw_key(w, "ShardId");  rw_str(w, id, n);  rw_end(w);
 *
 * Members are separated and lists closed by the implementation; a map's or
 * list's size is not needed up front. Blobs are raw bytes (JSON writes them
 * base64, CBOR as byte strings); timestamps are epoch milliseconds (JSON
 * writes seconds with three decimals, as AWS does; CBOR tag 1 and integer
 * milliseconds, as the AWS SDKs for Java read them).
 */
#ifndef KT_RW_H
#define KT_RW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

#define RW_MAX_DEPTH 32

struct rw;

struct rw_ops {
    const char *content_type;
    void (*map)(struct rw *w);
    void (*list)(struct rw *w);
    void (*end)(struct rw *w);      /* closes the innermost map or list */
    void (*key)(struct rw *w, const char *k, size_t n);
    void (*str)(struct rw *w, const char *s, size_t n);
    void (*ascii)(struct rw *w, const char *s, size_t n);
    void (*i64)(struct rw *w, int64_t v);
    void (*num)(struct rw *w, double v);
    void (*boolean)(struct rw *w, int v);
    void (*blob)(struct rw *w, const uint8_t *p, size_t n);
    void (*timestamp_ms)(struct rw *w, int64_t ms);
};

struct rw {
    const struct rw_ops *ops;
    struct kbuf *out;          /* not owned */
    int depth;
    uint32_t open;             /* bit d: the container at depth d has a member already */
    uint32_t lists;            /* bit d: the container at depth d is a list */
    int after_key;             /* the next value is a member's value */
};

/* Starts writing into out (emptied) with the JSON encoding. */
void rw_json_init(struct rw *w, struct kbuf *out);
/* ... with the CBOR encoding. */
void rw_cbor_init(struct rw *w, struct kbuf *out);

/* The Content-Type of what w writes. */
static inline const char *rw_content_type(const struct rw *w)
{
    return w->ops->content_type;
}

/* Drops what was written (an operation that fails half-way answers an error instead). */
static inline void rw_reset(struct rw *w)
{
    kbuf_reset(w->out);
    w->depth = 0;
    w->open = 0;
    w->lists = 0;
    w->after_key = 0;
}

static inline void rw_map(struct rw *w) { w->ops->map(w); }
static inline void rw_list(struct rw *w) { w->ops->list(w); }
static inline void rw_end(struct rw *w) { w->ops->end(w); }
static inline void rw_key(struct rw *w, const char *k) { w->ops->key(w, k, strlen(k)); }
static inline void rw_str(struct rw *w, const char *s, size_t n) { w->ops->str(w, s, n); }
static inline void rw_cstr(struct rw *w, const char *s) { w->ops->str(w, s, strlen(s)); }
/*
 * A string the emulator made itself (ids, sequence numbers, iterators, enum
 * values): printable ASCII without quotes or backslashes, so JSON needs no
 * escaping pass over it.
 */
static inline void rw_ascii(struct rw *w, const char *s, size_t n) { w->ops->ascii(w, s, n); }
static inline void rw_i64(struct rw *w, int64_t v) { w->ops->i64(w, v); }
static inline void rw_num(struct rw *w, double v) { w->ops->num(w, v); }
static inline void rw_bool(struct rw *w, int v) { w->ops->boolean(w, v); }
static inline void rw_blob(struct rw *w, const uint8_t *p, size_t n) { w->ops->blob(w, p, n); }
static inline void rw_timestamp_ms(struct rw *w, int64_t ms) { w->ops->timestamp_ms(w, ms); }

/* Key and value in one call, for the common members. */
static inline void rw_kstr(struct rw *w, const char *k, const char *s)
{
    rw_key(w, k);
    rw_cstr(w, s);
}

static inline void rw_kascii(struct rw *w, const char *k, const char *s)
{
    rw_key(w, k);
    rw_ascii(w, s, strlen(s));
}

static inline void rw_ki64(struct rw *w, const char *k, int64_t v)
{
    rw_key(w, k);
    rw_i64(w, v);
}

/*
 * Replaces what was written with an error answer: a map of "__type" and
 * "message", as every AWS JSON and CBOR client parses it (message NULL: the
 * bare {"__type": ...} AWS sends for some errors).
 */
void rw_error(struct rw *w, const char *type, const char *message);

/* An error answer in JSON into out: for errors found before any operation runs (HTTP, routing). */
void rw_json_error(struct kbuf *out, const char *type, const char *message);

#endif
