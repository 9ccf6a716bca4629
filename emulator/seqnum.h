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
 * from another stream or shard is recognised as such.
 */
#ifndef KT_SEQNUM_H
#define KT_SEQNUM_H

#include <stddef.h>
#include <stdint.h>

#define SEQ_LEN 56

/* Writes SEQ_LEN digits and a NUL. */
void seq_format(char *out, uint64_t epoch, uint32_t shard, uint64_t index);

/* Returns 0 and the parts of a number seq_format wrote, or -1. */
int seq_parse(const char *s, size_t len, uint64_t *epoch, uint32_t *shard, uint64_t *index);

#endif
