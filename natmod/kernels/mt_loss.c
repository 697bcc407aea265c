// SPDX-License-Identifier: MIT
#include "mt_loss.h"

mt_status mt_loss_check(const mt_loss_params *params) {
    const int32_t n = params->batch, c = params->classes;
    if (n < 1 || c < 1 || (int64_t)n * c > INT32_MAX || !(params->input_scale > 0.0f) ||
        !(params->input_scale < 1e30f) || params->input_offset < -127 ||
        params->input_offset > 128) {
        return MT_ERR_PARAM;
    }
    return MT_OK;
}
