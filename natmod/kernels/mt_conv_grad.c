// SPDX-License-Identifier: MIT
#include "mt_conv_grad.h"

#include "mt_conv_grad_w.h"

// Weights whose gradient the fused update holds at once, on the stack (128 bytes): enough to
// share one pass over the output pixels among a tap's channels, small for any board.
#define MT_UPDATE_CHUNK 32

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

mt_status mt_conv_update(const mt_conv_params *params, const mt_grad_params *grad,
                         const mt_dims *input_dims, const int8_t *input,
                         const mt_qas_layout *layout, const mt_dims *filter_dims,
                         int8_t *weights,
                         const float *w_scale, const mt_update_params *update,
                         const mt_update_state *state, const mt_dims *output_dims,
                         const mt_grad_src *grad_out) {
    mt_status st = mt_qas_s8_check(update, layout, w_scale, state);
    if (st != MT_OK) {
        return st;
    }
    const int32_t kh = filter_dims->h, kw = filter_dims->w;
    float sum[MT_UPDATE_CHUNK];  // the gradient of up to MT_UPDATE_CHUNK weights of one tap
    int32_t e = 0;
    for (int32_t o = 0; o < layout->outer; o++) {
        for (int32_t ky = 0; ky < kh; ky++) {
            for (int32_t kx = 0; kx < kw; kx++) {
                int8_t *row = weights + ((o * kh + ky) * kw + kx) * layout->c_total;
                for (int32_t j0 = 0; j0 < layout->k; j0 += MT_UPDATE_CHUNK) {
                    const int32_t left = layout->k - j0;
                    const mt_grad_w_tap tap = {ky, kx, j0,
                                               left < MT_UPDATE_CHUNK ? left : MT_UPDATE_CHUNK,
                                               o, layout->scale_on_channel, layout->channels};
                    mt_conv_grad_w_tap_sums(params, grad, input_dims, input, output_dims,
                                            grad_out, &tap, sum);
                    for (int32_t i = 0; i < tap.count; i++, e++) {
                        const int32_t j = j0 + i;
                        const int32_t c = layout->channels ? layout->channels[j] : j;
                        const int32_t co = layout->scale_on_channel ? c : o;
                        const float g = sum[i] * grad->input_scale;
                        row[c] = (int8_t)mt_qas_update_element(update, state, e, g, w_scale[co],
                                                               row[c], MT_WEIGHT_MIN,
                                                               MT_WEIGHT_MAX);
                    }
                }
            }
        }
    }
    return MT_OK;
}
