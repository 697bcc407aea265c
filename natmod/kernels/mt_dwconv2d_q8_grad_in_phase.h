// SPDX-License-Identifier: MIT
// The parts of mt_dwconv2d_q8_grad_in that its general loop (mt_dwconv2d_q8_grad_in.c) and its
// Cortex-M4/M7 path (mt_dwconv2d_q8_grad_in_m4.c) share: the phase geometry and where the
// values go. Private to those two files.
//
// The input pixel (iy, ix) meets output oy through tap ky when iy + pad_h = oy * stride_h + ky.
// With t = iy + pad_h, the taps are ky = t % stride_h + a * stride_h (a = 0, 1, ...) meeting
// oy = t / stride_h - a, so the pixels of one phase p = t % stride_h share a tap set of
// ceil((kh - p) / stride_h) rows, less the ones past an edge. The kernel visits the pixels phase
// by phase (and channels in groups of 4 outermost): the DSP path sign-extends a group's weights
// of one phase once and reuses them over every pixel of it. The sums are exact int32, so any
// order gives the same bits (docs/numerics.md, "q8 grad_in: integer sums").
#ifndef MT_DWCONV2D_Q8_GRAD_IN_PHASE_H
#define MT_DWCONV2D_Q8_GRAD_IN_PHASE_H

#include "mt_dwconv2d_q8_grad_in.h"
#include "mt_grad_sink.h"

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

static inline dw_axis axis_of(int32_t phase, int32_t k, int32_t stride, int32_t size_out) {
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

typedef struct {
    const dw_ctx *x;
    dw_out *o;
    dw_group *g;
    dw_axis ay, ax;
} dw_phase;

// The first pixel of a phase along an axis, as (index, m): t = index + pad = phase + m * stride.
static inline int32_t first_m(int32_t phase, int32_t pad, int32_t stride) {
    return pad > phase ? (pad - phase + stride - 1) / stride : 0;
}

// The pixels of a phase along an axis: m from m0, index from i0, count of them.
typedef struct {
    int32_t m0, i0, count;
} dw_span;

static inline dw_span span_of(const dw_axis *ax, int32_t pad, int32_t size_in) {
    const int32_t m0 = first_m(ax->phase, pad, ax->stride);
    const int32_t i0 = ax->phase + m0 * ax->stride - pad;
    const dw_span sp = {m0, i0, i0 < size_in ? (size_in - i0 + ax->stride - 1) / ax->stride : 0};
    return sp;
}

// The Cortex-M4/M7 path (mt_dwconv2d_q8_grad_in_m4.c): one pass over the channels in groups of
// 4 (the c % 4 left are the general loop's), when no phase has more than 7 taps along an axis
// (mt_dw_q8_dsp_applies).
#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__)
#define MT_DW_DSP 1
int mt_dw_q8_dsp_applies(const dw_ctx *x);
void mt_dw_q8_pass_dsp(const dw_ctx *x, dw_out *o);
#else
#define MT_DW_DSP 0
#endif

#endif
