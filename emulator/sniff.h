/*
 * sniff.h — the protocol a connection starts with: it reads the first bytes
 * and hands the connection to the protocol they belong to.
 */
#ifndef KT_SNIFF_H
#define KT_SNIFF_H

#include "conn.h"

extern const struct conn_proto proto_sniff;

#endif
