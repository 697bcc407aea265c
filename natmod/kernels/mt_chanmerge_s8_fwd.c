// SPDX-License-Identifier: MIT
#include "mt_chanmerge_s8_fwd.h"

#include "mt_check.h"

mt_status mt_chanmerge_s8_fwd(const mt_dims *dims, const int8_t *base, const int8_t *compact,
                              const int32_t *channels, int32_t k, int8_t *output) {
    int32_t count;
    mt_status st = mt_dims_count(dims, &count);
    if (st != MT_OK) {
        return st;
    }
    const int32_t c = dims->c;
    if (k < 1 || k > c) {
        return MT_ERR_PARAM;
    }
    for (int32_t j = 0; j < k; j++) {
        if (channels && (channels[j] < 0 || channels[j] >= c)) {
            return MT_ERR_PARAM;
        }
    }
    for (int32_t i = 0; i < count; i++) {
        output[i] = base[i];
    }
    const int32_t positions = count / c;
    for (int32_t p = 0; p < positions; p++) {
        for (int32_t j = 0; j < k; j++) {
            output[p * c + (channels ? channels[j] : j)] = *compact++;
        }
    }
    return MT_OK;
}
