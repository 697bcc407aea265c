// SPDX-License-Identifier: MIT
#include "mt_dwconv2d_s8_grad_w.h"

float mt_dwconv2d_s8_grad_w_element(const mt_conv_params *params, const mt_grad_params *grad,
                                    const mt_dims *input_dims, const int8_t *input,
                                    const mt_dims *output_dims, const mt_grad_src *grad_out,
                                    int32_t c, int32_t ky, int32_t kx, int32_t j) {
    const int32_t in_h = input_dims->h, in_w = input_dims->w, k = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, c_total = output_dims->c;
    float acc = 0.0f;
    for (int32_t n = 0; n < output_dims->n; n++) {
        for (int32_t oy = 0; oy < out_h; oy++) {
            int32_t iy = oy * params->stride_h - params->pad_h + ky;
            if (iy < 0 || iy >= in_h) {
                continue;
            }
            for (int32_t ox = 0; ox < out_w; ox++) {
                int32_t ix = ox * params->stride_w - params->pad_w + kx;
                if (ix < 0 || ix >= in_w) {
                    continue;
                }
                int32_t x = input[((n * in_h + iy) * in_w + ix) * k + j];
                float g = mt_grad_get(grad_out, ((n * out_h + oy) * out_w + ox) * c_total + c);
                acc += g * (float)(x + grad->input_offset);
            }
        }
    }
    return acc * grad->input_scale;
}

mt_status mt_dwconv2d_s8_grad_w(const mt_conv_params *params, const mt_grad_params *grad,
                                const mt_dims *input_dims, const int8_t *input,
                                const int32_t *channels, const mt_dims *filter_dims,
                                float *grad_w, const mt_dims *output_dims,
                                const mt_grad_src *grad_out) {
    mt_status st = mt_conv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st == MT_OK) {
        st = mt_grad_input_check(grad);
    }
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
    float *dst = grad_w;
    for (int32_t ky = 0; ky < filter_dims->h; ky++) {
        for (int32_t kx = 0; kx < filter_dims->w; kx++) {
            for (int32_t j = 0; j < k; j++) {
                *dst++ = mt_dwconv2d_s8_grad_w_element(params, grad, input_dims, input,
                                                       output_dims, grad_out,
                                                       channels ? channels[j] : j, ky, kx, j);
            }
        }
    }
    return MT_OK;
}
