/* Unit tests: finding request and status lines in bytes out of sync (capture/httpsync.c). */
#include "capture/httpsync.h"
#include "ktest.h"

static long find(const char *s, int response, int *more)
{
    return httpsync_find_start(s, strlen(s), response, more);
}

int main(void)
{
    int more;
    CHECK_INT(find("POST / HTTP/1.1\r\nHost: x\r\n", 0, &more), 0);
    CHECK_INT(find("xx}POST /a/b HTTP/1.1\r\n", 0, &more), 3); /* right after a body */
    CHECK_INT(find("junk\nGET /health HTTP/1.0\r\n", 0, &more), 5);
    CHECK_INT(find("\"data\":\"HTTP/1.1\" more", 0, &more), -1); /* HTTP/1.1 inside a body is no request line */
    CHECK_INT(find("P / HTTP/1.1\r\n", 0, &more), -1);             /* no method of 1 letter */
    CHECK_INT(find("post / HTTP/1.1\r\n", 0, &more), -1);          /* methods are capitals */
    CHECK_INT(find("POST / HTTP/2.0\r\n", 0, &more), -1);
    CHECK_INT(find("abc POST / HTT", 0, &more), -1);
    CHECK(more); /* the start may be cut at the end: keep the tail */
    CHECK_INT(find("abc POST / HTTP/1.1", 0, &more), -1);
    CHECK(more);
    CHECK_INT(find("no h here at all", 0, &more), -1);
    CHECK(!more);

    CHECK_INT(find("HTTP/1.1 200 OK\r\n", 1, &more), 0);
    CHECK_INT(find("\"}HTTP/1.1 400 Bad Request\r\n", 1, &more), 2);
    CHECK_INT(find("HTTP/1.1 204\r\n", 1, &more), 0);
    CHECK_INT(find("HTTP/1.1 600 Nope\r\n", 1, &more), -1);
    CHECK_INT(find("HTTP/1.1 20 short\r\n", 1, &more), -1);
    CHECK_INT(find("HTTP/1.1 2", 1, &more), -1);
    CHECK(more);
    CHECK_INT(find("POST / HTTP/1.1\r\n", 1, &more), -1); /* a request line is not a response */
    return ktest_done("test_httpsync");
}
