// SPDX-License-Identifier: MIT
// Requantization with one rounding, as TFLite's FULLY_CONNECTED does it (LiteRT's reference
// kernel rounds x * m / 2^(31 - shift) once, half toward +infinity, where convolutions round
// twice: mt_requant.h). host_tools/microtrain_tools/quant.py multiply_by_quantized_multiplier_once
// is the same arithmetic in numpy; tests/test_kernel_fc_rounding.py compares them bit for bit.
#ifndef MT_REQUANT_ONCE_H
#define MT_REQUANT_ONCE_H

#include <stdint.h>

#include "mt_requant.h"

// x * multiplier * 2^(shift - 31) rounded once, saturated to int32; shift in
// [MT_SHIFT_MIN, MT_SHIFT_MAX]. The 64-bit shift is split into 32-bit ones (variable 64-bit
// shifts are libgcc calls on some of our cores): floor(p / 2^t) from p's two words.
static inline int32_t mt_requant_once(int32_t x, int32_t multiplier, int32_t shift) {
    const int32_t total = 31 - shift;  // in [1, 62]
    // |x m| <= 2^62 and the rounding term <= 2^61: no overflow.
    const int64_t p = (int64_t)x * (int64_t)multiplier + ((int64_t)1 << (total - 1));
    const int32_t hi = (int32_t)(p >> 32);
    const uint32_t lo = (uint32_t)p;
    if (total >= 32) {
        return hi >> (total - 32);  // |p| / 2^32 < 2^31: always fits
    }
    // p / 2^total fits int32 exactly when its top 33 - total bits of hi are all equal.
    const int32_t top = hi >> (total - 1);
    if (top != 0 && top != -1) {
        return hi < 0 ? INT32_MIN : INT32_MAX;
    }
    return (int32_t)(((uint32_t)hi << (32 - total)) | (lo >> total));
}

// int32 accumulator -> int8, as mt_requant_s8 but rounding once.
static inline int8_t mt_requant_once_s8(int32_t acc, int32_t multiplier, int32_t shift,
                                        int32_t output_offset, int32_t act_min,
                                        int32_t act_max) {
    int32_t y = mt_requant_once(acc, multiplier, shift);
    y = y > 255 ? 255 : y < -256 ? -256 : y;  // cannot change the clamped result (see there)
    y += output_offset;
    y = y < act_min ? act_min : y > act_max ? act_max : y;
    return (int8_t)y;
}

#endif
