/* Unit tests: shard iterators and NextTokens round-trip and resist tampering. */
#include "common/b64.h"
#include "emulator/iterator.h"
#include "ktest.h"

int main(void)
{
    iter_init();
    struct iter_pos p = {.kind = ITER_SHARD, .epoch = 1795558785322ULL, .shard = 7, .index = 123456789,
                         .issued_ms = 1795558785999LL};
    snprintf(p.region, sizeof p.region, "eu-west-1");
    snprintf(p.stream, sizeof p.stream, "orders.v2_x-y");
    char text[ITER_TEXT_MAX + 1];
    size_t n = iter_encode(text, &p);
    CHECK(n > 0 && n <= ITER_TEXT_MAX);

    struct iter_pos q;
    CHECK_INT(iter_decode(text, n, ITER_SHARD, &q), 0);
    CHECK(q.epoch == p.epoch);
    CHECK_INT(q.shard, 7);
    CHECK_INT(q.index, 123456789);
    CHECK(q.issued_ms == p.issued_ms);
    CHECK_STR(q.region, "eu-west-1");
    CHECK_STR(q.stream, "orders.v2_x-y");

    /* A token of another kind is not an iterator. */
    CHECK_INT(iter_decode(text, n, ITER_LIST_SHARDS, &q), -1);

    /* Flipping any character breaks the MAC or the base64. */
    int all_refused = 1;
    for (size_t i = 0; i < n; i++) {
        char t[ITER_TEXT_MAX + 1];
        memcpy(t, text, n + 1);
        if (t[i] == '=')
            continue;
        t[i] = t[i] == 'A' ? 'B' : 'A';
        if (iter_decode(t, n, ITER_SHARD, &q) == 0)
            all_refused = 0;
    }
    CHECK(all_refused);
    CHECK_INT(iter_decode("", 0, ITER_SHARD, &q), -1);
    CHECK_INT(iter_decode("!!!!", 4, ITER_SHARD, &q), -1);
    CHECK_INT(iter_decode(text, n - 4, ITER_SHARD, &q), -1);

    /* The longest stream name still fits the API's 512-character limit. */
    memset(p.stream, 'n', 128);
    p.stream[128] = '\0';
    memset(p.region, 'r', 63);
    p.region[63] = '\0';
    n = iter_encode(text, &p);
    CHECK(n <= 512);
    CHECK_INT(iter_decode(text, n, ITER_SHARD, &q), 0);
    CHECK_INT(strlen(q.stream), 128);

    /* A key drawn anew (a restarted emulator) refuses old iterators. */
    iter_init();
    CHECK_INT(iter_decode(text, n, ITER_SHARD, &q), -1);
    return ktest_done("test_iterator");
}
