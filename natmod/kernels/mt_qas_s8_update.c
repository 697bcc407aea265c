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

mt_status mt_qas_s8_check(const mt_update_params *params, const mt_qas_layout *layout,
                          const float *scale, const mt_update_state *state) {
    mt_status st = mt_qas_layout_check(layout);
    if (st != MT_OK) {
        return st;
    }
    const int32_t n_scales = layout->scale_on_channel ? layout->c_total : layout->outer;
    return mt_qas_check_scales(params, state, scale, n_scales);
}

mt_status mt_qas_s8_update(const mt_update_params *params, const mt_qas_layout *layout,
                           int8_t *weights, const float *grad, const float *scale,
                           const mt_update_state *state) {
    mt_status st = mt_qas_s8_check(params, layout, scale, state);
    if (st != MT_OK) {
        return st;
    }
    int32_t e = 0;
    for (int32_t o = 0; o < layout->outer; o++) {
        for (int32_t i = 0; i < layout->inner; i++) {
            int8_t *row = weights + (o * layout->inner + i) * layout->c_total;
            for (int32_t j = 0; j < layout->k; j++, e++) {
                const int32_t c = layout->channels ? layout->channels[j] : j;
                const float s = scale[layout->scale_on_channel ? c : o];
                row[c] = (int8_t)mt_qas_update_element(params, state, e, grad[e], s, row[c],
                                                       MT_WEIGHT_MIN, MT_WEIGHT_MAX);
            }
        }
    }
    return MT_OK;
}
