// SPDX-License-Identifier: MIT
#include "mt_fmath.h"

#include <stdint.h>

// Reinterpreting through a union is defined in C99 (TC3) and needs no memcpy.
typedef union {
    float f;
    int32_t i;
} mt_float_bits;

float mt_expf(float x) {
    if (x < -87.0f) {
        return 0.0f;
    }
    if (x > 88.0f) {
        x = 88.0f;
    }
    // x = k*ln2 + r with |r| <= ln2/2; ln2 split in two (Cody-Waite) so k*ln2_hi is exact.
    // Constants are hex floats: exactly the float32 the numpy mirror uses, no decimal rounding.
    float kf = x * 0x1.715476p+0f /* log2(e) */;
    int32_t k = (int32_t)(kf + (kf >= 0.0f ? 0.5f : -0.5f));
    float r = (x - (float)k * 0x1.63p-1f) - (float)k * -0x1.bd0106p-13f;
    // Taylor series to r^6: the first omitted term is below 2^-24 for |r| <= 0.35.
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    mt_float_bits two_k;
    two_k.i = (k + 127) << 23;
    return p * two_k.f;
}

float mt_logf(float x) {
    if (!(x > 0.0f)) {
        return -1e30f;
    }
    // x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m - 1) / (m + 1).
    mt_float_bits b;
    b.f = x;
    int32_t e = ((b.i >> 23) & 0xff) - 127;
    b.i = (b.i & 0x007fffff) | 0x3f800000;
    float m = b.f;
    if (m > 0x1.6a09e6p+0f /* sqrt(2) */) {
        m = m * 0.5f;
        e += 1;
    }
    float s = (m - 1.0f) / (m + 1.0f);
    float s2 = s * s;
    float p = 2.0f / 9.0f;
    p = p * s2 + 2.0f / 7.0f;
    p = p * s2 + 2.0f / 5.0f;
    p = p * s2 + 2.0f / 3.0f;
    p = p * s2 + 2.0f;
    return (float)e * 0x1.62e43p-1f /* ln 2 */ + p * s;
}
