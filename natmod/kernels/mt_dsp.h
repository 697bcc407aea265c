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

#endif
