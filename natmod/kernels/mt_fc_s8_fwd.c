// SPDX-License-Identifier: MIT
#include "mt_fc_s8_fwd.h"

#include "mt_check.h"
#include "mt_dot2_offset_s8.h"
#include "mt_requant_once.h"
#include "mt_xtensa.h"

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
    // In locals: an int8 store may alias any object, so fields would be reloaded per output.
    const int32_t *mult = quant->multiplier, *shift = quant->shift;
    const int32_t in_offset = act->input_offset, out_offset = act->output_offset;
    const int32_t act_min = act->act_min, act_max = act->act_max;
#if MT_XTENSA_MAC16
    // ESP32 / ESP32-S3: each row's x + offset widened once to int16, then MAC16 per filter row.
    if (mt_xt_s8_rows_fit(c_in, filter)) {
        int32_t x16_words[MT_XT_VEC_HALVES_MAX / 2 + 1], acc[MT_XT_ROWS_MAX];
        int16_t *const x16 = (int16_t *)x16_words;
        for (int32_t r = 0; r < rows; r++) {
            int8_t *y = output + r * c_out;
            mt_xt_widen_s8(input + r * c_in, 0, c_in, in_offset, x16);
            for (int32_t c0 = 0; c0 < c_out; c0 += MT_XT_ROWS_MAX) {
                const int32_t n = c_out - c0 < MT_XT_ROWS_MAX ? c_out - c0 : MT_XT_ROWS_MAX;
                mt_xt_rows_s8_s16(filter + c0 * c_in, x16, c_in / 4, n, acc);
                for (int32_t j = 0, c = c0; j < n; j++, c++) {
                    y[c] = mt_requant_once_s8(mt_add_sat_s32(acc[j], bias[c]), mult[c],
                                              shift[c], out_offset, act_min, act_max);
                }
            }
        }
        return MT_OK;
    }
#endif
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *x = input + r * c_in;
        int8_t *y = output + r * c_out;
        for (int32_t oc = 0; oc < c_out; oc += 2) {
            // Two rows per pass over x; an odd last row is paired with itself.
            const int32_t oc1 = oc + 1 < c_out ? oc + 1 : oc;
            int32_t acc[2];
            mt_dot2_offset_s8(filter + oc * c_in, filter + oc1 * c_in, x, c_in, in_offset,
                              acc);
            for (int32_t k = 0; k < 2 && oc + k < c_out; k++) {
                const int32_t c = oc + k;
                y[c] = mt_requant_once_s8(mt_add_sat_s32(acc[k], bias[c]), mult[c], shift[c],
                                          out_offset, act_min, act_max);
            }
        }
    }
    return MT_OK;
}
