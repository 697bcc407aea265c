// SPDX-License-Identifier: MIT
#include "mt_clampmask_grad_in.h"

#if defined(__ARM_FEATURE_UNALIGNED) || defined(__x86_64__)
// Words of int8 gradients from any address.
#define MT_MASK_WORDS 1

// 0xff in byte j where bit j of the 4 bits is set: each bit lands on its own byte by one
// multiply (bit j shifted by 7j; no two products meet, so nothing carries).
static inline uint32_t byte_mask4(uint32_t bits4) {
    return ((bits4 * 0x00204081u) & 0x01010101u) * 0xffu;
}

static inline void and_word(int8_t *q, uint32_t keep) {
    uint32_t w;
    __builtin_memcpy(&w, q, 4);
    w &= keep;
    __builtin_memcpy(q, &w, 4);
}
#else
#define MT_MASK_WORDS 0
#endif

mt_status mt_clampmask_grad_in(int32_t count, const uint8_t *mask, const mt_grad_dst *grad) {
    if (count < 0) {
        return MT_ERR_PARAM;
    }
    float *f = grad->f;
    int8_t *q = grad->q;
    // A byte at a time: most values of a clamped layer lie inside its range (all bits set),
    // and those gradients stay as they are.
    for (int32_t i = 0; i < count; i += 8) {
        const uint32_t bits = mask[i >> 3];
        if (bits == 0xffu) {
            continue;
        }
        const int32_t n = count - i < 8 ? count - i : 8;
        if (MT_MASK_WORDS && !f && n == 8) {
#if MT_MASK_WORDS
            and_word(q + i, byte_mask4(bits & 0xfu));
            and_word(q + i + 4, byte_mask4(bits >> 4));
#endif
            continue;
        }
        for (int32_t j = 0; j < n; j++) {
            if (((bits >> j) & 1u) == 0) {
                if (f) {
                    f[i + j] = 0.0f;
                } else {
                    q[i + j] = 0;
                }
            }
        }
    }
    return MT_OK;
}
