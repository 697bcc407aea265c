// SPDX-License-Identifier: MIT
#include "mt_add_f32_grad_in.h"

mt_status mt_add_f32_grad_in(int32_t count, int32_t accumulate, const mt_grad_src *grad_out,
                             const mt_grad_dst *grad_in) {
    if (count < 0) {
        return MT_ERR_PARAM;
    }
    const float old_scale = grad_in->f ? 0.0f : *grad_in->scale;
    float amax = 0.0f, inv = 0.0f;
    mt_status st;
    for (int pass = mt_grad_first_pass(grad_in); pass < 2; pass++) {
        if (pass == 1 && !grad_in->f && (st = mt_grad_begin(grad_in, amax, &inv)) != MT_OK) {
            return st;
        }
        for (int32_t i = 0; i < count; i++) {
            float v = mt_grad_get(grad_out, i);
            if (accumulate) {
                v = mt_grad_old(grad_in, i, old_scale) + v;
            }
            if (pass == 0) {
                amax = mt_abs_max(amax, v);
            } else {
                mt_grad_put(grad_in, i, v, inv);
            }
        }
    }
    return MT_OK;
}
