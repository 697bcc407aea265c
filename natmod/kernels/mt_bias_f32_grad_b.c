// SPDX-License-Identifier: MIT
#include "mt_bias_f32_grad_b.h"

mt_status mt_bias_f32_grad_b(const mt_dims *output_dims, const float *grad_out, float *grad_b) {
    int32_t count;
    mt_status st = mt_dims_count(output_dims, &count);
    if (st != MT_OK) {
        return st;
    }
    const int32_t c = output_dims->c;
    const int32_t positions = count / c;
    for (int32_t ch = 0; ch < c; ch++) {
        float acc = 0.0f;
        for (int32_t p = 0; p < positions; p++) {
            acc += grad_out[p * c + ch];
        }
        grad_b[ch] = acc;
    }
    return MT_OK;
}
