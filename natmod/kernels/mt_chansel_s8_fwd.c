// SPDX-License-Identifier: MIT
#include "mt_chansel_s8_fwd.h"

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
    const int32_t positions = count / c;
    for (int32_t p = 0; p < positions; p++) {
        for (int32_t j = 0; j < k; j++) {
            *output++ = input[p * c + (channels ? channels[j] : j)];
        }
    }
    return MT_OK;
}
