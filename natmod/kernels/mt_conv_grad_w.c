// SPDX-License-Identifier: MIT
#include "mt_conv_grad_w.h"

void mt_conv_grad_w_tap_sums(const mt_conv_params *params, const mt_grad_params *grad,
                             const mt_dims *input_dims, const int8_t *input,
                             const mt_dims *output_dims, const mt_grad_src *grad_out,
                             const mt_grad_w_tap *tap, float *sum) {
    const int32_t in_h = input_dims->h, in_w = input_dims->w, k = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, c_out = output_dims->c;
    const int32_t off = grad->input_offset, count = tap->count;
    for (int32_t i = 0; i < count; i++) {
        sum[i] = 0.0f;
    }
    for (int32_t n = 0; n < output_dims->n; n++) {
        for (int32_t oy = 0; oy < out_h; oy++) {
            const int32_t iy = oy * params->stride_h - params->pad_h + tap->ky;
            if (iy < 0 || iy >= in_h) {
                continue;
            }
            for (int32_t ox = 0; ox < out_w; ox++) {
                const int32_t ix = ox * params->stride_w - params->pad_w + tap->kx;
                if (ix < 0 || ix >= in_w) {
                    continue;
                }
                const int8_t *x = input + ((n * in_h + iy) * in_w + ix) * k + tap->j0;
                const int32_t g0 = ((n * out_h + oy) * out_w + ox) * c_out;
                if (!tap->depthwise) {
                    const float g = mt_grad_get(grad_out, g0 + tap->co);
                    for (int32_t i = 0; i < count; i++) {
                        sum[i] += g * (float)(x[i] + off);
                    }
                    continue;
                }
                for (int32_t i = 0; i < count; i++) {
                    const int32_t j = tap->j0 + i;
                    const int32_t c = tap->channels ? tap->channels[j] : j;
                    sum[i] += mt_grad_get(grad_out, g0 + c) * (float)(x[i] + off);
                }
            }
        }
    }
}
