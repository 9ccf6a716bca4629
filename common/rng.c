/* rng.c — seeding the xorshift64* generators (see rng.h). */
#include "rng.h"

#include <unistd.h>

#include "ktime.h"

uint64_t kt_rand_seed(uint64_t salt)
{
    /* splitmix64's finaliser spreads the few bits that differ between callers. */
    uint64_t z = (uint64_t)kt_now_ns() ^ ((uint64_t)getpid() << 32) ^ ((salt + 1) * 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return z ? z : 0x9e3779b97f4a7c15ULL;
}
