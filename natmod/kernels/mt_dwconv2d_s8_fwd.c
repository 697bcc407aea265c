// SPDX-License-Identifier: MIT
#include "mt_dwconv2d_s8_fwd.h"

#include "mt_check.h"
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

#if defined(__ARM_FEATURE_DSP)

// The layer, in one place for the M4 path's helpers.
typedef struct {
    const mt_conv_params *params;
    const mt_quant_params *quant;
    const mt_dims *in, *f, *out;
    const int8_t *input, *filter;
    const int32_t *bias;
    int8_t *output;
} dw_layer;

// Where output (b, oy, ox) channel ch reads: the taps inside the input only (padding adds 0);
// the M4 path's windows over the padding.
static inline dw_taps taps_at(const dw_layer *L, int32_t b, int32_t oy, int32_t ox, int32_t ch) {
    const int32_t in_h = L->in->h, in_w = L->in->w, c = L->in->c;
    const int32_t kh = L->f->h, kw = L->f->w;
    const int32_t y0 = oy * L->params->stride_h - L->params->pad_h;
    const int32_t x0 = ox * L->params->stride_w - L->params->pad_w;
    const int32_t ky_begin = y0 < 0 ? -y0 : 0, ky_end = in_h - y0 < kh ? in_h - y0 : kh;
    const int32_t kx_begin = x0 < 0 ? -x0 : 0, kx_end = in_w - x0 < kw ? in_w - x0 : kw;
    dw_taps t = {L->input + ((b * in_h + y0 + ky_begin) * in_w + x0 + kx_begin) * c + ch,
                 L->filter + (ky_begin * kw + kx_begin) * c + ch,
                 ky_end - ky_begin, kx_end - kx_begin, c, in_w * c, kw * c,
                 L->params->act.input_offset};
    return t;
}

// A 3x3 filter's 4 channels, sign-extended once per layer: halfwords of channels 0, 2 and 1, 3.
typedef struct {
    int32_t w02[9], w13[9];
} dw3x3_weights4;

MT_DSP_INLINE void tap3x3(int32_t xv, int32_t offsets, const dw3x3_weights4 *wt, int32_t t,
                          int32_t *a0, int32_t *a1, int32_t *a2, int32_t *a3) {
    const int32_t x02 = __sxtab16(offsets, xv), x13 = sxtab16_ror8(offsets, xv);
    *a0 = __smlabb(wt->w02[t], x02, *a0);
    *a2 = __smlatt(wt->w02[t], x02, *a2);
    *a1 = __smlabb(wt->w13[t], x13, *a1);
    *a3 = __smlatt(wt->w13[t], x13, *a3);
}

// The 9 taps of an output whose window lies inside the input, unrolled, the sums in registers
// (at -Os a loop over the rows kept them in memory): x at its top-left tap.
MT_DSP_INLINE void dw3x3_inside4(const int8_t *x, int32_t c, int32_t row,
                                 const dw3x3_weights4 *wt, int32_t offsets, int32_t acc[4]) {
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const int8_t *x1 = x + row, *x2 = x1 + row;
    tap3x3(load_s8x4(x), offsets, wt, 0, &a0, &a1, &a2, &a3);
    tap3x3(load_s8x4(x + c), offsets, wt, 1, &a0, &a1, &a2, &a3);
    tap3x3(load_s8x4(x + 2 * c), offsets, wt, 2, &a0, &a1, &a2, &a3);
    tap3x3(load_s8x4(x1), offsets, wt, 3, &a0, &a1, &a2, &a3);
    tap3x3(load_s8x4(x1 + c), offsets, wt, 4, &a0, &a1, &a2, &a3);
    tap3x3(load_s8x4(x1 + 2 * c), offsets, wt, 5, &a0, &a1, &a2, &a3);
    tap3x3(load_s8x4(x2), offsets, wt, 6, &a0, &a1, &a2, &a3);
    tap3x3(load_s8x4(x2 + c), offsets, wt, 7, &a0, &a1, &a2, &a3);
    tap3x3(load_s8x4(x2 + 2 * c), offsets, wt, 8, &a0, &a1, &a2, &a3);
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

// Channels ch..ch+3 of image b, 3x3 filter, every shift <= -2: the weights extended and the
// requantization prepared once, then every output pixel; windows inside the input unrolled,
// those over the padding through tap_sums4.
static void dw3x3_group4(const dw_layer *L, int32_t b, int32_t ch) {
    const int32_t c = L->in->c, in_h = L->in->h, in_w = L->in->w;
    const int32_t out_w = L->out->w, sx = L->params->stride_w, sy = L->params->stride_h;
    const int32_t pad_w = L->params->pad_w, pad_h = L->params->pad_h;
    const mt_act_params *act = &L->params->act;
    const int32_t out_offset = act->output_offset, act_min = act->act_min, act_max = act->act_max;
    const int full_range = act_min == -128 && act_max == 127;
    const int32_t offsets = (int32_t)(((uint32_t)act->input_offset & 0xffffu) * 0x00010001u);
    dw3x3_weights4 wt;
    for (int32_t t = 0; t < 9; t++) {
        const int32_t wv = load_s8x4(L->filter + t * c + ch);
        wt.w02[t] = __sxtb16(wv);
        wt.w13[t] = sxtb16_ror8(wv);
    }
    mt_requant_dsp_channel rq[4];
    for (int32_t k = 0; k < 4; k++) {
        mt_requant_dsp_prepare(L->bias[ch + k], L->quant->multiplier[ch + k],
                               L->quant->shift[ch + k], &rq[k]);
    }
    // Output columns [ox_lo, ox_hi) have windows inside the input's columns.
    const int32_t ox_lo = (pad_w + sx - 1) / sx;
    int32_t ox_hi = in_w - 3 + pad_w >= 0 ? (in_w - 3 + pad_w) / sx + 1 : 0;
    ox_hi = ox_hi > out_w ? out_w : ox_hi < ox_lo ? ox_lo : ox_hi;
    for (int32_t oy = 0; oy < L->out->h; oy++) {
        const int32_t y0 = oy * sy - pad_h;
        const int row_inside = y0 >= 0 && y0 + 3 <= in_h;
        int8_t *y = L->output + ((b * L->out->h + oy) * out_w) * c + ch;
        const int8_t *x = L->input + ch;  // the first inside window's top-left tap
        if (row_inside) {
            x += ((b * in_h + y0) * in_w + ox_lo * sx - pad_w) * c;
        }
        for (int32_t ox = 0; ox < out_w; ox++, y += c) {
            int32_t acc[4];
            if (row_inside && ox >= ox_lo && ox < ox_hi) {
                dw3x3_inside4(x, c, in_w * c, &wt, offsets, acc);
                x += sx * c;
            } else {
                dw_taps t = taps_at(L, b, oy, ox, ch);
                tap_sums4(&t, acc);
            }
            if (full_range) {
                y[0] = mt_requant_dsp_s8_full_range(acc[0], &rq[0], out_offset);
                y[1] = mt_requant_dsp_s8_full_range(acc[1], &rq[1], out_offset);
                y[2] = mt_requant_dsp_s8_full_range(acc[2], &rq[2], out_offset);
                y[3] = mt_requant_dsp_s8_full_range(acc[3], &rq[3], out_offset);
            } else {
                y[0] = mt_requant_dsp_s8(acc[0], &rq[0], out_offset, act_min, act_max);
                y[1] = mt_requant_dsp_s8(acc[1], &rq[1], out_offset, act_min, act_max);
                y[2] = mt_requant_dsp_s8(acc[2], &rq[2], out_offset, act_min, act_max);
                y[3] = mt_requant_dsp_s8(acc[3], &rq[3], out_offset, act_min, act_max);
            }
        }
    }
}

// The M4 path applies to 3x3 filters whose every channel requantizes with shift <= -2.
static int dw3x3_applies(const dw_layer *L) {
    if (L->f->h != 3 || L->f->w != 3) {
        return 0;
    }
    for (int32_t ch = 0; ch < L->in->c; ch++) {
        if (L->quant->shift[ch] > -2) {
            return 0;
        }
    }
    return 1;
}
#endif

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
    const dw_layer L = {params, quant, input_dims, filter_dims, output_dims, input, filter, bias,
                        output};
    if (dw3x3_applies(&L)) {
        ch_begin = c & ~3;
        for (int32_t b = 0; b < output_dims->n; b++) {
            for (int32_t ch = 0; ch < ch_begin; ch += 4) {
                dw3x3_group4(&L, b, ch);
            }
        }
    }
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
