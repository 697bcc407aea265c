// SPDX-License-Identifier: MIT
// Single-precision helpers for Thumb-1 cores (armv6m: Cortex-M0/M0+, RP2040), in place of
// libgcc's: its armv6m multilib builds them from the generic soft-fp C, which takes about 117
// instructions a multiply on a Cortex-M0 (a Cortex-M3's hand-written Thumb-2 ones take about
// 31). The QAS updates and int8 dL/dx ops make several float operations per weight or element,
// so these were most of an armv6m learn step's gap to armv7m. Add and subtract stay libgcc's:
// written here in C they took about 77 instructions a call, libgcc's 57.
//
// Each function has a fast path for the common case: normal operands (zero too for multiply
// and the conversions) and a result in the normal range; everything else (subnormals,
// infinities, NaNs, overflow and underflow) goes to the general functions of mt_softfloat.c.
// The results are libgcc's bit for bit, NaNs included: round to nearest, ties to even; a NaN
// operand comes back quiet with its payload and sign; of two NaNs, soft-fp's choice (see
// pick_nan); an invalid operation gives 0x7FC00000; f2iz saturates (NaN by its sign).
// tests/test_natmod_softfloat_v6m.py checks them against the host's hardware and, on an
// emulated Cortex-M0, against libgcc's own functions.
//
// Every value is a bit pattern in a uint32_t: on armv6m floats cross calls in core registers
// (-mfloat-abi=soft), so `float __aeabi_fmul(float, float)` and these have the same ABI.
#if defined(__ARM_ARCH_6M__) || defined(MT_SOFTFLOAT_TEST)

#include <stdint.h>

#include "mt_softfloat.h"

#define SIGN 0x80000000u
#define QUIET 0x00400000u
#define HIDDEN 0x00800000u
#define EXP_FIELD(x) (((x) << 1) >> 24)
// Symbol names as strings, for the asm.
#define STRING(x) #x
#define EXPANDED_STRING(x) STRING(x)
#define NAME(op) EXPANDED_STRING(MT_AEABI(op))
#define HELPER_NAME(op) EXPANDED_STRING(MT_HELPER(op))
// -Os would call the small helpers below; inlined, each fast path runs straight through.
#define INLINE static inline __attribute__((always_inline))

uint32_t MT_AEABI(fmul)(uint32_t a, uint32_t b);
uint32_t MT_AEABI(fdiv)(uint32_t a, uint32_t b);
uint32_t MT_AEABI(i2f)(int32_t i);
int32_t MT_AEABI(f2iz)(uint32_t a);
int MT_AEABI(fcmpeq)(uint32_t a, uint32_t b);
int MT_AEABI(fcmplt)(uint32_t a, uint32_t b);
int MT_AEABI(fcmple)(uint32_t a, uint32_t b);
int MT_AEABI(fcmpgt)(uint32_t a, uint32_t b);
int MT_AEABI(fcmpge)(uint32_t a, uint32_t b);


typedef union {
    float f;
    uint32_t u;
} bits32;

INLINE int is_nan(uint32_t x) {
    return (x << 1) > 0xFF000000u;
}

// Of two NaN operands libgcc's soft-fp returns the preferred one unless it is quiet and the
// other signalling (quieted, either way): the second operand is preferred by multiply, the
// first by divide (measured against libgcc in the test).
static uint32_t pick_nan(uint32_t preferred, uint32_t other) {
    return (((preferred & QUIET) && !(other & QUIET)) ? other : preferred) | QUIET;
}

typedef enum { MUL, DIV } operation;

// The slow paths: mt_softfloat.c's general functions, after soft-fp's choice of two NaNs.
static uint32_t general(operation op, uint32_t a, uint32_t b) {
    if (is_nan(a) && is_nan(b)) {
        return op == MUL ? pick_nan(b, a) : pick_nan(a, b);
    }
    bits32 x, y, r;
    x.u = a;
    y.u = b;
    r.f = op == MUL ? MT_HELPER(mulsf3)(x.f, y.f) : MT_HELPER(divsf3)(x.f, y.f);
    return r.u;
}

// The packed result sign | exp field e (1..254) | the 24-bit significand m (hidden bit 23)
// rounded from m_bits = m * 2^shift + the bits below (their lowest one sticky): to nearest,
// ties to even. A carry out of the significand steps the exponent up, to infinity from 254.
INLINE uint32_t round_pack(uint32_t sign, int32_t e, uint32_t m_bits, int shift) {
    const uint32_t keep = m_bits >> shift, rest = m_bits & ((1u << shift) - 1u);
    const uint32_t up = (rest + (keep & 1u) + (1u << (shift - 1)) - 1u) >> shift;
    return sign + ((uint32_t)(e - 1) << 23) + keep + up;
}

// a * b where either operand is zero, subnormal, infinite or NaN, or the product leaves the
// normal range: what the fast path of __aeabi_fmul leaves.
uint32_t MT_HELPER(fmul_slow)(uint32_t a, uint32_t b);
uint32_t MT_HELPER(fmul_slow)(uint32_t a, uint32_t b) {
    const uint32_t ea = EXP_FIELD(a), eb = EXP_FIELD(b);
    if (((a << 1) == 0u && eb != 255u) || ((b << 1) == 0u && ea != 255u)) {
        return (a ^ b) & SIGN;  // zero times a finite number
    }
    return general(MUL, a, b);
}

#if defined(__ARM_ARCH_6M__)
// The fast path in asm (about 53 instructions; gcc's best from C was 75). The significands
// ma, mb (24 bits, hidden bit 23) as 16-bit high and 8-bit low parts: p = ma * mb =
// a1 b1 2^16 + t 2^8 + (a0 b0 & 0xff) with t = a0 b1 + a1 b0 + (a0 b0 >> 8), so
// hi = p >> 16 = a1 b1 + (t >> 8), in [2^30, 2^32). Rounding adds half and looks at the bits
// below only when what is left is exactly a half (round to even then if they are zero).
__asm__(".syntax unified\n"
        ".text\n"
        ".align 1\n"
        ".global " NAME(fmul) "\n"
        ".thumb_func\n"
        ".type " NAME(fmul) ", %function\n"
        NAME(fmul) ":\n\t"
        "push   {r4, r5, r6, r7, lr}\n\t"
        "lsls   r2, r0, #1\n\t"
        "lsrs   r2, r2, #24\n\t"  // ea
        "subs   r4, r2, #1\n\t"
        "cmp    r4, #253\n\t"
        "bhi    9f\n\t"           // zero, subnormal, infinite or NaN
        "lsls   r3, r1, #1\n\t"
        "lsrs   r3, r3, #24\n\t"  // eb
        "subs   r4, r3, #1\n\t"
        "cmp    r4, #253\n\t"
        "bhi    9f\n\t"
        "adds   r7, r2, r3\n\t"   // ea + eb
        "movs   r6, #128\n\t"
        "lsls   r6, r6, #8\n\t"   // the hidden bit of a high part
        "lsls   r2, r0, #9\n\t"
        "lsrs   r2, r2, #17\n\t"
        "orrs   r2, r6\n\t"       // a1 = ma >> 8
        "lsls   r3, r1, #9\n\t"
        "lsrs   r3, r3, #17\n\t"
        "orrs   r3, r6\n\t"       // b1
        "uxtb   r4, r0\n\t"       // a0 = ma & 0xff
        "uxtb   r5, r1\n\t"       // b0
        "movs   r6, r4\n\t"
        "muls   r6, r5\n\t"       // a0 b0
        "muls   r4, r3\n\t"
        "muls   r5, r2\n\t"
        "muls   r2, r3\n\t"       // a1 b1
        "adds   r4, r4, r5\n\t"
        "lsrs   r5, r6, #8\n\t"
        "adds   r4, r4, r5\n\t"   // t
        "lsrs   r5, r4, #8\n\t"
        "adds   r2, r2, r5\n\t"   // hi
        "subs   r7, #127\n\t"     // the exponent field less one, for hi's top bit at 31
        "cmp    r2, #0\n\t"
        "blt    1f\n\t"
        "lsls   r2, r2, #1\n\t"
        "subs   r7, #1\n"
        "1:\n\t"
        "cmp    r7, #253\n\t"
        "bhi    9f\n\t"           // below or above the normal range
        "adds   r2, #128\n\t"     // half an ulp of the significand hi >> 8
        "bcs    4f\n\t"
        "lsls   r3, r2, #24\n\t"
        "beq    3f\n"             // exactly half, as far as hi shows
        "2:\n\t"
        "lsrs   r2, r2, #8\n"
        "5:\n\t"
        "lsls   r7, r7, #23\n\t"
        "adds   r2, r2, r7\n\t"   // the hidden bit (or a carry) steps the exponent up
        "eors   r0, r1\n\t"
        "lsrs   r0, r0, #31\n\t"
        "lsls   r0, r0, #31\n\t"
        "adds   r0, r0, r2\n\t"
        "pop    {r4, r5, r6, r7, pc}\n"
        "3:\n\t"
        "lsls   r4, r4, #24\n\t"  // p & 0xffff, the bits below hi, is (t & 0xff) << 8
        "lsls   r6, r6, #24\n\t"  // | (a0 b0 & 0xff)
        "orrs   r4, r6\n\t"
        "bne    2b\n\t"           // above half: rounded up already
        "lsrs   r2, r2, #9\n\t"   // a tie: to even
        "lsls   r2, r2, #9\n\t"
        "b      2b\n"
        "4:\n\t"                  // hi + half carried out: the significand is 2^24
        "movs   r2, #1\n\t"
        "lsls   r2, r2, #24\n\t"
        "b      5b\n"
        "9:\n\t"
        "bl     " HELPER_NAME(fmul_slow) "\n\t"
        "pop    {r4, r5, r6, r7, pc}\n\t"
        ".size " NAME(fmul) ", . - " NAME(fmul) "\n\t"
        ".syntax divided");
#else
// Elsewhere (the host test) the general path alone.
uint32_t MT_AEABI(fmul)(uint32_t a, uint32_t b) {
    return MT_HELPER(fmul_slow)(a, b);
}
#endif

uint32_t MT_AEABI(fdiv)(uint32_t a, uint32_t b) {
    const uint32_t ea = EXP_FIELD(a), eb = EXP_FIELD(b), sign = (a ^ b) & SIGN;
    if (ea - 1u < 254u && eb - 1u < 254u) {
        uint32_t ma = (a & 0x7FFFFFu) | HIDDEN;
        const uint32_t mb = (b & 0x7FFFFFu) | HIDDEN;
        int32_t e = (int32_t)ea - (int32_t)eb + 127;
        if (ma < mb) {
            ma <<= 1;
            e--;
        }
        if (e >= 1 && e <= 254) {
            // Restoring division: q = floor(ma / mb * 2^24), 25 bits (hidden bit 24), one
            // guard bit; r < mb < 2^24 throughout.
            uint32_t q = 0, r = ma;
            for (int32_t step = 0; step < 25; step++) {
                q <<= 1;
                if (r >= mb) {
                    r -= mb;
                    q |= 1u;
                }
                r <<= 1;
            }
            return round_pack(sign, e, (q << 1) | (r != 0u), 2);
        }
    }
    return general(DIV, a, b);
}

// Leading zeros of x != 0 in a few steps (__clzsi2 is a call on Thumb-1).
INLINE int leading_zeros(uint32_t x) {
    int n = 0;
    if (!(x >> 16)) {
        x <<= 16;
        n += 16;
    }
    if (!(x >> 24)) {
        x <<= 8;
        n += 8;
    }
    if (!(x >> 28)) {
        x <<= 4;
        n += 4;
    }
    if (!(x >> 30)) {
        x <<= 2;
        n += 2;
    }
    return n + !(x >> 31);
}

uint32_t MT_AEABI(i2f)(int32_t i) {
    if (i == 0) {
        return 0u;
    }
    const uint32_t sign = (uint32_t)i & SIGN;
    uint32_t u = sign ? 0u - (uint32_t)i : (uint32_t)i;
    const int n = leading_zeros(u);
    u <<= n;  // top bit at 31: value u * 2^(158 - n - 127 - 31)
    return round_pack(sign, 158 - n, u, 8);
}

int32_t MT_AEABI(f2iz)(uint32_t a) {
    const uint32_t e = EXP_FIELD(a);
    if (e < 127u) {
        return 0;  // |a| < 1 (NaNs have e = 255)
    }
    if (e >= 158u) {
        // |a| >= 2^31 (INT32_MIN itself is this too), infinities and NaNs: saturate by sign.
        return (a & SIGN) ? INT32_MIN : INT32_MAX;
    }
    const uint32_t m = ((a << 8) | SIGN) >> (158u - e);
    return (a & SIGN) ? -(int32_t)m : (int32_t)m;
}

// Floats in the order of int32: -0 and +0 both 0, negatives below zero.
INLINE int32_t order_key(uint32_t x) {
    return (x & SIGN) ? (int32_t)(SIGN - x) : (int32_t)x;
}

// -1, 0, 1 as a < b, a == b, a > b; 2 when either is a NaN.
INLINE int compare(uint32_t a, uint32_t b) {
    if (is_nan(a) || is_nan(b)) {
        return 2;
    }
    const int32_t ka = order_key(a), kb = order_key(b);
    return ka < kb ? -1 : ka > kb;
}

int MT_AEABI(fcmpeq)(uint32_t a, uint32_t b) {
    return compare(a, b) == 0;
}

int MT_AEABI(fcmplt)(uint32_t a, uint32_t b) {
    return compare(a, b) == -1;
}

int MT_AEABI(fcmple)(uint32_t a, uint32_t b) {
    return compare(a, b) <= 0;
}

int MT_AEABI(fcmpgt)(uint32_t a, uint32_t b) {
    return compare(a, b) == 1;
}

int MT_AEABI(fcmpge)(uint32_t a, uint32_t b) {
    const int c = compare(a, b);
    return c == 0 || c == 1;
}

#endif
