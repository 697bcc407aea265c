// SPDX-License-Identifier: MIT
#include "mt_dot_sum_s8.h"

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"

// Cortex-M4 and others with the DSP extension: 4 products per iteration, two sign-extended
// halfword pairs (bytes 0,2 and 1,3) into smlad each, and the filter sum by smlad with
// (1, 1). Integer sums, no term can overflow: the result is the portable loop's exactly.
int32_t mt_dot_sum_s8(const int8_t *w, const int8_t *x, int32_t n, int32_t *w_sum) {
    const int32_t ones = 0x00010001;
    int32_t dot = 0, sum = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t wv = load_s8x4(w + i), xv = load_s8x4(x + i);
        const int32_t w02 = __sxtb16(wv), w13 = sxtb16_ror8(wv);
        const int32_t x02 = __sxtb16(xv), x13 = sxtb16_ror8(xv);
        dot = __smlad(w02, x02, dot);
        dot = __smlad(w13, x13, dot);
        sum = __smlad(w02, ones, sum);
        sum = __smlad(w13, ones, sum);
    }
    for (; i < n; i++) {
        sum += w[i];
        dot += w[i] * x[i];
    }
    *w_sum += sum;
    return dot;
}

#else

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

#endif
