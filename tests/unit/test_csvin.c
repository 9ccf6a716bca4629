/*
 * Unit tests: the replay's CSV reader. Plain lines (split at commas) and
 * quoted ones (libcsv) must give the same fields; spaces are kept; CRLF,
 * a byte order mark, header-less files, rows longer than the read chunk and
 * damaged files are handled.
 */
#include <stdlib.h>
#include <unistd.h>

#include "ktest.h"
#include "common/buf.h"
#include "replay/csvin.h"

static char path[] = "/tmp/kintape-test-csvin-XXXXXX";

static void put(const char *text, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(text, 1, n, f);
    fclose(f);
}

static void puts_file(const char *text)
{
    put(text, strlen(text));
}

static struct csvin *open_ok(void)
{
    struct kt_err err;
    struct csvin *c = csvin_open(path, NULL, &err);
    if (!c)
        fprintf(stderr, "csvin_open: %s\n", err.msg);
    CHECK(c != NULL);
    return c;
}

static int next(struct csvin *c, struct csv_row *r)
{
    struct kt_err err;
    int rc = csvin_next(c, r, &err);
    if (rc < 0)
        fprintf(stderr, "csvin_next: %s\n", err.msg);
    return rc;
}

static int eq(const char *a, size_t n, const char *b)
{
    return a && n == strlen(b) && memcmp(a, b, n) == 0;
}

static void test_header_and_fields(void)
{
    puts_file("ts,data,partition_key,extra\r\n"
              "2026-11-24T10:00:00Z, two spaces ,k1,x\r\n"
              "2026-11-24T10:00:01.5Z,\"comma, \"\"quote\"\" and\nnewline\",k2,y\n"
              "\n"
              "2026-11-24T10:00:02Z,,k3,z");
    struct csvin *c = open_ok();
    if (!c)
        return;
    CHECK(csvin_has_ts(c));
    CHECK(csvin_has_key(c));
    CHECK(!csvin_has_stream(c));
    struct csv_row r;
    CHECK_INT(next(c, &r), 1);
    CHECK(eq(r.data, r.data_len, " two spaces "));
    CHECK(eq(r.key, r.key_len, "k1"));
    CHECK_INT(r.row, 2);
    CHECK_INT(r.ts_ns, 1795514400000000000LL);
    CHECK(!r.data_base64);
    CHECK_INT(next(c, &r), 1);
    CHECK(eq(r.data, r.data_len, "comma, \"quote\" and\nnewline"));
    CHECK(eq(r.key, r.key_len, "k2"));
    CHECK_INT(r.ts_ns, 1795514401500000000LL);
    CHECK_INT(next(c, &r), 1);
    CHECK_INT(r.data_len, 0);
    CHECK(eq(r.key, r.key_len, "k3"));
    CHECK_INT(next(c, &r), 0);
    csvin_close(c);
}

static void test_headerless_and_bom(void)
{
    puts_file("\xef\xbb\xbfhello,2026-11-24T10:00:00Z\n\"a,b\",2026-11-24T10:00:00.000000001Z\n");
    struct csvin *c = open_ok();
    if (!c)
        return;
    struct csv_row r;
    CHECK_INT(next(c, &r), 1);
    CHECK(eq(r.data, r.data_len, "hello"));
    CHECK(r.key == NULL);
    CHECK_INT(next(c, &r), 1);
    CHECK(eq(r.data, r.data_len, "a,b"));
    CHECK_INT(r.ts_ns, 1795514400000000001LL);
    CHECK_INT(next(c, &r), 0);
    csvin_close(c);
}

/* Many rows, some far longer than the 64 KiB read chunk, alternately plain and quoted. */
static void test_long_rows(void)
{
    FILE *f = fopen(path, "wb");
    fputs("data_base64,ts\n", f);
    size_t lens[] = {10, 70000, 3, 300000, 65535, 65536, 1};
    for (int rep = 0; rep < 50; rep++)
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            int quoted = (rep + (int)i) % 2;
            if (quoted)
                fputc('"', f);
            for (size_t k = 0; k < lens[i]; k++)
                fputc('A' + (int)((k + i) % 26), f);
            fprintf(f, "%s,2026-11-24T10:00:%02dZ\n", quoted ? "\"" : "", rep);
        }
    fclose(f);
    struct csvin *c = open_ok();
    if (!c)
        return;
    struct csv_row r;
    int bad = 0, rows = 0;
    for (int rep = 0; rep < 50; rep++)
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            if (next(c, &r) != 1) {
                bad++;
                break;
            }
            rows++;
            int ok = r.data_len == lens[i] && r.data_base64 && r.ts_ns == 1795514400000000000LL + rep * 1000000000LL;
            for (size_t k = 0; ok && k < lens[i]; k++)
                ok = r.data[k] == 'A' + (int)((k + i) % 26);
            bad += !ok;
        }
    CHECK_INT(bad, 0);
    CHECK_INT(rows, 350);
    CHECK_INT(next(c, &r), 0);
    csvin_close(c);
}

/* Quoted fields spanning lines, across read-buffer and queue boundaries. */
static void test_multiline_rows(void)
{
    static char pad[3000];
    memset(pad, 'p', sizeof pad - 1);
    FILE *f = fopen(path, "wb");
    fputs("partition_key,data,ts\n", f); /* a field completes before the one spanning lines */
    for (int i = 0; i < 6000; i++) {
        int w = (i * 37) % 2900;
        if (i % 3)
            fprintf(f, "k%d,\"row %d %.*s\nline two, \"\"q\"\"\r\nthree %.*s\",2026-11-24T10:00:00Z\n", i, i, w,
                    pad, w / 2, pad);
        else
            fprintf(f, "k%d,plain %d,2026-11-24T10:00:00Z\n", i, i);
    }
    fclose(f);
    struct csvin *c = open_ok();
    if (!c)
        return;
    struct csv_row r;
    int bad = 0, n = 0;
    static char want[8192];
    char key[32];
    while (next(c, &r) == 1) {
        int w = (n * 37) % 2900;
        if (n % 3)
            snprintf(want, sizeof want, "row %d %.*s\nline two, \"q\"\r\nthree %.*s", n, w, pad, w / 2, pad);
        else
            snprintf(want, sizeof want, "plain %d", n);
        snprintf(key, sizeof key, "k%d", n);
        bad += !eq(r.data, r.data_len, want) || !eq(r.key, r.key_len, key) || r.row != (uint64_t)n + 2;
        n++;
    }
    CHECK_INT(n, 6000);
    CHECK_INT(bad, 0);
    csvin_close(c);
}

static void test_named_columns_and_epoch(void)
{
    int64_t ns;
    CHECK_INT(csv_parse_time("1795514400", 10, TS_EPOCH_S, &ns), 0);
    CHECK_INT(ns, 1795514400000000000LL);
    CHECK_INT(csv_parse_time("1795514400.000000001", 20, TS_EPOCH_S, &ns), 0);
    CHECK_INT(ns, 1795514400000000001LL);
    CHECK_INT(csv_parse_time("1795514400123.5", 15, TS_EPOCH_MS, &ns), 0);
    CHECK_INT(ns, 1795514400123500000LL);
    CHECK_INT(csv_parse_time("1795514400.", 11, TS_EPOCH_S, &ns), -1);
    CHECK_INT(csv_parse_time("-5", 2, TS_EPOCH_S, &ns), -1);
    CHECK_INT(csv_parse_time("99999999999999999999", 20, TS_EPOCH_S, &ns), -1); /* overflows */
    CHECK_INT(csv_parse_time("2026-11-24T10:00:00Z", 20, TS_EPOCH_S, &ns), -1);
    CHECK_INT(csv_parse_time("2026-11-24T10:00:00Z", 20, TS_RFC3339, &ns), 0);

    puts_file("id,message,time,user,data\n1,hello,1795514400250,u1,ignored\n");
    struct csvin_opts o = {.ts_format = TS_EPOCH_MS};
    o.names[CSV_DATA] = "message";
    o.names[CSV_TS] = "time";
    o.names[CSV_KEY] = "user";
    struct kt_err err;
    struct csvin *c = csvin_open(path, &o, &err);
    CHECK(c != NULL);
    if (c) {
        struct csv_row r;
        CHECK_INT(next(c, &r), 1);
        CHECK(eq(r.data, r.data_len, "hello"));
        CHECK(eq(r.key, r.key_len, "u1"));
        CHECK_INT(r.ts_ns, 1795514400250000000LL);
        csvin_close(c);
    }
    o.names[CSV_TS] = "when";
    c = csvin_open(path, &o, &err);
    CHECK(c == NULL);
    if (!c)
        CHECK_CONTAINS(err.msg, "the header has no column 'when' (--column ts=when)");
    else
        csvin_close(c);
}

static void expect_error(const char *text, const char *what)
{
    puts_file(text);
    struct kt_err err;
    err.msg[0] = '\0';
    struct csvin *c = csvin_open(path, NULL, &err);
    if (c) {
        struct csv_row r;
        int rc;
        while ((rc = csvin_next(c, &r, &err)) == 1)
            ;
        CHECK(rc == -1 || rc == -2);
        csvin_close(c);
    }
    CHECK_CONTAINS(err.msg, what);
}

/* A row with the wrong field count is an error of its own (-2) and the rows after it are read. */
static void test_ragged_rows_and_bad_times(void)
{
    puts_file("data,ts\na,2026-11-24T10:00:00Z\nb\nc,2026-11-24T10:00:00Z,extra\nd,yesterday\n"
              "e,2026-11-24T10:00:00\n");
    struct kt_err err;
    struct csvin *c = csvin_open(path, NULL, &err);
    CHECK(c != NULL);
    if (!c)
        return;
    struct csv_row r;
    CHECK_INT(csvin_next(c, &r, &err), 1);
    CHECK(!r.ts_no_offset && r.has_ts);
    CHECK_INT(csvin_next(c, &r, &err), -2);
    CHECK_CONTAINS(err.msg, "row 3 has 1 field, the header has 2");
    CHECK_INT(csvin_next(c, &r, &err), -2);
    CHECK_CONTAINS(err.msg, "row 4 has 3 fields, the header has 2");
    /* A time that cannot be read is the reader's to judge: the row comes with why. */
    CHECK_INT(csvin_next(c, &r, &err), 1);
    CHECK(r.ts_bad && !r.has_ts);
    CHECK_CONTAINS(r.ts_error.msg, "row 5: the time 'yesterday' in column ts is not an RFC 3339 time");
    CHECK_INT(csvin_next(c, &r, &err), 1);
    CHECK(r.has_ts && r.ts_no_offset);
    CHECK_INT(csvin_next(c, &r, &err), 0);
    CHECK_INT(csvin_header_rows(c), 1);
    csvin_close(c);
    /* The rows before a malformed one are all handed out before the error. */
    struct kbuf text = KBUF_INIT;
    kbuf_puts(&text, "data,ts\n");
    for (int i = 0; i < 1000; i++)
        kbuf_appendf(&text, "r%d,2026-11-24T10:00:00Z\n", i);
    kbuf_puts(&text, "x\"y,2026-11-24T10:00:00Z\n");
    puts_file(text.p);
    kbuf_free(&text);
    c = csvin_open(path, NULL, &err);
    CHECK(c != NULL);
    if (!c)
        return;
    int n = 0, rc;
    while ((rc = csvin_next(c, &r, &err)) == 1)
        n++;
    CHECK_INT(n, 1000);
    CHECK_INT(rc, -1);
    CHECK_CONTAINS(err.msg, "malformed CSV in row 1002");
    CHECK_CONTAINS(err.msg, "a field with quotes is quoted whole");
    csvin_close(c);
}

int main(void)
{
    int fd = mkstemp(path);
    close(fd);
    test_header_and_fields();
    test_headerless_and_bom();
    test_long_rows();
    test_multiline_rows();
    test_ragged_rows_and_bad_times();
    test_named_columns_and_epoch();
    expect_error("", "empty");
    expect_error("foo,bar\n1,2\n", "no usable payload column");
    expect_error("data,ts\nx\n", "row 2 has 1 field, the header has 2");
    expect_error("data,ts\nx,2026-11-24T10:00:00Z\n\"open,2026-11-24T10:00:00Z\n", "row 3");
    expect_error("data,ts\nab\"c,2026-11-24T10:00:00Z\n", "malformed CSV in row 2");
    expect_error("data,ts\n\"x\"y,2026-11-24T10:00:00Z\n", "malformed CSV in row 2");
    /* In words about the file, not libcsv's "error parsing data while strict checking enabled". */
    expect_error("data,ts\nab\"c,2026-11-24T10:00:00Z\n", "(line 2, column 3): a quote inside a field that does");
    expect_error("data,ts\n\"x\"y,2026-11-24T10:00:00Z\n", "(line 2, column 4): text after the closing quote");
    expect_error("data,ts\na,2026-11-24T10:00:00Z\n\"abc\nmore\n",
                 "an unterminated quoted field: row 3, from line 3, has no closing quote");
    unlink(path);
    return ktest_done("test_csvin");
}
