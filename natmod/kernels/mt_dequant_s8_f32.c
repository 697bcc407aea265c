// SPDX-License-Identifier: MIT
#include "mt_dequant_s8_f32.h"

#include <float.h>

#include "mt_check.h"

mt_status mt_dequant_s8_f32(const mt_dequant_params *params, const mt_dims *dims,
                            const int8_t *input, float *output) {
    int32_t count;
    mt_status st = mt_dims_count(dims, &count);
    if (st != MT_OK) {
        return st;
    }
    // Written so that NaN fails too.
    if (!(params->scale > 0.0f && params->scale <= FLT_MAX)) {
        return MT_ERR_PARAM;
    }
    if (params->input_offset < -127 || params->input_offset > 128) {
        return MT_ERR_PARAM;
    }
    for (int32_t i = 0; i < count; i++) {
        output[i] = (float)((int32_t)input[i] + params->input_offset) * params->scale;
    }
    return MT_OK;
}
