// SPDX-License-Identifier: MIT
// The body of mt_dwconv2d_s8_fwd's x64 path for one ISA (mt_x64_vec.h's words); included by
// mt_x64_bodies.h, once per ISA.
//
// Per output pixel (the in-place contract's raster order, mt_dwconv2d_s8_fwd.h), channels in
// the lanes: 2 VL channels a group, then 8, then one by one. Each tap's (x + offset) * w is
// exact in int16 (|x + offset| <= 255, |w| <= 128), widened and summed in int32; every channel
// is requantized once, after its last read.

// The taps of one output pixel inside the input (as the portable path's dw_taps).
typedef struct {
    const int8_t *x, *w;
    int32_t rows, cols, c, x_row, w_row;
} V(dw_window);

typedef struct {
    const int32_t *bias, *mult, *shift;
    int32_t offset, out_offset, act_min, act_max;
} V(dw_out);

MT_VI void V(dw_group_vec)(const V(dw_window) *t, int32_t ch, const V(dw_out) *o, int8_t *y) {
    const vec off = V(v_set1_s16)((int16_t)o->offset);
    vec lo = V(v_zero)(), hi = lo;
    for (int32_t r = 0; r < t->rows; r++) {
        const int8_t *x = t->x + r * t->x_row + ch, *w = t->w + r * t->w_row + ch;
        for (int32_t q = 0; q < t->cols; q++, x += t->c, w += t->c) {
            const vec xs = V(v_add_s16)(V(v_s16_from_s8)(x), off);
            const vec ws = V(v_s16_from_s8)(w);
            lo = V(v_add)(lo, V(v_mul_s16_lo)(xs, ws));
            hi = V(v_add)(hi, V(v_mul_s16_hi)(xs, ws));
        }
    }
    V(v_requant)(lo, o->bias + ch, o->mult + ch, o->shift + ch, o->out_offset, o->act_min,
                 o->act_max, y + ch);
    V(v_requant)(hi, o->bias + ch + VL, o->mult + ch + VL, o->shift + ch + VL, o->out_offset,
                 o->act_min, o->act_max, y + ch + VL);
}

MT_VI void V(dw_group8)(const V(dw_window) *t, int32_t ch, const V(dw_out) *o, int8_t *y) {
    const __m128i off = _mm_set1_epi16((int16_t)o->offset);
    __m128i lo = _mm_setzero_si128(), hi = lo;
    for (int32_t r = 0; r < t->rows; r++) {
        const int8_t *x = t->x + r * t->x_row + ch, *w = t->w + r * t->w_row + ch;
        for (int32_t q = 0; q < t->cols; q++, x += t->c, w += t->c) {
            const __m128i xs = _mm_add_epi16(V(h_s16_from_s8)(x), off);
            const __m128i ws = V(h_s16_from_s8)(w);
            lo = _mm_add_epi32(lo, V(h_mul_s16_lo)(xs, ws));
            hi = _mm_add_epi32(hi, V(h_mul_s16_hi)(xs, ws));
        }
    }
    V(v_requant4x2)(lo, hi, o->bias + ch, o->mult + ch, o->shift + ch, o->out_offset,
                    o->act_min, o->act_max, y + ch);
}

MT_VI void V(dw_channel)(const V(dw_window) *t, int32_t ch, const V(dw_out) *o, int8_t *y) {
    int32_t acc = 0;
    for (int32_t r = 0; r < t->rows; r++) {
        const int8_t *x = t->x + r * t->x_row + ch, *w = t->w + r * t->w_row + ch;
        for (int32_t q = 0; q < t->cols; q++, x += t->c, w += t->c) {
            acc += *w * (*x + o->offset);
        }
    }
    V(v_requant_n)(&acc, 1, o->bias + ch, o->mult + ch, o->shift + ch, o->out_offset,
                   o->act_min, o->act_max, y + ch);
}

static void V(dw_fwd)(const mt_conv_params *params, const mt_quant_params *quant,
                      const mt_dims *in, const int8_t *input, const mt_dims *f,
                      const int8_t *filter, const int32_t *bias, const mt_dims *out,
                      int8_t *output) {
    const mt_act_params *act = &params->act;
    const V(dw_out) o = {bias, quant->multiplier, quant->shift, act->input_offset,
                         act->output_offset, act->act_min, act->act_max};
    const int32_t c = in->c, in_h = in->h, in_w = in->w, kh = f->h, kw = f->w;
    for (int32_t b = 0; b < out->n; b++) {
        for (int32_t oy = 0; oy < out->h; oy++) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            const int32_t ky_begin = y0 < 0 ? -y0 : 0;
            const int32_t ky_end = in_h - y0 < kh ? in_h - y0 : kh;
            for (int32_t ox = 0; ox < out->w; ox++) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                const int32_t kx_begin = x0 < 0 ? -x0 : 0;
                const int32_t kx_end = in_w - x0 < kw ? in_w - x0 : kw;
                const V(dw_window) t = {
                    input + ((b * in_h + y0 + ky_begin) * in_w + x0 + kx_begin) * c,
                    filter + (ky_begin * kw + kx_begin) * c, ky_end - ky_begin,
                    kx_end - kx_begin, c, in_w * c, kw * c};
                int8_t *y = output + ((b * out->h + oy) * out->w + ox) * c;
                int32_t ch = 0;
                for (; ch + 2 * VL <= c; ch += 2 * VL) {
                    V(dw_group_vec)(&t, ch, &o, y);
                }
                if (VL == 8 && ch + 8 <= c) {
                    V(dw_group8)(&t, ch, &o, y);
                    ch += 8;
                }
                for (; ch < c; ch++) {
                    V(dw_channel)(&t, ch, &o, y);
                }
            }
        }
    }
}
