// SPDX-License-Identifier: MIT
#include "mt_mse_s8_grad_in.h"

#include "mt_check.h"

mt_status mt_mse_s8_grad_in(const mt_loss_params *params, const int8_t *outputs,
                            const float *targets, float *loss, const mt_grad_dst *grad) {
    const int32_t n = params->batch, c = params->classes;
    mt_status st = mt_loss_check(params);
    if (st != MT_OK) {
        return st;
    }
    const int32_t count = n * c;
    if (!mt_all_finite(targets, count)) {
        return MT_ERR_NOT_FINITE;  // before any gradient is written
    }
    const float k = 2.0f / (float)count;
    float total = 0.0f, amax = 0.0f, inv = 0.0f;
    for (int pass = mt_grad_first_pass(grad); pass < 2; pass++) {
        if (pass == 1 && !grad->f && (st = mt_grad_begin(grad, amax, &inv)) != MT_OK) {
            return st;
        }
        for (int32_t i = 0; i < count; i++) {
            float z = params->input_scale * (float)(outputs[i] + params->input_offset);
            float d = z - targets[i];
            if (pass == 0) {
                amax = mt_abs_max(amax, d * k);
            } else {
                total += d * d;
                mt_grad_put(grad, i, d * k, inv);
            }
        }
    }
    *loss = total / (float)count;
    return MT_OK;
}
