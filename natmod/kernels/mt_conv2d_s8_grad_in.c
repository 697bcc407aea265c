// SPDX-License-Identifier: MIT
#include "mt_conv2d_s8_grad_in.h"

// Output position that input position i reaches through kernel tap k, or -1 if none does.
static int32_t output_index(int32_t i, int32_t k, int32_t stride, int32_t pad, int32_t out_len) {
    int32_t t = i + pad - k;
    if (t < 0 || t % stride != 0) {
        return -1;
    }
    t /= stride;
    return t < out_len ? t : -1;
}

mt_status mt_conv2d_s8_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                               const mt_dims *input_dims, float *grad_in,
                               const mt_dims *filter_dims, const int8_t *filter,
                               const mt_dims *output_dims, const float *grad_out) {
    mt_status st = mt_conv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    const int32_t kh = filter_dims->h, kw = filter_dims->w;
    const int32_t c_in = input_dims->c, c_out = output_dims->c;
    if (filter_dims->n != c_out || filter_dims->c != c_in) {
        return MT_ERR_SHAPE;
    }
    const int32_t filter_stride = kh * kw * c_in;  // from one output channel to the next
    const float *scale = grad->filter_scale;
    float *dst = grad_in;
    for (int32_t n = 0; n < input_dims->n; n++) {
        for (int32_t iy = 0; iy < input_dims->h; iy++) {
            for (int32_t ix = 0; ix < input_dims->w; ix++) {
                for (int32_t ci = 0; ci < c_in; ci++) {
                    float acc = 0.0f;
                    for (int32_t ky = 0; ky < kh; ky++) {
                        int32_t oy = output_index(iy, ky, params->stride_h, params->pad_h,
                                                  output_dims->h);
                        if (oy < 0) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < kw; kx++) {
                            int32_t ox = output_index(ix, kx, params->stride_w, params->pad_w,
                                                      output_dims->w);
                            if (ox < 0) {
                                continue;
                            }
                            const int32_t pos = (n * output_dims->h + oy) * output_dims->w + ox;
                            const float *g = grad_out + pos * c_out;
                            const int8_t *w = filter + (ky * kw + kx) * c_in + ci;
                            for (int32_t co = 0; co < c_out; co++) {
                                acc += ((float)w[co * filter_stride] * scale[co]) * g[co];
                            }
                        }
                    }
                    *dst = grad->accumulate ? *dst + acc : acc;
                    dst++;
                }
            }
        }
    }
    return MT_OK;
}
