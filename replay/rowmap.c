/* rowmap.c — delivered rows as bits (see rowmap.h). */
#include "rowmap.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

void rowmap_set(struct rowmap *m, uint64_t row)
{
    size_t w = (size_t)(row / 64);
    if (w >= m->words) {
        size_t n = m->words ? m->words : 1024;
        while (n <= w)
            n *= 2;
        m->bits = xrealloc(m->bits, n * sizeof *m->bits);
        memset(m->bits + m->words, 0, (n - m->words) * sizeof *m->bits);
        m->words = n;
    }
    m->bits[w] |= (uint64_t)1 << (row % 64);
}

uint64_t rowmap_count_above(const struct rowmap *m, uint64_t row)
{
    size_t w = (size_t)(row / 64);
    if (w >= m->words)
        return 0;
    unsigned b = (unsigned)(row % 64);
    uint64_t n = (uint64_t)__builtin_popcountll(b == 63 ? 0 : m->bits[w] >> (b + 1));
    for (size_t i = w + 1; i < m->words; i++)
        n += (uint64_t)__builtin_popcountll(m->bits[i]);
    return n;
}

void rowmap_free(struct rowmap *m)
{
    free(m->bits);
    m->bits = NULL;
    m->words = 0;
}
