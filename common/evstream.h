/*
 * evstream.h — the AWS event-stream encoding (application/vnd.amazon.eventstream),
 * in which SubscribeToShard sends its events:
 *
 *   u32 total length | u32 headers length | u32 CRC32 of the 8 bytes before |
 *   headers | payload | u32 CRC32 of everything before
 *
 * each header `u8 name length | name | u8 type | value`, here always type 7
 * (a string: u16 length | bytes). Lengths and CRCs are big-endian.
 */
#ifndef KT_EVSTREAM_H
#define KT_EVSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define EVS_PRELUDE 12
#define EVS_MAX_MESSAGE ((size_t)16 << 20)  /* what the SDKs accept in one message */

struct evs_header {
    const char *name;
    const char *value;
};

/* Appends one message with string headers h[0..n) and the payload to out. */
void evs_encode(struct kbuf *out, const struct evs_header *h, size_t n, const void *payload, size_t len);

/*
 * Reads one message at p[0..len): 0 with *msg_len, the payload (a view into
 * p) and up to cap string headers in h (*nh), 1 when more bytes are needed,
 * or -1 with a description in err (errcap bytes) when it is not a valid
 * message (bad lengths or CRCs, a header of another type).
 */
int evs_decode(const uint8_t *p, size_t len, size_t *msg_len, struct evs_header *h, char (*names)[256],
               char (*values)[256], size_t cap, size_t *nh, const uint8_t **payload, size_t *plen, char *err,
               size_t errcap);

#endif
