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
