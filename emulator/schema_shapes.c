/*
 * schema_shapes.c — the input shapes of the Kinesis operations, from the API
 * model (Kinesis_20131202, botocore's service-2.json): members, whether they
 * are required, their bounds, patterns and enums (see schema.h).
 */
#include "schema.h"

#define NL SCHEMA_NOLIMIT

#define STR(n, req, lo, hi, pat) {n, SK_STRING, req, lo, hi, pat, NULL, NULL, NULL, NULL}
#define INT(n, req, lo, hi) {n, SK_INT, req, lo, hi, PAT_NONE, NULL, NULL, NULL, NULL}
#define BOOL(n) {n, SK_BOOL, 0, NL, NL, PAT_NONE, NULL, NULL, NULL, NULL}
#define TS(n) {n, SK_TIMESTAMP, 0, NL, NL, PAT_NONE, NULL, NULL, NULL, NULL}
#define ENUM(n, req, set) {n, SK_STRING, req, NL, NL, PAT_NONE, set, NULL, NULL, NULL}
#define SHAPE(a) {a, sizeof(a) / sizeof((a)[0])}

#define F_STREAM_NAME(req) STR("StreamName", req, 1, 128, PAT_NAME)
#define F_STREAM_ARN STR("StreamARN", 0, 1, 2048, PAT_STREAM_ARN)
#define F_STREAM_ID STR("StreamId", 0, 1, 24, PAT_STREAM_ID)

static const char *const stream_modes[] = {"PROVISIONED", "ON_DEMAND", NULL};
static const char *const iterator_types[] = {"AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER",
                                             "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP", NULL};
static const char *const shard_filter_types[] = {"AFTER_SHARD_ID", "AT_TRIM_HORIZON",
                                                 "FROM_TRIM_HORIZON", "AT_LATEST",
                                                 "AT_TIMESTAMP", "FROM_TIMESTAMP", NULL};

static const struct schema_field tag_key = STR("TagKey", 0, 1, 128, PAT_NONE);
static const struct schema_field tag_value = STR("TagValue", 0, 0, 256, PAT_NONE);
#define F_TAGS(req) {"Tags", SK_MAP, req, 1, 200, PAT_NONE, NULL, NULL, &tag_key, &tag_value}

static const struct schema_field stream_mode_details_f[] = {
    ENUM("StreamMode", 1, stream_modes),
};
static const struct schema_shape stream_mode_details = SHAPE(stream_mode_details_f);

static const struct schema_field create_stream_f[] = {
    F_STREAM_NAME(1),
    INT("ShardCount", 0, 1, NL),
    {"StreamModeDetails", SK_STRUCT, 0, NL, NL, PAT_NONE, NULL, &stream_mode_details, NULL, NULL},
    F_TAGS(0),
    INT("WarmThroughputMiBps", 0, 0, NL),
    INT("MaxRecordSizeInKiB", 0, 1024, 10240),
};
const struct schema_shape shape_CreateStream = SHAPE(create_stream_f);

static const struct schema_field delete_stream_f[] = {
    F_STREAM_NAME(0),
    BOOL("EnforceConsumerDeletion"),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_DeleteStream = SHAPE(delete_stream_f);

static const struct schema_field describe_stream_f[] = {
    F_STREAM_NAME(0),
    INT("Limit", 0, 1, 10000),
    STR("ExclusiveStartShardId", 0, 1, 128, PAT_NAME),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_DescribeStream = SHAPE(describe_stream_f);

static const struct schema_field stream_only_f[] = {
    F_STREAM_NAME(0),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_DescribeStreamSummary = SHAPE(stream_only_f);

static const struct schema_field list_streams_f[] = {
    INT("Limit", 0, 1, 10000),
    STR("ExclusiveStartStreamName", 0, 1, 128, PAT_NAME),
    STR("NextToken", 0, 1, 1048576, PAT_NONE),
};
const struct schema_shape shape_ListStreams = SHAPE(list_streams_f);

static const struct schema_field shard_filter_f[] = {
    ENUM("Type", 1, shard_filter_types),
    STR("ShardId", 0, 1, 128, PAT_NAME),
    TS("Timestamp"),
};
static const struct schema_shape shard_filter = SHAPE(shard_filter_f);

static const struct schema_field list_shards_f[] = {
    F_STREAM_NAME(0),
    STR("NextToken", 0, 1, 1048576, PAT_NONE),
    STR("ExclusiveStartShardId", 0, 1, 128, PAT_NAME),
    INT("MaxResults", 0, 1, 10000),
    TS("StreamCreationTimestamp"),
    {"ShardFilter", SK_STRUCT, 0, NL, NL, PAT_NONE, NULL, &shard_filter, NULL, NULL},
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_ListShards = SHAPE(list_shards_f);

#define F_DATA {"Data", SK_BLOB, 1, 0, 10485760, PAT_NONE, NULL, NULL, NULL, NULL}
#define F_PARTITION_KEY STR("PartitionKey", 1, 1, 256, PAT_NONE)
#define F_HASH_KEY STR("ExplicitHashKey", 0, NL, NL, PAT_HASH_KEY)

static const struct schema_field put_record_f[] = {
    F_STREAM_NAME(0),
    F_DATA,
    F_PARTITION_KEY,
    F_HASH_KEY,
    STR("SequenceNumberForOrdering", 0, NL, NL, PAT_SEQUENCE),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_PutRecord = SHAPE(put_record_f);

static const struct schema_field put_records_entry_f[] = {
    F_DATA,
    F_HASH_KEY,
    F_PARTITION_KEY,
};
static const struct schema_shape put_records_entry = SHAPE(put_records_entry_f);

static const struct schema_field put_records_f[] = {
    {"Records", SK_LIST, 1, 1, 500, PAT_NONE, NULL, &put_records_entry, NULL, NULL},
    F_STREAM_NAME(0),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_PutRecords = SHAPE(put_records_f);

static const struct schema_field get_shard_iterator_f[] = {
    F_STREAM_NAME(0),
    STR("ShardId", 1, 1, 128, PAT_NAME),
    ENUM("ShardIteratorType", 1, iterator_types),
    STR("StartingSequenceNumber", 0, NL, NL, PAT_SEQUENCE),
    TS("Timestamp"),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_GetShardIterator = SHAPE(get_shard_iterator_f);

static const struct schema_field get_records_f[] = {
    STR("ShardIterator", 1, 1, 512, PAT_NONE),
    INT("Limit", 0, 1, 10000),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_GetRecords = SHAPE(get_records_f);

static const struct schema_field add_tags_f[] = {
    F_STREAM_NAME(0),
    F_TAGS(1),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_AddTagsToStream = SHAPE(add_tags_f);

static const struct schema_field remove_tags_f[] = {
    F_STREAM_NAME(0),
    {"TagKeys", SK_LIST, 1, 1, 50, PAT_NONE, NULL, NULL, &tag_key, NULL},
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_RemoveTagsFromStream = SHAPE(remove_tags_f);

static const struct schema_field list_tags_f[] = {
    F_STREAM_NAME(0),
    STR("ExclusiveStartTagKey", 0, 1, 128, PAT_NONE),
    INT("Limit", 0, 1, 50),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_ListTagsForStream = SHAPE(list_tags_f);

static const struct schema_field retention_f[] = {
    F_STREAM_NAME(0),
    INT("RetentionPeriodHours", 1, NL, NL),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_IncreaseStreamRetentionPeriod = SHAPE(retention_f);
const struct schema_shape shape_DecreaseStreamRetentionPeriod = SHAPE(retention_f);

static const struct schema_field no_members_f[] = {
    {NULL, SK_STRING, 0, NL, NL, PAT_NONE, NULL, NULL, NULL, NULL},
};
const struct schema_shape shape_DescribeLimits = {no_members_f, 0};

static const struct schema_field split_shard_f[] = {
    F_STREAM_NAME(0),
    STR("ShardToSplit", 1, 1, 128, PAT_NAME),
    STR("NewStartingHashKey", 1, NL, NL, PAT_HASH_KEY),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_SplitShard = SHAPE(split_shard_f);

static const struct schema_field merge_shards_f[] = {
    F_STREAM_NAME(0),
    STR("ShardToMerge", 1, 1, 128, PAT_NAME),
    STR("AdjacentShardToMerge", 1, 1, 128, PAT_NAME),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_MergeShards = SHAPE(merge_shards_f);

static const char *const scaling_types[] = {"UNIFORM_SCALING", NULL};
static const struct schema_field update_shard_count_f[] = {
    F_STREAM_NAME(0),
    INT("TargetShardCount", 1, 1, NL),
    ENUM("ScalingType", 1, scaling_types),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_UpdateShardCount = SHAPE(update_shard_count_f);

#define F_STREAM_ARN_REQ STR("StreamARN", 1, 1, 2048, PAT_STREAM_ARN)
#define F_CONSUMER_NAME(req) STR("ConsumerName", req, 1, 128, PAT_NAME)
#define F_CONSUMER_ARN(req) STR("ConsumerARN", req, 1, 2048, PAT_CONSUMER_ARN)

static const struct schema_field register_consumer_f[] = {
    F_STREAM_ARN_REQ,
    F_CONSUMER_NAME(1),
    F_STREAM_ID,
    F_TAGS(0),
};
const struct schema_shape shape_RegisterStreamConsumer = SHAPE(register_consumer_f);

static const struct schema_field consumer_f[] = {
    F_STREAM_ARN,
    F_CONSUMER_NAME(0),
    F_CONSUMER_ARN(0),
    F_STREAM_ID,
};
const struct schema_shape shape_DescribeStreamConsumer = SHAPE(consumer_f);
const struct schema_shape shape_DeregisterStreamConsumer = SHAPE(consumer_f);

static const struct schema_field list_consumers_f[] = {
    F_STREAM_ARN_REQ,
    STR("NextToken", 0, 1, 1048576, PAT_NONE),
    INT("MaxResults", 0, 1, 10000),
    TS("StreamCreationTimestamp"),
    F_STREAM_ID,
};
const struct schema_shape shape_ListStreamConsumers = SHAPE(list_consumers_f);

static const struct schema_field starting_position_f[] = {
    ENUM("Type", 1, iterator_types),
    STR("SequenceNumber", 0, NL, NL, PAT_SEQUENCE),
    TS("Timestamp"),
};
static const struct schema_shape starting_position = SHAPE(starting_position_f);

static const struct schema_field subscribe_f[] = {
    F_CONSUMER_ARN(1),
    F_STREAM_ID,
    STR("ShardId", 1, 1, 128, PAT_NAME),
    {"StartingPosition", SK_STRUCT, 1, NL, NL, PAT_NONE, NULL, &starting_position, NULL, NULL},
};
const struct schema_shape shape_SubscribeToShard = SHAPE(subscribe_f);

#define F_RESOURCE_ARN STR("ResourceARN", 1, 1, 2048, PAT_RESOURCE_ARN)

static const struct schema_field resource_f[] = {
    F_RESOURCE_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_ListTagsForResource = SHAPE(resource_f);
const struct schema_shape shape_GetResourcePolicy = SHAPE(resource_f);
const struct schema_shape shape_DeleteResourcePolicy = SHAPE(resource_f);

static const struct schema_field tag_resource_f[] = {
    F_TAGS(1),
    F_RESOURCE_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_TagResource = SHAPE(tag_resource_f);

static const struct schema_field untag_key = STR("TagKey", 0, 1, 128, PAT_NONE);
static const struct schema_field untag_resource_f[] = {
    {"TagKeys", SK_LIST, 1, 1, 50, PAT_NONE, NULL, NULL, &untag_key, NULL},
    F_RESOURCE_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_UntagResource = SHAPE(untag_resource_f);

static const struct schema_field put_policy_f[] = {
    F_RESOURCE_ARN,
    F_STREAM_ID,
    STR("Policy", 1, NL, NL, PAT_NONE),
};
const struct schema_shape shape_PutResourcePolicy = SHAPE(put_policy_f);

static const char *const encryption_types[] = {"NONE", "KMS", NULL};
static const struct schema_field encryption_f[] = {
    F_STREAM_NAME(0),
    ENUM("EncryptionType", 1, encryption_types),
    STR("KeyId", 1, 1, 2048, PAT_NONE),
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_StartStreamEncryption = SHAPE(encryption_f);
const struct schema_shape shape_StopStreamEncryption = SHAPE(encryption_f);

static const char *const metric_names[] = {"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
                                           "WriteProvisionedThroughputExceeded",
                                           "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds", "ALL",
                                           NULL};
static const struct schema_field metric_name = ENUM("MetricsName", 0, metric_names);
static const struct schema_field monitoring_f[] = {
    F_STREAM_NAME(0),
    {"ShardLevelMetrics", SK_LIST, 1, 1, 7, PAT_NONE, NULL, NULL, &metric_name, NULL},
    F_STREAM_ARN,
    F_STREAM_ID,
};
const struct schema_shape shape_EnableEnhancedMonitoring = SHAPE(monitoring_f);
const struct schema_shape shape_DisableEnhancedMonitoring = SHAPE(monitoring_f);

static const struct schema_field update_mode_f[] = {
    F_STREAM_ARN_REQ,
    F_STREAM_ID,
    {"StreamModeDetails", SK_STRUCT, 1, NL, NL, PAT_NONE, NULL, &stream_mode_details, NULL, NULL},
    INT("WarmThroughputMiBps", 0, 0, NL),
};
const struct schema_shape shape_UpdateStreamMode = SHAPE(update_mode_f);

static const struct schema_field max_record_f[] = {
    F_STREAM_ARN,
    F_STREAM_ID,
    INT("MaxRecordSizeInKiB", 1, 1024, 10240),
};
const struct schema_shape shape_UpdateMaxRecordSize = SHAPE(max_record_f);

static const struct schema_field warm_f[] = {
    F_STREAM_ARN,
    F_STREAM_NAME(0),
    F_STREAM_ID,
    INT("WarmThroughputMiBps", 1, 0, NL),
};
const struct schema_shape shape_UpdateStreamWarmThroughput = SHAPE(warm_f);

const struct schema_shape shape_DescribeAccountSettings = {no_members_f, 0};

static const char *const commitment_status[] = {"ENABLED", "DISABLED", NULL};
static const struct schema_field commitment_f[] = {
    ENUM("Status", 1, commitment_status),
};
static const struct schema_shape commitment = SHAPE(commitment_f);
static const struct schema_field account_f[] = {
    {"MinimumThroughputBillingCommitment", SK_STRUCT, 1, NL, NL, PAT_NONE, NULL, &commitment, NULL, NULL},
};
const struct schema_shape shape_UpdateAccountSettings = SHAPE(account_f);
