// SPDX-License-Identifier: MIT
#ifndef MT_DOT2_OFFSET_S8_H
#define MT_DOT2_OFFSET_S8_H

#include <stdint.h>

// The inner loop of pointwise conv and fc, two filter rows against one input vector:
//   acc[r] = sum over i < n of w_r[i] * (x[i] + offset), r = 0, 1.
// Two rows share each load of x, and adding the offset to x (not to the sum) needs no filter
// sum. With offset in [-127, 128] (mt_act_check) and n <= MT_MAX_ACC_TERMS every partial sum
// stays below 2^31 in magnitude (65536 * 128 * 255 < 2^31): the same integers as mt_dot_sum_s8's
// dot + offset * w_sum, in any order. One place for a SIMD path.
void mt_dot2_offset_s8(const int8_t *w0, const int8_t *w1, const int8_t *x, int32_t n,
                       int32_t offset, int32_t acc[2]);

#endif
