// SPDX-License-Identifier: MIT
#include "mt_conv2d_s8_grad_w.h"

#include "mt_conv_grad.h"

mt_status mt_conv2d_s8_grad_w(const mt_conv_params *params, const mt_grad_params *grad,
                              const mt_dims *input_dims, const int8_t *input,
                              const mt_dims *filter_dims, float *grad_w,
                              const mt_dims *output_dims, const mt_grad_src *grad_out) {
    mt_status st = mt_conv_grad_w_check(params, grad, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    const int32_t k = input_dims->c, c_out = output_dims->c;
    if (filter_dims->n != c_out || filter_dims->c != k) {
        return MT_ERR_SHAPE;
    }
    float *dst = grad_w;
    for (int32_t co = 0; co < c_out; co++) {
        for (int32_t ky = 0; ky < filter_dims->h; ky++) {
            for (int32_t kx = 0; kx < filter_dims->w; kx++) {
                for (int32_t j = 0; j < k; j++) {
                    *dst++ = mt_conv_grad_w_element(params, grad, input_dims, input, output_dims,
                                                    grad_out, co, ky, kx, j);
                }
            }
        }
    }
    return MT_OK;
}
