// SPDX-License-Identifier: MIT
#include "mt_quant_f32_s8.h"

#include <float.h>

#include "mt_check.h"

mt_status mt_quant_f32_s8(const mt_quant_params_f32 *params, const mt_dims *dims,
                          const float *input, int8_t *output) {
    int32_t count;
    mt_status st = mt_dims_count(dims, &count);
    if (st != MT_OK) {
        return st;
    }
    if (!(params->inverse_scale > 0.0f && params->inverse_scale <= FLT_MAX)) {
        return MT_ERR_PARAM;
    }
    if (params->output_offset < -128 || params->output_offset > 127) {
        return MT_ERR_PARAM;
    }
    // A NaN or infinite input would train as garbage: refused before anything is written.
    if (!mt_all_finite(input, count)) {
        return MT_ERR_NOT_FINITE;
    }
    for (int32_t i = 0; i < count; i++) {
        float v = input[i] * params->inverse_scale;
        int32_t q;
        if (v >= 512.0f) {  // far outside int8 after any zero point: clamp below
            q = 512;
        } else if (v <= -512.0f) {
            q = -512;
        } else {
            q = (int32_t)(v >= 0.0f ? v + 0.5f : v - 0.5f);  // C truncates toward zero
        }
        q += params->output_offset;
        output[i] = (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
    }
    return MT_OK;
}
