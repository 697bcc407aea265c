// SPDX-License-Identifier: MIT
#include "mt_add_f32_grad_in.h"

mt_status mt_add_f32_grad_in(int32_t count, int32_t accumulate, const float *grad_out,
                             float *grad_in) {
    if (count < 0) {
        return MT_ERR_PARAM;
    }
    for (int32_t i = 0; i < count; i++) {
        grad_in[i] = accumulate ? grad_in[i] + grad_out[i] : grad_out[i];
    }
    return MT_OK;
}
