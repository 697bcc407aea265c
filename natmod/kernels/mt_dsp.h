// SPDX-License-Identifier: MIT
// Helpers of the Cortex-M DSP-extension fast paths (smlad, sxtb16), written once. Like
// mt_requant.h, this header holds only static inline functions: they sit in the kernels' inner
// loops, where a call would cost more than the helper. Include it inside
// `#if defined(__ARM_FEATURE_DSP)` only.
#ifndef MT_DSP_H
#define MT_DSP_H

#include <arm_acle.h>
#include <stdint.h>

// The kernels' per-tap and per-output helpers: inlined at -Os too (the natmod build), where a
// call per tap or per output would cost more than the helper.
#define MT_DSP_INLINE static inline __attribute__((always_inline))

// Four int8 from any address (the M4 allows unaligned ldr; gcc emits one).
static inline int32_t load_s8x4(const int8_t *p) {
    int32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

// Bytes 1 and 3 of v sign-extended into two halfwords (plus a's halfwords): the ror #8 operand
// forms, which gcc's arm_acle.h does not give (a separate ror costs an instruction).
static inline int32_t sxtb16_ror8(int32_t v) {
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

static inline int32_t sxtab16_ror8(int32_t a, int32_t v) {
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(v));
    return r;
}

// Four channels of one tap, per channel: a_j += g_j * (x_j + offset), g and x four int8 each,
// off2 the offset in both halfwords (|x + offset| <= 255 fits one). sxtab16 extends and adds
// the offset at once; smlabb/smlatt keep each channel's own sum (channels 0 and 2 in the even
// halfwords, 1 and 3 in the odd).
MT_DSP_INLINE void mac4_offset(int32_t g, int32_t x, int32_t off2, int32_t *a0, int32_t *a1,
                               int32_t *a2, int32_t *a3) {
    const int32_t x_even = __sxtab16(off2, x), x_odd = sxtab16_ror8(off2, x);
    const int32_t g_even = __sxtb16(g), g_odd = sxtb16_ror8(g);
    *a0 = __smlabb(g_even, x_even, *a0);
    *a2 = __smlatt(g_even, x_even, *a2);
    *a1 = __smlabb(g_odd, x_odd, *a1);
    *a3 = __smlatt(g_odd, x_odd, *a3);
}

// round(t) half away from zero, saturated to +-127: the int8 of mt_grad_put (mt_grad.h) for t =
// v * inv, as sign and magnitude. Float addition rounds to nearest even, which is odd-symmetric,
// so t + (t >= 0 ? 0.5 : -0.5) is +-(|t| + 0.5), and the truncation and the clamp are
// odd-symmetric too. NaN: 0 both ways (vcvt gives 0); -0.0: 0; +-inf and |t| >= 2^31: vcvt
// saturates, then +-127.
static inline int8_t mt_q8_round(float t) {
    int32_t sign;
    __builtin_memcpy(&sign, &t, 4);
    sign >>= 31;  // 0 or -1
    const int32_t m = (int32_t)__usat((int32_t)(__builtin_fabsf(t) + 0.5f), 7);
    return (int8_t)((m ^ sign) - sign);
}

#endif
