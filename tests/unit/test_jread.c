/* Unit tests: the in-place JSON reader, against valid and invalid RFC 8259 text. */
#include <stdlib.h>

#include "common/jread.h"
#include "ktest.h"

static struct jdoc d;
static struct kt_err kerr;
static const char *err = kerr.msg;
static size_t err_at;
static char *text;

static int parse(const char *json)
{
    free(text);
    text = strdup(json);
    return jdoc_parse(&d, text, strlen(text), &kerr, &err_at);
}

int main(void)
{
    jdoc_init(&d);

    CHECK_INT(parse("{\"a\": [1, \"x\", {\"b\": null}], \"c\": true, \"a2\": -0.5e3}"), 0);
    const struct jnode *r = jroot(&d);
    CHECK_INT(r->type, J_OBJ);
    CHECK_INT(r->len, 3);
    const struct jnode *a = jget(&d, r, "a");
    CHECK_INT(a->type, J_ARR);
    CHECK_INT(a->len, 3);
    const struct jnode *e = jfirst(&d, a);
    long long v;
    CHECK_INT(jint(&d, e, &v), 0);
    CHECK_INT(v, 1);
    e = jnext(&d, a, e);
    CHECK_STR(jstr(&d, e), "x");
    e = jnext(&d, a, e);
    CHECK_INT(jget(&d, e, "b")->type, J_NULL);
    CHECK(jnext(&d, a, e) == NULL);
    CHECK_INT(jget(&d, r, "c")->type, J_TRUE);
    const struct jnode *n = jget(&d, r, "a2");
    CHECK(!n->is_int && jnum(&d, n) == -500.0);
    CHECK(jint(&d, n, &v) != 0);
    CHECK(jget(&d, r, "missing") == NULL);
    /* Object iteration yields keys, each followed by its value. */
    int keys = 0;
    for (const struct jnode *k = jfirst(&d, r); k; k = jnext(&d, r, k))
        keys++;
    CHECK_INT(keys, 3);

    /* Escapes are decoded in place, NUL-terminated, with their decoded length. */
    CHECK_INT(parse("[\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\"]"), 0);
    e = jfirst(&d, jroot(&d));
    CHECK_STR(jstr(&d, e), "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80");
    CHECK_INT(e->len, 14);
    CHECK_INT(parse("\"caf\xc3\xa9\""), 0);
    CHECK_INT(jroot(&d)->len, 5);
    /* Repeated keys: the last wins. */
    CHECK_INT(parse("{\"k\":1,\"k\":2}"), 0);
    CHECK_INT(jint(&d, jget(&d, jroot(&d), "k"), &v), 0);
    CHECK_INT(v, 2);
    CHECK_INT(parse("[9223372036854775807, -9223372036854775808, 9223372036854775808]"), 0);
    e = jfirst(&d, jroot(&d));
    CHECK(jint(&d, e, &v) == 0 && v == 9223372036854775807LL);
    e = jnext(&d, jroot(&d), e);
    CHECK(jint(&d, e, &v) == 0 && v == (-9223372036854775807LL - 1));
    e = jnext(&d, jroot(&d), e);
    CHECK(jint(&d, e, &v) != 0);
    CHECK_INT(parse(" \r\n\t{ } "), 0);
    CHECK_INT(parse("[]"), 0);
    CHECK_INT(jroot(&d)->len, 0);
    CHECK(jfirst(&d, jroot(&d)) == NULL);

    /* Truncated text is told apart from malformed text, and both say where. */
    CHECK_INT(parse("{\"a\": [1, 2"), -1);
    CHECK_CONTAINS(err, "truncated JSON");
    CHECK_INT(parse("{\"a\": \"abc"), -1);
    CHECK_CONTAINS(err, "truncated JSON");
    CHECK_INT(parse("{\"a\" 1}"), -1);
    CHECK_CONTAINS(err, "malformed JSON at byte 5");
    CHECK_INT(err_at, 5);
    const char *bad[] = {
        "", "{", "}", "[1,]", "{\"a\":1,}", "[01]", "[1.]", "[.5]", "[1e]", "[+1]", "[-]", "tru", "nul", "[True]",
        "{'a':1}", "{a:1}", "[\"\\x\"]", "[\"\\u12G4\"]", "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"a\tb\"]",
        "[\"\xff\"]", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]", "[\"\xf5\x80\x80\x80\"]", "[1] [2]", "[1]x",
        "\xef\xbb\xbf{}", "{\"a\":1 \"b\":2}", "[NaN]", "[Infinity]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i]) != -1)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK_INT(parse(bad[i]), -1);
    }

    /* Bad UTF-8 says what is wrong with it; a character cut by the end of the text is truncated text. */
    CHECK_INT(parse("{\"k\":\"ab\xe2\x82\"}"), -1);
    CHECK_CONTAINS(err, "malformed JSON at byte 8: invalid UTF-8: byte 0xe2 starts a 3-byte character but byte "
                        "0x22 after it does not continue one");
    CHECK_INT(parse("{\"k\":\"ab\xe2\x82"), -1);
    CHECK_CONTAINS(err, "truncated JSON: the text ends at byte 10 in the middle of a UTF-8 character: byte 0xe2 "
                        "starts 3 bytes and only 1 follows");
    CHECK_INT(parse("[\"\x80\"]"), -1);
    CHECK_CONTAINS(err, "byte 0x80 continues a character that never started");
    CHECK_INT(parse("[\"\xc0\xaf\"]"), -1);
    CHECK_CONTAINS(err, "byte 0xc0 never appears in UTF-8 text");
    CHECK_INT(parse("[\"\xed\xa0\x80\"]"), -1);
    CHECK_CONTAINS(err, "a UTF-16 surrogate");
    CHECK_INT(parse("[\"\xe0\x80\x80\"]"), -1);
    CHECK_CONTAINS(err, "an overlong encoding");

    /* Nesting is bounded. */
    char deep[201];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    CHECK_INT(parse(deep), -1);
    CHECK_CONTAINS(err, "nested deeper");
    /* The same without asking for the offset (a NULL err_at): every error path leaves it alone. */
    free(text);
    text = strdup(deep);
    CHECK_INT(jdoc_parse(&d, text, strlen(text), &kerr, NULL), -1);
    CHECK_CONTAINS(err, "nested deeper");
    free(text);
    text = strdup("{\"a\": tru");
    CHECK_INT(jdoc_parse(&d, text, strlen(text), &kerr, NULL), -1);
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    deep[128] = '\0';
    CHECK_INT(parse(deep), 0);

    /* So is the number of values. */
    size_t many = 250000;
    char *big = malloc(many * 2 + 2);
    big[0] = '[';
    for (size_t i = 0; i < many; i++) {
        big[1 + 2 * i] = '0';
        big[2 + 2 * i] = ',';
    }
    big[2 * many] = ']';
    big[2 * many + 1] = '\0';
    CHECK_INT(parse(big), -1);
    CHECK_CONTAINS(err, "more than");
    free(big);

    free(text);
    jdoc_free(&d);
    return ktest_done("test_jread");
}
