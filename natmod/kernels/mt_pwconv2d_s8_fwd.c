// SPDX-License-Identifier: MIT
#include "mt_pwconv2d_s8_fwd.h"

#include "mt_check.h"
#include "mt_dot2_offset_s8.h"
#include "mt_requant.h"

bool mt_pwconv2d_s8_fwd_applies(const mt_conv_params *params, const mt_dims *filter_dims) {
    return filter_dims->h == 1 && filter_dims->w == 1 && params->pad_h == 0 && params->pad_w == 0;
}

mt_status mt_pwconv2d_s8_fwd(const mt_conv_params *params, const mt_quant_params *quant,
                             const mt_dims *input_dims, const int8_t *input,
                             const mt_dims *filter_dims, const int8_t *filter,
                             const int32_t *bias, const mt_dims *output_dims, int8_t *output) {
    if (!mt_pwconv2d_s8_fwd_applies(params, filter_dims)) {
        return MT_ERR_PARAM;
    }
    mt_status st = mt_conv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    const int32_t c_in = input_dims->c;
    const int32_t c_out = output_dims->c;
    if (filter_dims->c != c_in || filter_dims->n != c_out || c_in > MT_MAX_ACC_TERMS) {
        return MT_ERR_SHAPE;
    }
    if ((st = mt_act_check(&params->act)) != MT_OK ||
        (st = mt_quant_check(quant, c_out)) != MT_OK) {
        return st;
    }
    const mt_act_params *act = &params->act;
    // In locals: an int8 store may alias any object, so fields would be reloaded per output.
    const int32_t *mult = quant->multiplier, *shift = quant->shift;
    const int32_t in_offset = act->input_offset, out_offset = act->output_offset;
    const int32_t act_min = act->act_min, act_max = act->act_max;
    for (int32_t b = 0; b < output_dims->n; b++) {
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int8_t *x = input + (b * input_dims->h + oy * params->stride_h) *
                                          input_dims->w * c_in;
            for (int32_t ox = 0; ox < output_dims->w; ox++, x += params->stride_w * c_in) {
                int8_t *y = output + ((b * output_dims->h + oy) * output_dims->w + ox) * c_out;
                for (int32_t oc = 0; oc < c_out; oc += 2) {
                    // Two filter rows per pass over x; an odd last row is paired with itself.
                    const int32_t oc1 = oc + 1 < c_out ? oc + 1 : oc;
                    int32_t acc[2];
                    mt_dot2_offset_s8(filter + oc * c_in, filter + oc1 * c_in, x, c_in,
                                      in_offset, acc);
                    for (int32_t k = 0; k < 2 && oc + k < c_out; k++) {
                        const int32_t c = oc + k;
                        y[c] = mt_requant_s8(mt_add_sat_s32(acc[k], bias[c]), mult[c],
                                             shift[c], out_offset, act_min, act_max);
                    }
                }
            }
        }
    }
    return MT_OK;
}
