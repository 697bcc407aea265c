// SPDX-License-Identifier: MIT
#include "mt_conv_grad.h"

typedef struct {
    const mt_conv_params *params;
    const float *scale;
    const mt_dims *input_dims, *filter_dims, *output_dims;
    const int8_t *filter;
    const mt_grad_src *grad_out;
    int32_t depthwise;
} grad_in_ctx;

// The sum for input element i = (n, iy, ix, ci): terms in the order ky, kx, co from 0.0f.
static float grad_in_element(const void *ctx, int32_t i) {
    const grad_in_ctx *c = ctx;
    const mt_dims *in = c->input_dims, *out = c->output_dims;
    const int32_t ci = i % in->c, ix = i / in->c % in->w, iy = i / in->c / in->w % in->h;
    const int32_t n = i / in->c / in->w / in->h;
    const int32_t kh = c->filter_dims->h, kw = c->filter_dims->w, c_filter = c->filter_dims->c;
    const int32_t filter_stride = kh * kw * c_filter;  // from one output channel to the next
    const int32_t co_first = c->depthwise ? ci : 0;
    const int32_t co_end = c->depthwise ? ci + 1 : out->c;
    float acc = 0.0f;
    for (int32_t ky = 0; ky < kh; ky++) {
        int32_t oy = mt_grad_output_index(iy, ky, c->params->stride_h, c->params->pad_h, out->h);
        if (oy < 0) {
            continue;
        }
        for (int32_t kx = 0; kx < kw; kx++) {
            int32_t ox =
                mt_grad_output_index(ix, kx, c->params->stride_w, c->params->pad_w, out->w);
            if (ox < 0) {
                continue;
            }
            const int32_t g = ((n * out->h + oy) * out->w + ox) * out->c;
            const int8_t *w = c->filter + (ky * kw + kx) * c_filter + ci;
            for (int32_t co = co_first; co < co_end; co++) {
                acc += ((float)w[(co - co_first) * filter_stride] * c->scale[co]) *
                       mt_grad_get(c->grad_out, g + co);
            }
        }
    }
    return acc;
}

mt_status mt_conv_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                          const mt_dims *input_dims, const mt_grad_dst *grad_in,
                          const mt_dims *filter_dims, const int8_t *filter,
                          const mt_dims *output_dims, const mt_grad_src *grad_out,
                          int32_t depthwise) {
    const grad_in_ctx ctx = {params,      grad->filter_scale, input_dims, filter_dims,
                             output_dims, filter,             grad_out,   depthwise};
    const int32_t count = input_dims->n * input_dims->h * input_dims->w * input_dims->c;
    return mt_grad_write(grad_in, count, grad->accumulate, grad_in_element, &ctx);
}
