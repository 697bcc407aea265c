// SPDX-License-Identifier: MIT
#ifndef MT_DOT_SUM_S8_H
#define MT_DOT_SUM_S8_H

#include <stdint.h>

// The inner loop of conv, pointwise conv and fc: returns sum w[i] * x[i] and adds sum w[i] to
// *w_sum, so the caller applies the input offset once (sum w (x + off) = dot + off * sum w).
// n <= MT_MAX_ACC_TERMS keeps both sums below 2^31 in magnitude. One place for a SIMD path.
int32_t mt_dot_sum_s8(const int8_t *w, const int8_t *x, int32_t n, int32_t *w_sum);

#endif
