// SPDX-License-Identifier: MIT
#include "mt_qas_s8_update.h"

#include "mt_grad.h"

mt_status mt_qas_layout_check(const mt_qas_layout *layout) {
    if (layout->outer < 1 || layout->inner < 1 || layout->k < 1 ||
        layout->k > layout->c_total) {
        return MT_ERR_SHAPE;
    }
    if ((int64_t)layout->outer * layout->inner * layout->c_total > INT32_MAX) {
        return MT_ERR_SHAPE;
    }
    if (layout->scale_on_channel != 0 && layout->scale_on_channel != 1) {
        return MT_ERR_PARAM;
    }
    for (int32_t j = 0; j < layout->k && layout->channels; j++) {
        if (layout->channels[j] < 0 || layout->channels[j] >= layout->c_total) {
            return MT_ERR_PARAM;
        }
    }
    return MT_OK;
}

mt_status mt_qas_s8_update(const mt_update_params *params, const mt_qas_layout *layout,
                           int8_t *weights, const float *grad, const float *scale,
                           const mt_update_state *state) {
    mt_status st = mt_qas_layout_check(layout);
    if (st == MT_OK) {
        st = mt_qas_check(params, state);
    }
    if (st != MT_OK) {
        return st;
    }
    const int32_t n_scales = layout->scale_on_channel ? layout->c_total : layout->outer;
    for (int32_t i = 0; i < n_scales; i++) {
        if (!mt_qas_scale_ok(scale[i])) {
            return MT_ERR_PARAM;
        }
    }
    int32_t e = 0;
    for (int32_t o = 0; o < layout->outer; o++) {
        for (int32_t i = 0; i < layout->inner; i++) {
            int8_t *row = weights + (o * layout->inner + i) * layout->c_total;
            for (int32_t j = 0; j < layout->k; j++, e++) {
                const int32_t c = layout->channels ? layout->channels[j] : j;
                const float s = scale[layout->scale_on_channel ? c : o];
                float *v = state->momentum ? state->momentum + e : 0;
                float *m = state->master ? state->master + e : 0;
                float step = mt_qas_step(params, grad[e], s, v);
                row[c] = (int8_t)mt_qas_apply(params->rounding, row[c], step, m, state->rng,
                                              MT_WEIGHT_MIN, MT_WEIGHT_MAX);
            }
        }
    }
    return MT_OK;
}
