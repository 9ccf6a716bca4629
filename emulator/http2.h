/* http2.h — HTTP/2 with prior knowledge on an emulator connection (see http2.c). */
#ifndef KT_HTTP2_H
#define KT_HTTP2_H

#include "conn.h"

/* The client connection preface (RFC 9113 section 3.4) that starts every HTTP/2 connection. */
#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

extern const struct conn_proto proto_http2;

#endif
