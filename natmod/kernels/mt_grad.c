// SPDX-License-Identifier: MIT
#include "mt_grad.h"

mt_status mt_grad_begin(const mt_grad_dst *g, float amax, float *inv) {
    if (!(amax <= 3.4e38f)) {  // also false for NaN
        return MT_ERR_PARAM;
    }
    *g->scale = amax / 127.0f;
    *inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    return MT_OK;
}
