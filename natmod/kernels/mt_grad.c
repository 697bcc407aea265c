// SPDX-License-Identifier: MIT
#include "mt_grad.h"

mt_status mt_grad_begin(const mt_grad_dst *g, float amax, float *inv) {
    if (!(amax <= 3.4e38f)) {  // also false for NaN
        return MT_ERR_PARAM;
    }
    // Below 1e-30 the tensor counts as zero: 127 / amax would overflow to infinity.
    const int zero = amax < 1e-30f;
    *g->scale = zero ? 0.0f : amax / 127.0f;
    *inv = zero ? 0.0f : 127.0f / amax;
    return MT_OK;
}

mt_status mt_grad_input_check(const mt_grad_params *grad) {
    if (grad->input_offset < -127 || grad->input_offset > 128) {
        return MT_ERR_PARAM;
    }
    return grad->input_scale > 0.0f && grad->input_scale < 1e30f ? MT_OK : MT_ERR_PARAM;
}

// per_channel: value depends on (n, c) only, so it is computed once per (n, c) and pass, the
// channel outermost. The elements, their values and their stores are the same as in NHWC order,
// and so is the largest |v| (a max does not depend on the order; a NaN sticks either way).
static mt_status grad_write(const mt_grad_dst *g, const mt_dims *dims, int32_t accumulate,
                            mt_grad_value_fn value, const void *ctx, int per_channel) {
    const float old_scale = g->f ? 0.0f : *g->scale;
    const int32_t channels = dims->c, groups = per_channel ? channels : 1;
    const int32_t c_step = per_channel ? channels : 1;  // channels of one group's pixel
    float amax = 0.0f, inv = 0.0f;
    for (int pass = mt_grad_first_pass(g); pass < 2; pass++) {
        mt_status st;
        if (pass == 1 && !g->f && (st = mt_grad_begin(g, amax, &inv)) != MT_OK) {
            return st;
        }
        for (int32_t n = 0; n < dims->n; n++) {
            for (int32_t group = 0; group < groups; group++) {
                const float v_group = per_channel ? value(ctx, n, 0, 0, group) : 0.0f;
                for (int32_t y = 0; y < dims->h; y++) {
                    for (int32_t x = 0; x < dims->w; x++) {
                        const int32_t at = ((n * dims->h + y) * dims->w + x) * channels;
                        for (int32_t c = group; c < channels; c += c_step) {
                            float v = per_channel ? v_group : value(ctx, n, y, x, c);
                            if (accumulate) {
                                v = mt_grad_old(g, at + c, old_scale) + v;
                            }
                            if (pass == 0) {
                                amax = mt_abs_max(amax, v);
                            } else {
                                mt_grad_put(g, at + c, v, inv);
                            }
                        }
                    }
                }
            }
        }
    }
    return MT_OK;
}

mt_status mt_grad_write(const mt_grad_dst *g, const mt_dims *dims, int32_t accumulate,
                        mt_grad_value_fn value, const void *ctx) {
    return grad_write(g, dims, accumulate, value, ctx, 0);
}

mt_status mt_grad_write_per_channel(const mt_grad_dst *g, const mt_dims *dims,
                                    int32_t accumulate, mt_grad_value_fn value, const void *ctx) {
    return grad_write(g, dims, accumulate, value, ctx, 1);
}
