// SPDX-License-Identifier: MIT
#include "mt_qas_s32_update.h"

#include "mt_grad.h"

mt_status mt_qas_s32_update(const mt_update_params *params, int32_t count, int32_t *bias,
                            const float *grad, const float *scale, const mt_update_state *state) {
    if (count < 1) {
        return MT_ERR_SHAPE;
    }
    mt_status st = mt_qas_check(params, state);
    if (st != MT_OK) {
        return st;
    }
    for (int32_t c = 0; c < count; c++) {
        if (!mt_qas_scale_ok(scale[c])) {
            return MT_ERR_PARAM;
        }
    }
    for (int32_t c = 0; c < count; c++) {
        float *v = state->momentum ? state->momentum + c : 0;
        float *m = state->master ? state->master + c : 0;
        float step = mt_qas_step(params, grad[c], scale[c], v);
        bias[c] = mt_qas_apply(params->rounding, bias[c], step, m, state->rng, MT_BIAS_MIN,
                               MT_BIAS_MAX);
    }
    return MT_OK;
}
