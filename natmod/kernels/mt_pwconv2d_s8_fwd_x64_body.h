// SPDX-License-Identifier: MIT
// The body of mt_pwconv2d_s8_fwd's x64 path for one ISA (mt_x64_vec.h's words); included by
// mt_x64_bodies.h, once per ISA.
//
// Output pixels go in aligned pairs (the in-place contract's steps, mt_pwconv2d_s8_fwd.h): both
// input pixels are widened to int16 (x + offset, zero past c_in) first, then every group of 4
// filter rows is summed against both with pmaddwd, each row load feeding two pixels, and the
// group's 8 sums are requantized. Rows are read 2 VL bytes at a time up to c_pad: past a row's
// end that reads the next row's bytes, which meet zeros of x; the last rows, whose reads would
// leave the filter, are read from a zero-padded copy.

typedef struct {
    const int8_t *filter, *tail;  // tail: rows first_tail_row.. padded to c_pad each
    int32_t c_in, c_pad, c_out, first_tail_row;
} V(pw_rows);

MT_VI const int8_t *V(pw_row)(const V(pw_rows) *r, int32_t oc) {
    return oc < r->first_tail_row ? r->filter + oc * r->c_in
                                  : r->tail + (oc - r->first_tail_row) * r->c_pad;
}

// s0, s1: the sums of rows oc..oc+3 (a row past c_out repeats row oc) with pixels x0, x1.
MT_VI void V(pw_rows4)(const V(pw_rows) *r, int32_t oc, const int16_t *x0,
                       const int16_t *x1, __m128i *s0, __m128i *s1) {
    const int8_t *w[4];
    for (int32_t k = 0; k < 4; k++) {
        w[k] = V(pw_row)(r, oc + k < r->c_out ? oc + k : oc);
    }
    vec a00 = V(v_zero)(), a10 = a00, a20 = a00, a30 = a00;
    vec a01 = a00, a11 = a00, a21 = a00, a31 = a00;
    for (int32_t i = 0; i < r->c_pad; i += 2 * VL) {
        const vec xa = V(v_load_s16)(x0 + i), xb = V(v_load_s16)(x1 + i);
        vec wv = V(v_s16_from_s8)(w[0] + i);
        a00 = V(v_add)(a00, V(v_madd)(wv, xa));
        a01 = V(v_add)(a01, V(v_madd)(wv, xb));
        wv = V(v_s16_from_s8)(w[1] + i);
        a10 = V(v_add)(a10, V(v_madd)(wv, xa));
        a11 = V(v_add)(a11, V(v_madd)(wv, xb));
        wv = V(v_s16_from_s8)(w[2] + i);
        a20 = V(v_add)(a20, V(v_madd)(wv, xa));
        a21 = V(v_add)(a21, V(v_madd)(wv, xb));
        wv = V(v_s16_from_s8)(w[3] + i);
        a30 = V(v_add)(a30, V(v_madd)(wv, xa));
        a31 = V(v_add)(a31, V(v_madd)(wv, xb));
    }
    *s0 = V(v_sums4)(a00, a10, a20, a30);
    *s1 = V(v_sums4)(a01, a11, a21, a31);
}

static void V(pw_widen)(const int8_t *x, int32_t c_in, int32_t c_pad, int32_t offset,
                        int16_t *xs) {
    int32_t i = 0;
    for (; i < c_in; i++) {
        xs[i] = (int16_t)(x[i] + offset);
    }
    for (; i < c_pad; i++) {
        xs[i] = 0;
    }
}

static void V(pw_fwd)(const mt_conv_params *params, const mt_quant_params *quant,
                      const mt_dims *in, const int8_t *input, const int8_t *filter,
                      const int32_t *bias, const mt_dims *out, int8_t *output) {
    const int32_t c_in = in->c, c_out = out->c, c_pad = (c_in + 2 * VL - 1) & -(2 * VL);
    const mt_act_params *act = &params->act;
    const int32_t *mult = quant->multiplier, *shift = quant->shift;
    const int32_t out_offset = act->output_offset, act_min = act->act_min;
    const int32_t act_max = act->act_max, offset = act->input_offset;
    int16_t xs[2][MT_X64_PW_C_IN_MAX + 2 * VL] __attribute__((aligned(32)));
    int8_t tail[MT_X64_PW_TAIL_MAX];
    // Row oc may read filter[oc * c_in + c_pad - 1] only inside the filter.
    V(pw_rows) rows = {filter, tail, c_in, c_pad, c_out, 0};
    while (rows.first_tail_row < c_out && rows.first_tail_row * c_in + c_pad <= c_out * c_in) {
        rows.first_tail_row++;
    }
    memset(tail, 0, (size_t)((c_out - rows.first_tail_row) * c_pad));
    for (int32_t oc = rows.first_tail_row; oc < c_out; oc++) {
        memcpy(tail + (oc - rows.first_tail_row) * c_pad, filter + oc * c_in, (size_t)c_in);
    }
    const int32_t pixels = out->n * out->h * out->w;
    for (int32_t p = 0; p < pixels; p += 2) {
        const int32_t n_px = p + 1 < pixels ? 2 : 1;
        for (int32_t k = 0; k < n_px; k++) {
            const int32_t q = p + k, ox = q % out->w, oy = q / out->w % out->h;
            const int32_t b = q / (out->w * out->h);
            const int8_t *x = input + ((b * in->h + oy * params->stride_h) * in->w +
                                       ox * params->stride_w) * c_in;
            V(pw_widen)(x, c_in, c_pad, offset, xs[k]);
        }
        const int16_t *x1 = xs[n_px - 1];
        int8_t *y0 = output + p * c_out, *y1 = y0 + (n_px - 1) * c_out;
        int32_t oc = 0;
        for (; oc + 8 <= c_out; oc += 8) {
            __m128i s0a, s1a, s0b, s1b;
            V(pw_rows4)(&rows, oc, xs[0], x1, &s0a, &s1a);
            V(pw_rows4)(&rows, oc + 4, xs[0], x1, &s0b, &s1b);
            V(v_requant4x2)(s0a, s0b, bias + oc, mult + oc, shift + oc, out_offset, act_min,
                            act_max, y0 + oc);
            V(v_requant4x2)(s1a, s1b, bias + oc, mult + oc, shift + oc, out_offset, act_min,
                            act_max, y1 + oc);
        }
        for (; oc < c_out; oc += 4) {
            const int32_t n = c_out - oc < 4 ? c_out - oc : 4;
            __m128i s0, s1;
            int32_t a[2][4];
            V(pw_rows4)(&rows, oc, xs[0], x1, &s0, &s1);
            _mm_storeu_si128((__m128i *)a[0], s0);
            _mm_storeu_si128((__m128i *)a[1], s1);
            V(v_requant_n)(a[0], n, bias + oc, mult + oc, shift + oc, out_offset, act_min,
                           act_max, y0 + oc);
            V(v_requant_n)(a[1], n, bias + oc, mult + oc, shift + oc, out_offset, act_min,
                           act_max, y1 + oc);
        }
    }
}
