/*
 * rowmap.h — which rows' records were delivered, one bit a row, so that a
 * replay that stops can say how many records after its first unsent row
 * were sent all the same (and would be sent again by resuming there).
 * About 12.5 MB per hundred million rows.
 */
#ifndef KT_ROWMAP_H
#define KT_ROWMAP_H

#include <stddef.h>
#include <stdint.h>

struct rowmap {
    uint64_t *bits;
    size_t words;
};

void rowmap_set(struct rowmap *m, uint64_t row);
/* How many rows above `row` are set. */
uint64_t rowmap_count_above(const struct rowmap *m, uint64_t row);
void rowmap_free(struct rowmap *m);

#endif
