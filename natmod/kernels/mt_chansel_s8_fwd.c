// SPDX-License-Identifier: MIT
#include "mt_chansel_s8_fwd.h"

// A plain forward copy, 4 bytes a step where the core loads words at any address (a streamed
// segment's line-buffer shifts are most of the copies): each step reads its 4 input bytes
// before it writes its 4 output bytes, which keeps the in-place contract of the header.
static void forward_copy(const int8_t *input, int32_t count, int8_t *output) {
    int32_t i = 0;
#if defined(__ARM_FEATURE_UNALIGNED) || defined(__x86_64__)
    for (; i + 4 <= count; i += 4) {
        uint32_t word;
        __builtin_memcpy(&word, input + i, 4);
        __builtin_memcpy(output + i, &word, 4);
    }
#endif
    for (; i < count; i++) {
        output[i] = input[i];
    }
}

mt_status mt_chansel_s8_fwd(const mt_dims *input_dims, const int8_t *input,
                            const int32_t *channels, int32_t k, int8_t *output) {
    int32_t count;
    mt_status st = mt_dims_count(input_dims, &count);
    if (st != MT_OK) {
        return st;
    }
    const int32_t c = input_dims->c;
    if (k < 1 || k > c) {
        return MT_ERR_PARAM;
    }
    for (int32_t j = 0; j < k; j++) {
        if (channels && (channels[j] < 0 || channels[j] >= c)) {
            return MT_ERR_PARAM;
        }
    }
    if (!channels && k == c) {
        forward_copy(input, count, output);
        return MT_OK;
    }
    const int32_t positions = count / c;
    for (int32_t p = 0; p < positions; p++) {
        for (int32_t j = 0; j < k; j++) {
            *output++ = input[p * c + (channels ? channels[j] : j)];
        }
    }
    return MT_OK;
}
