/*
 * Unit tests: the response writer's JSON encoding (emulator/rw_json.c) —
 * separators at every depth, escaping, blobs as base64, timestamps as
 * seconds with milliseconds, and error answers.
 */
#include "emulator/rw.h"
#include "ktest.h"

int main(void)
{
    struct kbuf out = KBUF_INIT;
    struct rw w;
    rw_json_init(&w, &out);
    CHECK_STR(rw_content_type(&w), "application/x-amz-json-1.1");
    rw_map(&w);
    rw_kstr(&w, "Name", "a \"quoted\"\nname");
    rw_key(&w, "List");
    rw_list(&w);
    rw_map(&w);
    rw_ki64(&w, "N", -42);
    rw_end(&w);
    rw_map(&w);
    rw_end(&w);
    rw_list(&w);
    rw_end(&w);
    rw_cstr(&w, "x");
    rw_end(&w);
    rw_key(&w, "Empty");
    rw_map(&w);
    rw_end(&w);
    rw_key(&w, "Data");
    rw_blob(&w, (const uint8_t *)"hello", 5);
    rw_key(&w, "T");
    rw_timestamp_ms(&w, 1795560132887);
    rw_key(&w, "Before1970");
    rw_timestamp_ms(&w, -1500);
    rw_key(&w, "Yes");
    rw_bool(&w, 1);
    rw_key(&w, "No");
    rw_bool(&w, 0);
    rw_key(&w, "Half");
    rw_num(&w, 0.5);
    rw_kascii(&w, "Seq", "4901");
    rw_end(&w);
    CHECK_STR(out.p, "{\"Name\":\"a \\\"quoted\\\"\\nname\",\"List\":[{\"N\":-42},{},[],\"x\"],\"Empty\":{},"
                     "\"Data\":\"aGVsbG8=\",\"T\":1795560132.887,\"Before1970\":-1.500,\"Yes\":true,\"No\":false,"
                     "\"Half\":0.5,\"Seq\":\"4901\"}");

    /* An error replaces whatever was written. */
    rw_map(&w);
    rw_key(&w, "Partial");
    rw_list(&w);
    rw_error(&w, "ValidationException", "1 validation error detected: \"x\"");
    CHECK_STR(out.p, "{\"__type\":\"ValidationException\",\"message\":\"1 validation error detected: \\\"x\\\"\"}");
    struct kbuf e = KBUF_INIT;
    rw_json_error(&e, "NotFoundException", "no");
    CHECK_STR(e.p, "{\"__type\":\"NotFoundException\",\"message\":\"no\"}");
    kbuf_free(&e);

    /* Deeper than RW_MAX_DEPTH still closes what it opened. */
    rw_reset(&w);
    for (int i = 0; i < RW_MAX_DEPTH + 4; i++)
        rw_list(&w);
    for (int i = 0; i < RW_MAX_DEPTH + 4; i++)
        rw_end(&w);
    CHECK_INT(out.len, 2 * (RW_MAX_DEPTH + 4));
    kbuf_free(&out);
    return ktest_done("test_rw");
}
