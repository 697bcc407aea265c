// SPDX-License-Identifier: MIT
#include "mt_avgpool_s8_fwd.h"

#include "mt_check.h"

// The sum of up to 2^24 int8 values fits int32 with room to round.
#define MT_AVGPOOL_MAX_WINDOW (1 << 24)

mt_status mt_avgpool_s8_fwd(const mt_act_params *act, const mt_dims *input_dims,
                            const int8_t *input, const mt_dims *output_dims, int8_t *output) {
    int32_t window;
    mt_status st;
    if ((st = mt_global_pool_dims_check(input_dims, output_dims, MT_AVGPOOL_MAX_WINDOW,
                                        &window)) != MT_OK ||
        (st = mt_act_check(act)) != MT_OK) {
        return st;
    }
    if (act->input_offset != -act->output_offset) {
        return MT_ERR_PARAM;
    }
    const int32_t c = input_dims->c;
    for (int32_t b = 0; b < input_dims->n; b++) {
        const int8_t *x = input + b * window * c;
        for (int32_t ch = 0; ch < c; ch++) {
            int32_t acc = 0;
            for (int32_t i = 0; i < window; i++) {
                acc += x[i * c + ch];
            }
            // C division truncates toward zero, so this rounds half away from zero.
            acc = acc > 0 ? (acc + window / 2) / window : (acc - window / 2) / window;
            acc = acc < act->act_min ? act->act_min : acc;
            acc = acc > act->act_max ? act->act_max : acc;
            output[b * c + ch] = (int8_t)acc;
        }
    }
    return MT_OK;
}
