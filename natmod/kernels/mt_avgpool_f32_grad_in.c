// SPDX-License-Identifier: MIT
#include "mt_avgpool_f32_grad_in.h"

mt_status mt_avgpool_f32_grad_in(const mt_dims *input_dims, const mt_grad_dst *grad_in,
                                 int32_t accumulate, const mt_grad_src *grad_out) {
    int32_t count;
    mt_status st = mt_dims_count(input_dims, &count);
    if (st != MT_OK) {
        return st;
    }
    const int32_t c = input_dims->c;
    const int32_t positions = input_dims->h * input_dims->w;
    const float area = (float)positions;
    const float old_scale = grad_in->f ? 0.0f : *grad_in->scale;
    float amax = 0.0f, inv = 0.0f;
    for (int pass = mt_grad_first_pass(grad_in); pass < 2; pass++) {
        if (pass == 1 && !grad_in->f && (st = mt_grad_begin(grad_in, amax, &inv)) != MT_OK) {
            return st;
        }
        int32_t i = 0;
        for (int32_t n = 0; n < input_dims->n; n++) {
            for (int32_t p = 0; p < positions; p++) {
                for (int32_t ch = 0; ch < c; ch++, i++) {
                    float v = mt_grad_get(grad_out, n * c + ch) / area;
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
        }
    }
    return MT_OK;
}
