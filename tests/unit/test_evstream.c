/* Unit tests: the AWS event-stream encoding (common/evstream.c): a message round-trips, cut or corrupted ones are told apart. */
#include <stdint.h>
#include <zlib.h>

#include "evstream.h"
#include "ktest.h"

int main(void)
{
    struct kbuf b = KBUF_INIT;
    struct evs_header h[3] = {{":message-type", "event"}, {":event-type", "SubscribeToShardEvent"},
                              {":content-type", "application/json"}};
    evs_encode(&b, h, 3, "{\"Records\":[]}", 14);
    evs_encode(&b, h, 1, "", 0);
    /* prelude: total and headers length, big-endian, then the prelude's CRC32 */
    const uint8_t *p = (const uint8_t *)b.p;
    uint32_t total = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    CHECK_INT(total, 12 + (1 + 13 + 3 + 5) + (1 + 11 + 3 + 21) + (1 + 13 + 3 + 16) + 14 + 4);
    uint32_t pcrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
    CHECK_INT(pcrc, (uint32_t)crc32(0, p, 8));

    struct evs_header got[4];
    char names[4][256], values[4][256], err[128];
    size_t len, nh, plen;
    const uint8_t *payload;
    CHECK_INT(evs_decode(p, b.len, &len, got, names, values, 4, &nh, &payload, &plen, err, sizeof err), 0);
    CHECK_INT(len, total);
    CHECK_INT(nh, 3);
    CHECK_STR(got[1].value, "SubscribeToShardEvent");
    CHECK(plen == 14 && memcmp(payload, "{\"Records\":[]}", 14) == 0);
    CHECK_INT(evs_decode(p + len, b.len - len, &len, got, names, values, 4, &nh, &payload, &plen, err, sizeof err),
              0);
    CHECK_INT(nh, 1);
    CHECK_INT(plen, 0);
    /* more bytes needed: any cut short of the whole message */
    for (size_t cut = 0; cut < total; cut += 7)
        if (evs_decode(p, cut, &len, got, names, values, 4, &nh, &payload, &plen, err, sizeof err) != 1)
            CHECK(!"a message cut short asks for more");
    /* a flipped bit anywhere is refused with a reason */
    struct kbuf bad = KBUF_INIT;
    kbuf_append(&bad, b.p, total);
    for (size_t i = 0; i < total; i++) {
        bad.p[i] ^= 0x10;
        int rc = evs_decode((const uint8_t *)bad.p, total, &len, got, names, values, 4, &nh, &payload, &plen, err,
                            sizeof err);
        if (rc == 0)
            CHECK(!"a corrupted message is refused");
        bad.p[i] ^= 0x10;
    }
    kbuf_free(&bad);
    kbuf_free(&b);
    return ktest_done("test_evstream");
}
