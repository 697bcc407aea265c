// SPDX-License-Identifier: MIT
#include "mt_clampmask_s8_fwd.h"

mt_status mt_clampmask_s8_fwd(const mt_act_params *act, int32_t count, const int8_t *output,
                              uint8_t *mask) {
    if (count < 0 || act->act_min < -128 || act->act_max > 127 || act->act_min > act->act_max) {
        return MT_ERR_PARAM;
    }
    uint32_t bits = 0;
    for (int32_t i = 0; i < count; i++) {
        if (output[i] > act->act_min && output[i] < act->act_max) {
            bits |= 1u << (i & 7);
        }
        if ((i & 7) == 7 || i == count - 1) {
            mask[i >> 3] = (uint8_t)bits;
            bits = 0;
        }
    }
    return MT_OK;
}
