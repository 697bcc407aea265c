// SPDX-License-Identifier: MIT
#include "mt_dwconv2d_s8_grad_w.h"

#include "mt_conv_grad.h"
#include "mt_conv_grad_w.h"

mt_status mt_dwconv2d_s8_grad_w(const mt_conv_params *params, const mt_grad_params *grad,
                                const mt_dims *input_dims, const int8_t *input,
                                const int32_t *channels, const mt_dims *filter_dims,
                                float *grad_w, const mt_dims *output_dims,
                                const mt_grad_src *grad_out) {
    mt_status st = mt_conv_grad_w_check(params, grad, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    const int32_t k = input_dims->c, c_total = output_dims->c;
    if (filter_dims->n != 1 || filter_dims->c != k || k > c_total) {
        return MT_ERR_SHAPE;
    }
    for (int32_t j = 0; j < k; j++) {
        int32_t c = channels ? channels[j] : j;
        if (c < 0 || c >= c_total) {
            return MT_ERR_PARAM;
        }
    }
    const int32_t kh = filter_dims->h, kw = filter_dims->w;
    for (int32_t ky = 0; ky < kh; ky++) {
        for (int32_t kx = 0; kx < kw; kx++) {
            const mt_grad_w_tap tap = {ky, kx, 0, k, 0, 1, channels};
            float *dst = grad_w + (ky * kw + kx) * k;
            mt_conv_grad_w_tap_sums(params, grad, input_dims, input, output_dims, grad_out, &tap,
                                    dst);
            for (int32_t j = 0; j < k; j++) {
                dst[j] *= grad->input_scale;
            }
        }
    }
    return MT_OK;
}
