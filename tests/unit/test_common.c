/* Unit tests: base64, RFC 3339 time text, kbuf, JSON string escaping, SigV4 header parsing. */
#include "common/b64.h"
#include "common/buf.h"
#include "common/jsonw.h"
#include "common/ktime.h"
#include "common/sigv4.h"
#include "common/simd.h"
#include "ktest.h"

#include <openssl/evp.h>

static void test_b64(void)
{
    char enc[64];
    uint8_t dec[64];
    size_t n, bad;
    CHECK_INT(b64_encode(enc, (const uint8_t *)"hello", 5), 8);
    CHECK_STR(enc, "aGVsbG8=");
    CHECK_INT(b64_decode(dec, "aGVsbG8=", 8, &n, &bad), 0);
    CHECK_INT(n, 5);
    CHECK(memcmp(dec, "hello", 5) == 0);
    CHECK_INT(b64_decode(dec, "aGVsbG8", 7, &n, &bad), 0); /* padding is optional */
    CHECK_INT(n, 5);
    CHECK_INT(b64_decode(dec, "", 0, &n, &bad), 0);
    CHECK_INT(n, 0);
    CHECK_INT(b64_decode(dec, "aGVs bG8=", 9, &n, &bad), -1);
    CHECK_INT(bad, 4);
    CHECK_INT(b64_decode(dec, "aGVsbG8=aGVs", 12, &n, &bad), -1); /* data after padding */
    CHECK_INT(b64_decode(dec, "a===", 4, &n, &bad), -1);
    CHECK_INT(b64_decode(dec, "aGVsb", 5, &n, &bad), -1); /* one dangling character */
    CHECK_INT(b64_decode(dec, "aG=s", 4, &n, &bad), -1);
    /* Every byte value round-trips, at every length mod 3. */
    uint8_t all[256], back[256];
    char text[400];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    for (size_t len = 250; len <= 256; len++) {
        size_t tl = b64_encode(text, all, len);
        CHECK_INT(b64_decode(back, text, tl, &n, &bad), 0);
        CHECK(n == len && memcmp(all, back, len) == 0);
    }
    /* The same text as OpenSSL's encoder, at every length from 0 to 300. */
    int same = 1;
    unsigned seed = 99;
    for (int len = 0; len <= 300; len++) {
        uint8_t raw[300];
        char mine[420], theirs[420];
        for (int i = 0; i < len; i++)
            raw[i] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
        size_t ml = b64_encode(mine, raw, (size_t)len);
        int tl2 = EVP_EncodeBlock((unsigned char *)theirs, raw, len);
        same &= ml == (size_t)tl2 && memcmp(mine, theirs, ml) == 0 && mine[ml] == '\0';
    }
    CHECK(same);
}

static void test_time(void)
{
    char buf[KT_RFC3339_MAX];
    int64_t ns;
    size_t bad;
    kt_fmt_rfc3339(buf, 0, 9);
    CHECK_STR(buf, "1970-01-01T00:00:00.000000000Z");
    kt_fmt_rfc3339(buf, 1795558785123456789LL, 9);
    CHECK_STR(buf, "2026-11-24T22:19:45.123456789Z");
    kt_fmt_rfc3339(buf, 1795558785123456789LL, 3);
    CHECK_STR(buf, "2026-11-24T22:19:45.123Z");
    kt_fmt_rfc3339(buf, -1, 9);
    CHECK_STR(buf, "1969-12-31T23:59:59.999999999Z");
    CHECK_INT(kt_parse_rfc3339("2026-11-24T22:19:45.123456789Z", 30, &ns, &bad), 0);
    CHECK(ns == 1795558785123456789LL);
    CHECK_INT(kt_parse_rfc3339("2026-11-24T23:19:45.5+01:00", 27, &ns, &bad), 0);
    CHECK(ns == 1795558785500000000LL);
    CHECK_INT(kt_parse_rfc3339("2026-11-24 22:19:45", 19, &ns, &bad), 0);
    CHECK(ns == 1795558785000000000LL);
    CHECK_INT(kt_parse_rfc3339("2026-11-24T22:19", 16, &ns, &bad), -1);
    CHECK_INT(bad, 16);
    CHECK_INT(kt_parse_rfc3339("2026-13-24T22:19:45Z", 20, &ns, &bad), -1);
    CHECK_INT(bad, 5);
    CHECK_INT(kt_parse_rfc3339("2026-11-24T22:19:45Zjunk", 24, &ns, &bad), -1);
    /* Outside what 64-bit nanoseconds hold (1677-2262): refused, not wrapped. */
    CHECK_INT(kt_parse_rfc3339("9999-12-31T00:00:00Z", 20, &ns, &bad), -1);
    CHECK_INT(kt_parse_rfc3339("1600-01-01T00:00:00Z", 20, &ns, &bad), -1);
    CHECK_INT(kt_parse_rfc3339("2262-01-01T00:00:00Z", 20, &ns, &bad), 0);
    kt_fmt_http_date(buf, 1795558785);
    CHECK_STR(buf, "Tue, 24 Nov 2026 22:19:45 GMT");
}

static void test_buf_json(void)
{
    struct kbuf b = KBUF_INIT;
    jw_str(&b, "a\"b\\c\n\x01\xc3\xa9", 9);
    CHECK_STR(b.p, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    /* Every length and alignment around the 8-byte fast path, against a byte-at-a-time reference. */
    const char *sample = "abcdefgh\"ij\\kl\nmn\x01op\xc3\xa9qrstuvwxyz0123456789\"\"ABCDEFGHIJ";
    size_t sl = strlen(sample);
    int all_same = 1;
    for (size_t off = 0; off < 8; off++) {
        for (size_t len = 0; off + len <= sl; len++) {
            struct kbuf x = KBUF_INIT, ref = KBUF_INIT;
            jw_str(&x, sample + off, len);
            kbuf_putc(&ref, '"');
            for (size_t i = off; i < off + len; i++) {
                unsigned char c = (unsigned char)sample[i];
                if (c == '"') kbuf_puts(&ref, "\\\"");
                else if (c == '\\') kbuf_puts(&ref, "\\\\");
                else if (c == '\n') kbuf_puts(&ref, "\\n");
                else if (c < 0x20) kbuf_appendf(&ref, "\\u%04x", c);
                else kbuf_putc(&ref, (char)c);
            }
            kbuf_putc(&ref, '"');
            if (strcmp(x.p, ref.p) != 0)
                all_same = 0;
            kbuf_free(&x);
            kbuf_free(&ref);
        }
    }
    CHECK(all_same);
    kbuf_reset(&b);
    CHECK_INT(jw_str_utf8(&b, "caf\xc3\xa9 \"x\"", 9), 0);
    CHECK_STR(b.p, "\"caf\xc3\xa9 \\\"x\\\"\"");
    kbuf_reset(&b);
    kbuf_puts(&b, "keep");
    CHECK_INT(jw_str_utf8(&b, "abcdefghijklmno\xff", 16), -1);
    CHECK_STR(b.p, "keep");
    CHECK_INT(jw_str_utf8(&b, "a\0b", 3), -1);
    CHECK_INT(jw_str_utf8(&b, "\xed\xa0\x80", 3), -1); /* a surrogate */
    CHECK_STR(b.p, "keep");
    kbuf_reset(&b);
    jw_epoch_ms(&b, 1795558785007LL);
    CHECK_STR(b.p, "1795558785.007");
    kbuf_reset(&b);
    kbuf_append_i64(&b, -42);
    kbuf_append_u64(&b, 18446744073709551615ULL);
    CHECK_STR(b.p, "-4218446744073709551615");
    kbuf_consume(&b, 3);
    CHECK_STR(b.p, "18446744073709551615");
    for (int i = 0; i < 10000; i++)
        kbuf_appendf(&b, "%d,", i);
    CHECK(b.len > 40000);
    kbuf_free(&b);
}

static void test_sigv4_parse(void)
{
    struct sigv4_auth a;
    struct kt_err kerr;
    const char *err = kerr.msg;
    const char *h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request, "
                    "SignedHeaders=content-type;host;x-amz-date, "
                    "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
    CHECK_INT(sigv4_parse_authorization(h, strlen(h), &a, &kerr), 0);
    CHECK_STR(a.access_key, "AKIDEXAMPLE");
    CHECK_STR(a.date, "20150830");
    CHECK_STR(a.region, "us-east-1");
    CHECK_STR(a.service, "kinesis");
    const char *no_sig = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/kinesis/aws4_request, "
                         "SignedHeaders=host";
    CHECK_INT(sigv4_parse_authorization(no_sig, strlen(no_sig), &a, &kerr), -1);
    CHECK_CONTAINS(err, "Authorization header requires 'Signature' parameter.");
    const char *bad_scope = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/kinesis, SignedHeaders=host, "
                            "Signature=00";
    CHECK_INT(sigv4_parse_authorization(bad_scope, strlen(bad_scope), &a, &kerr), -1);
    CHECK_CONTAINS(err, "5 slash-delimited elements");
    const char *bad_term = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/kinesis/aws5_request, "
                           "SignedHeaders=host, Signature=00";
    CHECK_INT(sigv4_parse_authorization(bad_term, strlen(bad_term), &a, &kerr), -1);
    CHECK_CONTAINS(err, "valid terminator: 'aws4_request', not 'aws5_request'");
    const char *v2 = "AWS AKID:signature";
    CHECK_INT(sigv4_parse_authorization(v2, strlen(v2), &a, &kerr), -1);
    CHECK_CONTAINS(err, "Unsupported AWS 'algorithm'");
}

static void test_sigv4_sign(void)
{
    /* AWS's published SigV4 test suite: get-vanilla and post-vanilla. */
    struct sigv4_header h[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
    char empty[65], auth[512], creq[65];
    sigv4_sha256_hex("", 0, empty);
    CHECK_STR(empty, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    struct sigv4_request rq = {"GET", "/", "", h, 2, empty, "20150830T123600Z", "us-east-1", "service",
                               "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
    CHECK_INT(sigv4_sign(&rq, auth, sizeof auth, creq), 0);
    CHECK_STR(creq, "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    CHECK_STR(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                    "SignedHeaders=host;x-amz-date, "
                    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    rq.method = "POST";
    CHECK_INT(sigv4_sign(&rq, auth, sizeof auth, NULL), 0);
    CHECK_CONTAINS(auth, "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
    /* Header order and case do not matter; spaces inside values are folded. */
    struct sigv4_header h2[] = {{"x-amz-date", "  20150830T123600Z "}, {"HOST", "example.amazonaws.com"}};
    rq.headers = h2;
    CHECK_INT(sigv4_sign(&rq, auth, sizeof auth, NULL), 0);
    CHECK_CONTAINS(auth, "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
    char date[17];
    sigv4_amz_date(date, 1440938160);
    CHECK_STR(date, "20150830T123600Z");
    /* What we sign, we parse back. */
    struct sigv4_auth a;
    struct kt_err kerr;
    CHECK_INT(sigv4_parse_authorization(auth, strlen(auth), &a, &kerr), 0);
    CHECK_STR(a.access_key, "AKIDEXAMPLE");
    CHECK_STR(a.service, "service");
}

/* b64_check agrees with b64_decode on length, validity and the offending offset, for every length and damage. */
static void test_b64_check(void)
{
    uint8_t raw[300], dec[400];
    char enc[420];
    unsigned seed = 7;
    int disagree = 0;
    for (size_t len = 0; len < 300; len++) {
        for (size_t i = 0; i < len; i++)
            raw[i] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
        size_t n = b64_encode(enc, raw, len);
        for (int damage = -1; damage < 5; damage++) {
            char t[420];
            memcpy(t, enc, n + 1);
            size_t tn = n;
            if (damage >= 0 && n) {
                size_t at = (seed = seed * 1103515245u + 12345u) % n;
                static const char bad[] = {' ', '=', '-', '\x80', '\n'};
                t[at] = bad[damage];
            }
            if (damage == 4 && tn > 2)
                tn -= 1; /* unpadded or dangling */
            size_t n1 = 0, n2 = 0, b1 = 0, b2 = 0;
            int r1 = b64_decode(dec, t, tn, &n1, &b1), r2 = b64_check(t, tn, &n2, &b2);
            if (r1 != r2 || (r1 == 0 && n1 != n2) || (r1 != 0 && b1 != b2))
                disagree++;
        }
    }
    CHECK_INT(disagree, 0);
    char big[1000];
    memset(big, 'x', sizeof big);
    big[0] = big[17] = big[999] = big[500] = '{';
    CHECK_INT(kt_count_byte(big, sizeof big, '{'), 4);
    CHECK_INT(kt_count_byte(big, 999, '{'), 3);
    CHECK_INT(kt_count_byte(big, 0, '{'), 0);
    static char huge[1 << 16];
    memset(huge, '{', sizeof huge);
    CHECK_INT(kt_count_byte(huge, sizeof huge, '{'), 1 << 16); /* past the per-byte counters' wrap */
}

int main(void)
{
    test_b64_check();
    test_sigv4_sign();
    test_b64();
    test_time();
    test_buf_json();
    test_sigv4_parse();
    return ktest_done("test_common");
}
