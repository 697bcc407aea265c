// SPDX-License-Identifier: MIT
// The body of mt_conv2d_s8_fwd's x64 path for one ISA (mt_x64_vec.h's words); included by
// mt_x64_bodies.h, once per ISA.
//
// A small window (the first conv of an image model: 3x3 over 3 channels) as im2col: each output
// pixel's window becomes a patch of int16 (x + offset; 0 over the padding, which adds nothing,
// as the portable path's taps inside the input only), and the filter, rearranged once per call
// into int16 pairs of taps per output channel, gives VL output channels per pmaddwd with the
// patch's pair broadcast: no horizontal sums. Exact int32 sums (K <= MT_X64_PATCH_MAX).

static void V(conv_fwd)(const mt_conv_params *params, const mt_quant_params *quant,
                        const mt_dims *in, const int8_t *input, const mt_dims *f,
                        const int8_t *filter, const int32_t *bias, const mt_dims *out,
                        int8_t *output) {
    const int32_t c_in = in->c, kh = f->h, kw = f->w, taps = kh * kw * c_in;
    const int32_t pairs = (taps + 1) / 2, c_out = out->c, stride = (c_out + VL - 1) & -VL;
    const mt_act_params *act = &params->act;
    const int32_t offset = act->input_offset, out_offset = act->output_offset;
    const int32_t act_min = act->act_min, act_max = act->act_max;
    const int32_t *mult = quant->multiplier, *shift = quant->shift;
    // wt[k * stride + oc]: (W[oc, 2k], W[oc, 2k + 1]) as two int16, zero past taps and c_out.
    int32_t wt[(MT_X64_PATCH_MAX / 2) * ((MT_X64_CONV_C_OUT_MAX + 7) & -8)];
    for (int32_t k = 0; k < pairs; k++) {
        for (int32_t oc = 0; oc < stride; oc++) {
            const int8_t *w = filter + oc * taps + 2 * k;
            const int32_t lo = oc < c_out ? w[0] : 0;
            const int32_t hi = oc < c_out && 2 * k + 1 < taps ? w[1] : 0;
            wt[k * stride + oc] = (int32_t)((uint32_t)(uint16_t)lo | (uint32_t)hi << 16);
        }
    }
    int16_t patch[MT_X64_PATCH_MAX + 2] __attribute__((aligned(4)));
    for (int32_t b = 0; b < out->n; b++) {
        for (int32_t oy = 0; oy < out->h; oy++) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            for (int32_t ox = 0; ox < out->w; ox++) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                int16_t *p = patch;
                for (int32_t ky = 0; ky < kh; ky++) {
                    const int32_t iy = y0 + ky;
                    for (int32_t kx = 0; kx < kw; kx++, p += c_in) {
                        const int32_t ix = x0 + kx;
                        const int inside = iy >= 0 && iy < in->h && ix >= 0 && ix < in->w;
                        const int8_t *x = input + ((b * in->h + iy) * in->w + ix) * c_in;
                        for (int32_t i = 0; i < c_in; i++) {
                            p[i] = inside ? (int16_t)(x[i] + offset) : 0;
                        }
                    }
                }
                patch[taps] = 0;  // an odd last tap's pair
                int32_t patch_pairs[MT_X64_PATCH_MAX / 2 + 1];
                memcpy(patch_pairs, patch, (size_t)pairs * 4);
                int8_t *y = output + ((b * out->h + oy) * out->w + ox) * c_out;
                for (int32_t ob = 0; ob < c_out; ob += VL) {
                    vec acc = V(v_zero)();
                    for (int32_t k = 0; k < pairs; k++) {
                        acc = V(v_add)(acc, V(v_madd)(V(v_set1)(patch_pairs[k]),
                                                      V(v_load)(wt + k * stride + ob)));
                    }
                    if (ob + VL <= c_out) {
                        V(v_requant)(acc, bias + ob, mult + ob, shift + ob, out_offset, act_min,
                                     act_max, y + ob);
                    } else {
                        int32_t a[VL];
                        V(v_store)(a, acc);
                        V(v_requant_n)(a, c_out - ob, bias + ob, mult + ob, shift + ob,
                                       out_offset, act_min, act_max, y + ob);
                    }
                }
            }
        }
    }
}
