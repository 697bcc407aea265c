// SPDX-License-Identifier: MIT
// The QAS element update of mt_qas.h (mt_qas_step then mt_qas_apply on an int8 weight) over a
// row of integer gradient sums, for the fused q8 updates: the same float32 operations in the
// same order, so the same bits, with what is constant taken out of the element loop (the mode,
// the state pointers, 1/(s*s) of a row's one scale, the rng state kept in a register) and one
// loop per rounding mode.
#ifndef MT_QAS_Q8_H
#define MT_QAS_Q8_H

#include <stdint.h>

#include "mt_qas.h"

typedef struct {
    const mt_update_params *params;
    float grad_scale;  // c: an element's gradient is (float)acc * c
    float *velocity;   // momentum state (NULL when momentum == 0)
    float *master;     // master copy (MT_ROUND_MASTER)
    uint32_t rng;      // the xorshift32 state (MT_ROUND_STOCHASTIC), written back by _end
    int32_t e;         // the next element's index into the state
} mt_qas_q8;

// Start at element 0; params and state already checked (mt_qas_check).
void mt_qas_q8_begin(mt_qas_q8 *q, const mt_update_params *params, const mt_update_state *state,
                     float grad_scale);

// Update row[col[i]] with gradient (float)acc[i] * grad_scale and scale s[i], for i < count, as
// elements e, e + 1, ... (then e += count). same_scale: every s[i] equals s[0].
void mt_qas_q8_row(mt_qas_q8 *q, const int32_t *acc, int32_t count, int8_t *row,
                   const int32_t *col, const float *s, int same_scale);

// The same update for a row whose sums are a few products each (fc: one per batch item),
//     acc[j] = sum over t < terms of g[t * g_step] * (x[t * x_step + j] + offset),
// as elements e .. e + count - 1: row[col[j]] (col NULL: row[j]), one scale s. One term, no
// momentum and every |step| provably within the clamp: one loop with the sum in place and no
// clamp test; otherwise the sums 32 at a time, then mt_qas_q8_row.
void mt_qas_q8_row_products(mt_qas_q8 *q, const int8_t *g, int32_t g_step, int32_t terms,
                            int32_t offset, const int8_t *x, int32_t x_step, int32_t count,
                            int8_t *row, const int32_t *col, float s);

// Store the rng state back.
void mt_qas_q8_end(const mt_qas_q8 *q, const mt_update_state *state);

#endif
