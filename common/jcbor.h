/*
 * jcbor.h — CBOR (RFC 8949) decoded into the JSON reader's tree (jread.h).
 *
 * Maps become J_OBJ (keys must be text), arrays J_ARR, text strings J_STR,
 * byte strings J_BYTES, integers and floats J_NUM (their decimal text is
 * written into the arena, so jint and jnum read them), tag 1 marks the
 * number after it as epoch milliseconds (jnode.epoch_ms: what the AWS SDKs
 * for Java send), other tags are passed over. Strings and numbers are
 * copied into the arena, which must outlive the tree; the body is not
 * changed. Bad input costs at most the body's size: see jcbor.c.
 */
#ifndef KT_JCBOR_H
#define KT_JCBOR_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "errbuf.h"
#include "jread.h"

/* 0, or -1 with err set (the message names the byte offset). */
int jdoc_parse_cbor(struct jdoc *doc, struct kbuf *arena, const uint8_t *body, size_t len, struct kt_err *err);

/* 1 when a Content-Type value names the AWS CBOR protocol (application/x-amz-cbor-1.1). */
int jcbor_content_type(const char *ctype, size_t len);

#endif
