/*
 * pcapsurvey.h — what a pcap file holds, for a capture in which nothing
 * matched: the TCP ports and hosts seen most, so the user can pick the
 * right --port. Reads the file again, without a filter.
 */
#ifndef KT_PCAPSURVEY_H
#define KT_PCAPSURVEY_H

#include "buf.h"
#include "errbuf.h"

/*
 * Appends "N packets: M TCP; ports seen most: 443 (900), ...; hosts: ..."
 * to out (at most the first ten million packets are looked at). 0, or -1
 * with err set when the file cannot be read.
 */
int pcap_survey(const char *file, struct kbuf *out, struct kt_err *err);

/* When a file cannot be a pcap: empty or shorter than a pcap header, in words into err. 1 then, else 0. */
int pcap_too_short(const char *file, struct kt_err *err);

#endif
