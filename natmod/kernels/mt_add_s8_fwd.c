// SPDX-License-Identifier: MIT
#include "mt_add_s8_fwd.h"

#include <stdbool.h>

#include "mt_check.h"
#include "mt_requant.h"

static bool add_input_ok(const mt_add_input_params *in) {
    return in->offset >= -127 && in->offset <= 128 && in->shift >= MT_SHIFT_MIN &&
           in->shift <= MT_SHIFT_MAX;
}

// (q + offset) * 2^20 fits int32 (255 * 2^20 < 2^28), then the input's own scale.
static int32_t add_scaled_input(const mt_add_input_params *in, int8_t q) {
    return mt_requant(((int32_t)q + in->offset) * (1 << MT_ADD_LEFT_SHIFT), in->multiplier,
                      in->shift);
}

mt_status mt_add_s8_fwd(const mt_add_params *params, const mt_dims *dims, const int8_t *input1,
                        const int8_t *input2, int8_t *output) {
    int32_t count;
    mt_status st = mt_dims_count(dims, &count);
    if (st != MT_OK) {
        return st;
    }
    if (!add_input_ok(&params->in1) || !add_input_ok(&params->in2) ||
        params->output_shift < MT_SHIFT_MIN || params->output_shift > MT_SHIFT_MAX) {
        return MT_ERR_PARAM;
    }
    const mt_act_params act = {0, params->output_offset, params->act_min, params->act_max};
    if ((st = mt_act_check(&act)) != MT_OK) {
        return st;
    }
    // In locals: an int8 store may alias the params, whose fields would be reloaded per value.
    const mt_add_input_params in1 = params->in1, in2 = params->in2;
    const int32_t mult = params->output_multiplier, shift = params->output_shift;
    const int32_t out_offset = params->output_offset;
    const int32_t act_min = params->act_min, act_max = params->act_max;
    for (int32_t i = 0; i < count; i++) {
        int32_t sum = mt_add_sat_s32(add_scaled_input(&in1, input1[i]),
                                     add_scaled_input(&in2, input2[i]));
        output[i] = mt_requant_s8(sum, mult, shift, out_offset, act_min, act_max);
    }
    return MT_OK;
}
