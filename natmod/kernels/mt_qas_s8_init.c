// SPDX-License-Identifier: MIT
#include "mt_qas_s8_init.h"

mt_status mt_qas_s8_init(const mt_qas_layout *layout, const int8_t *weights,
                         const mt_update_state *state) {
    mt_status st = mt_qas_layout_check(layout);
    if (st != MT_OK) {
        return st;
    }
    int32_t e = 0;
    for (int32_t o = 0; o < layout->outer; o++) {
        for (int32_t i = 0; i < layout->inner; i++) {
            const int8_t *row = weights + (o * layout->inner + i) * layout->c_total;
            for (int32_t j = 0; j < layout->k; j++, e++) {
                if (state->master) {
                    state->master[e] = (float)row[layout->channels ? layout->channels[j] : j];
                }
                if (state->momentum) {
                    state->momentum[e] = 0.0f;
                }
            }
        }
    }
    return MT_OK;
}
