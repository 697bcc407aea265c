// SPDX-License-Identifier: MIT
#include "mt_dwconv2d_q8_grad_in_phase.h"
#include "mt_x64.h"

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"
#endif

// The general loop: any group width and tap count, and the portable build.

static inline void put_one(dw_out *o, dw_group *g, int32_t j, int32_t i, int32_t acc) {
    if (o->by_max) {
        const int32_t a = acc < 0 ? -acc : acc;  // |acc| <= 2^31 - 1: kh * kw is bounded
        g->max_acc[j] = a > g->max_acc[j] ? a : g->max_acc[j];
        return;
    }
    float v = (float)acc * g->c[j];
    if (o->accumulate) {
        v = mt_grad_old(o->dst, i, o->old_scale) + v;
    }
    if (o->pass == 0) {
        o->amax = mt_abs_max(o->amax, v);
    } else {
        mt_grad_put(o->dst, i, v, o->inv);
    }
}

static inline void put_group(dw_out *o, dw_group *g, int32_t i, const int32_t *s) {
    for (int32_t j = 0; j < g->width; j++) {
        put_one(o, g, j, i + j, s[j]);
    }
}

// by_max: v = (float)acc * c has |v| = (float)|acc| * |c| (both roundings odd-symmetric) and is
// monotone in |acc|, so (float)max|acc| * c is the largest |v| of the channel, the same float
// (NaN c: NaN either way; infinite c: infinite or NaN, both refused by mt_grad_begin).
static void group_end(dw_out *o, const dw_group *g) {
    for (int32_t j = 0; o->by_max && j < g->width; j++) {
        o->amax = mt_abs_max(o->amax, (float)g->max_acc[j] * g->c[j]);
    }
}

// ---- the sums of one pixel ------------------------------------------------------------------

// The pixel's taps: rows x cols of them; q at the first tap's output (channel ch), moving back
// by q_row per row and c per column; w at the first tap's weight, moving by w_row and w_col.
typedef struct {
    const int8_t *q, *w;
    int32_t rows, cols, q_row, c, w_row, w_col;
} dw_taps;

static inline void sums4(const dw_taps *t, int32_t s[4]) {
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const int8_t *q = t->q, *w = t->w;
    for (int32_t a = 0; a < t->rows; a++, q -= t->q_row, w += t->w_row) {
        const int8_t *qx = q, *wx = w;
        for (int32_t b = 0; b < t->cols; b++, qx -= t->c, wx += t->w_col) {
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

static inline int32_t sum1(const dw_taps *t) {
    int32_t s = 0;
    const int8_t *q = t->q, *w = t->w;
    for (int32_t a = 0; a < t->rows; a++, q -= t->q_row, w += t->w_row) {
        for (int32_t b = 0; b < t->cols; b++) {
            s += q[-b * t->c] * w[b * t->w_col];
        }
    }
    return s;
}

// One pixel, any taps: the general path (channel tails, no table, the portable build).
static void pixel_any(const dw_phase *ph, int32_t n, int32_t my, int32_t mx, int32_t i) {
    const dw_ctx *x = ph->x;
    const int32_t c = x->in->c, kw = x->filter->w, q_row = x->out->w * c;
    const int32_t sh = x->params->stride_h, sw = x->params->stride_w;
    int32_t s[4] = {0, 0, 0, 0};
    const dw_run ry = run_at(&ph->ay, my), rx = run_at(&ph->ax, mx);
    if (ry.count > 0 && rx.count > 0) {
        const int32_t oy = my - ry.first, ky = ph->ay.phase + ry.first * sh;
        const int32_t ox = mx - rx.first, kx = ph->ax.phase + rx.first * sw;
        const dw_taps t = {x->q + ((n * x->out->h + oy) * x->out->w + ox) * c + ph->g->ch,
                           x->w + (ky * kw + kx) * c + ph->g->ch, ry.count, rx.count, q_row, c,
                           sh * kw * c, sw * c};
        if (ph->g->width == 4) {
            sums4(&t, s);
        } else {
            s[0] = sum1(&t);
        }
    }
    put_group(ph->o, ph->g, i, s);
}

static void phase_any(const dw_phase *ph, dw_span sy, dw_span sx) {
    const dw_ctx *x = ph->x;
    const mt_dims *in = x->in;
    const int32_t c = in->c, sh = x->params->stride_h, sw = x->params->stride_w;
    for (int32_t n = 0; n < in->n; n++) {
        for (int32_t y = 0; y < sy.count; y++) {
            const int32_t iy = sy.i0 + y * sh;
            for (int32_t k = 0; k < sx.count; k++) {
                const int32_t ix = sx.i0 + k * sw;
                pixel_any(ph, n, sy.m0 + y, sx.m0 + k, ((n * in->h + iy) * in->w + ix) * c +
                          ph->g->ch);
            }
        }
    }
}


static void phase_pass(const dw_phase *ph) {
    const dw_ctx *x = ph->x;
    phase_any(ph, span_of(&ph->ay, x->params->pad_h, x->in->h),
              span_of(&ph->ax, x->params->pad_w, x->in->w));
}

#if MT_X64
// The x64 pass: pixel by pixel, every channel's sum at once over the pixel's taps
// (mt_x64_dw_tap_add), then each value put as put_one puts it (the sums are exact, the order of
// the puts does not change the bits: pass 0 keeps maxima, pass 1 stores by index).
static void dw_pass_x64(const dw_ctx *x, dw_out *o) {
    const mt_dims *in = x->in, *f = x->filter, *out = x->out;
    const int32_t c = in->c, sh = x->params->stride_h, sw = x->params->stride_w;
    float cs[MT_X64_DW_C_MAX];
    int32_t max_acc[MT_X64_DW_C_MAX], acc[MT_X64_DW_C_MAX];
    for (int32_t ch = 0; ch < c; ch++) {
        cs[ch] = x->s_g * x->s_w[ch];
        max_acc[ch] = 0;
    }
    for (int32_t n = 0; n < in->n; n++) {
        for (int32_t iy = 0; iy < in->h; iy++) {
            for (int32_t ix = 0; ix < in->w; ix++) {
                for (int32_t ch = 0; ch < c; ch++) {
                    acc[ch] = 0;
                }
                for (int32_t ky = 0; ky < f->h; ky++) {
                    const int32_t ty = iy + x->params->pad_h - ky, oy = ty / sh;
                    if (ty < 0 || ty % sh != 0 || oy >= out->h) {
                        continue;
                    }
                    for (int32_t kx = 0; kx < f->w; kx++) {
                        const int32_t tx = ix + x->params->pad_w - kx, ox = tx / sw;
                        if (tx < 0 || tx % sw != 0 || ox >= out->w) {
                            continue;
                        }
                        mt_x64_dw_tap_add(x->q + ((n * out->h + oy) * out->w + ox) * c,
                                          x->w + (ky * f->w + kx) * c, c, acc);
                    }
                }
                const int32_t i = ((n * in->h + iy) * in->w + ix) * c;
                for (int32_t ch = 0; ch < c; ch++) {
                    dw_group g = {ch, 1, {cs[ch], 0.0f, 0.0f, 0.0f}, {max_acc[ch], 0, 0, 0}};
                    put_one(o, &g, 0, i + ch, acc[ch]);
                    max_acc[ch] = g.max_acc[0];
                }
            }
        }
    }
    for (int32_t ch = 0; o->by_max && ch < c; ch++) {
        o->amax = mt_abs_max(o->amax, (float)max_acc[ch] * cs[ch]);
    }
}
#endif

static void dw_pass(const dw_ctx *x, dw_out *o) {
#if MT_X64
    if (x->in->c <= MT_X64_DW_C_MAX && mt_x64_level() != MT_X64_PORTABLE) {
        dw_pass_x64(x, o);
        return;
    }
#endif
    const mt_dims *f = x->filter, *out = x->out;
    const int32_t c = x->in->c, sh = x->params->stride_h, sw = x->params->stride_w;
    int32_t ch = 0;
#if MT_DW_DSP
    if (c >= 4 && mt_dw_q8_dsp_applies(x)) {
        mt_dw_q8_pass_dsp(x, o);  // the groups of 4: channels [0, c - c % 4)
        ch = c - c % 4;
    }
#endif
    while (ch < c) {
        dw_group g = {ch, c - ch >= 4 ? 4 : 1, {0.0f, 0.0f, 0.0f, 0.0f}, {0, 0, 0, 0}};
        for (int32_t j = 0; j < g.width; j++) {
            g.c[j] = x->s_g * x->s_w[ch + j];
        }
        for (int32_t py = 0; py < sh; py++) {
            for (int32_t px = 0; px < sw; px++) {
                const dw_phase ph = {x, o, &g, axis_of(py, f->h, sh, out->h),
                                     axis_of(px, f->w, sw, out->w)};
                phase_pass(&ph);
            }
        }
        group_end(o, &g);
        ch += g.width;
    }
}

mt_status mt_dwconv2d_q8_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                                 const mt_dims *input_dims, const mt_grad_dst *grad_in,
                                 const mt_dims *filter_dims, const int8_t *filter,
                                 const mt_dims *output_dims, const mt_grad_src *grad_out) {
    mt_status st = mt_dwconv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    if (grad_in->f || grad_out->f || !grad_in->q || !grad_out->q) {
        return MT_ERR_PARAM;
    }
    if (mt_channel_multiplier(filter_dims->h * filter_dims->w) < 1) {
        return MT_ERR_SHAPE;
    }
    const dw_ctx x = {params, input_dims, filter_dims, output_dims, filter, grad_out->q,
                      grad->filter_scale, grad_out->scale};
    dw_out o = {grad_in, 0, !grad->accumulate, grad->accumulate, *grad_in->scale, 0.0f, 0.0f};
    dw_pass(&x, &o);
    if ((st = mt_grad_begin(grad_in, o.amax, &o.inv)) != MT_OK) {
        return st;
    }
    o.pass = 1;
    o.by_max = 0;
    dw_pass(&x, &o);
    return MT_OK;
}
