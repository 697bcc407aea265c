// SPDX-License-Identifier: MIT
#include "mt_dwconv2d_s8_update.h"

#include "mt_dwconv2d_s8_grad_w.h"
#include "mt_qas_s8_update.h"

mt_status mt_dwconv2d_s8_update(const mt_conv_params *params, const mt_grad_params *grad,
                                const mt_dims *input_dims, const int8_t *input,
                                const int32_t *channels, const mt_dims *filter_dims,
                                int8_t *weights, const float *w_scale,
                                const mt_update_params *update, const mt_update_state *state,
                                const mt_dims *output_dims, const mt_grad_src *grad_out) {
    mt_status st = mt_conv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st == MT_OK) {
        st = mt_grad_input_check(grad);
    }
    if (st != MT_OK) {
        return st;
    }
    const int32_t c = output_dims->c, kh = filter_dims->h, kw = filter_dims->w;
    const mt_qas_layout layout = {1, kh * kw, c, input_dims->c, 1, channels};
    if (filter_dims->n != 1 || filter_dims->c != c) {
        return MT_ERR_SHAPE;
    }
    if ((st = mt_qas_layout_check(&layout)) != MT_OK ||
        (st = mt_qas_check(update, state)) != MT_OK) {
        return st;
    }
    for (int32_t ch = 0; ch < c; ch++) {
        if (!mt_qas_scale_ok(w_scale[ch])) {
            return MT_ERR_PARAM;
        }
    }
    int32_t e = 0;
    for (int32_t ky = 0; ky < kh; ky++) {
        for (int32_t kx = 0; kx < kw; kx++) {
            int8_t *row = weights + (ky * kw + kx) * c;
            for (int32_t j = 0; j < layout.k; j++, e++) {
                const int32_t ch = channels ? channels[j] : j;
                float g = mt_dwconv2d_s8_grad_w_element(params, grad, input_dims, input,
                                                        output_dims, grad_out, ch, ky, kx, j);
                float *v = state->momentum ? state->momentum + e : 0;
                float *m = state->master ? state->master + e : 0;
                float step = mt_qas_step(update, g, w_scale[ch], v);
                row[ch] = (int8_t)mt_qas_apply(update->rounding, row[ch], step, m, state->rng,
                                               MT_WEIGHT_MIN, MT_WEIGHT_MAX);
            }
        }
    }
    return MT_OK;
}
