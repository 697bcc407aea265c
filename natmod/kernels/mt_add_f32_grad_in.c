// SPDX-License-Identifier: MIT
#include "mt_add_f32_grad_in.h"

static float passed_on(const void *grad_out, int32_t i) {
    return mt_grad_get(grad_out, i);
}

mt_status mt_add_f32_grad_in(int32_t count, int32_t accumulate, const mt_grad_src *grad_out,
                             const mt_grad_dst *grad_in) {
    if (count < 0) {
        return MT_ERR_PARAM;
    }
    return mt_grad_write(grad_in, count, accumulate, passed_on, grad_out);
}
