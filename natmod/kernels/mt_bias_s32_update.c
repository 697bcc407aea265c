// SPDX-License-Identifier: MIT
#include "mt_bias_s32_update.h"

#include "mt_bias_f32_grad_b.h"

mt_status mt_bias_s32_update(const mt_update_params *update, const mt_dims *output_dims,
                             int32_t *bias, const float *bias_scale,
                             const mt_update_state *state, const mt_grad_src *grad_out) {
    int32_t count;
    mt_status st = mt_dims_count(output_dims, &count);
    if (st != MT_OK ||
        (st = mt_qas_check_scales(update, state, bias_scale, output_dims->c)) != MT_OK) {
        return st;
    }
    for (int32_t c = 0; c < output_dims->c; c++) {
        float g = mt_bias_f32_grad_b_element(output_dims, grad_out, c);
        bias[c] = mt_qas_update_element(update, state, c, g, bias_scale[c], bias[c], MT_BIAS_MIN,
                                        MT_BIAS_MAX);
    }
    return MT_OK;
}
