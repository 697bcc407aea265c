// SPDX-License-Identifier: MIT
#include "mt_conv2d_s8_fwd.h"

#include "mt_check.h"
#include "mt_dot_sum_s8.h"
#include "mt_pwconv2d_s8_fwd.h"
#include "mt_requant.h"
#include "mt_x64.h"

// The portable path: any filter, stride and padding.
static void conv2d_portable(const mt_conv_params *p, const mt_quant_params *quant,
                            const mt_dims *in, const int8_t *input, const mt_dims *f,
                            const int8_t *filter, const int32_t *bias, const mt_dims *out,
                            int8_t *output) {
    const int32_t in_off = p->act.input_offset;
    const int32_t c_in = in->c;
    for (int32_t b = 0; b < out->n; b++) {
        for (int32_t oy = 0; oy < out->h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            // Window rows inside the input; padding rows add zero (input at its zero point).
            const int32_t ky_begin = y0 < 0 ? -y0 : 0;
            const int32_t ky_end = in->h - y0 < f->h ? in->h - y0 : f->h;
            for (int32_t ox = 0; ox < out->w; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const int32_t kx_begin = x0 < 0 ? -x0 : 0;
                const int32_t kx_end = in->w - x0 < f->w ? in->w - x0 : f->w;
                int8_t *out_px = output + ((b * out->h + oy) * out->w + ox) * out->c;
                for (int32_t oc = 0; oc < out->c; oc++) {
                    // Taps inside the input only: sum w x + off * sum w over them (see fc).
                    int32_t dot = 0, w_sum = 0;
                    for (int32_t ky = ky_begin; ky < ky_end; ky++) {
                        const int8_t *x =
                            input + ((b * in->h + y0 + ky) * in->w + x0 + kx_begin) * c_in;
                        const int8_t *w = filter + ((oc * f->h + ky) * f->w + kx_begin) * c_in;
                        const int32_t run = (kx_end - kx_begin) * c_in;  // contiguous in both
                        dot += mt_dot_sum_s8(w, x, run, &w_sum);
                    }
                    int32_t acc = mt_add_sat_s32(dot + in_off * w_sum, bias[oc]);
                    out_px[oc] = mt_requant_s8(acc, quant->multiplier[oc], quant->shift[oc],
                                               p->act.output_offset, p->act.act_min,
                                               p->act.act_max);
                }
            }
        }
    }
}

mt_status mt_conv2d_s8_fwd(const mt_conv_params *params, const mt_quant_params *quant,
                           const mt_dims *input_dims, const int8_t *input,
                           const mt_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                           const mt_dims *output_dims, int8_t *output) {
    mt_status st = mt_conv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    if (filter_dims->c != input_dims->c || output_dims->c != filter_dims->n) {
        return MT_ERR_SHAPE;
    }
    if ((int64_t)filter_dims->h * filter_dims->w * filter_dims->c > MT_MAX_ACC_TERMS) {
        return MT_ERR_SHAPE;
    }
    if ((st = mt_act_check(&params->act)) != MT_OK ||
        (st = mt_quant_check(quant, output_dims->c)) != MT_OK) {
        return st;
    }
    if (mt_pwconv2d_s8_fwd_applies(params, filter_dims)) {
        return mt_pwconv2d_s8_fwd(params, quant, input_dims, input, filter_dims, filter, bias,
                                  output_dims, output);
    }
#if MT_X64
    if (mt_conv2d_s8_fwd_x64(params, quant, input_dims, input, filter_dims, filter, bias,
                             output_dims, output)) {
        return MT_OK;
    }
#endif
    conv2d_portable(params, quant, input_dims, input, filter_dims, filter, bias, output_dims,
                    output);
    return MT_OK;
}
