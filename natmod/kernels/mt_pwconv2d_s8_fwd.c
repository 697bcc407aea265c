// SPDX-License-Identifier: MIT
#include "mt_pwconv2d_s8_fwd.h"

#include "mt_check.h"
#include "mt_dot2_offset_s8.h"
#include "mt_pw_pair.h"
#include "mt_requant.h"
#include "mt_x64.h"
#include "mt_xtensa.h"


static inline int8_t pw_output(const mt_pw_out *o, int32_t acc, int32_t c) {
    return mt_requant_s8(mt_add_sat_s32(acc, o->bias[c]), o->mult[c], o->shift[c], o->out_offset,
                         o->act_min, o->act_max);
}

// One output pixel, every channel: two filter rows per pass over x; an odd last row is paired
// with itself.
static void pw_pixel(const mt_pw_out *o, const int8_t *x, const int8_t *filter,
                     int32_t c_in, int32_t c_out, int8_t *y) {
    for (int32_t oc = 0; oc < c_out; oc += 2) {
        const int32_t oc1 = oc + 1 < c_out ? oc + 1 : oc;
        int32_t acc[2];
        mt_dot2_offset_s8(filter + oc * c_in, filter + oc1 * c_in, x, c_in, o->in_offset, acc);
        y[oc] = pw_output(o, acc[0], oc);
        if (oc + 1 < c_out) {
            y[oc + 1] = pw_output(o, acc[1], oc + 1);
        }
    }
}

#if MT_XTENSA_MAC16
// ESP32 / ESP32-S3, where mt_xt_s8_rows_fit: the pixel's x + offset widened once into an int16
// vector on the stack, then each filter row against it with MAC16 (mt_xtensa.h). The pixel's
// input is read before its outputs are written (the in-place contract).
static void pw_pixel_xtensa(const mt_pw_out *o, const int8_t *x, const int8_t *filter,
                            int32_t c_in, int32_t c_out, int8_t *y) {
    int32_t x16_words[MT_XT_VEC_HALVES_MAX / 2 + 1];
    int16_t *const x16 = (int16_t *)x16_words;
    int32_t acc[MT_XT_ROWS_MAX];
    mt_xt_widen_s8(x, 0, c_in, o->in_offset, x16);
    for (int32_t oc = 0; oc < c_out; oc += MT_XT_ROWS_MAX) {
        const int32_t n = c_out - oc < MT_XT_ROWS_MAX ? c_out - oc : MT_XT_ROWS_MAX;
        mt_xt_rows_s8_s16(filter + oc * c_in, x16, c_in / 4, n, acc);
        for (int32_t j = 0; j < n; j++) {
            y[oc + j] = pw_output(o, acc[j], oc + j);
        }
    }
}
#endif

typedef void pw_pixel_fn(const mt_pw_out *o, const int8_t *x, const int8_t *filter,
                         int32_t c_in, int32_t c_out, int8_t *y);

// Any stride (and every machine): pixel by pixel.
static void pw_by_pixel(const mt_conv_params *params, const mt_pw_out *o,
                        const mt_dims *input_dims, const int8_t *input, const int8_t *filter,
                        const mt_dims *output_dims, int8_t *output, pw_pixel_fn *pixel) {
    const int32_t c_in = input_dims->c, c_out = output_dims->c;
    for (int32_t b = 0; b < output_dims->n; b++) {
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            const int8_t *x = input + (b * input_dims->h + oy * params->stride_h) *
                                          input_dims->w * c_in;
            int8_t *y = output + (b * output_dims->h + oy) * output_dims->w * c_out;
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                pixel(o, x, filter, c_in, c_out, y);
                x += params->stride_w * c_in;
                y += c_out;
            }
        }
    }
}

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"

// acc[2 r + p] = sum of w_r (x_p + offset) over c, for 2 filter rows (w, w + c) and 2 input
// pixels (x, x + c): each loaded word feeds two smlad pairs, 16 MACs from 4 loads; sxtab16 adds
// the offset (both halfwords of off2) while it extends x, so no filter sum is needed (the same
// integers, see mt_dot2_offset_s8.h). The loop is one asm block: in C, gcc neither
// post-increments the pointers nor keeps them in registers. x, w, c, off2, the 4 sums and 6
// temporaries take the 14 registers there are, so the loop's end lives on the stack and is
// reloaded into a temporary that is free by then (23 instructions a step).
MT_DSP_INLINE void dot_2x2_s8(const int8_t *x, const int8_t *w, int32_t c, int32_t offset,
                              int32_t off2, int32_t acc[4]) {
    int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0;
    const int8_t *end = x + (c & ~3);
    if (x != end) {
        int32_t x0e, x0o, x1e, x1o, we, wo;  // pixel 0/1, bytes 0,2 (e) and 1,3 (o)
        __asm__("1:\n\t"
                "ldr     %[x1o], [%[x], %[c]]\n\t"
                "ldr     %[x0o], [%[x]], #4\n\t"
                "sxtab16 %[x0e], %[off2], %[x0o]\n\t"
                "sxtab16 %[x0o], %[off2], %[x0o], ror #8\n\t"
                "sxtab16 %[x1e], %[off2], %[x1o]\n\t"
                "sxtab16 %[x1o], %[off2], %[x1o], ror #8\n\t"
                "ldr     %[wo], [%[w], %[c]]\n\t"  // row 1
                "sxtb16  %[we], %[wo]\n\t"
                "sxtb16  %[wo], %[wo], ror #8\n\t"
                "smlad   %[a10], %[we], %[x0e], %[a10]\n\t"
                "smlad   %[a10], %[wo], %[x0o], %[a10]\n\t"
                "smlad   %[a11], %[we], %[x1e], %[a11]\n\t"
                "smlad   %[a11], %[wo], %[x1o], %[a11]\n\t"
                "ldr     %[wo], [%[w]], #4\n\t"  // row 0
                "sxtb16  %[we], %[wo]\n\t"
                "sxtb16  %[wo], %[wo], ror #8\n\t"
                "smlad   %[a00], %[we], %[x0e], %[a00]\n\t"
                "smlad   %[a01], %[we], %[x1e], %[a01]\n\t"
                "ldr     %[we], %[end]\n\t"
                "smlad   %[a00], %[wo], %[x0o], %[a00]\n\t"
                "smlad   %[a01], %[wo], %[x1o], %[a01]\n\t"
                "cmp     %[x], %[we]\n\t"
                "bne     1b"
                : [x] "+r"(x), [w] "+r"(w), [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10),
                  [a11] "+r"(a11), [x0e] "=&r"(x0e), [x0o] "=&r"(x0o), [x1e] "=&r"(x1e),
                  [x1o] "=&r"(x1o), [we] "=&r"(we), [wo] "=&r"(wo)
                : [c] "r"(c), [off2] "r"(off2), [end] "m"(end)
                : "cc", "memory");
    }
    for (int32_t i = 0; i < (c & 3); i++) {
        a00 += w[i] * (x[i] + offset);
        a01 += w[i] * (x[c + i] + offset);
        a10 += w[c + i] * (x[i] + offset);
        a11 += w[c + i] * (x[c + i] + offset);
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

// One output of a prepared channel: the layer's clamp, or (full_range, a constant where this
// is inlined) the whole int8 range.
MT_DSP_INLINE int8_t pw_requant(int32_t acc, const mt_requant_dsp_channel *ch, int32_t out_offset,
                                int32_t act_min, int32_t act_max, int full_range) {
    return full_range ? mt_requant_dsp_s8_full_range(acc, ch, out_offset)
                      : mt_requant_dsp_s8(acc, ch, out_offset, act_min, act_max);
}

// The channel loop of mt_pw_pair_dsp, once per full_range value so that neither the test nor
// the clamp's bounds live in the loop. Pointers step through bias, multipliers, shifts and the
// two output pixels: at -Os gcc keeps fewer induction variables on the stack that way.
MT_DSP_INLINE void pw_pair_channels(const mt_pw_out *o, const int8_t *x, int32_t c_in,
                                    const int8_t *w, int32_t c_out, int8_t *y, int full_range) {
    const int32_t *bias = o->bias, *mult = o->mult, *shift = o->shift;
    const int32_t in_offset = o->in_offset, out_offset = o->out_offset;
    const int32_t act_min = o->act_min, act_max = o->act_max;
    const int32_t off2 = (int32_t)(((uint32_t)in_offset & 0xffffu) * 0x00010001u);
    for (const int8_t *y_end = y + c_out; y != y_end; y += 2, w += 2 * c_in) {
        int32_t acc[4];
        dot_2x2_s8(x, w, c_in, in_offset, off2, acc);
        mt_requant_dsp_channel ch0, ch1;
        mt_requant_dsp_prepare(*bias++, *mult++, *shift++, &ch0);
        mt_requant_dsp_prepare(*bias++, *mult++, *shift++, &ch1);
        y[0] = pw_requant(acc[0], &ch0, out_offset, act_min, act_max, full_range);
        y[c_out] = pw_requant(acc[1], &ch0, out_offset, act_min, act_max, full_range);
        y[1] = pw_requant(acc[2], &ch1, out_offset, act_min, act_max, full_range);
        y[c_out + 1] = pw_requant(acc[3], &ch1, out_offset, act_min, act_max, full_range);
    }
}

// Every output channel of 2 pixels whose inputs are x[0, c_in) and x[c_in, 2 c_in), into
// y[0, c_out) and y[c_out, 2 c_out): 2 filter rows x 2 pixels a block. Even c_out, every
// shift <= -2 (the prepared requantization): mt_pw_pair_dsp_applies.
void mt_pw_pair_dsp(const mt_pw_out *o, const int8_t *x, int32_t c_in, const int8_t *filter,
                    int32_t c_out, int8_t *y) {
    if (o->act_min == -128 && o->act_max == 127) {
        pw_pair_channels(o, x, c_in, filter, c_out, y, 1);
    } else {
        pw_pair_channels(o, x, c_in, filter, c_out, y, 0);
    }
}

// Stride 1: output pixel i reads input pixel i, so the batch is one run of pixels. Pixel-pair
// major (the in-place contract in the header): a pair's outputs are written only after every
// earlier pair's input is read. An odd last pixel goes through pw_pixel.
static void pw_stride1_dsp(const mt_pw_out *o, int32_t pixels, const int8_t *input,
                           int32_t c_in, const int8_t *filter, int32_t c_out, int8_t *output) {
    const int32_t pairs_end = pixels & ~1;
    for (int32_t p = 0; p < pairs_end; p += 2) {
        mt_pw_pair_dsp(o, input + p * c_in, c_in, filter, c_out, output + p * c_out);
    }
    if (pairs_end < pixels) {
        pw_pixel(o, input + pairs_end * c_in, filter, c_in, c_out, output + pairs_end * c_out);
    }
}

bool mt_pw_pair_dsp_applies(const int32_t *shift, int32_t c_out) {
    if (c_out % 2 != 0) {
        return false;
    }
    for (int32_t i = 0; i < c_out; i++) {
        if (shift[i] > -2) {
            return false;
        }
    }
    return true;
}
#endif

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
    const mt_pw_out o = {bias, quant->multiplier, quant->shift, act->input_offset,
                             act->output_offset, act->act_min, act->act_max};
#if MT_X64
    if (mt_pwconv2d_s8_fwd_x64(params, quant, input_dims, input, filter, bias, output_dims,
                               output)) {
        return MT_OK;
    }
#endif
#if defined(__ARM_FEATURE_DSP)
    if (params->stride_h == 1 && params->stride_w == 1 &&
        mt_pw_pair_dsp_applies(quant->shift, c_out)) {
        // 1x1, no padding, stride 1: output dims equal the input's (mt_conv_dims_check).
        pw_stride1_dsp(&o, input_dims->n * input_dims->h * input_dims->w, input, c_in, filter,
                       c_out, output);
        return MT_OK;
    }
#endif
#if MT_XTENSA_MAC16
    if (mt_xt_s8_rows_fit(c_in, filter)) {
        pw_by_pixel(params, &o, input_dims, input, filter, output_dims, output, pw_pixel_xtensa);
        return MT_OK;
    }
#endif
    pw_by_pixel(params, &o, input_dims, input, filter, output_dims, output, pw_pixel);
    return MT_OK;
}
