/*
 * Unit tests: the emulator's round-robin hand-over of connections to workers
 * keeps going past 2^31 and 2^32 accepts (the counter once was a signed int,
 * undefined behaviour after 2^31 connections).
 */
#include <limits.h>

#include "emulator/server.h"
#include "ktest.h"

int main(void)
{
    unsigned next = 0;
    CHECK_INT(server_pick_worker(&next, 3), 0);
    CHECK_INT(server_pick_worker(&next, 3), 1);
    CHECK_INT(server_pick_worker(&next, 3), 2);
    CHECK_INT(server_pick_worker(&next, 3), 0);
    next = (unsigned)INT_MAX;
    int in_range = 1;
    for (int i = 0; i < 10; i++) {
        unsigned w = server_pick_worker(&next, 3);
        in_range &= w < 3;
    }
    CHECK(in_range);
    next = UINT_MAX - 1;
    for (int i = 0; i < 4; i++)
        in_range &= server_pick_worker(&next, 7) < 7;
    CHECK(in_range);
    CHECK_INT(next, 2); /* wrapped */
    return ktest_done("test_server");
}
