// SPDX-License-Identifier: MIT
#include "mt_dwconv2d_q8_grad_in.h"

#include "mt_grad_sink.h"

#if defined(__ARM_FEATURE_DSP)
#include "mt_dsp.h"
#endif

// The input pixel (iy, ix) meets output oy through tap ky when iy + pad_h = oy * stride_h + ky.
// With t = iy + pad_h, the taps are ky = t % stride_h + a * stride_h (a = 0, 1, ...) meeting
// oy = t / stride_h - a, so the pixels of one phase p = t % stride_h share a tap set of
// ceil((kh - p) / stride_h) rows, less the ones past an edge. The kernel visits the pixels phase
// by phase (and channels in groups of 4 outermost): the DSP path sign-extends a group's weights
// of one phase once and reuses them over every pixel of it. The sums are exact int32, so any
// order gives the same bits (docs/numerics.md, "q8 grad_in: integer sums").

typedef struct {
    const mt_conv_params *params;
    const mt_dims *in, *filter, *out;
    const int8_t *w, *q;
    const float *s_w;
    float s_g;
} dw_ctx;

// One axis of one phase: the taps p + j * stride (j < taps) of a pixel with m = t / stride meet
// outputs m - j; those with m - j outside [0, size_out) drop out.
typedef struct {
    int32_t phase, taps, size_out, stride;
} dw_axis;

static dw_axis axis_of(int32_t phase, int32_t k, int32_t stride, int32_t size_out) {
    const dw_axis a = {phase, phase < k ? (k - phase + stride - 1) / stride : 0, size_out, stride};
    return a;
}

// The taps of one pixel along an axis: j from first to first + count - 1 (count <= 0: none).
typedef struct {
    int32_t first, count;
} dw_run;

static inline dw_run run_at(const dw_axis *ax, int32_t m) {
    int32_t first = m - ax->size_out + 1;  // taps meeting outputs past the edge
    first = first < 0 ? 0 : first;
    const int32_t last = m < ax->taps - 1 ? m : ax->taps - 1;  // and before output 0
    const dw_run r = {first, last + 1 - first};
    return r;
}

// Where one pass's values go: the per-element work of the int8 gradient (mt_grad.h).
typedef struct {
    const mt_grad_dst *dst;
    int pass;
    int by_max;  // pass 0 without accumulate: per-channel max |acc| (see group_end)
    int32_t accumulate;
    float old_scale, inv, amax;
} dw_out;

// One group of `width` (4, or 1 for the channels past the last multiple of 4) from channel ch.
typedef struct {
    int32_t ch, width;
    float c[4];          // s_g * s_w[ch + j]: v = (float)acc * c
    int32_t max_acc[4];  // by_max: the largest |acc| of each channel so far
} dw_group;

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

#if defined(__ARM_FEATURE_DSP)
// The DSP path's table: one phase's taps of a 4-channel group, row-major, each with its
// weights sign-extended (channels 0 and 2, 1 and 3 as int16 pairs) and the offset of its q
// from the q of the pixel's first tap when no tap drops out.
#define DW_TAB_TAPS 49  // up to 7x7 taps (588 bytes of stack)

typedef struct {
    int32_t off, w02, w13;
} dw_tap;

static inline void tap_mac(int32_t qv, const dw_tap *e, int32_t *s0, int32_t *s1, int32_t *s2,
                           int32_t *s3) {
    const int32_t q02 = __sxtb16(qv), q13 = sxtb16_ror8(qv);
    *s0 = __smlabb(q02, e->w02, *s0);
    *s2 = __smlatt(q02, e->w02, *s2);
    *s1 = __smlabb(q13, e->w13, *s1);
    *s3 = __smlatt(q13, e->w13, *s3);
}

// Every tap of the phase: one flat walk of the table.
static inline void sums4_all(const int8_t *q, const dw_tap *e, const dw_tap *end, int32_t s[4]) {
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    do {
        tap_mac(load_s8x4(q + e->off), e, &s0, &s1, &s2, &s3);
    } while (++e != end);
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}

// Some taps dropped out (a border pixel): rows x cols of the table from e, row stride e_row.
static inline void sums4_part(const dw_taps *t, const dw_tap *e, int32_t e_row, int32_t s[4]) {
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const int8_t *q = t->q;
    for (int32_t a = 0; a < t->rows; a++, q -= t->q_row, e += e_row) {
        const int8_t *qx = q;
        for (int32_t b = 0; b < t->cols; b++, qx -= t->c) {
            tap_mac(load_s8x4(qx), e + b, &s0, &s1, &s2, &s3);
        }
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}
#endif

// ---- one phase of one group -----------------------------------------------------------------

typedef struct {
    const dw_ctx *x;
    dw_out *o;
    dw_group *g;
    dw_axis ay, ax;
#if defined(__ARM_FEATURE_DSP)
    const dw_tap *tab;  // NULL: no table (width 1, or more than DW_TAB_TAPS taps)
#endif
} dw_phase;

// The first pixel of a phase along an axis, as (index, m): t = index + pad = phase + m * stride.
static inline int32_t first_m(int32_t phase, int32_t pad, int32_t stride) {
    return pad > phase ? (pad - phase + stride - 1) / stride : 0;
}

// One pixel, any taps: the general path (borders, channel tails, no table).
static void pixel_any(const dw_phase *ph, dw_run ry, int32_t ky, const int8_t *q_row0,
                      int32_t mx, int32_t i) {
    const dw_ctx *x = ph->x;
    const int32_t c = x->in->c, kw = x->filter->w;
    const int32_t sh = x->params->stride_h, sw = x->params->stride_w;
    int32_t s[4] = {0, 0, 0, 0};
    const dw_run rx = run_at(&ph->ax, mx);
    if (ry.count > 0 && rx.count > 0) {
        const int32_t ox = mx - rx.first, kx = ph->ax.phase + rx.first * sw;
        const dw_taps t = {q_row0 + ox * c, x->w + (ky * kw + kx) * c + ph->g->ch, ry.count,
                           rx.count, x->out->w * c, c, sh * kw * c, sw * c};
#if defined(__ARM_FEATURE_DSP)
        if (ph->tab) {
            sums4_part(&t, ph->tab + ry.first * ph->ax.taps + rx.first, ph->ax.taps, s);
        } else
#endif
        if (ph->g->width == 4) {
            sums4(&t, s);
        } else {
            s[0] = sum1(&t);
        }
    }
    put_group(ph->o, ph->g, i, s);
}

#if defined(__ARM_FEATURE_DSP)
// The same int8 store as mt_grad_put (the destination is int8 here).
static inline void store_q8(int8_t *dst, float v, float inv) {
    float t = v * inv;
    int32_t q = (int32_t)(t + (t >= 0.0f ? 0.5f : -0.5f));
    *dst = (int8_t)(q > 127 ? 127 : (q < -127 ? -127 : q));
}

static inline int32_t abs_max(int32_t m, int32_t acc) {
    const int32_t a = acc < 0 ? -acc : acc;
    return a > m ? a : m;
}

// `count` pixels with every tap of the phase, q at the first one's output and moving by c per
// pixel: pass 0 without accumulate, max |acc| per channel.
__attribute__((noinline)) static void run_all_max(dw_group *g, const int8_t *q, int32_t c, const dw_tap *tab,
                        const dw_tap *end, int32_t count) {
    int32_t m0 = g->max_acc[0], m1 = g->max_acc[1], m2 = g->max_acc[2], m3 = g->max_acc[3];
    for (int32_t k = 0; k < count; k++, q += c) {
        int32_t s[4];
        sums4_all(q, tab, end, s);
        m0 = abs_max(m0, s[0]);
        m1 = abs_max(m1, s[1]);
        m2 = abs_max(m2, s[2]);
        m3 = abs_max(m3, s[3]);
    }
    g->max_acc[0] = m0;
    g->max_acc[1] = m1;
    g->max_acc[2] = m2;
    g->max_acc[3] = m3;
}

// The same pixels through the output (pass 0 with accumulate, pass 1); elements i, i + 1, ..
// of the first pixel, i_step to the next.
__attribute__((noinline)) static void run_all_put(dw_out *o, const dw_group *g, const int8_t *q, int32_t c,
                        const dw_tap *tab, const dw_tap *end, int32_t count, int32_t i,
                        int32_t i_step) {
    int8_t *dst = o->dst->q + i;
    for (int32_t k = 0; k < count; k++, q += c, dst += i_step) {
        int32_t s[4];
        sums4_all(q, tab, end, s);
        for (int32_t j = 0; j < 4; j++) {
            float v = (float)s[j] * g->c[j];
            if (o->accumulate) {
                v = o->old_scale * (float)dst[j] + v;
            }
            if (o->pass == 0) {
                o->amax = mt_abs_max(o->amax, v);
            } else {
                store_q8(dst + j, v, o->inv);
            }
        }
    }
}
#endif

static void phase_row(const dw_phase *ph, int32_t n, int32_t iy, int32_t my) {
    const dw_ctx *x = ph->x;
    const mt_dims *in = x->in, *out = x->out;
    const int32_t c = in->c, ch = ph->g->ch;
    const int32_t sh = x->params->stride_h, sw = x->params->stride_w, pad_w = x->params->pad_w;
    const dw_run ry = run_at(&ph->ay, my);
    const int32_t mx0 = first_m(ph->ax.phase, pad_w, sw);
    const int32_t ix0 = ph->ax.phase + mx0 * sw - pad_w;
    const int32_t mx_end = ix0 < in->w ? mx0 + (in->w - ix0 + sw - 1) / sw : mx0;
    const int32_t i0 = ((n * in->h + iy) * in->w + ix0) * c + ch, i_step = c * sw;
    const int32_t oy = my - ry.first;  // the output of the pixel's first tap
    const int32_t ky = ph->ay.phase + ry.first * sh;
    const int8_t *q_row0 = x->q + (n * out->h + oy) * out->w * c + ch;
    // The pixels with every tap: mx in [taps - 1, out_w - 1] (and a full ry).
    int32_t lo = mx_end, hi = mx_end;
#if defined(__ARM_FEATURE_DSP)
    if (ph->tab && ry.first == 0 && ry.count == ph->ay.taps) {
        lo = ph->ax.taps - 1 > mx0 ? ph->ax.taps - 1 : mx0;
        hi = out->w < mx_end ? out->w : mx_end;
        lo = lo < hi ? lo : hi;
    }
#endif
    for (int32_t mx = mx0; mx < lo; mx++) {
        pixel_any(ph, ry, ky, q_row0, mx, i0 + (mx - mx0) * i_step);
    }
#if defined(__ARM_FEATURE_DSP)
    if (lo < hi) {
        const dw_tap *end = ph->tab + ph->ay.taps * ph->ax.taps;
        if (ph->o->by_max) {
            run_all_max(ph->g, q_row0 + lo * c, c, ph->tab, end, hi - lo);
        } else {
            run_all_put(ph->o, ph->g, q_row0 + lo * c, c, ph->tab, end, hi - lo,
                        i0 + (lo - mx0) * i_step, i_step);
        }
    }
#endif
    for (int32_t mx = hi; mx < mx_end; mx++) {
        pixel_any(ph, ry, ky, q_row0, mx, i0 + (mx - mx0) * i_step);
    }
}

static void phase_pass(dw_phase *ph) {
    const dw_ctx *x = ph->x;
    const mt_dims *in = x->in;
    const int32_t sh = x->params->stride_h, pad_h = x->params->pad_h;
#if defined(__ARM_FEATURE_DSP)
    dw_tap tab[DW_TAB_TAPS];
    ph->tab = 0;
    const int32_t taps = ph->ay.taps * ph->ax.taps;
    if (ph->g->width == 4 && taps > 0 && x->filter->h * x->filter->w <= DW_TAB_TAPS) {
        const int32_t c = in->c, kw = x->filter->w;
        const int32_t q_row = x->out->w * c;
        dw_tap *e = tab;
        for (int32_t a = 0; a < ph->ay.taps; a++) {
            for (int32_t b = 0; b < ph->ax.taps; b++, e++) {
                const int32_t ky = ph->ay.phase + a * sh;
                const int32_t kx = ph->ax.phase + b * x->params->stride_w;
                const int32_t wv = load_s8x4(x->w + (ky * kw + kx) * c + ph->g->ch);
                e->off = -(a * q_row + b * c);
                e->w02 = __sxtb16(wv);
                e->w13 = sxtb16_ror8(wv);
            }
        }
        ph->tab = tab;
    }
#endif
    const int32_t my0 = first_m(ph->ay.phase, pad_h, sh);
    for (int32_t n = 0; n < in->n; n++) {
        for (int32_t my = my0, iy = ph->ay.phase + my0 * sh - pad_h; iy < in->h;
             my++, iy += sh) {
            phase_row(ph, n, iy, my);
        }
    }
}

static void dw_pass(const dw_ctx *x, dw_out *o) {
    const mt_dims *f = x->filter, *out = x->out;
    const int32_t c = x->in->c, sh = x->params->stride_h, sw = x->params->stride_w;
    for (int32_t ch = 0; ch < c;) {
        dw_group g = {ch, c - ch >= 4 ? 4 : 1, {0.0f, 0.0f, 0.0f, 0.0f}, {0, 0, 0, 0}};
        for (int32_t j = 0; j < g.width; j++) {
            g.c[j] = x->s_g * x->s_w[ch + j];
        }
        for (int32_t py = 0; py < sh; py++) {
            for (int32_t px = 0; px < sw; px++) {
                dw_phase ph = {x, o, &g, axis_of(py, f->h, sh, out->h),
                               axis_of(px, f->w, sw, out->w)
#if defined(__ARM_FEATURE_DSP)
                               , 0
#endif
                };
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
