/*
 * subreq.h — where a SubscribeToShard stream starts: what the operation
 * (ops_consumers.c) found, handed through the API and routing layers to the
 * protocol, which starts the subscription (subscribe.h) with it.
 */
#ifndef KT_SUBREQ_H
#define KT_SUBREQ_H

#include <stdint.h>

struct sub_req {
    char region[64];
    char stream[129];
    char consumer[129];
    char account[13];
    uint64_t epoch;
    uint32_t shard;
    uint64_t index;            /* the next record it sends */
    int cbor;                  /* events in CBOR (the request was) */
};

#define SUB_CONTENT_TYPE "application/vnd.amazon.eventstream"

#endif
