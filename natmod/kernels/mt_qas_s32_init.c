// SPDX-License-Identifier: MIT
#include "mt_qas_s32_init.h"

mt_status mt_qas_s32_init(int32_t count, const int32_t *bias, const mt_update_state *state) {
    if (count < 1) {
        return MT_ERR_SHAPE;
    }
    for (int32_t c = 0; c < count; c++) {
        if (state->master) {
            state->master[c] = (float)bias[c];
        }
        if (state->momentum) {
            state->momentum[c] = 0.0f;
        }
    }
    return MT_OK;
}
