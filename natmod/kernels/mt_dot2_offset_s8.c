// SPDX-License-Identifier: MIT
#include "mt_dot2_offset_s8.h"

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"

// Cortex-M4 and others with the DSP extension: 4 input bytes per iteration, x + offset made as
// two halfword pairs (bytes 0,2 and 1,3; |x + offset| <= 255 fits a halfword) by sxtab16, each
// row's bytes by sxtb16, products summed by smlad. Integer sums without overflow: the portable
// loop's result exactly.
void mt_dot2_offset_s8(const int8_t *w0, const int8_t *w1, const int8_t *x, int32_t n,
                       int32_t offset, int32_t acc[2]) {
    const int32_t offsets = (int32_t)(((uint32_t)offset & 0xffffu) * 0x00010001u);
    int32_t a0 = 0, a1 = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t xv = load_s8x4(x + i), v0 = load_s8x4(w0 + i), v1 = load_s8x4(w1 + i);
        const int32_t x02 = __sxtab16(offsets, xv), x13 = sxtab16_ror8(offsets, xv);
        a0 = __smlad(__sxtb16(v0), x02, a0);
        a0 = __smlad(sxtb16_ror8(v0), x13, a0);
        a1 = __smlad(__sxtb16(v1), x02, a1);
        a1 = __smlad(sxtb16_ror8(v1), x13, a1);
    }
    for (; i < n; i++) {
        const int32_t xv = x[i] + offset;
        a0 += w0[i] * xv;
        a1 += w1[i] * xv;
    }
    acc[0] = a0;
    acc[1] = a1;
}

#else

void mt_dot2_offset_s8(const int8_t *w0, const int8_t *w1, const int8_t *x, int32_t n,
                       int32_t offset, int32_t acc[2]) {
    int32_t a0 = 0, a1 = 0;
    for (int32_t i = 0; i < n; i++) {
        const int32_t xv = x[i] + offset;
        a0 += w0[i] * xv;
        a1 += w1[i] * xv;
    }
    acc[0] = a0;
    acc[1] = a1;
}

#endif
