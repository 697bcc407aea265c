// SPDX-License-Identifier: MIT
#include "mt_dwconv2d_s8_grad_w.h"

mt_status mt_dwconv2d_s8_grad_w(const mt_conv_params *params, const mt_grad_params *grad,
                                const mt_dims *input_dims, const int8_t *input,
                                const int32_t *channels, const mt_dims *filter_dims,
                                float *grad_w, const mt_dims *output_dims,
                                const float *grad_out) {
    mt_status st = mt_conv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    const int32_t kh = filter_dims->h, kw = filter_dims->w;
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
    const int32_t in_h = input_dims->h, in_w = input_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    float *dst = grad_w;
    for (int32_t ky = 0; ky < kh; ky++) {
        for (int32_t kx = 0; kx < kw; kx++) {
            for (int32_t j = 0; j < k; j++) {
                const int32_t c = channels ? channels[j] : j;
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
                            float g = grad_out[((n * out_h + oy) * out_w + ox) * c_total + c];
                            acc += g * (float)(x + grad->input_offset);
                        }
                    }
                }
                *dst++ = acc * grad->input_scale;
            }
        }
    }
    return MT_OK;
}
