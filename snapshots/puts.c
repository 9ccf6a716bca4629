/* puts.c — records of PutRecord/PutRecords exchanges and their outcomes (see puts.h). */
#include "puts.h"

#include <stdio.h>
#include <string.h>

#include "jcbor.h"

void puts_init(struct puts *p)
{
    memset(p, 0, sizeof *p);
    jdoc_init(&p->req);
    jdoc_init(&p->resp);
}

void puts_free(struct puts *p)
{
    jdoc_free(&p->req);
    jdoc_free(&p->resp);
    kbuf_free(&p->req_text);
    kbuf_free(&p->resp_text);
}

int puts_is_put(const char *op)
{
    return op && (strcmp(op, "PutRecords") == 0 || strcmp(op, "PutRecord") == 0);
}

/*
 * Decodes a message's body into doc (CBOR into text). 0; -1 when the body
 * cannot be had (err set); -2 when it is not a JSON object or CBOR map.
 */
static int parse_body(struct snap_reader *r, struct jdoc *doc, struct kbuf *text, const struct jnode *msg,
                      struct kt_err *err)
{
    const uint8_t *body;
    size_t len;
    const char *ctype = snap_header(r, msg, "content-type");
    if (snap_body(r, msg, &body, &len, err) != 0)
        return -1;
    struct kt_err jerr;
    int rc = jcbor_content_type(ctype, ctype ? strlen(ctype) : 0)
                 ? jdoc_parse_cbor(doc, text, body, len, &jerr)
                 /* The body lives in the reader's line (or scratch) buffer, which we may change. */
                 : jdoc_parse(doc, (char *)body, len, &jerr, NULL);
    if (rc != 0 || jroot(doc)->type != J_OBJ)
        return -2;
    return 0;
}

static const char *str_member(const struct jdoc *d, const struct jnode *obj, const char *key, size_t *len)
{
    const struct jnode *n = jget(d, obj, key);
    if (!n || n->type != J_STR)
        return NULL;
    if (len)
        *len = n->len;
    return jstr(d, n);
}

enum puts_status puts_decode(struct puts *p, struct snap_reader *r, const struct snap_rec *rec, struct kt_err *err)
{
    p->r = r;
    p->rec = rec;
    p->index = 0;
    p->list = p->cur = p->results = p->res = NULL;
    p->resp_ok = 0;
    p->whole[0] = '\0';
    p->batch = strcmp(rec->operation, "PutRecords") == 0;
    struct kt_err berr;
    int rc = parse_body(r, &p->req, &p->req_text, rec->req, &berr);
    const struct jnode *root = rc == 0 ? jroot(&p->req) : NULL;
    p->list = p->batch ? jget(&p->req, root, "Records") : root;
    if (rc != 0 || (p->batch && (!p->list || p->list->type != J_ARR))) {
        /* A request cut by the capture, or refused as unreadable by the server, is not bad input. */
        if (rec->incomplete && rec->incomplete[0])
            return PUTS_INCOMPLETE;
        if (rec->resp && rec->status != 200)
            return PUTS_REFUSED;
        if (rc == -1)
            kt_err_set(err, "request body: %s", berr.msg);
        else if (rc == -2)
            kt_err_set(err, "the request body is not a JSON object or CBOR map, so not a %s request",
                       rec->operation);
        else
            kt_err_set(err, "the PutRecords request has no Records array");
        return PUTS_BAD;
    }
    p->cur = p->batch ? jfirst(&p->req, p->list) : p->list;
    if (!rec->resp)
        return PUTS_OK;
    /* The response: per-record results, or one error for all. */
    int r2 = parse_body(r, &p->resp, &p->resp_text, rec->resp, &berr);
    if (r2 == -1) {
        kt_err_set(err, "response body: %s", berr.msg);
        return PUTS_BAD;
    }
    if (rec->status == 200 && r2 == 0) {
        p->resp_ok = 1;
        p->results = p->batch ? jget(&p->resp, jroot(&p->resp), "Records") : jroot(&p->resp);
        p->res = !p->batch ? p->results
                 : p->results && p->results->type == J_ARR ? jfirst(&p->resp, p->results) : NULL;
    } else {
        const char *type = r2 == 0 ? str_member(&p->resp, jroot(&p->resp), "__type", NULL) : NULL;
        if (type)
            snprintf(p->whole, sizeof p->whole, "%s", strchr(type, '#') ? strchr(type, '#') + 1 : type);
        else
            snprintf(p->whole, sizeof p->whole, "HTTP %d", rec->status);
    }
    return PUTS_OK;
}

size_t puts_count(const struct puts *p)
{
    if (!p->list)
        return 0;
    return p->batch ? p->list->len : 1;
}

int puts_next(struct puts *p, struct put_rec *out)
{
    const struct jnode *r = p->cur;
    if (!r)
        return 0;
    memset(out, 0, sizeof *out);
    out->index = p->index++;
    const struct jnode *entry = p->res;
    if (p->batch) {
        p->cur = jnext(&p->req, p->list, r);
        if (p->res)
            p->res = jnext(&p->resp, p->results, p->res);
    } else {
        p->cur = NULL;
    }
    /* The outcome. */
    if (!p->rec->resp) {
        out->error = "(no response)";
    } else if (!p->resp_ok) {
        out->error = p->whole;
    } else {
        const char *code = entry ? str_member(&p->resp, entry, "ErrorCode", NULL) : NULL;
        out->shard = entry ? str_member(&p->resp, entry, "ShardId", NULL) : NULL;
        out->seq = entry ? str_member(&p->resp, entry, "SequenceNumber", NULL) : NULL;
        if (code)
            out->error = code;
        else if (!out->seq)
            out->error = "(no result for this record in the response)";
    }
    /* The record. */
    if (r->type != J_OBJ) {
        out->bad = "is not an object";
        return 1;
    }
    const struct jnode *data = jget(&p->req, r, "Data");
    if (data && (data->type == J_STR || data->type == J_BYTES)) {
        out->data = jstr(&p->req, data);
        out->data_len = data->len;
        out->data_raw = data->type == J_BYTES;
    }
    out->key = str_member(&p->req, r, "PartitionKey", &out->key_len);
    out->ehk = str_member(&p->req, r, "ExplicitHashKey", &out->ehk_len);
    if (!out->data)
        out->bad = "has no Data string or byte string";
    else if (!out->key)
        out->bad = "has no PartitionKey string";
    return 1;
}
