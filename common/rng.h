/*
 * rng.h — xorshift64*, a small fast generator for jitter, request ids and
 * injected errors. Not for secrets. Each user keeps its own state (per
 * thread or per engine), so nothing is shared or locked.
 */
#ifndef KT_RNG_H
#define KT_RNG_H

#include <stdint.h>

/* The next 64 random bits; *state must not be 0. */
static inline uint64_t kt_rand64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/*
 * A starting state for one user of the generator: the clock, the process id
 * and `salt` (a worker's number, say) mixed so that users started together
 * differ. Never 0.
 */
uint64_t kt_rand_seed(uint64_t salt);

#endif
