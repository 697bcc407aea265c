// SPDX-License-Identifier: MIT
#include "mt_dwconv2d_q8_grad_in.h"

#include "mt_grad_sink.h"

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"
#endif

// ---- dwconv2d -------------------------------------------------------------------------------

typedef struct {
    const mt_conv_params *params;
    const mt_dims *filter, *out;
    const int8_t *w, *q;
    const float *s_w;
    float s_g;
} dw_ctx;

// The taps of one input pixel along one axis: tap k0 + j * stride meets output o0 - j, for
// j = 0 .. count - 1 (the arithmetic run mt_conv_grad's gather visits, found once per pixel).
typedef struct {
    int32_t k0, o0, count;
} tap_run;

static tap_run taps_along(int32_t t, int32_t k, int32_t stride, int32_t size_out) {
    tap_run r = {t % stride, t / stride, 0};
    while (r.k0 < k && r.o0 >= size_out) {  // outputs past the edge: skip to the first inside
        r.k0 += stride;
        r.o0--;
    }
    for (int32_t kk = r.k0, o = r.o0; kk < k && o >= 0; kk += stride, o--) {
        r.count++;
    }
    return r;
}

// s[0..4) = sum over the taps of q[.., ch + j] * w[.., ch + j]: four channels of one pixel;
// q and w point at the first tap's (channel ch), q_step / w_step move along x, the row steps
// along y.
static inline void dw_sums4(const int8_t *q, const int8_t *w, tap_run ry, tap_run rx,
                            int32_t q_row, int32_t w_row, int32_t q_step, int32_t w_step,
                            int32_t s[4]) {
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int32_t a = 0; a < ry.count; a++, q -= q_row, w += w_row) {
        const int8_t *qx = q, *wx = w;
        for (int32_t b = 0; b < rx.count; b++, qx -= q_step, wx += w_step) {
#if defined(__ARM_FEATURE_DSP)
            const int32_t qv = load_s8x4(qx), wv = load_s8x4(wx);
            const int32_t q02 = __sxtb16(qv), w02 = __sxtb16(wv);
            const int32_t q13 = sxtb16_ror8(qv), w13 = sxtb16_ror8(wv);
            s0 = __smlabb(q02, w02, s0);
            s2 = __smlatt(q02, w02, s2);
            s1 = __smlabb(q13, w13, s1);
            s3 = __smlatt(q13, w13, s3);
#else
            s0 += qx[0] * wx[0];
            s1 += qx[1] * wx[1];
            s2 += qx[2] * wx[2];
            s3 += qx[3] * wx[3];
#endif
        }
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}

static inline int32_t dw_sum1(const int8_t *q, const int8_t *w, tap_run ry, tap_run rx,
                              int32_t q_row, int32_t w_row, int32_t q_step, int32_t w_step) {
    int32_t s = 0;
    for (int32_t a = 0; a < ry.count; a++, q -= q_row, w += w_row) {
        for (int32_t b = 0; b < rx.count; b++) {
            s += q[-b * q_step] * w[b * w_step];
        }
    }
    return s;
}

static void dw_pixel(const dw_ctx *x, int32_t n, int32_t iy, int32_t ix, sink *out) {
    const mt_dims *o = x->out;
    const int32_t c = o->c, kw = x->filter->w;
    const int32_t sh = x->params->stride_h, sw = x->params->stride_w;
    const tap_run ry = taps_along(iy + x->params->pad_h, x->filter->h, sh, o->h);
    const tap_run rx = taps_along(ix + x->params->pad_w, kw, sw, o->w);
    int32_t ch = 0;
    if (ry.count == 0 || rx.count == 0) {  // no tap reaches this pixel
        for (; ch < c; ch++) {
            sink_put(out, 0, x->s_g * x->s_w[ch]);
        }
        return;
    }
    const int8_t *q = x->q + ((n * o->h + ry.o0) * o->w + rx.o0) * c;
    const int8_t *w = x->w + (ry.k0 * kw + rx.k0) * c;
    const int32_t q_row = o->w * c, w_row = sh * kw * c, q_step = c, w_step = sw * c;
    for (; ch + 3 < c; ch += 4) {
        int32_t s[4];
        dw_sums4(q + ch, w + ch, ry, rx, q_row, w_row, q_step, w_step, s);
        for (int j = 0; j < 4; j++) {
            sink_put(out, s[j], x->s_g * x->s_w[ch + j]);
        }
    }
    for (; ch < c; ch++) {
        sink_put(out, dw_sum1(q + ch, w + ch, ry, rx, q_row, w_row, q_step, w_step),
                 x->s_g * x->s_w[ch]);
    }
}

mt_status mt_dwconv2d_q8_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                                 const mt_dims *input_dims, const mt_grad_dst *grad_in,
                                 const mt_dims *filter_dims, const int8_t *filter,
                                 const mt_dims *output_dims, const mt_grad_src *grad_out) {
    mt_status st = mt_conv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    const int32_t c = input_dims->c;
    if (filter_dims->n != 1 || filter_dims->c != c || output_dims->c != c) {
        return MT_ERR_SHAPE;
    }
    if (grad_in->f || grad_out->f || !grad_in->q || !grad_out->q) {
        return MT_ERR_PARAM;
    }
    if (mt_channel_multiplier(filter_dims->h * filter_dims->w) < 1) {
        return MT_ERR_SHAPE;
    }
    const dw_ctx x = {params, filter_dims, output_dims, filter, grad_out->q, grad->filter_scale,
                      grad_out->scale};
    const float old_scale = *grad_in->scale;
    float inv = 0.0f;
    sink out;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && (st = mt_grad_begin(grad_in, sink_amax(&out, 0.0f), &inv)) != MT_OK) {
            return st;
        }
        sink_start(&out, grad_in, pass, grad->accumulate, old_scale, inv, 0);
        for (int32_t n = 0; n < input_dims->n; n++) {
            for (int32_t iy = 0; iy < input_dims->h; iy++) {
                for (int32_t ix = 0; ix < input_dims->w; ix++) {
                    dw_pixel(&x, n, iy, ix, &out);
                }
            }
        }
    }
    return MT_OK;
}
