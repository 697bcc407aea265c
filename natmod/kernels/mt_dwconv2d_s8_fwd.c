// SPDX-License-Identifier: MIT
#include "mt_dwconv2d_s8_fwd.h"

#include "mt_check.h"
#include "mt_requant.h"

mt_status mt_dwconv2d_s8_fwd(const mt_conv_params *params, const mt_quant_params *quant,
                             const mt_dims *input_dims, const int8_t *input,
                             const mt_dims *filter_dims, const int8_t *filter,
                             const int32_t *bias, const mt_dims *output_dims, int8_t *output) {
    mt_status st = mt_conv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    const int32_t c = input_dims->c;
    if (filter_dims->n != 1 || filter_dims->c != c || output_dims->c != c) {
        return MT_ERR_SHAPE;
    }
    if ((int64_t)filter_dims->h * filter_dims->w > MT_MAX_ACC_TERMS) {
        return MT_ERR_SHAPE;
    }
    if ((st = mt_act_check(&params->act)) != MT_OK || (st = mt_quant_check(quant, c)) != MT_OK) {
        return st;
    }
    const mt_act_params *act = &params->act;
    const int32_t in_h = input_dims->h, in_w = input_dims->w;
    const int32_t kh = filter_dims->h, kw = filter_dims->w;
    const int32_t input_offset = act->input_offset;
    for (int32_t b = 0; b < output_dims->n; b++) {
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            const int32_t ky_begin = y0 < 0 ? -y0 : 0;
            const int32_t ky_end = in_h - y0 < kh ? in_h - y0 : kh;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                const int32_t kx_begin = x0 < 0 ? -x0 : 0;
                const int32_t kx_end = in_w - x0 < kw ? in_w - x0 : kw;
                int8_t *y = output + ((b * output_dims->h + oy) * output_dims->w + ox) * c;
                for (int32_t ch = 0; ch < c; ch++) {
                    // Taps inside the input only: sum w x + off * sum w over them (see fc).
                    int32_t dot = 0, w_sum = 0;
                    for (int32_t ky = ky_begin; ky < ky_end; ky++) {
                        const int8_t *x =
                            input + ((b * in_h + y0 + ky) * in_w + x0 + kx_begin) * c + ch;
                        const int8_t *w = filter + (ky * kw + kx_begin) * c + ch;
                        for (int32_t kx = kx_begin; kx < kx_end; kx++, x += c, w += c) {
                            dot += (int32_t)*w * (int32_t)*x;
                            w_sum += *w;
                        }
                    }
                    int32_t acc = mt_add_sat_s32(dot + input_offset * w_sum, bias[ch]);
                    y[ch] = mt_requant_s8(acc, quant->multiplier[ch], quant->shift[ch],
                                          act->output_offset, act->act_min, act->act_max);
                }
            }
        }
    }
    return MT_OK;
}
