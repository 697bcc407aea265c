// SPDX-License-Identifier: MIT
#include "mt_clampmask_s8_fwd.h"

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"

// The 4 mask bits of 4 values (bit j for byte j of v): ssub8 sets a byte's GE flag where the
// exact difference is >= 0, so v - (lo + 1) >= 0 is v > lo and (hi - 1) - v >= 0 is v < hi;
// the two sel keep 0xff where both hold. Then bit 0 of each byte is gathered by one multiply
// (bytes 0..3 to bits 24..27; the other products stay below bit 20 or leave the word).
// lo1x4, hi1x4: lo + 1 and hi - 1 in every byte (both must fit an int8).
MT_DSP_INLINE uint32_t inside4(int32_t v, int32_t lo1x4, int32_t hi1x4) {
    int32_t in, t;
    __asm__("ssub8   %[t], %[v], %[lo]\n\t"
            "sel     %[in], %[ones], %[zero]\n\t"
            "ssub8   %[t], %[hi], %[v]\n\t"
            "sel     %[in], %[in], %[zero]"
            : [in] "=&r"(in), [t] "=&r"(t)
            : [v] "r"(v), [lo] "r"(lo1x4), [hi] "r"(hi1x4), [ones] "r"(-1), [zero] "r"(0)
            : "cc");
    return (((uint32_t)in & 0x01010101u) * 0x01020408u) >> 24;
}
#endif

// The mask bits of n <= 8 values (bit j for output[j]). The bounds come in as values: the mask
// is a char type, so a store to it may alias anything, and fields would be reloaded per value.
static inline uint32_t mask_byte(const int8_t *output, int32_t n, int32_t lo, int32_t hi) {
    uint32_t bits = 0;
    for (int32_t j = 0; j < n; j++) {
        bits |= (uint32_t)(output[j] > lo && output[j] < hi) << j;
    }
    return bits;
}

mt_status mt_clampmask_s8_fwd(const mt_act_params *act, int32_t count, const int8_t *output,
                              uint8_t *mask) {
    if (count < 0 || act->act_min < -128 || act->act_max > 127 || act->act_min > act->act_max) {
        return MT_ERR_PARAM;
    }
    const int32_t lo = act->act_min, hi = act->act_max;
    int32_t i = 0;
#if defined(__ARM_FEATURE_DSP)
    if (lo < 127 && hi > -128) {  // lo + 1 and hi - 1 fit an int8
        const int32_t lo1x4 = (int32_t)((uint32_t)(uint8_t)(lo + 1) * 0x01010101u);
        const int32_t hi1x4 = (int32_t)((uint32_t)(uint8_t)(hi - 1) * 0x01010101u);
        for (; i + 8 <= count; i += 8) {
            *mask++ = (uint8_t)(inside4(load_s8x4(output + i), lo1x4, hi1x4) |
                                inside4(load_s8x4(output + i + 4), lo1x4, hi1x4) << 4);
        }
    }
#endif
    for (; i + 8 <= count; i += 8) {
        *mask++ = (uint8_t)mask_byte(output + i, 8, lo, hi);
    }
    if (i < count) {  // the last byte's unused bits stay 0
        *mask = (uint8_t)mask_byte(output + i, count - i, lo, hi);
    }
    return MT_OK;
}
