// SPDX-License-Identifier: MIT
#include "mt_pwconv2d_s8_fwd.h"

#include "mt_check.h"
#include "mt_dot_sum_s8.h"
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
    for (int32_t b = 0; b < output_dims->n; b++) {
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int8_t *x = input + (b * input_dims->h + oy * params->stride_h) *
                                          input_dims->w * c_in;
            for (int32_t ox = 0; ox < output_dims->w; ox++, x += params->stride_w * c_in) {
                int8_t *y = output + ((b * output_dims->h + oy) * output_dims->w + ox) * c_out;
                const int8_t *w = filter;
                for (int32_t oc = 0; oc < c_out; oc++, w += c_in) {
                    int32_t w_sum = 0;
                    int32_t dot = mt_dot_sum_s8(w, x, c_in, &w_sum);
                    int32_t acc = mt_add_sat_s32(dot + act->input_offset * w_sum, bias[oc]);
                    y[oc] = mt_requant_s8(acc, quant->multiplier[oc], quant->shift[oc],
                                          act->output_offset, act->act_min, act->act_max);
                }
            }
        }
    }
    return MT_OK;
}
