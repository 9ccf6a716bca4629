/*
 * puts.h — the records of one PutRecord or PutRecords exchange in a
 * snapshot, and what became of each.
 *
 * Follows the Kinesis API Reference for PutRecord and PutRecords: Records[i]
 * of a PutRecords response answers Records[i] of its request, with
 * SequenceNumber and ShardId, or ErrorCode and ErrorMessage; any other
 * answer than 200 refuses every record. Bodies are JSON, or CBOR when
 * their Content-Type is application/x-amz-cbor-1.1 (the AWS SDKs for Java;
 * Data is then a byte string). Used by the extractor (one CSV row a
 * record) and `kintape snapshot stats` (records put and failed), so both
 * count the same records from the same decoded bodies.
 */
#ifndef KT_PUTS_H
#define KT_PUTS_H

#include <stddef.h>

#include "buf.h"
#include "errbuf.h"
#include "jread.h"
#include "snap.h"

enum puts_status {
    PUTS_OK,                   /* the request was read: iterate its records */
    PUTS_INCOMPLETE,           /* the capture cut the exchange and its request cannot be read */
    PUTS_REFUSED,              /* the server refused a request that cannot be read (bad JSON, ...) */
    PUTS_BAD,                  /* a complete, accepted exchange whose request cannot be read: err says why */
};

struct puts {
    struct snap_reader *r;
    const struct snap_rec *rec;
    struct jdoc req, resp;
    struct kbuf req_text, resp_text; /* the strings of CBOR bodies (common/jcbor.h) */
    int batch;                 /* PutRecords */
    const struct jnode *list;  /* the request's Records (PutRecords) or the request (PutRecord) */
    const struct jnode *cur;   /* the next record */
    const struct jnode *results, *res;
    int resp_ok;               /* HTTP 200 with a readable body */
    size_t index;
    char whole[160];           /* the error that refused every record */
};

/* One record of the request and its outcome; views into the decoded bodies. */
struct put_rec {
    size_t index;              /* from 0 */
    const char *bad;           /* why this record cannot be read (not an object, no Data...), or NULL */
    const char *data;          /* Data as sent: base64 (JSON), or the bytes themselves when data_raw */
    size_t data_len;
    int data_raw;
    const char *key, *ehk;     /* ehk NULL when absent */
    size_t key_len, ehk_len;
    const char *shard, *seq;   /* where it went, when accepted */
    const char *error;         /* NULL when accepted; the error code, "(no response)", ... otherwise */
};

void puts_init(struct puts *p);
void puts_free(struct puts *p);

/*
 * Decodes the bodies of a PutRecord or PutRecords exchange (rec, read by r;
 * both must stay as they are while its records are read). Returns what it
 * found; err is set for PUTS_BAD and for a body that cannot be read at all.
 */
enum puts_status puts_decode(struct puts *p, struct snap_reader *r, const struct snap_rec *rec, struct kt_err *err);

/* The request's records, in order: 1 with out filled, 0 after the last. */
int puts_next(struct puts *p, struct put_rec *out);

/* Records in the decoded request (PutRecord: 1). */
size_t puts_count(const struct puts *p);

/* 1 when the operation is PutRecord or PutRecords. */
int puts_is_put(const char *operation);

#endif
