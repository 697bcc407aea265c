// SPDX-License-Identifier: MIT
// Requantization, written once: TFLite's MultiplyByQuantizedMultiplier (double rounding), the
// same three steps as host_tools/microtrain_tools/quant.py, bit for bit. Every forward kernel's
// output step goes through mt_requant_s8 (or, on cores with the DSP extension, its prepared
// form mt_requant_dsp_s8, tested to give the same bytes), so they all round the same way.
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
#if defined(__ARM_ARCH_6M__)
    // Thumb-1 has no long multiply (an int64 product is a libgcc call, about 45 instructions):
    // ab = hh 2^32 + (lh + hl) 2^16 + ll from 16-bit halves (a's high half signed), each
    // product within 32 bits, the middle sum split so that no carry is lost.
    const int32_t ah = a >> 16, bh = b >> 16;
    const uint32_t al = (uint32_t)a & 0xFFFFu, bl = (uint32_t)b & 0xFFFFu;
    const uint32_t ll = al * bl;
    const int32_t lh = (int32_t)al * bh, hl = ah * (int32_t)bl;  // |.| < 2^31
    const uint32_t mid = (ll >> 16) + ((uint32_t)lh & 0xFFFFu) + ((uint32_t)hl & 0xFFFFu);
    int32_t hi = ah * bh + (lh >> 16) + (hl >> 16) + (int32_t)(mid >> 16);
    const uint32_t lo = (mid << 16) | (ll & 0xFFFFu), rounded = lo + (1u << 30);
    hi += rounded < lo;  // the carry of + 2^30
    return (int32_t)(((uint32_t)hi << 1) | (rounded >> 31));
#else
    int64_t ab = (int64_t)a * (int64_t)b;
    return (int32_t)((ab + ((int64_t)1 << 30)) >> 31);
#endif
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
#include "mt_dsp.h"

// mt_requant for shift <= -2 (e = -shift in [2, 31]), any multiplier m, both roundings folded
// into one 64-bit multiply-add and one shift. With p = x m, q = p + 2^30 and r = floor(q / 2^31)
// (the high mul before saturation), the result is r / 2^e rounded half away from zero:
//   floor((r + 2^(e-1) - [r < 0]) / 2^e) = floor((q + (2^(e-1) - [r < 0]) 2^31) / 2^(31+e)),
// which is the high word of p + 2^30 - [r < 0] 2^31 + 2^(e-2) 2^32, shifted by e - 1.
// [x^m < 0] stands in for [r < 0]: they differ only where p is in [-2^30, 0], where both
// give 0. The one saturating case (x = m = INT32_MIN: r = 2^31, not INT32_MAX) rounds to
// 2^(31-e) either way. |p| <= 2^62, so nothing overflows. round_hi = 2^(e-2), shift_hi = e - 1.
MT_DSP_INLINE int32_t mt_requant_dsp_core(int32_t x, int32_t m, int32_t round_hi,
                                          int32_t shift_hi) {
    int32_t lo, hi;
    const int32_t signs = x ^ m;
    __asm__("and    %[lo], %[signs], #0x80000000\n\t"  // 2^30 - [x^m < 0] 2^31: the low
            "orr    %[lo], %[lo], #0x40000000\n\t"     // word, and its borrow into the high
            "add    %[hi], %[round_hi], %[signs], asr #31\n\t"
            "smlal  %[lo], %[hi], %[x], %[m]"
            : [lo] "=&r"(lo), [hi] "=&r"(hi)
            : [signs] "r"(signs), [round_hi] "r"(round_hi), [x] "r"(x), [m] "r"(m));
    return hi >> shift_hi;
}

static inline int32_t mt_requant_dsp_shr2(int32_t x, int32_t multiplier, int32_t shift) {
    return mt_requant_dsp_core(x, multiplier, (int32_t)1 << (-shift - 2), -shift - 1);
}

// One channel's requantization prepared once for many outputs (kernels that loop over pixels
// inside a channel), for shift <= -2 only: the caller checks.
typedef struct {
    int32_t bias, multiplier, round_hi, shift_hi;
} mt_requant_dsp_channel;

static inline void mt_requant_dsp_prepare(int32_t bias, int32_t multiplier, int32_t shift,
                                          mt_requant_dsp_channel *ch) {
    ch->bias = bias;
    ch->multiplier = multiplier;
    ch->round_hi = (int32_t)1 << (-shift - 2);
    ch->shift_hi = -shift - 1;
}

// mt_requant_s8(mt_add_sat_s32(acc, bias), ...) of a prepared channel.
MT_DSP_INLINE int8_t mt_requant_dsp_s8(int32_t acc, const mt_requant_dsp_channel *ch,
                                       int32_t output_offset, int32_t act_min, int32_t act_max) {
    int32_t y = mt_requant_dsp_core(__qadd(acc, ch->bias), ch->multiplier, ch->round_hi,
                                    ch->shift_hi);
    y = __ssat(y, 9) + output_offset;
    y = y < act_min ? act_min : y > act_max ? act_max : y;
    return (int8_t)y;
}

// mt_requant_dsp_s8 for a layer whose clamp is the whole int8 range (act_min -128, act_max 127:
// no fused activation, or one the output's quantization already covers, as in most TFLite
// models): one ssat instead of ssat, the clamp's compares and moves. The same bytes: |y| <=
// 2^30 after the shift, so y + offset cannot wrap, and saturating it to int8 equals limiting y
// to [-256, 255], adding the offset and clamping to [-128, 127].
MT_DSP_INLINE int8_t mt_requant_dsp_s8_full_range(int32_t acc, const mt_requant_dsp_channel *ch,
                                                  int32_t output_offset) {
    int32_t y = mt_requant_dsp_core(__qadd(acc, ch->bias), ch->multiplier, ch->round_hi,
                                    ch->shift_hi);
    return (int8_t)__ssat(y + output_offset, 8);
}
#endif

// int32 accumulator -> int8: scale, add the output zero point, clamp to the fused activation.
static inline int8_t mt_requant_s8(int32_t acc, int32_t multiplier, int32_t shift,
                                   int32_t output_offset, int32_t act_min, int32_t act_max) {
#if defined(__ARM_FEATURE_DSP)
    // The usual case (scales below 1/4) through one smlal, the rest the portable way; ssat
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
