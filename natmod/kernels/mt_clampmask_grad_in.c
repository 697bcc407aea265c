// SPDX-License-Identifier: MIT
#include "mt_clampmask_grad_in.h"

mt_status mt_clampmask_grad_in(int32_t count, const uint8_t *mask, const mt_grad_dst *grad) {
    if (count < 0) {
        return MT_ERR_PARAM;
    }
    for (int32_t i = 0; i < count; i++) {
        if (((mask[i >> 3] >> (i & 7)) & 1u) == 0) {
            if (grad->f) {
                grad->f[i] = 0.0f;
            } else {
                grad->q[i] = 0;
            }
        }
    }
    return MT_OK;
}
