// SPDX-License-Identifier: MIT
#include "mt_avgpool_f32_grad_in.h"

mt_status mt_avgpool_f32_grad_in(const mt_dims *input_dims, float *grad_in, int32_t accumulate,
                                 const float *grad_out) {
    int32_t count;
    mt_status st = mt_dims_count(input_dims, &count);
    if (st != MT_OK) {
        return st;
    }
    const int32_t c = input_dims->c;
    const int32_t positions = input_dims->h * input_dims->w;
    const float area = (float)positions;
    float *dst = grad_in;
    for (int32_t n = 0; n < input_dims->n; n++) {
        for (int32_t p = 0; p < positions; p++) {
            for (int32_t ch = 0; ch < c; ch++) {
                float v = grad_out[n * c + ch] / area;
                *dst = accumulate ? *dst + v : v;
                dst++;
            }
        }
    }
    return MT_OK;
}
