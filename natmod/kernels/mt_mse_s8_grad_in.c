// SPDX-License-Identifier: MIT
#include "mt_mse_s8_grad_in.h"

mt_status mt_mse_s8_grad_in(const mt_loss_params *params, const int8_t *outputs,
                            const float *targets, float *loss, float *grad) {
    const int32_t n = params->batch, c = params->classes;
    if (n < 1 || c < 1 || (int64_t)n * c > INT32_MAX || !(params->input_scale > 0.0f) ||
        !(params->input_scale < 1e30f)) {
        return MT_ERR_PARAM;
    }
    const int32_t count = n * c;
    const float k = 2.0f / (float)count;
    float total = 0.0f;
    for (int32_t i = 0; i < count; i++) {
        float d = params->input_scale * (float)(outputs[i] + params->input_offset) - targets[i];
        total += d * d;
        grad[i] = d * k;
    }
    *loss = total / (float)count;
    return MT_OK;
}
