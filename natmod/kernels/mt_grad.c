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

int32_t mt_grad_output_index(int32_t i, int32_t k, int32_t stride, int32_t pad, int32_t out_len) {
    int32_t t = i + pad - k;
    if (t < 0 || t % stride != 0) {
        return -1;
    }
    t /= stride;
    return t < out_len ? t : -1;
}

mt_status mt_grad_write(const mt_grad_dst *g, int32_t count, int32_t accumulate,
                        mt_grad_value_fn value, const void *ctx) {
    const float old_scale = g->f ? 0.0f : *g->scale;
    float amax = 0.0f, inv = 0.0f;
    for (int pass = mt_grad_first_pass(g); pass < 2; pass++) {
        mt_status st;
        if (pass == 1 && !g->f && (st = mt_grad_begin(g, amax, &inv)) != MT_OK) {
            return st;
        }
        for (int32_t i = 0; i < count; i++) {
            float v = value(ctx, i);
            if (accumulate) {
                v = mt_grad_old(g, i, old_scale) + v;
            }
            if (pass == 0) {
                amax = mt_abs_max(amax, v);
            } else {
                mt_grad_put(g, i, v, inv);
            }
        }
    }
    return MT_OK;
}
