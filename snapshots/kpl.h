/*
 * kpl.h — records aggregated by the Kinesis Producer Library (KPL): one
 * Kinesis record that packs many user records, unpacked as the KCL does.
 *
 * Follows the KPL's aggregation format (amazon-kinesis-producer,
 * aggregation-format.md): the magic F3 89 9A C2, a protobuf
 * AggregatedRecord, then the MD5 of the protobuf bytes (16 bytes):
 *
 *   message AggregatedRecord { repeated string partition_key_table = 1;
 *                              repeated string explicit_hash_key_table = 2;
 *                              repeated Record records = 3; }
 *   message Record { required uint64 partition_key_index = 1;
 *                    optional uint64 explicit_hash_key_index = 2;
 *                    required bytes data = 3; repeated Tag tags = 4; }
 *
 * A record with the magic whose checksum or protobuf is wrong is not an
 * aggregate: the KCL hands it over as it is, and so does the extractor.
 */
#ifndef KT_KPL_H
#define KT_KPL_H

#include <stddef.h>
#include <stdint.h>

enum kpl_kind { KPL_PLAIN, KPL_AGGREGATE, KPL_CORRUPT };

struct kpl_span {
    const uint8_t *p;
    size_t n;
};

struct kpl {
    struct kpl_span *keys, *ehks;  /* the tables */
    size_t nkeys, nehks, capkeys, capehks;
    const uint8_t *pos, *end;  /* the protobuf left to read */
    size_t records;            /* user records in it */
};

/* One user record: views into the Kinesis record's data. */
struct kpl_rec {
    struct kpl_span data, key, ehk; /* ehk.p NULL when the record names none */
};

void kpl_init(struct kpl *k);
void kpl_free(struct kpl *k);

/*
 * Looks at a Kinesis record's data: KPL_PLAIN (no magic), KPL_AGGREGATE
 * (checked whole: checksum, protobuf, every index in its table; read its
 * records with kpl_next), or KPL_CORRUPT with the reason in *why.
 */
enum kpl_kind kpl_open(struct kpl *k, const uint8_t *data, size_t len, const char **why);

/* The next user record of an aggregate: 1 with out set, 0 after the last. */
int kpl_next(struct kpl *k, struct kpl_rec *out);

#endif
