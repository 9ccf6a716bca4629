/*
 * schema.h — input shapes of the Kinesis operations and their validation.
 *
 * The shapes, bounds, patterns and enums are those of the Kinesis API model
 * (Kinesis_20131202, botocore's service-2.json). Validation happens in two
 * steps, as AWS does it:
 *
 *  1. types: a member of the wrong type is a SerializationException;
 *  2. constraints: missing required members, lengths, ranges, patterns and
 *     enums are collected into one ValidationException whose message uses
 *     AWS's wording, e.g.
 *       1 validation error detected: Value '0' at 'shardCount' failed to
 *       satisfy constraint: Member must have value greater than or equal to 1
 *
 * Unknown members are ignored, as by AWS.
 */
#ifndef KT_SCHEMA_H
#define KT_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "reqin.h"

enum schema_kind { SK_STRING, SK_INT, SK_LONG, SK_BOOL, SK_BLOB, SK_TIMESTAMP, SK_STRUCT, SK_LIST, SK_MAP };

enum schema_pattern {
    PAT_NONE,
    PAT_NAME,       /* [a-zA-Z0-9_.-]+ */
    PAT_HASH_KEY,   /* 0|([1-9]\d{0,38}) */
    PAT_SEQUENCE,   /* 0|([1-9]\d{0,128}) */
    PAT_STREAM_ARN, /* arn:aws.*:kinesis:.*:\d{12}:stream/\S+ */
    PAT_STREAM_ID,  /* [a-z0-9]{20}-[a-z0-9]{3} */
    PAT_CONSUMER_ARN, /* ^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+ */
    PAT_RESOURCE_ARN, /* arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+ (a stream or a consumer) */
};

#define SCHEMA_NOLIMIT INT64_MIN

struct schema_shape;

struct schema_field {
    const char *name;                  /* wire name: "StreamName" */
    enum schema_kind kind;
    int required;
    int64_t min, max;                  /* length (strings, blobs, lists, maps) or value bounds */
    enum schema_pattern pattern;
    const char *const *enums;          /* NULL-terminated */
    const struct schema_shape *shape;  /* members of a struct, or of a list's structs */
    const struct schema_field *elem;   /* element of a list of scalars; key of a map */
    const struct schema_field *value;  /* value of a map */
};

struct schema_shape {
    const struct schema_field *fields;
    size_t n;
};

enum schema_result { SCHEMA_OK, SCHEMA_SERIALIZATION, SCHEMA_VALIDATION };

/*
 * Checks `obj` (a map of the request `in`) against `shape`. On failure
 * appends the message to `msg` and returns which exception it is.
 */
enum schema_result schema_check(const struct schema_shape *shape, const struct reqin *in, const struct in_val *obj,
                                struct kbuf *msg);

/* Pattern check by itself (for values that arrive outside a request body). */
int schema_pattern_ok(enum schema_pattern p, const char *s, size_t n);
const char *schema_pattern_text(enum schema_pattern p);

/* The input shapes of the implemented operations. */
extern const struct schema_shape shape_CreateStream, shape_DeleteStream, shape_DescribeStream,
    shape_DescribeStreamSummary, shape_ListStreams, shape_ListShards, shape_PutRecord,
    shape_PutRecords, shape_GetShardIterator, shape_GetRecords, shape_AddTagsToStream,
    shape_RemoveTagsFromStream, shape_ListTagsForStream, shape_IncreaseStreamRetentionPeriod,
    shape_DecreaseStreamRetentionPeriod, shape_DescribeLimits, shape_SplitShard, shape_MergeShards,
    shape_UpdateShardCount, shape_RegisterStreamConsumer, shape_DescribeStreamConsumer,
    shape_DeregisterStreamConsumer, shape_ListStreamConsumers, shape_SubscribeToShard, shape_ListTagsForResource,
    shape_GetResourcePolicy, shape_DeleteResourcePolicy, shape_TagResource, shape_UntagResource,
    shape_PutResourcePolicy, shape_StartStreamEncryption, shape_StopStreamEncryption,
    shape_EnableEnhancedMonitoring, shape_DisableEnhancedMonitoring, shape_UpdateStreamMode,
    shape_UpdateMaxRecordSize, shape_UpdateStreamWarmThroughput, shape_DescribeAccountSettings,
    shape_UpdateAccountSettings;

#endif
