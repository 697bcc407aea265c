// SPDX-License-Identifier: MIT
#include "mt_mean_s8_fwd.h"

#include "mt_check.h"
#include "mt_requant.h"

// |sum + window * input_offset| <= 2^22 * (128 + 255) < 2^31.
#define MT_MEAN_MAX_WINDOW (1 << 22)

mt_status mt_mean_s8_fwd(const mt_act_params *act, int32_t multiplier, int32_t shift,
                         const mt_dims *input_dims, const int8_t *input,
                         const mt_dims *output_dims, int8_t *output) {
    int32_t window;
    mt_status st;
    if ((st = mt_global_pool_dims_check(input_dims, output_dims, MT_MEAN_MAX_WINDOW,
                                        &window)) != MT_OK ||
        (st = mt_act_check(act)) != MT_OK) {
        return st;
    }
    if (multiplier < 0 || shift < MT_SHIFT_MIN || shift > MT_SHIFT_MAX) {
        return MT_ERR_PARAM;
    }
    const int32_t c = input_dims->c;
    const int32_t offset_sum = window * act->input_offset;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *x = input + b * window * c;
        for (int32_t ch = 0; ch < c; ch++) {
            int32_t acc = offset_sum;
            for (int32_t i = 0; i < window; i++) {
                acc += x[i * c + ch];
            }
            output[b * c + ch] = mt_requant_s8(acc, multiplier, shift, act->output_offset,
                                               act->act_min, act->act_max);
        }
    }
    return MT_OK;
}
