// SPDX-License-Identifier: MIT
// Requantization, written once: TFLite's MultiplyByQuantizedMultiplier (double rounding), the
// same three steps as host_tools/microtrain_tools/quant.py, bit for bit. Every forward kernel's
// output step goes through mt_requant_s8, so they all round the same way.
#ifndef MT_REQUANT_H
#define MT_REQUANT_H

#include <stdint.h>

// The rounding shift below needs `>>` on a negative int32 to be arithmetic. C99 leaves it to the
// compiler; gcc (every arch we build for) defines it so. Fail the build anywhere it is not.
typedef char mt_requant_needs_arithmetic_shift[((-1) >> 1) == -1 ? 1 : -1];

// Valid range of a requantization shift: scale ~= multiplier * 2^(shift - 31).
#define MT_SHIFT_MIN (-31)
#define MT_SHIFT_MAX 30

// a * b / 2^31 rounded to nearest, ties toward +infinity (gemmlowp), saturating the one overflow.
static inline int32_t mt_sat_rounding_doubling_high_mul(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    // gemmlowp adds 2^30 (ab >= 0) or 1 - 2^30 (ab < 0) and divides by 2^31 toward zero; for
    // ab < 0 that is ceil((ab + 1 - 2^30) / 2^31) = floor((ab + 2^30) / 2^31), the ab >= 0
    // case. So one add and an arithmetic shift (no branch, no 64-bit negation) give its bits.
    // |ab| <= 2^62, so the add cannot overflow; gcc shifts int64 arithmetically, as int32.
    int64_t ab = (int64_t)a * (int64_t)b;
    return (int32_t)((ab + ((int64_t)1 << 30)) >> 31);
}

// x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31].
static inline int32_t mt_rounding_divide_by_pot(int32_t x, int32_t exponent) {
    int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * multiplier * 2^(shift - 31), shift in [MT_SHIFT_MIN, MT_SHIFT_MAX]. TFLite wraps the left
// shift in int32 (reachable only for scales > 1); we saturate, as quant.py does.
static inline int32_t mt_requant(int32_t x, int32_t multiplier, int32_t shift) {
    if (shift > 0) {
        // x * 2^shift saturated, tested against the limits shifted down: 32-bit work only.
        if (x > (INT32_MAX >> shift)) {
            x = INT32_MAX;
        } else if (x < (INT32_MIN >> shift)) {
            x = INT32_MIN;
        } else {
            x *= (int32_t)1 << shift;
        }
        return mt_sat_rounding_doubling_high_mul(x, multiplier);
    }
    return mt_rounding_divide_by_pot(mt_sat_rounding_doubling_high_mul(x, multiplier), -shift);
}

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>

// mt_requant for shift <= -2 (e = -shift in [2, 31]), any multiplier, in 7 instructions: both
// roundings folded into one 64-bit add before one shift. With p = x * multiplier, q = p + 2^30
// and r = floor(q / 2^31) (the high mul, before saturation), the result is r / 2^e rounded half
// away from zero: floor((r + 2^(e-1) - [r < 0]) / 2^e) = floor((q + (2^(e-1) - [r < 0]) 2^31)
// / 2^(31+e)), a 64-bit add and then the high word shifted by e - 1. [p < 0] stands in for
// [r < 0]: they differ only for p in [-2^30, 0), where both give 0. The one saturating case
// (x = multiplier = INT32_MIN, r = 2^31 instead of INT32_MAX) rounds to 2^(31-e) either way.
// |p| <= 2^62, so the high word plus 2^(e-2) + 1 cannot overflow.
static inline int32_t mt_requant_dsp_shr2(int32_t x, int32_t multiplier, int32_t shift) {
    const int32_t quarter = (int32_t)1 << (-shift - 2);  // 2^(e-1) 2^31, in high-word units
    int32_t lo, hi, t;
    __asm__("smull  %[lo], %[hi], %[x], %[m]\n\t"
            "and    %[t], %[hi], #0x80000000\n\t"   // [p < 0] 2^31 ...
            "eor    %[t], %[t], #0x40000000\n\t"    // ... + 2^30: the low word's addend
            "adds   %[lo], %[lo], %[t]\n\t"
            "sub    %[t], %[quarter], %[hi], lsr #31\n\t"  // the high word's (borrow of -2^31)
            "adc    %[hi], %[hi], %[t]"
            : [lo] "=&r"(lo), [hi] "=&r"(hi), [t] "=&r"(t)
            : [x] "r"(x), [m] "r"(multiplier), [quarter] "r"(quarter)
            : "cc");
    return hi >> (-shift - 1);
}
#endif

// int32 accumulator -> int8: scale, add the output zero point, clamp to the fused activation.
static inline int8_t mt_requant_s8(int32_t acc, int32_t multiplier, int32_t shift,
                                   int32_t output_offset, int32_t act_min, int32_t act_max) {
#if defined(__ARM_FEATURE_DSP)
    // The usual case (scales below 1/4) in 7 instructions, the rest the portable way; ssat
    // limits to [-256, 255] as below.
    int32_t y = shift <= -2 ? mt_requant_dsp_shr2(acc, multiplier, shift)
                            : mt_requant(acc, multiplier, shift);
    y = __ssat(y, 9);
#else
    int32_t y = mt_requant(acc, multiplier, shift);
    // Limiting y to [-256, 255] first cannot change the clamped result (offset and clamp are
    // int8), and lets the offset be added in 32 bits without overflow.
    y = y > 255 ? 255 : y < -256 ? -256 : y;
#endif
    y += output_offset;
    y = y < act_min ? act_min : y > act_max ? act_max : y;
    return (int8_t)y;
}

// a + b saturated to int32 (bias added to an accumulator never wraps).
static inline int32_t mt_add_sat_s32(int32_t a, int32_t b) {
#if defined(__ARM_FEATURE_DSP)
    return __qadd(a, b);
#else
    if (b > 0 && a > INT32_MAX - b) {
        return INT32_MAX;
    }
    if (b < 0 && a < INT32_MIN - b) {
        return INT32_MIN;
    }
    return a + b;
#endif
}

#endif
