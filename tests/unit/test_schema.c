/* Unit tests: request validation against the Kinesis input shapes, in AWS's words. */
#include "emulator/schema.h"
#include "ktest.h"

#include <stdlib.h>

static enum schema_result run(const struct schema_shape *shape, const char *json, struct kbuf *msg)
{
    struct jdoc d;
    struct kt_err err;
    char *text = strdup(json);
    jdoc_init(&d);
    if (jdoc_parse(&d, text, strlen(text), &err, NULL) != 0) {
        fprintf(stderr, "bad test JSON: %s: %s\n", json, err.msg);
        free(text);
        return (enum schema_result)-1;
    }
    kbuf_reset(msg);
    struct reqin in = {&d};
    enum schema_result r = schema_check(shape, &in, in_root(&in), msg);
    jdoc_free(&d);
    free(text);
    return r;
}

int main(void)
{
    struct kbuf m = KBUF_INIT;

    CHECK_INT(run(&shape_CreateStream, "{\"StreamName\":\"orders\",\"ShardCount\":2}", &m), SCHEMA_OK);
    CHECK_INT(run(&shape_ListStreams, "{}", &m), SCHEMA_OK);

    CHECK_INT(run(&shape_CreateStream, "{\"ShardCount\":2}", &m), SCHEMA_VALIDATION);
    CHECK_STR(m.p, "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: "
                   "Member must not be null");

    CHECK_INT(run(&shape_CreateStream, "{\"StreamName\":\"a\",\"ShardCount\":0}", &m), SCHEMA_VALIDATION);
    CHECK_STR(m.p, "1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: "
                   "Member must have value greater than or equal to 1");

    CHECK_INT(run(&shape_CreateStream, "{\"StreamName\":\"a b\",\"ShardCount\":0}", &m), SCHEMA_VALIDATION);
    CHECK_CONTAINS(m.p, "2 validation errors detected: ");
    CHECK_CONTAINS(m.p, "Value 'a b' at 'streamName' failed to satisfy constraint: Member must satisfy regular "
                        "expression pattern: [a-zA-Z0-9_.-]+");
    CHECK_CONTAINS(m.p, "; Value '0' at 'shardCount'");

    char longname[200];
    memset(longname, 'x', 129);
    longname[129] = '\0';
    char body[400];
    snprintf(body, sizeof body, "{\"StreamName\":\"%s\",\"ShardCount\":1}", longname);
    CHECK_INT(run(&shape_CreateStream, body, &m), SCHEMA_VALIDATION);
    CHECK_CONTAINS(m.p, "Member must have length less than or equal to 128");

    /* Wrong JSON types are SerializationException, not ValidationException. */
    CHECK_INT(run(&shape_CreateStream, "{\"StreamName\":5,\"ShardCount\":1}", &m), SCHEMA_SERIALIZATION);
    CHECK_CONTAINS(m.p, "TruncatingBigNumber can not be converted to an String"); /* AWS's words */
    CHECK_INT(run(&shape_CreateStream, "{\"StreamName\":\"a\",\"ShardCount\":\"1\"}", &m), SCHEMA_SERIALIZATION);
    CHECK_INT(run(&shape_CreateStream, "{\"StreamName\":\"a\",\"ShardCount\":1.5}", &m), SCHEMA_SERIALIZATION);
    /* Past 32 bits: a ValidationException naming the Integer's bound. */
    CHECK_INT(run(&shape_CreateStream, "{\"StreamName\":\"a\",\"ShardCount\":100000000000}", &m),
              SCHEMA_VALIDATION);
    CHECK_CONTAINS(m.p, "Member must have value less than or equal to 2147483647");
    CHECK_INT(run(&shape_PutRecords, "{\"StreamName\":\"a\",\"Records\":{}}", &m), SCHEMA_SERIALIZATION);

    /* Enums list the allowed set. */
    CHECK_INT(run(&shape_GetShardIterator, "{\"StreamName\":\"a\",\"ShardId\":\"s\",\"ShardIteratorType\":\"OLDEST\"}",
                  &m),
              SCHEMA_VALIDATION);
    CHECK_CONTAINS(m.p, "Value 'OLDEST' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy "
                        "enum value set: [AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST, "
                        "AT_TIMESTAMP]");

    /* Nested list members are named records.N.member.x, counting from 1. */
    CHECK_INT(run(&shape_PutRecords,
                  "{\"StreamName\":\"a\",\"Records\":[{\"Data\":\"YQ==\",\"PartitionKey\":\"k\"},{\"Data\":\"YQ==\"}]}",
                  &m),
              SCHEMA_VALIDATION);
    CHECK_STR(m.p, "1 validation error detected: Value null at 'records.2.member.partitionKey' failed to "
                   "satisfy constraint: Member must not be null");
    CHECK_INT(run(&shape_PutRecords, "{\"StreamName\":\"a\",\"Records\":[]}", &m), SCHEMA_VALIDATION);
    CHECK_CONTAINS(m.p, "Value at 'records' failed to satisfy constraint: Member must have length greater than or "
                        "equal to 1");
    CHECK_INT(run(&shape_PutRecords,
                  "{\"StreamName\":\"a\",\"Records\":[{\"Data\":\"YQ==\",\"PartitionKey\":\"k\",\"ExplicitHashKey\":\"01\"}]}",
                  &m),
              SCHEMA_VALIDATION);
    CHECK_CONTAINS(m.p, "at 'records.1.member.explicitHashKey' failed to satisfy constraint: Member must satisfy "
                        "regular expression pattern: 0|([1-9]\\d{0,38})");

    /* Partition key length counts characters (UTF-16 units), not bytes. */
    struct kbuf key = KBUF_INIT;
    kbuf_puts(&key, "{\"Data\":\"\",\"PartitionKey\":\"");
    for (int i = 0; i < 256; i++)
        kbuf_puts(&key, "\xc3\xa9"); /* é: 2 bytes, 1 character */
    kbuf_puts(&key, "\"}");
    CHECK_INT(run(&shape_PutRecord, key.p, &m), SCHEMA_OK);
    kbuf_reset(&key);
    kbuf_puts(&key, "{\"Data\":\"\",\"PartitionKey\":\"");
    for (int i = 0; i < 257; i++)
        kbuf_puts(&key, "k");
    kbuf_puts(&key, "\"}");
    CHECK_INT(run(&shape_PutRecord, key.p, &m), SCHEMA_VALIDATION);
    CHECK_CONTAINS(m.p, "at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256");
    kbuf_free(&key);

    /* Patterns. */
    CHECK(schema_pattern_ok(PAT_STREAM_ARN, "arn:aws:kinesis:us-east-1:000000000000:stream/orders", 52));
    CHECK(schema_pattern_ok(PAT_STREAM_ARN, "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a", 51));
    CHECK(!schema_pattern_ok(PAT_STREAM_ARN, "arn:aws:kinesis:us-east-1:0000:stream/orders", 44));
    CHECK(!schema_pattern_ok(PAT_STREAM_ARN, "arn:aws:s3:us-east-1:000000000000:stream/orders", 47));
    CHECK(!schema_pattern_ok(PAT_STREAM_ARN, "arn:aws:kinesis:us-east-1:000000000000:stream/", 46));
    CHECK(schema_pattern_ok(PAT_HASH_KEY, "0", 1));
    CHECK(!schema_pattern_ok(PAT_HASH_KEY, "00", 2));
    CHECK(!schema_pattern_ok(PAT_HASH_KEY, "1234567890123456789012345678901234567890", 40));
    CHECK(schema_pattern_ok(PAT_STREAM_ID, "abcdefghij0123456789-a1b", 24));
    CHECK(!schema_pattern_ok(PAT_STREAM_ID, "ABCDEFGHIJ0123456789-a1b", 24));
    CHECK(!schema_pattern_ok(PAT_NAME, "", 0));

    /* Blobs are measured decoded. */
    CHECK_INT(run(&shape_PutRecord, "{\"Data\":\"YWJj\",\"PartitionKey\":\"k\"}", &m), SCHEMA_OK);
    CHECK_INT(run(&shape_PutRecord, "{\"Data\":7,\"PartitionKey\":\"k\"}", &m), SCHEMA_SERIALIZATION);

    /* Maps: tag keys 1-128 characters. */
    CHECK_INT(run(&shape_AddTagsToStream, "{\"StreamName\":\"a\",\"Tags\":{\"\":\"v\"}}", &m), SCHEMA_VALIDATION);
    CHECK_CONTAINS(m.p, "Map keys must satisfy constraint");
    CHECK_INT(run(&shape_AddTagsToStream, "{\"StreamName\":\"a\",\"Tags\":{\"k\":1}}", &m), SCHEMA_SERIALIZATION);
    CHECK_INT(run(&shape_RemoveTagsFromStream, "{\"StreamName\":\"a\",\"TagKeys\":[\"\"]}", &m), SCHEMA_VALIDATION);
    CHECK_CONTAINS(m.p, "Value '' at 'tagKeys.1.member' failed to satisfy constraint: Member must have length "
                        "greater than or equal to 1");
    kbuf_free(&m);
    return ktest_done("test_schema");
}
