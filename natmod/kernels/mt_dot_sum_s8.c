// SPDX-License-Identifier: MIT
#include "mt_dot_sum_s8.h"

int32_t mt_dot_sum_s8(const int8_t *w, const int8_t *x, int32_t n, int32_t *w_sum) {
    // Counting down with one index: Thumb-1 has ldrsb only with a register offset, and gcc -Os
    // keeps this form in registers on Cortex-M0 (9 instructions a product) and uses smlabb on
    // M4. Integer sums do not depend on the order (no term can overflow, see the header).
    int32_t dot = 0, sum = 0;
    for (int32_t i = n - 1; i >= 0; i--) {
        int32_t wv = w[i];
        sum += wv;
        dot += wv * x[i];
    }
    *w_sum += sum;
    return dot;
}
