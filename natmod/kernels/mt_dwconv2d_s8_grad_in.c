// SPDX-License-Identifier: MIT
#include "mt_dwconv2d_s8_grad_in.h"

static float element(const mt_conv_params *params, const float *scale, const mt_dims *filter_dims,
                     const int8_t *filter, const mt_dims *output_dims, const mt_grad_src *grad_out,
                     int32_t n, int32_t iy, int32_t ix, int32_t ch) {
    const int32_t kh = filter_dims->h, kw = filter_dims->w, c = filter_dims->c;
    float acc = 0.0f;
    for (int32_t ky = 0; ky < kh; ky++) {
        int32_t oy =
            mt_grad_output_index(iy, ky, params->stride_h, params->pad_h, output_dims->h);
        if (oy < 0) {
            continue;
        }
        for (int32_t kx = 0; kx < kw; kx++) {
            int32_t ox =
                mt_grad_output_index(ix, kx, params->stride_w, params->pad_w, output_dims->w);
            if (ox < 0) {
                continue;
            }
            const int32_t pos = (n * output_dims->h + oy) * output_dims->w + ox;
            acc += ((float)filter[(ky * kw + kx) * c + ch] * scale[ch]) *
                   mt_grad_get(grad_out, pos * c + ch);
        }
    }
    return acc;
}

mt_status mt_dwconv2d_s8_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                                 const mt_dims *input_dims, const mt_grad_dst *grad_in,
                                 const mt_dims *filter_dims, const int8_t *filter,
                                 const mt_dims *output_dims, const mt_grad_src *grad_out) {
    mt_status st = mt_conv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    const int32_t c = input_dims->c;
    if (filter_dims->n != 1 || filter_dims->c != c || output_dims->c != c) {
        return MT_ERR_SHAPE;
    }
    const float old_scale = grad_in->f ? 0.0f : *grad_in->scale;
    float amax = 0.0f, inv = 0.0f;
    for (int pass = mt_grad_first_pass(grad_in); pass < 2; pass++) {
        if (pass == 1 && !grad_in->f && (st = mt_grad_begin(grad_in, amax, &inv)) != MT_OK) {
            return st;
        }
        int32_t i = 0;
        for (int32_t n = 0; n < input_dims->n; n++) {
            for (int32_t iy = 0; iy < input_dims->h; iy++) {
                for (int32_t ix = 0; ix < input_dims->w; ix++) {
                    for (int32_t ch = 0; ch < c; ch++, i++) {
                        float v = element(params, grad->filter_scale, filter_dims, filter,
                                          output_dims, grad_out, n, iy, ix, ch);
                        if (grad->accumulate) {
                            v = mt_grad_old(grad_in, i, old_scale) + v;
                        }
                        if (pass == 0) {
                            amax = mt_abs_max(amax, v);
                        } else {
                            mt_grad_put(grad_in, i, v, inv);
                        }
                    }
                }
            }
        }
    }
    return MT_OK;
}
