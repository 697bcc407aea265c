// SPDX-License-Identifier: MIT
// Single-precision add, subtract, multiply, divide and int -> float in integer C, IEEE 754
// binary32 with round to nearest, ties to even, subnormals and signed zeros, as every other arch
// computes in hardware or libgcc, so the device stays bit-identical to the host simulation;
// and 32-bit division and 64-bit multiplication.
//
// - xtensa (ESP8266): the compiler helpers Debian's lx106 libgcc lacks (the ESP8266 ROM has
//   them, but its symbol list is not packaged); xtensawin (ESP32, built with LLVM, no libgcc
//   linked) uses only __divsf3: its FPU has no divide instruction.
// - armv6m (Cortex-M0): multiply and divide only, as the general paths (zeros, subnormals,
//   infinities, NaNs, results out of the normal range) behind the fast paths of
//   mt_softfloat_v6m.c.
//
// Only integer operations appear here, and no 64-bit multiplication: these functions must not
// call the helpers they implement. tests/test_natmod_softfloat.py builds this file for the
// host with MT_SOFTFLOAT_TEST and compares every function with the host's hardware.
#if defined(__XTENSA__) || defined(__ARM_ARCH_6M__) || defined(MT_SOFTFLOAT_TEST)

#include <stdint.h>

#include "mt_softfloat.h"

#if defined(__ARM_ARCH_6M__) && !defined(MT_SOFTFLOAT_TEST)
#define V6M_SLOW_PATHS 1  // only what mt_softfloat_v6m.c calls: libgcc's serve the rest
#else
#define V6M_SLOW_PATHS 0
#endif

#define SIGN_BIT 0x80000000u
#define ABS_MASK 0x7FFFFFFFu
#define INF_BITS 0x7F800000u
#define QUIET_BIT 0x00400000u
#define FRAC_MASK 0x007FFFFFu
#define HIDDEN_BIT 0x00800000u
// Working significands keep 3 extra low bits (guard, round, sticky): the hidden bit is bit 26.
#define WORK_TOP (HIDDEN_BIT << 3)

typedef union {
    float f;
    uint32_t u;
} bits32;

static float from_bits(uint32_t u) {
    bits32 v;
    v.u = u;
    return v.f;
}

static uint32_t to_bits(float f) {
    bits32 v;
    v.f = f;
    return v.u;
}

// x != 0. lx106 libgcc has __clzsi2, so this needs no helper that is missing.
static int leading_zeros(uint32_t x) {
    return __builtin_clz(x);
}

// x >> n with every bit shifted out ORed into bit 0 (the sticky bit); any n >= 0.
static uint32_t shift_right_sticky(uint32_t x, int32_t n) {
    if (n <= 0) {
        return x;
    }
    if (n >= 32) {
        return x != 0;
    }
    return (x >> n) | ((x << (32 - n)) != 0);
}

// Round and pack sign * sig * 2^(exp - 127 - 26), sig != 0 of at most 28 bits. Every result
// below goes through here, so rounding is written once.
static float round_pack(uint32_t sign, int32_t exp, uint32_t sig) {
    // Normalize: hidden bit at bit 26.
    if (sig >= (WORK_TOP << 1)) {
        sig = shift_right_sticky(sig, 1);
        exp++;
    }
    while (sig < WORK_TOP) {
        sig <<= 1;
        exp--;
    }
    if (exp >= 255) {
        return from_bits(sign | INF_BITS);
    }
    if (exp <= 0) {
        // Subnormal: express it at exponent 1, whose encoding is exponent field 0.
        sig = shift_right_sticky(sig, 1 - exp);
        exp = 0;
    }
    uint32_t round = sig & 7u;
    uint32_t result = ((uint32_t)exp << 23) + ((sig >> 3) & FRAC_MASK);
    // Ties to even. A carry out of the fraction bumps the exponent, which is exactly right
    // (subnormal -> normal, largest finite -> infinity).
    if (round > 4u || (round == 4u && (result & 1u))) {
        result++;
    }
    return from_bits(sign | result);
}

static float quiet_nan(uint32_t nan_bits) {
    return from_bits(nan_bits | QUIET_BIT);
}

// Exponent and significand (with its hidden bit) of a finite nonzero magnitude. A subnormal
// has no hidden bit and the weight of exponent 1.
static void unpack(uint32_t abs_bits, int32_t *exp, uint32_t *sig) {
    *exp = (int32_t)(abs_bits >> 23);
    *sig = abs_bits & FRAC_MASK;
    if (*exp == 0) {
        *exp = 1;
    } else {
        *sig |= HIDDEN_BIT;
    }
}

#if !V6M_SLOW_PATHS
float MT_HELPER(addsf3)(float fa, float fb) {
    uint32_t a = to_bits(fa), b = to_bits(fb);
    uint32_t a_abs = a & ABS_MASK, b_abs = b & ABS_MASK;
    if (a_abs > INF_BITS) {
        return quiet_nan(a);
    }
    if (b_abs > INF_BITS) {
        return quiet_nan(b);
    }
    if (a_abs == INF_BITS) {
        // inf - inf is invalid; otherwise infinity wins.
        return (b_abs == INF_BITS && ((a ^ b) & SIGN_BIT)) ? quiet_nan(INF_BITS) : fa;
    }
    if (b_abs == INF_BITS) {
        return fb;
    }
    if (a_abs == 0) {
        // -0 + -0 is -0; every other sum of zeros is +0.
        return b_abs == 0 ? from_bits(a & b) : fb;
    }
    if (b_abs == 0) {
        return fa;
    }
    if (b_abs > a_abs) {  // make a the larger magnitude
        uint32_t t = a;
        a = b;
        b = t;
    }
    int32_t a_exp, b_exp;
    uint32_t a_sig, b_sig;
    unpack(a & ABS_MASK, &a_exp, &a_sig);
    unpack(b & ABS_MASK, &b_exp, &b_sig);
    a_sig <<= 3;
    b_sig = shift_right_sticky(b_sig << 3, a_exp - b_exp);
    uint32_t sig;
    if ((a ^ b) & SIGN_BIT) {
        sig = a_sig - b_sig;
        if (sig == 0) {
            return from_bits(0);  // x - x is +0 in round to nearest
        }
    } else {
        sig = a_sig + b_sig;
    }
    // Both operands are multiples of the smallest subnormal, so when cancellation leaves a
    // subnormal the shifts in round_pack lose nothing: the result is exact, as IEEE requires.
    return round_pack(a & SIGN_BIT, a_exp, sig);
}

float MT_HELPER(subsf3)(float a, float b) {
    return MT_HELPER(addsf3)(a, from_bits(to_bits(b) ^ SIGN_BIT));
}

#endif  // !V6M_SLOW_PATHS

// The 48-bit product of two 24-bit significands from 12-bit halves: only 32-bit multiplies.
static void mul24(uint32_t a, uint32_t b, uint32_t *high, uint32_t *low) {
    uint32_t a1 = a >> 12, a0 = a & 0xFFFu, b1 = b >> 12, b0 = b & 0xFFFu;
    uint32_t top = a1 * b1;            // weight 2^24, < 2^24
    uint32_t mid = a1 * b0 + a0 * b1;  // weight 2^12, < 2^25
    uint32_t bottom = a0 * b0;         // weight 1, < 2^24
    // The low word gathers bottom and the low parts of mid and top; carries go to the high one.
    uint32_t lo = bottom + (mid << 12);
    uint32_t hi = (top >> 8) + (mid >> 20) + (lo < bottom);
    uint32_t lo2 = lo + (top << 24);
    hi += lo2 < lo;
    *high = hi;
    *low = lo2;
}

// Give a subnormal's significand its hidden bit, lowering its exponent to match.
static void normalize(int32_t *exp, uint32_t *sig) {
    int32_t shift = leading_zeros(*sig) - leading_zeros(HIDDEN_BIT);
    *sig <<= shift;
    *exp -= shift;
}

// Exponent and significand of a finite nonzero magnitude, the hidden bit set even for a
// subnormal (whose exponent may then go below 1).
static void unpack_normalized(uint32_t abs_bits, int32_t *exp, uint32_t *sig) {
    unpack(abs_bits, exp, sig);
    normalize(exp, sig);
}

float MT_HELPER(mulsf3)(float fa, float fb) {
    uint32_t a = to_bits(fa), b = to_bits(fb);
    uint32_t a_abs = a & ABS_MASK, b_abs = b & ABS_MASK;
    uint32_t sign = (a ^ b) & SIGN_BIT;
    if (a_abs > INF_BITS) {
        return quiet_nan(a);
    }
    if (b_abs > INF_BITS) {
        return quiet_nan(b);
    }
    if (a_abs == INF_BITS || b_abs == INF_BITS) {
        // inf * 0 is invalid.
        return (a_abs == 0 || b_abs == 0) ? quiet_nan(INF_BITS) : from_bits(sign | INF_BITS);
    }
    if (a_abs == 0 || b_abs == 0) {
        return from_bits(sign);
    }
    int32_t a_exp, b_exp;
    uint32_t a_sig, b_sig;
    unpack_normalized(a_abs, &a_exp, &a_sig);
    unpack_normalized(b_abs, &b_exp, &b_sig);
    uint32_t high, low;
    mul24(a_sig, b_sig, &high, &low);
    // The product is in [2^46, 2^48): keep its top 28 bits, the rest as the sticky bit.
    uint32_t sig = (high << 12) | (low >> 20) | ((low & 0xFFFFFu) != 0);
    // With the hidden bit at 26 the exponent is a_exp + b_exp - 127; round_pack moves a
    // hidden bit at 27 down and adds one.
    return round_pack(sign, a_exp + b_exp - 127, sig);
}

float MT_HELPER(divsf3)(float fa, float fb) {
    uint32_t a = to_bits(fa), b = to_bits(fb);
    uint32_t a_abs = a & ABS_MASK, b_abs = b & ABS_MASK;
    uint32_t sign = (a ^ b) & SIGN_BIT;
    if (a_abs > INF_BITS) {
        return quiet_nan(a);
    }
    if (b_abs > INF_BITS) {
        return quiet_nan(b);
    }
    if (a_abs == INF_BITS) {
        // inf / inf is invalid.
        return b_abs == INF_BITS ? quiet_nan(INF_BITS) : from_bits(sign | INF_BITS);
    }
    if (b_abs == INF_BITS) {
        return from_bits(sign);
    }
    if (b_abs == 0) {
        // 0 / 0 is invalid; x / 0 is a signed infinity.
        return a_abs == 0 ? quiet_nan(INF_BITS) : from_bits(sign | INF_BITS);
    }
    if (a_abs == 0) {
        return from_bits(sign);
    }
    int32_t a_exp, b_exp;
    uint32_t a_sig, b_sig;
    unpack_normalized(a_abs, &a_exp, &a_sig);
    unpack_normalized(b_abs, &b_exp, &b_sig);
    // Restoring division, one quotient bit per step: q = floor(a_sig / b_sig * 2^27), a
    // 27- or 28-bit number since the ratio is in (1/2, 2). r stays below 2^25.
    uint32_t q = 0, r = a_sig;
    for (int32_t step = 0; step < 28; step++) {
        q <<= 1;
        if (r >= b_sig) {
            r -= b_sig;
            q |= 1u;
        }
        r <<= 1;
    }
    // A remainder means more nonzero bits below: the sticky bit. q * 2^(a_exp - b_exp - 27)
    // is the quotient, which round_pack reads as sig * 2^(exp - 127 - 26).
    return round_pack(sign, a_exp - b_exp + 126, q | (r != 0));
}

#if !V6M_SLOW_PATHS
float MT_HELPER(floatunsisf)(uint32_t u) {
    if (u == 0) {
        return from_bits(0);
    }
    int32_t top = 31 - leading_zeros(u);  // position of the highest set bit
    uint32_t sig = top > 26 ? shift_right_sticky(u, top - 26) : u << (26 - top);
    return round_pack(0, 127 + top, sig);
}

float MT_HELPER(floatsisf)(int32_t i) {
    if (i < 0) {
        // The magnitude as unsigned, so INT32_MIN does not overflow.
        return from_bits(to_bits(MT_HELPER(floatunsisf)(0u - (uint32_t)i)) | SIGN_BIT);
    }
    return MT_HELPER(floatunsisf)((uint32_t)i);
}

// Shift-and-subtract division. Division by zero is undefined in C; it gives all ones here.
static uint32_t divide(uint32_t n, uint32_t d, uint32_t *remainder) {
    if (d == 0) {
        *remainder = n;
        return 0xFFFFFFFFu;
    }
    uint32_t q = 0, r = 0;
    for (int32_t bit = 31; bit >= 0; bit--) {
        r = (r << 1) | ((n >> bit) & 1u);
        if (r >= d) {
            r -= d;
            q |= (uint32_t)1 << bit;
        }
    }
    *remainder = r;
    return q;
}

uint32_t MT_HELPER(udivsi3)(uint32_t n, uint32_t d) {
    uint32_t r;
    return divide(n, d, &r);
}

uint32_t MT_HELPER(umodsi3)(uint32_t n, uint32_t d) {
    uint32_t r;
    divide(n, d, &r);
    return r;
}

int32_t MT_HELPER(divsi3)(int32_t n, int32_t d) {
    // C rounds toward zero: divide the magnitudes, then set the sign.
    uint32_t n_abs = n < 0 ? 0u - (uint32_t)n : (uint32_t)n;
    uint32_t d_abs = d < 0 ? 0u - (uint32_t)d : (uint32_t)d;
    uint32_t r;
    uint32_t q = divide(n_abs, d_abs, &r);
    return (int32_t)(((n < 0) != (d < 0)) ? 0u - q : q);
}

int64_t MT_HELPER(muldi3)(int64_t a, int64_t b) {
    // The low 64 bits of the product (the same for signed and unsigned) from 16-bit pieces.
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    uint32_t al = (uint32_t)ua, ah = (uint32_t)(ua >> 32);
    uint32_t bl = (uint32_t)ub, bh = (uint32_t)(ub >> 32);
    uint32_t a1 = al >> 16, a0 = al & 0xFFFFu, b1 = bl >> 16, b0 = bl & 0xFFFFu;
    uint64_t low = (uint64_t)(a0 * b0);
    low += (uint64_t)(a1 * b0) << 16;
    low += (uint64_t)(a0 * b1) << 16;
    low += (uint64_t)(a1 * b1) << 32;
    uint32_t cross = al * bh + ah * bl;  // only its low 32 bits reach the result
    return (int64_t)(low + ((uint64_t)cross << 32));
}

#endif  // !V6M_SLOW_PATHS

#endif
