// SPDX-License-Identifier: MIT
#include "mt_fc_s8_fwd.h"

#include "mt_check.h"
#include "mt_dot_sum_s8.h"
#include "mt_requant.h"

mt_status mt_fc_s8_fwd(const mt_act_params *act, const mt_quant_params *quant,
                       const mt_dims *input_dims, const int8_t *input, const mt_dims *filter_dims,
                       const int8_t *filter, const int32_t *bias, const mt_dims *output_dims,
                       int8_t *output) {
    mt_status st = mt_layer_dims_check(input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    const int32_t rows = input_dims->n;
    // Fits int32: the input's element count does.
    const int32_t c_in = input_dims->h * input_dims->w * input_dims->c;
    const int32_t c_out = filter_dims->n;
    if (filter_dims->h != 1 || filter_dims->w != 1 || filter_dims->c != c_in) {
        return MT_ERR_SHAPE;
    }
    if (output_dims->n != rows || output_dims->h != 1 || output_dims->w != 1 ||
        output_dims->c != c_out) {
        return MT_ERR_SHAPE;
    }
    if (c_in > MT_MAX_ACC_TERMS) {
        return MT_ERR_SHAPE;
    }
    if ((st = mt_act_check(act)) != MT_OK || (st = mt_quant_check(quant, c_out)) != MT_OK) {
        return st;
    }
    const int32_t input_offset = act->input_offset;
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *x = input + r * c_in;
        const int8_t *w = filter;
        for (int32_t oc = 0; oc < c_out; oc++, w += c_in) {
            // sum w (x + off) = sum w x + off * sum w: no offset add per product. Each part and
            // the total stay below 2^31 in magnitude (c_in <= MT_MAX_ACC_TERMS).
            int32_t w_sum = 0;
            int32_t dot = mt_dot_sum_s8(w, x, c_in, &w_sum);
            int32_t acc = mt_add_sat_s32(dot + input_offset * w_sum, bias[oc]);
            output[r * c_out + oc] = mt_requant_s8(acc, quant->multiplier[oc], quant->shift[oc],
                                                   act->output_offset, act->act_min,
                                                   act->act_max);
        }
    }
    return MT_OK;
}
