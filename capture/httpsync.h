/*
 * httpsync.h — where an HTTP/1.x message starts, for a stream that is out of
 * sync (joined mid-stream, after a TCP gap, after bytes that were not HTTP).
 *
 *   request:  METHOD SP request-target SP "HTTP/1." DIGIT CRLF    (METHOD: 3 to 10 capitals)
 *   response: "HTTP/1." DIGIT SP 3DIGIT (SP | CR)                 (status 100 to 599)
 */
#ifndef KT_HTTPSYNC_H
#define KT_HTTPSYNC_H

#include <stddef.h>

/*
 * The offset in s[0..n) of the first request line (or, with `response`,
 * status line). A message need not start a line: after a body the next one
 * follows at once. Returns -1 when there is none; *need_more is then 1 when
 * a start may be cut off at the end of s (keep the tail and look again).
 */
long httpsync_find_start(const char *s, size_t n, int response, int *need_more);

#endif
