// SPDX-License-Identifier: MIT
#include "mt_conv_grad.h"

mt_status mt_conv_grad_w_check(const mt_conv_params *params, const mt_grad_params *grad,
                               const mt_dims *input_dims, const mt_dims *filter_dims,
                               const mt_dims *output_dims) {
    mt_status st = mt_conv_dims_check(params, input_dims, filter_dims, output_dims);
    return st == MT_OK ? mt_grad_input_check(grad) : st;
}

typedef struct {
    const mt_conv_params *params;
    const float *scale;
    const mt_dims *filter_dims, *output_dims;
    const int8_t *filter;
    const mt_grad_src *grad_out;
} grad_in_ctx;

// The sum for input element (n, iy, ix, ci): terms in the order ky, kx, co from 0.0f.
static inline float grad_in_element(const grad_in_ctx *c, int32_t n, int32_t iy, int32_t ix,
                                    int32_t ci, int depthwise) {
    const mt_dims *out = c->output_dims;
    const int32_t kh = c->filter_dims->h, kw = c->filter_dims->w, c_filter = c->filter_dims->c;
    const int32_t filter_stride = kh * kw * c_filter;  // from one output channel to the next
    const int32_t sh = c->params->stride_h, sw = c->params->stride_w;
    // Tap ky reaches output row oy = (ty - ky) / sh when ty - ky >= 0 is a multiple of sh and
    // oy < out->h: only ky = ty % sh, + sh, ... with oy = ty / sh, - 1, ... (pads are >= 0, so
    // ty >= 0). Visiting just those, in ascending order, adds the same terms in the same order as
    // trying every tap, with no division per tap.
    const int32_t ty = iy + c->params->pad_h, tx = ix + c->params->pad_w;
    const int32_t kx_first = tx % sw, ox_first = tx / sw;
    float acc = 0.0f;
    for (int32_t ky = ty % sh, oy = ty / sh; ky < kh && oy >= 0; ky += sh, oy--) {
        if (oy >= out->h) {
            continue;
        }
        for (int32_t kx = kx_first, ox = ox_first; kx < kw && ox >= 0; kx += sw, ox--) {
            if (ox >= out->w) {
                continue;
            }
            const int32_t g = ((n * out->h + oy) * out->w + ox) * out->c;
            const int8_t *w = c->filter + (ky * kw + kx) * c_filter + ci;
            if (depthwise) {  // one term: a loop over one channel costs more than the term
                acc += ((float)*w * c->scale[ci]) * mt_grad_get(c->grad_out, g + ci);
                continue;
            }
            for (int32_t co = 0; co < out->c; co++) {
                acc += ((float)w[co * filter_stride] * c->scale[co]) *
                       mt_grad_get(c->grad_out, g + co);
            }
        }
    }
    return acc;
}

// mt_grad_write's output loop, written here again so that the element is inlined: with a call
// per element, depthwise grad_in took 1.36x the Cortex-M4 instructions per MAC.
mt_status mt_conv_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                          const mt_dims *input_dims, const mt_grad_dst *grad_in,
                          const mt_dims *filter_dims, const int8_t *filter,
                          const mt_dims *output_dims, const mt_grad_src *grad_out,
                          int32_t depthwise) {
    const grad_in_ctx ctx = {params, grad->filter_scale, filter_dims, output_dims, filter,
                             grad_out};
    const float old_scale = grad_in->f ? 0.0f : *grad_in->scale;
    float amax = 0.0f, inv = 0.0f;
    mt_status st;
    for (int pass = mt_grad_first_pass(grad_in); pass < 2; pass++) {
        if (pass == 1 && !grad_in->f && (st = mt_grad_begin(grad_in, amax, &inv)) != MT_OK) {
            return st;
        }
        int32_t i = 0;
        for (int32_t n = 0; n < input_dims->n; n++) {
            for (int32_t iy = 0; iy < input_dims->h; iy++) {
                for (int32_t ix = 0; ix < input_dims->w; ix++) {
                    for (int32_t ci = 0; ci < input_dims->c; ci++, i++) {
                        // A constant per call, so each kind gets its own inlined copy.
                        float v = depthwise ? grad_in_element(&ctx, n, iy, ix, ci, 1)
                                            : grad_in_element(&ctx, n, iy, ix, ci, 0);
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
