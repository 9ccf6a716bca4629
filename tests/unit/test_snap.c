/* Unit tests: snapshot writer and reader round trip, bodies text and binary, damaged files. */
#include <stdlib.h>
#include <unistd.h>

#include "ktest.h"
#include "snapshots/snap.h"

static void write_sample(const char *path, int with_end)
{
    struct kt_err err;
    struct snap_source src = {"file", "in.pcap", "tcp port 4566", 65535, NULL, NULL};
    struct snap_writer *w = snap_writer_open(path, &src, 1795558785000000000LL, "kintape test", &err);
    CHECK(w != NULL);
    struct snap_kv h[] = {{"X-Amz-Target", 12, "Kinesis_20131202.PutRecords", 27}};
    const char *text = "{\"StreamName\":\"s\",\"x\":\"a\\\"b\\n\xc3\xa9\"}";
    uint8_t bin[4] = {0, 0xff, 0x80, 'x'};
    struct snap_msg resp = {.ts_ns = 1795558785000500000LL, .status = 200, .reason = "OK", .version = "HTTP/1.1",
                            .body = bin, .body_len = 4};
    struct snap_exchange x = {.ts_ns = 1795558785000123456LL, .end_ns = 1795558785000600000LL,
                              .client_ip = "127.0.0.1", .client_port = 5000, .server_ip = "::1",
                              .server_port = 4566, .conn = 1, .n = 1,
                              .req = {.method = "POST", .target = "/", .version = "HTTP/1.1", .headers = h,
                                      .nheaders = 1, .body = (const uint8_t *)text, .body_len = strlen(text)},
                              .resp = &resp, .operation = "PutRecords", .operation_len = 10, .stream = "s",
                              .stream_len = 1};
    CHECK_INT(snap_writer_add(w, &x, &err), 0);
    x.resp = NULL;
    x.incomplete = "no response";
    x.n = 2;
    CHECK_INT(snap_writer_add(w, &x, &err), 0);
    struct snap_stats st = {.ended_ns = 1795558786000000000LL, .exchanges = 2, .complete = 1, .incomplete = 1,
                            .packets = 10, .tcp_gaps = 1, .tcp_gap_bytes = 100};
    CHECK_INT(snap_writer_close(w, with_end ? &st : NULL, &err), 0);
}

int main(void)
{
    char path[] = "/tmp/kintape-test-snap-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    write_sample(path, 1);

    struct kt_err err;
    struct snap_reader *r = snap_reader_open(path, &err);
    CHECK(r != NULL);
    CHECK_INT(r->major, 1);
    CHECK(r->created_ns == 1795558785000000000LL);
    struct snap_rec rec;
    CHECK_INT(snap_reader_next(r, &rec, &err), 1);
    CHECK(rec.ts_ns == 1795558785000123456LL);
    CHECK_STR(rec.operation, "PutRecords");
    CHECK_STR(rec.stream, "s");
    CHECK_INT(rec.status, 200);
    CHECK(rec.incomplete == NULL);
    const uint8_t *b;
    size_t n;
    CHECK_INT(snap_body(r, rec.req, &b, &n, &err), 0);
    CHECK_INT(n, strlen("{\"StreamName\":\"s\",\"x\":\"a\\\"b\\n\xc3\xa9\"}"));
    CHECK(memcmp(b, "{\"StreamName\":\"s\",\"x\":\"a\\\"b\\n\xc3\xa9\"}", n) == 0);
    CHECK_STR(snap_header(r, rec.req, "x-amz-target"), "Kinesis_20131202.PutRecords");
    CHECK_INT(snap_body(r, rec.resp, &b, &n, &err), 0);
    CHECK_INT(n, 4);
    CHECK(b[0] == 0 && b[1] == 0xff && b[3] == 'x');
    CHECK_INT(snap_reader_next(r, &rec, &err), 1);
    CHECK(rec.resp == NULL);
    CHECK_STR(rec.incomplete, "no response");
    CHECK_INT(snap_reader_next(r, &rec, &err), 0);
    CHECK(r->end.present);
    CHECK_INT(r->end.exchanges, 2);
    CHECK_INT(r->end.tcp_gap_bytes, 100);
    CHECK(!snap_stats_lossless(&r->end));
    snap_reader_close(r);

    /* Cut in the middle of the second exchange: the first is read, then the cut is reported. */
    FILE *f = fopen(path, "r+b");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    char buf[8192];
    f = fopen(path, "rb");
    size_t got = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CHECK((long)got == size);
    char *second = strchr(strchr(buf, '\n') + 1, '\n') + 1;
    CHECK(truncate(path, (off_t)(second - buf) + 40) == 0);
    r = snap_reader_open(path, &err);
    CHECK_INT(snap_reader_next(r, &rec, &err), 1);
    CHECK_INT(snap_reader_next(r, &rec, &err), -1);
    CHECK_CONTAINS(err.msg, ":3: the file ends in the middle of this line");
    CHECK_INT(snap_reader_next(r, &rec, &err), 0);
    CHECK(r->cut && !r->end.present);
    snap_reader_close(r);

    /* A bad line in the middle is reported with its number; reading goes on. */
    f = fopen(path, "wb");
    fprintf(f, "{\"kintape_snapshot\":1,\"minor\":3}\n{\"ts_ns\":1,\"http\":{\"request\":{\"body\":\"a\"}}}\n"
               "{not json\n{\"ts_ns\":2,\"http\":{\"request\":{\"body\":\"b\"}}}\n{\"ts_ns\":3}\n");
    fclose(f);
    r = snap_reader_open(path, &err);
    CHECK_INT(r->minor, 3);
    CHECK_INT(snap_reader_next(r, &rec, &err), 1);
    CHECK_INT(snap_reader_next(r, &rec, &err), -1);
    CHECK_CONTAINS(err.msg, ":3: malformed JSON at byte 1");
    CHECK_INT(snap_reader_next(r, &rec, &err), 1);
    CHECK(rec.ts_ns == 2);
    CHECK_INT(snap_reader_next(r, &rec, &err), -1);
    CHECK_CONTAINS(err.msg, ":5: not an exchange: http.request is missing");
    snap_reader_close(r);

    /* Versions and non-snapshots are refused at open. */
    f = fopen(path, "wb");
    fprintf(f, "{\"kintape_snapshot\":2}\n");
    fclose(f);
    CHECK(snap_reader_open(path, &err) == NULL);
    CHECK_CONTAINS(err.msg, "version 2 is not supported");
    f = fopen(path, "wb");
    fprintf(f, "[1,2,3]\n");
    fclose(f);
    CHECK(snap_reader_open(path, &err) == NULL);
    CHECK_CONTAINS(err.msg, "not a kintape snapshot");
    f = fopen(path, "wb");
    fclose(f);
    CHECK(snap_reader_open(path, &err) == NULL);
    CHECK_CONTAINS(err.msg, "empty file");
    CHECK(snap_reader_open("/nonexistent/x.snap", &err) == NULL);
    CHECK_CONTAINS(err.msg, "cannot open /nonexistent/x.snap");
    unlink(path);
    return ktest_done("test_snap");
}
