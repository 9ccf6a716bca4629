/* Unit tests: what a PutRecords answer means for each record (replay/answer.c). */
#include "ktest.h"
#include "replay/answer.h"

static int counted;
static char last_code[100];

static void count(void *ctx, const char *code)
{
    (void)ctx;
    counted++;
    snprintf(last_code, sizeof last_code, "%s", code);
}

static void classify(const char *terr, long status, const char *body, size_t n, unsigned char *fates, struct answer *a)
{
    static struct jdoc doc;
    static int ready;
    static char text[4096];
    if (!ready) {
        jdoc_init(&doc);
        ready = 1;
    }
    snprintf(text, sizeof text, "%s", body);
    counted = 0;
    last_code[0] = '\0';
    answer_classify(&doc, terr, status, text, strlen(text), n, fates, a, count, NULL);
}

int main(void)
{
    struct jdoc doc;
    jdoc_init(&doc);
    char code[96];
    const char *rnf = "{\"__type\":\"com.amazonaws.kinesis#ResourceNotFoundException\",\"message\":\"gone\"}";
    answer_error_type(&doc, rnf, strlen(rnf), 400, code, sizeof code);
    CHECK_STR(code, "ResourceNotFoundException");
    answer_error_type(&doc, "", 0, 503, code, sizeof code);
    CHECK_STR(code, "HTTP 503");
    answer_error_type(&doc, "<html>", 6, 502, code, sizeof code);
    CHECK_STR(code, "HTTP 502");

    CHECK(answer_retryable("ProvisionedThroughputExceededException", 400));
    CHECK(answer_retryable("InternalFailure", 0));
    CHECK(answer_retryable("HTTP 500", 500));
    CHECK(answer_retryable("HTTP 429", 429));
    CHECK(!answer_retryable("HTTP 501", 501));
    CHECK(!answer_retryable("ValidationException", 400));
    CHECK(answer_fatal("ResourceNotFoundException", 400));
    CHECK(answer_fatal("UnrecognizedClientException", 400));
    CHECK(answer_fatal("HTTP 403", 403));
    CHECK(answer_fatal("HTTP 501", 501));
    CHECK(!answer_fatal("ProvisionedThroughputExceededException", 400));
    CHECK(!answer_fatal("ValidationException", 400));

    const char *ok2 = "{\"FailedRecordCount\":0,\"Records\":[{\"SequenceNumber\":\"1\",\"ShardId\":\"s\"},"
                      "{\"SequenceNumber\":\"2\",\"ShardId\":\"s\"}],\"EncryptionType\":\"NONE\"}";
    CHECK(answer_all_delivered(ok2, strlen(ok2), 2));
    CHECK(!answer_all_delivered(ok2, strlen(ok2), 3));
    const char *spaced = "{\"FailedRecordCount\": 0, \"Records\": [{}]}";
    CHECK(answer_all_delivered(spaced, strlen(spaced), 1));
    const char *ten = "{\"FailedRecordCount\":10,\"Records\":[{}]}";
    CHECK(!answer_all_delivered(ten, strlen(ten), 1));
    CHECK(!answer_all_delivered("", 0, 0));

    unsigned char f[8];
    struct answer a;
    classify("Connection refused", 0, "", 3, f, &a);
    CHECK(f[0] == FATE_RETRY && f[1] == FATE_RETRY && f[2] == FATE_RETRY);
    CHECK_STR(a.code, "connection: Connection refused");
    CHECK_INT(counted, 1);
    CHECK(!a.ok && !a.fatal);

    classify(NULL, 500, "", 2, f, &a);
    CHECK(f[0] == FATE_RETRY && f[1] == FATE_RETRY);
    CHECK_STR(a.code, "HTTP 500");
    classify(NULL, 400, "{\"__type\":\"ValidationException\",\"message\":\"bad\"}", 2, f, &a);
    CHECK(f[0] == FATE_FAILED && f[1] == FATE_FAILED);
    CHECK(!a.fatal);
    classify(NULL, 400, rnf, 2, f, &a);
    CHECK(f[0] == FATE_FAILED && a.fatal);
    CHECK_STR(last_code, "ResourceNotFoundException");
    classify(NULL, 400, "{\"__type\":\"ProvisionedThroughputExceededException\"}", 1, f, &a);
    CHECK(f[0] == FATE_RETRY && !a.fatal);

    classify(NULL, 200, ok2, 2, f, &a);
    CHECK(a.ok && a.delivered == 2 && f[0] == FATE_DELIVERED && f[1] == FATE_DELIVERED);
    CHECK_INT(counted, 0);
    const char *mixed = "{\"FailedRecordCount\":2,\"Records\":[{\"SequenceNumber\":\"1\",\"ShardId\":\"s\"},"
                        "{\"ErrorCode\":\"ProvisionedThroughputExceededException\",\"ErrorMessage\":\"x\"},"
                        "{\"ErrorCode\":\"InvalidArgumentException\",\"ErrorMessage\":\"y\"}]}";
    classify(NULL, 200, mixed, 3, f, &a);
    CHECK(f[0] == FATE_DELIVERED && f[1] == FATE_RETRY && f[2] == FATE_FAILED);
    CHECK_INT(a.delivered, 1);
    CHECK_INT(counted, 2);
    CHECK_STR(last_code, "InvalidArgumentException");
    classify(NULL, 200, ok2, 5, f, &a); /* fewer results than records */
    CHECK(f[0] == FATE_RETRY && f[4] == FATE_RETRY);
    CHECK_STR(a.code, "malformed PutRecords answer");
    classify(NULL, 200, "not json", 1, f, &a);
    CHECK(f[0] == FATE_RETRY && a.ok);
    jdoc_free(&doc);
    return ktest_done("test_answer");
}
