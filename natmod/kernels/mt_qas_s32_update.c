// SPDX-License-Identifier: MIT
#include "mt_qas_s32_update.h"

#include "mt_grad.h"

mt_status mt_qas_s32_update(const mt_update_params *params, int32_t count, int32_t *bias,
                            const float *grad, const float *scale, const mt_update_state *state) {
    if (count < 1) {
        return MT_ERR_SHAPE;
    }
    mt_status st = mt_qas_check_scales(params, state, scale, count);
    if (st != MT_OK) {
        return st;
    }
    for (int32_t c = 0; c < count; c++) {
        bias[c] = mt_qas_update_element(params, state, c, grad[c], scale[c], bias[c], MT_BIAS_MIN,
                                        MT_BIAS_MAX);
    }
    return MT_OK;
}
