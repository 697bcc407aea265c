// SPDX-License-Identifier: MIT
#include "mt_xent_s8_grad_in.h"

#include "mt_fmath.h"

mt_status mt_xent_s8_grad_in(const mt_loss_params *params, const int8_t *logits,
                             const int32_t *labels, float *loss, const mt_grad_dst *grad) {
    const int32_t n = params->batch, c = params->classes;
    mt_status st = mt_loss_check(params);
    if (st != MT_OK) {
        return st;
    }
    for (int32_t b = 0; b < n; b++) {
        if (labels[b] < 0 || labels[b] >= c) {
            return MT_ERR_PARAM;
        }
    }
    const float s = params->input_scale;
    const float count = (float)n;
    float total = 0.0f, amax = 0.0f, inv = 0.0f;
    for (int pass = mt_grad_first_pass(grad); pass < 2; pass++) {
        if (pass == 1 && !grad->f && (st = mt_grad_begin(grad, amax, &inv)) != MT_OK) {
            return st;
        }
        for (int32_t b = 0; b < n; b++) {
            const int8_t *q = logits + b * c;
            int32_t q_max = q[0];
            for (int32_t i = 1; i < c; i++) {
                q_max = q[i] > q_max ? q[i] : q_max;
            }
            const float m = s * (float)(q_max + params->input_offset);
            float sum = 0.0f;
            for (int32_t i = 0; i < c; i++) {
                sum += mt_expf(s * (float)(q[i] + params->input_offset) - m);
            }
            if (pass == 1) {
                const float z_label = s * (float)(q[labels[b]] + params->input_offset);
                total += mt_logf(sum) - (z_label - m);
            }
            for (int32_t i = 0; i < c; i++) {
                float e = mt_expf(s * (float)(q[i] + params->input_offset) - m);
                float v = (e / sum - (i == labels[b] ? 1.0f : 0.0f)) / count;
                if (pass == 0) {
                    amax = mt_abs_max(amax, v);
                } else {
                    mt_grad_put(grad, b * c + i, v, inv);
                }
            }
        }
    }
    *loss = total / count;
    return MT_OK;
}
