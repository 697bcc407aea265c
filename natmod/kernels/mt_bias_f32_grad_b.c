// SPDX-License-Identifier: MIT
#include "mt_bias_f32_grad_b.h"

float mt_bias_f32_grad_b_element(const mt_dims *output_dims, const mt_grad_src *grad_out,
                                 int32_t c) {
    const int32_t channels = output_dims->c;
    const int32_t positions = output_dims->n * output_dims->h * output_dims->w;
    float acc = 0.0f;
    for (int32_t p = 0; p < positions; p++) {
        acc += mt_grad_get(grad_out, p * channels + c);
    }
    return acc;
}

mt_status mt_bias_f32_grad_b(const mt_dims *output_dims, const mt_grad_src *grad_out,
                             float *grad_b) {
    int32_t count;
    mt_status st = mt_dims_count(output_dims, &count);
    if (st != MT_OK) {
        return st;
    }
    for (int32_t c = 0; c < output_dims->c; c++) {
        grad_b[c] = mt_bias_f32_grad_b_element(output_dims, grad_out, c);
    }
    return MT_OK;
}
