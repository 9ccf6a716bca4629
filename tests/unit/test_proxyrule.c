/* Unit tests: the proxy's host patterns, HOST:PORT parsing (capture/proxy_rule.c) and a ClientHello's server name (capture/tlssni.c). */
#include "capture/proxy_int.h"
#include "capture/tlssni.h"
#include "ktest.h"

static int parse(const char *s, struct hostport *hp)
{
    return hp_parse(s, strlen(s), hp);
}

/* A minimal ClientHello record asking for name. */
static size_t client_hello(uint8_t *out, const char *name)
{
    size_t nl = strlen(name), at = 0;
    uint8_t body[512];
    size_t b = 0;
    body[b++] = 3, body[b++] = 3;                 /* client version */
    memset(body + b, 7, 32), b += 32;              /* random */
    body[b++] = 0;                                 /* session id */
    body[b++] = 0, body[b++] = 2, body[b++] = 0x13, body[b++] = 0x01; /* one cipher suite */
    body[b++] = 1, body[b++] = 0;                  /* compression: null */
    size_t ext = 4 + 5 + nl + 4;                   /* an unknown extension, then server_name */
    body[b++] = (uint8_t)(ext >> 8), body[b++] = (uint8_t)ext;
    body[b++] = 0xff, body[b++] = 0x01, body[b++] = 0, body[b++] = 0; /* renegotiation_info, empty */
    body[b++] = 0, body[b++] = 0;                  /* server_name */
    body[b++] = 0, body[b++] = (uint8_t)(nl + 5);  /* its length */
    body[b++] = 0, body[b++] = (uint8_t)(nl + 3);  /* list length */
    body[b++] = 0;                                 /* host_name */
    body[b++] = 0, body[b++] = (uint8_t)nl;
    memcpy(body + b, name, nl), b += nl;
    out[at++] = 0x16, out[at++] = 3, out[at++] = 1;
    out[at++] = (uint8_t)((b + 4) >> 8), out[at++] = (uint8_t)(b + 4);
    out[at++] = 1, out[at++] = 0, out[at++] = (uint8_t)(b >> 8), out[at++] = (uint8_t)b;
    memcpy(out + at, body, b);
    return at + b;
}

int main(void)
{
    CHECK(host_match("kinesis.*.amazonaws.com", "kinesis.eu-west-1.amazonaws.com"));
    CHECK(host_match("kinesis.*.amazonaws.com", "KINESIS.us-east-1.AMAZONAWS.com"));
    CHECK(!host_match("kinesis.*.amazonaws.com", "kinesis..amazonaws.com"));
    CHECK(!host_match("kinesis.*.amazonaws.com", "kinesis.eu-west-1.amazonaws.com.evil.example"));
    CHECK(host_match("*.kinesis.*.amazonaws.com", "123456789012.control-kinesis.kinesis.us-east-1.amazonaws.com") ||
          host_match("*.kinesis.*.amazonaws.com", "abc.kinesis.us-east-1.amazonaws.com"));
    CHECK(host_match("*", "anything"));
    CHECK(!host_match("*", ""));
    CHECK(proxy_is_kinesis_host("kinesis.cn-north-1.amazonaws.com.cn"));
    CHECK(proxy_is_kinesis_host("kinesis-fips.us-east-1.amazonaws.com"));
    CHECK(!proxy_is_kinesis_host("s3.us-east-1.amazonaws.com"));
    CHECK(!proxy_is_kinesis_host("kinesis.example.com"));

    struct hostport hp;
    CHECK_INT(parse("kinesis.us-east-1.amazonaws.com:443", &hp), 0);
    CHECK_STR(hp.host, "kinesis.us-east-1.amazonaws.com");
    CHECK_INT(hp.port, 443);
    CHECK_INT(parse("[::1]:8443", &hp), 0);
    CHECK_STR(hp.host, "::1");
    CHECK_INT(hp.port, 8443);
    CHECK_INT(parse("localhost", &hp), 0);
    CHECK_INT(hp.port, 0);
    CHECK_INT(parse("host:0", &hp), -1);
    CHECK_INT(parse("host:65536", &hp), -1);
    CHECK_INT(parse("host:12x", &hp), -1);
    CHECK_INT(parse("ho st:80", &hp), -1);
    CHECK_INT(parse("[::1", &hp), -1);
    CHECK_INT(parse(":80", &hp), -1);
    CHECK_INT(parse("host:", &hp), -1);

    uint8_t rec[600];
    char sni[256];
    size_t n = client_hello(rec, "kinesis.us-east-1.amazonaws.com");
    CHECK(tls_looks_like_handshake(rec, n));
    CHECK_INT(tls_client_hello_sni(rec, n, sni, sizeof sni), 1);
    CHECK_STR(sni, "kinesis.us-east-1.amazonaws.com");
    for (size_t cut = 0; cut < n; cut++) /* cut anywhere: no name, no overread */
        CHECK_INT(tls_client_hello_sni(rec, cut, sni, sizeof sni), 0);
    CHECK(!tls_looks_like_handshake((const uint8_t *)"POST / HTTP/1.1", 15));
    return ktest_done("test_proxyrule");
}
