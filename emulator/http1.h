/* http1.h — HTTP/1.1 on an emulator connection (see http1.c). */
#ifndef KT_HTTP1_H
#define KT_HTTP1_H

#include "conn.h"

extern const struct conn_proto proto_http1;

#endif
