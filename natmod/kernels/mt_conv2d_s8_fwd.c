// SPDX-License-Identifier: MIT
#include "mt_conv2d_s8_fwd.h"

#include "mt_check.h"
#include "mt_dot_sum_s8.h"
#include "mt_pw_pair.h"
#include "mt_pwconv2d_s8_fwd.h"
#include "mt_requant.h"
#include "mt_x64.h"

// One output pixel (b, oy, ox), every channel: any filter, stride and padding.
static void conv2d_pixel(const mt_conv_params *p, const mt_quant_params *quant,
                         const mt_dims *in, const int8_t *input, const mt_dims *f,
                         const int8_t *filter, const int32_t *bias, const mt_dims *out,
                         int8_t *output, int32_t b, int32_t oy, int32_t ox) {
    const int32_t in_off = p->act.input_offset;
    const int32_t c_in = in->c;
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    // Window rows inside the input; padding rows add zero (input at its zero point).
    const int32_t ky_begin = y0 < 0 ? -y0 : 0;
    const int32_t ky_end = in->h - y0 < f->h ? in->h - y0 : f->h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    const int32_t kx_begin = x0 < 0 ? -x0 : 0;
    const int32_t kx_end = in->w - x0 < f->w ? in->w - x0 : f->w;
    int8_t *out_px = output + ((b * out->h + oy) * out->w + ox) * out->c;
    for (int32_t oc = 0; oc < out->c; oc++) {
        // Taps inside the input only: sum w x + off * sum w over them (see fc).
        int32_t dot = 0, w_sum = 0;
        for (int32_t ky = ky_begin; ky < ky_end; ky++) {
            const int8_t *x = input + ((b * in->h + y0 + ky) * in->w + x0 + kx_begin) * c_in;
            const int8_t *w = filter + ((oc * f->h + ky) * f->w + kx_begin) * c_in;
            const int32_t run = (kx_end - kx_begin) * c_in;  // contiguous in both
            dot += mt_dot_sum_s8(w, x, run, &w_sum);
        }
        int32_t acc = mt_add_sat_s32(dot + in_off * w_sum, bias[oc]);
        out_px[oc] = mt_requant_s8(acc, quant->multiplier[oc], quant->shift[oc],
                                   p->act.output_offset, p->act.act_min, p->act.act_max);
    }
}

#if defined(__ARM_FEATURE_DSP)
// Window bytes of a column: 2 columns of up to this many on the stack (CMSIS-NN's im2col
// serves small-c_in layers such as a network's first 3x3 conv on RGB: 27 bytes).
#define IM2COL_MAX 128

// Bytes of a column: n copies of the padding value (taps over the padding).
static void fill_pad(int8_t *col, int8_t pad, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        col[i] = pad;
    }
}

// The window of output pixel q (flattened n*out_h*out_w) as one column of kh*kw*c_in bytes in
// the filter's (ky, kx, c) order; taps in the padding hold the input zero point, so they add
// zero once offset, as the portable path's skipped taps do. A window row's taps inside the
// input are contiguous in both: copied a word at a time (the M4/M7 load and store unaligned
// words).
static void im2col(const mt_conv_params *p, const mt_dims *in, const int8_t *input,
                   const mt_dims *f, const mt_dims *out, int32_t q, int8_t *col) {
    const int32_t ox = q % out->w, oy = q / out->w % out->h, b = q / (out->w * out->h);
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    const int32_t c_in = in->c, row_bytes = f->w * c_in;
    const int8_t pad = (int8_t)(-p->act.input_offset);
    const int32_t kx_begin = x0 < 0 ? -x0 : 0;
    const int32_t kx_end = in->w - x0 < f->w ? in->w - x0 : f->w;
    const int32_t left = kx_begin * c_in;
    const int32_t run = kx_end > kx_begin ? (kx_end - kx_begin) * c_in : 0;
    for (int32_t ky = 0; ky < f->h; ky++, col += row_bytes) {
        const int32_t y = y0 + ky;
        if (y < 0 || y >= in->h || run == 0) {
            fill_pad(col, pad, row_bytes);
            continue;
        }
        const int8_t *src = input + ((b * in->h + y) * in->w + x0 + kx_begin) * c_in;
        int8_t *dst = col + left;
        int32_t i = 0;
        fill_pad(col, pad, left);
        for (; i + 4 <= run; i += 4) {
            const int32_t v = load_s8x4(src + i);
            __builtin_memcpy(dst + i, &v, 4);
        }
        for (; i < run; i++) {
            dst[i] = src[i];
        }
        fill_pad(dst + run, pad, row_bytes - left - run);
    }
}

// Filter bytes a padded copy may take (a network's first conv: 16 x 28 for 3x3x3 on RGB).
#define IM2COL_PADDED_FILTER_MAX 512

// Pixels in pairs: both windows copied into columns, then the pointwise block (2 filter rows x
// 2 columns) over them. A pair's windows are read before either pixel is written, which only
// moves reads earlier and writes later than one pixel a step (the header's contract). An odd
// last pixel goes through conv2d_pixel. Windows of k bytes not a multiple of 4 (27 on RGB) are
// padded to one, with the filter copied into rows padded with zeros, where the pointwise
// block's asm forms apply: they take whole words of both.
static void conv2d_im2col_dsp(const mt_conv_params *p, const mt_quant_params *quant,
                              const mt_dims *in, const int8_t *input, const mt_dims *f,
                              const int8_t *filter, const int32_t *bias, const mt_dims *out,
                              int8_t *output) {
    int8_t cols[2 * IM2COL_MAX] __attribute__((aligned(4)));
    int8_t padded[IM2COL_PADDED_FILTER_MAX] __attribute__((aligned(4)));
    const int32_t k = f->h * f->w * in->c, c_out = out->c, k4 = (k + 3) & ~3;
    const int32_t pixels = out->n * out->h * out->w, pairs_end = pixels & ~1;
    mt_pw_out o = {bias, quant->multiplier, quant->shift, p->act.input_offset,
                   p->act.output_offset, p->act.act_min, p->act.act_max, MT_PW_ASM_NONE};
    o.asm_block = mt_pw_pair_dsp_asm_applies(&o, k4, c_out);
    int32_t kc = k;  // a column's bytes
    const int8_t *rows = filter;
    if (k4 != k && o.asm_block != MT_PW_ASM_NONE && c_out >= 8 &&
        c_out * k4 <= IM2COL_PADDED_FILTER_MAX && k4 <= IM2COL_MAX) {
        kc = k4;
        rows = padded;
        for (int32_t oc = 0; oc < c_out; oc++) {
            for (int32_t i = 0; i < k4; i++) {
                padded[oc * k4 + i] = i < k ? filter[oc * k + i] : 0;
            }
        }
        // The padding taps meet zero weights; the input zero point there adds 0 anyway.
        fill_pad(cols + k, (int8_t)(-p->act.input_offset), k4 - k);
        fill_pad(cols + k4 + k, (int8_t)(-p->act.input_offset), k4 - k);
    }
    for (int32_t q = 0; q < pairs_end; q += 2) {
        im2col(p, in, input, f, out, q, cols);
        im2col(p, in, input, f, out, q + 1, cols + kc);
        mt_pw_pair_dsp(&o, cols, kc, rows, c_out, output + q * c_out);
    }
    if (pairs_end < pixels) {
        const int32_t q = pairs_end;
        conv2d_pixel(p, quant, in, input, f, filter, bias, out, output,
                     q / (out->w * out->h), q / out->w % out->h, q % out->w);
    }
}
#endif

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
#if defined(__ARM_FEATURE_DSP)
    if (filter_dims->h * filter_dims->w * filter_dims->c <= IM2COL_MAX &&
        mt_pw_pair_dsp_applies(quant->shift, output_dims->c)) {
        conv2d_im2col_dsp(params, quant, input_dims, input, filter_dims, filter, bias,
                          output_dims, output);
        return MT_OK;
    }
#endif
    for (int32_t b = 0; b < output_dims->n; b++) {
        for (int32_t oy = 0; oy < output_dims->h; oy++) {
            for (int32_t ox = 0; ox < output_dims->w; ox++) {
                conv2d_pixel(params, quant, input_dims, input, filter_dims, filter, bias,
                             output_dims, output, b, oy, ox);
            }
        }
    }
    return MT_OK;
}
