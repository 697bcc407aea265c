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

mt_status mt_grad_write(const mt_grad_dst *g, const mt_dims *dims, int32_t accumulate,
                        mt_grad_value_fn value, const void *ctx) {
    const float old_scale = g->f ? 0.0f : *g->scale;
    float amax = 0.0f, inv = 0.0f;
    for (int pass = mt_grad_first_pass(g); pass < 2; pass++) {
        mt_status st;
        if (pass == 1 && !g->f && (st = mt_grad_begin(g, amax, &inv)) != MT_OK) {
            return st;
        }
        int32_t i = 0;
        for (int32_t n = 0; n < dims->n; n++) {
            for (int32_t y = 0; y < dims->h; y++) {
                for (int32_t x = 0; x < dims->w; x++) {
                    for (int32_t c = 0; c < dims->c; c++, i++) {
                        float v = value(ctx, n, y, x, c);
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
            }
        }
    }
    return MT_OK;
}
