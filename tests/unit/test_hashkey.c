/* Unit tests: hash keys, MD5 routing and the even split of the key space. */
#include "common/hashkey.h"
#include "ktest.h"

static void text(u128 v, char *out)
{
    hk_format(out, v);
}

int main(void)
{
    char buf[HK_TEXT_MAX];
    u128 v;

    /* Formatting and parsing at the edges of the range. */
    text(0, buf);
    CHECK_STR(buf, "0");
    text(HK_MAX, buf);
    CHECK_STR(buf, "340282366920938463463374607431768211455");
    CHECK_INT(hk_parse("340282366920938463463374607431768211455", 39, &v), 0);
    CHECK(v == HK_MAX);
    CHECK_INT(hk_parse("340282366920938463463374607431768211456", 39, &v), -1);
    CHECK_INT(hk_parse("999999999999999999999999999999999999999", 39, &v), -1);
    CHECK_INT(hk_parse("", 0, &v), -1);
    CHECK_INT(hk_parse("12a", 3, &v), -1);
    CHECK_INT(hk_parse("170141183460469231731687303715884105728", 39, &v), 0);
    CHECK(v == (u128)1 << 127);

    /* MD5("") = d41d8cd98f00b204e9800998ecf8427e, read big-endian. */
    v = hk_from_partition_key("", 0);
    text(v, buf);
    CHECK_STR(buf, "281949768489412648962353822266799178366");
    /* MD5("a") = 0cc175b9c0f1b6a831c399e269772661 */
    v = hk_from_partition_key("a", 1);
    text(v, buf);
    CHECK_STR(buf, "16955237001963240173058271559858726497");

    /* Two shards: the split AWS shows for a 2-shard stream. */
    u128 s, e;
    hk_range(2, 0, &s, &e);
    text(e, buf);
    CHECK_STR(buf, "170141183460469231731687303715884105727");
    hk_range(2, 1, &s, &e);
    text(s, buf);
    CHECK_STR(buf, "170141183460469231731687303715884105728");
    CHECK(e == HK_MAX);

    /* Three shards: floor(2^128 / 3) steps; the last shard takes the rest. */
    hk_range(3, 1, &s, &e);
    text(s, buf);
    CHECK_STR(buf, "113427455640312821154458202477256070485");
    text(e, buf);
    CHECK_STR(buf, "226854911280625642308916404954512140969");
    hk_range(3, 2, &s, &e);
    CHECK(e == HK_MAX);

    /* Ranges are contiguous and cover the space for several shard counts. */
    for (uint32_t n = 1; n <= 37; n++) {
        u128 prev_end = 0;
        int contiguous = 1;
        for (uint32_t i = 0; i < n; i++) {
            hk_range(n, i, &s, &e);
            if (i == 0 ? s != 0 : s != prev_end + 1)
                contiguous = 0;
            prev_end = e;
        }
        CHECK(contiguous && prev_end == HK_MAX);
    }

    /* hk_shard_of agrees with the ranges, at both ends of each range. */
    for (uint32_t n = 1; n <= 9; n++) {
        for (uint32_t i = 0; i < n; i++) {
            hk_range(n, i, &s, &e);
            CHECK_INT(hk_shard_of(s, n), i);
            CHECK_INT(hk_shard_of(e, n), i);
        }
    }
    CHECK_INT(hk_shard_of(HK_MAX, 1), 0);
    return ktest_done("test_hashkey");
}
