/*
 * seqnum.h — Kinesis sequence numbers as the emulator issues them.
 *
 * A sequence number is 56 decimal digits that grow within a shard:
 *
 *   49 EEEEEEEEEEEEEE SSSSSSSSSS IIIIIIIIIIIIIIIIIIIIIIIIIIIIII
 *   |  |              |          `- 30 digits: record index in the shard
 *   |  |              `- 10 digits: shard index
 *   |  `- 14 digits: stream epoch (unique per stream incarnation)
 *   `- constant prefix
 *
 * so AT_SEQUENCE_NUMBER finds its record without a search, and a number
 * from another stream or shard is recognised as such. As on AWS, a shard's
 * StartingSequenceNumber is below its first record's: the shard starts at
 * number 0, and the record at index i has number i + 1.
 */
#ifndef KT_SEQNUM_H
#define KT_SEQNUM_H

#include <stddef.h>
#include <stdint.h>

#define SEQ_LEN 56

/* Writes SEQ_LEN digits and a NUL: number n of the shard (0: its start, i + 1: its record at index i). */
void seq_format(char *out, uint64_t epoch, uint32_t shard, uint64_t n);
/* The number of the record at index i, and the shard's starting number. */
void seq_format_record(char *out, uint64_t epoch, uint32_t shard, uint64_t index);
void seq_format_start(char *out, uint64_t epoch, uint32_t shard);

/* Returns 0 and the parts of a number seq_format wrote (n as given to it), or -1. */
int seq_parse(const char *s, size_t len, uint64_t *epoch, uint32_t *shard, uint64_t *n);

#endif
