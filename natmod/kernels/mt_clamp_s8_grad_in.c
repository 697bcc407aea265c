// SPDX-License-Identifier: MIT
#include "mt_clamp_s8_grad_in.h"

mt_status mt_clamp_s8_grad_in(const mt_act_params *act, int32_t count, const int8_t *output,
                              const mt_grad_dst *grad) {
    if (count < 0 || act->act_min < -128 || act->act_max > 127 || act->act_min > act->act_max) {
        return MT_ERR_PARAM;
    }
    for (int32_t i = 0; i < count; i++) {
        if (output[i] <= act->act_min || output[i] >= act->act_max) {
            if (grad->f) {
                grad->f[i] = 0.0f;
            } else {
                grad->q[i] = 0;
            }
        }
    }
    return MT_OK;
}
