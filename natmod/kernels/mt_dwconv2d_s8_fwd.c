// SPDX-License-Identifier: MIT
#include "mt_dwconv2d_s8_fwd.h"

#include "mt_check.h"
#include "mt_dwconv2d_s8_fwd_dsp.h"
#include "mt_requant.h"
#include "mt_x64.h"

// Where the taps of one output read: x and w at the first tap inside the input (channel ch),
// rows x cols taps, the next tap c bytes on, the next row x_row (input) or w_row (filter) on.
typedef struct {
    const int8_t *x, *w;
    int32_t rows, cols, c, x_row, w_row, offset;
} dw_taps;

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"

// Cortex-M4 and others with the DSP extension: 4 channels per tap from one word of x and one
// of w, x + offset as halfword pairs (|x + offset| <= 255), one smlabb/smlatt per channel.
static inline void tap_sums4(const dw_taps *t, int32_t acc[4]) {
    const int32_t offsets = (int32_t)(((uint32_t)t->offset & 0xffffu) * 0x00010001u);
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int32_t r = 0; r < t->rows; r++) {
        const int8_t *x = t->x + r * t->x_row, *w = t->w + r * t->w_row;
        for (int32_t q = 0; q < t->cols; q++, x += t->c, w += t->c) {
            mac4_offset(load_s8x4(w), load_s8x4(x), offsets, &a0, &a1, &a2, &a3);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#else

static inline void tap_sums4(const dw_taps *t, int32_t acc[4]) {
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int32_t r = 0; r < t->rows; r++) {
        const int8_t *x = t->x + r * t->x_row, *w = t->w + r * t->w_row;
        for (int32_t q = 0; q < t->cols; q++, x += t->c, w += t->c) {
            a0 += w[0] * (x[0] + t->offset);
            a1 += w[1] * (x[1] + t->offset);
            a2 += w[2] * (x[2] + t->offset);
            a3 += w[3] * (x[3] + t->offset);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#endif

// One channel's sum over the taps (the channels after the last group of 4).
static inline int32_t tap_sum1(const dw_taps *t) {
    int32_t acc = 0;
    for (int32_t r = 0; r < t->rows; r++) {
        const int8_t *x = t->x + r * t->x_row, *w = t->w + r * t->w_row;
        for (int32_t q = 0; q < t->cols; q++, x += t->c, w += t->c) {
            acc += *w * (*x + t->offset);
        }
    }
    return acc;
}

mt_status mt_dwconv2d_s8_fwd(const mt_conv_params *params, const mt_quant_params *quant,
                             const mt_dims *input_dims, const int8_t *input,
                             const mt_dims *filter_dims, const int8_t *filter,
                             const int32_t *bias, const mt_dims *output_dims, int8_t *output) {
    mt_status st = mt_dwconv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    const int32_t c = input_dims->c;
    if ((int64_t)filter_dims->h * filter_dims->w > MT_MAX_ACC_TERMS) {
        return MT_ERR_SHAPE;
    }
    if ((st = mt_act_check(&params->act)) != MT_OK || (st = mt_quant_check(quant, c)) != MT_OK) {
        return st;
    }
#if MT_X64
    if (mt_dwconv2d_s8_fwd_x64(params, quant, input_dims, input, filter_dims, filter, bias,
                               output_dims, output)) {
        return MT_OK;
    }
#endif
    const mt_act_params *act = &params->act;
    int32_t ch_begin = 0;  // channels before it are done
#if defined(__ARM_FEATURE_DSP)
    ch_begin = mt_dwconv2d_s8_fwd_dsp(params, quant, input_dims, input, filter_dims, filter, bias,
                                      output_dims, output);
#endif
    // Any filter, stride and padding: per output pixel, channels ch_begin.. in groups of 4,
    // then 1.
    const int32_t in_h = input_dims->h, in_w = input_dims->w;
    const int32_t kh = filter_dims->h, kw = filter_dims->w;
    // In locals: an int8 store may alias any object, so fields would be reloaded per output.
    const int32_t *mult = quant->multiplier, *shift = quant->shift;
    const int32_t out_offset = act->output_offset, act_min = act->act_min, act_max = act->act_max;
    for (int32_t b = 0; b < output_dims->n && ch_begin < c; b++) {
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            const int32_t ky_begin = y0 < 0 ? -y0 : 0;
            const int32_t ky_end = in_h - y0 < kh ? in_h - y0 : kh;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                const int32_t kx_begin = x0 < 0 ? -x0 : 0;
                const int32_t kx_end = in_w - x0 < kw ? in_w - x0 : kw;
                int8_t *y = output + ((b * output_dims->h + oy) * output_dims->w + ox) * c;
                dw_taps t = {input + ((b * in_h + y0 + ky_begin) * in_w + x0 + kx_begin) * c +
                                 ch_begin,
                             filter + (ky_begin * kw + kx_begin) * c + ch_begin,
                             ky_end - ky_begin, kx_end - kx_begin, c, in_w * c, kw * c,
                             act->input_offset};
                // Taps inside the input only, sum w (x + off): 4 channels at a time, then 1.
                // Integer sums below 2^31 (kh * kw <= MT_MAX_ACC_TERMS): any order is exact.
                for (int32_t ch = ch_begin; ch < c;) {
                    int32_t acc[4];
                    const int32_t n = c - ch >= 4 ? 4 : 1;
                    if (n == 4) {
                        tap_sums4(&t, acc);
                    } else {
                        acc[0] = tap_sum1(&t);
                    }
                    for (int32_t k = 0; k < n; k++, ch++) {
                        y[ch] = mt_requant_s8(mt_add_sat_s32(acc[k], bias[ch]), mult[ch],
                                              shift[ch], out_offset, act_min, act_max);
                    }
                    t.x += n;
                    t.w += n;
                }
            }
        }
    }
    return MT_OK;
}
