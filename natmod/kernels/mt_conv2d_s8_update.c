// SPDX-License-Identifier: MIT
#include "mt_conv2d_s8_update.h"

#include "mt_conv_grad.h"
#include "mt_conv_q8_update.h"

mt_status mt_conv2d_s8_update(const mt_conv_params *params, const mt_grad_params *grad,
                              const mt_dims *input_dims, const int8_t *input,
                              const int32_t *channels, const mt_dims *filter_dims,
                              int8_t *weights, const float *w_scale,
                              const mt_update_params *update, const mt_update_state *state,
                              const mt_dims *output_dims, const mt_grad_src *grad_out) {
    mt_status st = mt_conv_grad_w_check(params, grad, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    const int32_t c_out = output_dims->c;
    if (filter_dims->n != c_out) {
        return MT_ERR_SHAPE;
    }
    const mt_qas_layout layout = {
        c_out, filter_dims->h * filter_dims->w, filter_dims->c, input_dims->c, 0, channels};
    return mt_conv_q8_update(params, grad, input_dims, input, &layout, filter_dims, weights,
                             w_scale, update, state, output_dims, grad_out);
}
