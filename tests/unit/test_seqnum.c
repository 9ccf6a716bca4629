/* Unit tests: sequence number text. */
#include "emulator/seqnum.h"
#include "ktest.h"

int main(void)
{
    char a[SEQ_LEN + 1], b[SEQ_LEN + 1];
    uint64_t epoch, index;
    uint32_t shard;

    seq_format(a, 1795558785322ULL, 3, 17);
    CHECK_INT(strlen(a), 56);
    CHECK_STR(a, "49017955587853220000000003000000000000000000000000000017");
    CHECK_INT(seq_parse(a, strlen(a), &epoch, &shard, &index), 0);
    CHECK(epoch == 1795558785322ULL);
    CHECK_INT(shard, 3);
    CHECK_INT(index, 17);

    /* Numbers grow with the index within a shard, as decimal text and as numbers. */
    seq_format(a, 1795558785322ULL, 0, 9);
    seq_format(b, 1795558785322ULL, 0, 10);
    CHECK(strcmp(a, b) < 0);
    seq_format(b, 1795558785322ULL, 0, UINT64_MAX);
    CHECK_INT(seq_parse(b, strlen(b), &epoch, &shard, &index), 0);
    CHECK(index == UINT64_MAX);

    /* A shard starts below its first record: the start is number 0, record i is number i + 1. */
    seq_format_start(a, 1795558785322ULL, 2);
    seq_format_record(b, 1795558785322ULL, 2, 0);
    CHECK(strcmp(a, b) < 0);
    CHECK_INT(seq_parse(a, SEQ_LEN, &epoch, &shard, &index), 0);
    CHECK_INT(index, 0);
    CHECK_INT(seq_parse(b, SEQ_LEN, &epoch, &shard, &index), 0);
    CHECK_INT(index, 1);

    /* Anything we did not issue is refused. */
    CHECK_INT(seq_parse("0", 1, &epoch, &shard, &index), -1);
    CHECK_INT(seq_parse(a, 55, &epoch, &shard, &index), -1);
    char bad[SEQ_LEN + 1];
    memcpy(bad, a, sizeof bad);
    bad[0] = '5';
    CHECK_INT(seq_parse(bad, SEQ_LEN, &epoch, &shard, &index), -1);
    memcpy(bad, a, sizeof bad);
    bad[30] = '1'; /* reserved digits must be zero */
    CHECK_INT(seq_parse(bad, SEQ_LEN, &epoch, &shard, &index), -1);
    memcpy(bad, a, sizeof bad);
    bad[40] = 'x';
    CHECK_INT(seq_parse(bad, SEQ_LEN, &epoch, &shard, &index), -1);
    /* 20 index digits above 2^64 - 1 */
    memcpy(bad, "49017955587853220000000000000000000099999999999999999999", SEQ_LEN + 1);
    CHECK_INT(seq_parse(bad, SEQ_LEN, &epoch, &shard, &index), -1);
    return ktest_done("test_seqnum");
}
