// SPDX-License-Identifier: MIT
#include "mt_bias_s32_update.h"

#include "mt_bias_f32_grad_b.h"

mt_status mt_bias_s32_update(const mt_update_params *update, const mt_dims *output_dims,
                             int32_t *bias, const float *bias_scale,
                             const mt_update_state *state, const mt_grad_src *grad_out) {
    int32_t count;
    mt_status st = mt_dims_count(output_dims, &count);
    if (st != MT_OK || (st = mt_qas_check(update, state)) != MT_OK) {
        return st;
    }
    for (int32_t c = 0; c < output_dims->c; c++) {
        if (!mt_qas_scale_ok(bias_scale[c])) {
            return MT_ERR_PARAM;
        }
    }
    for (int32_t c = 0; c < output_dims->c; c++) {
        float g = mt_bias_f32_grad_b_element(output_dims, grad_out, c);
        float *v = state->momentum ? state->momentum + c : 0;
        float *m = state->master ? state->master + c : 0;
        float step = mt_qas_step(update, g, bias_scale[c], v);
        bias[c] = mt_qas_apply(update->rounding, bias[c], step, m, state->rng, MT_BIAS_MIN,
                               MT_BIAS_MAX);
    }
    return MT_OK;
}
