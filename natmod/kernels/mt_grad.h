// SPDX-License-Identifier: MIT
// Shared parts of the backward kernels: the gradient number format and the params
// struct.
//
// Gradient tensors are real units (dL/dx for x = s_x * (q - z)), NHWC like the activation they
// belong to, stored either as float32 or as int8 with a dynamic per-tensor scale (real = scale
// * q, symmetric, |q| <= 127). docs/numerics.md gives the measurements: int8 trains as well as
// float32 on our tasks and needs a quarter of the memory, so the compiler uses int8 ("q8" ops);
// the float32 ops stay to measure against. Kernels read a gradient through mt_grad_src and
// write one through mt_grad_dst; an int8 output is made in two passes (the largest |value|
// first, then the values again, quantized), so no float copy of it is ever held.
//
// Every float sum runs in one fixed order, written next to each kernel, and every product is
// rounded once, so the numpy references (microtrain_tools.reference) that add the same float32
// terms in the same order agree bit for bit. The build must not contract a*b+c into a fused
// multiply-add: -std=c99 (ISO mode) implies -ffp-contract=off in gcc.
//
// Backward kernels keep the forward argument order: the tensor at the forward's input position
// is the gradient w.r.t. the input (written), the one at the output position is the gradient at
// the output (read); for weight gradients the filter position holds dL/dW (written).
#ifndef MT_GRAD_H
#define MT_GRAD_H

#include <stddef.h>
#include <stdint.h>

#include "mt_check.h"
#include "mt_types.h"

typedef struct {
    float input_scale;          // s_x of the layer's input (weight gradients need it)
    int32_t input_offset;       // -zero point of the layer's input
    const float *filter_scale;  // s_w[c_out] (depthwise: s_w[c]); grad_in needs it
    int32_t accumulate;         // 1: add into grad_in (a tensor read by two ops), 0: overwrite
} mt_grad_params;

// A gradient tensor read by a kernel: float32 (f), or int8 (q, when f is NULL) times scale.
typedef struct {
    const float *f;
    const int8_t *q;
    float scale;
} mt_grad_src;

// A gradient tensor written by a kernel: float32 (f), or int8 (q, when f is NULL) with its
// per-tensor scale written to *scale.
typedef struct {
    float *f;
    int8_t *q;
    float *scale;
} mt_grad_dst;

static inline float mt_grad_get(const mt_grad_src *g, int32_t i) {
    return g->f ? g->f[i] : g->scale * (float)g->q[i];
}

// The current value of an output element (for accumulate); old_scale is the int8 tensor's
// scale from before this kernel started writing.
static inline float mt_grad_old(const mt_grad_dst *g, int32_t i, float old_scale) {
    return g->f ? g->f[i] : old_scale * (float)g->q[i];
}

// The running max of |v|; a NaN sticks, so mt_grad_begin refuses it.
static inline float mt_abs_max(float amax, float v) {
    float a = v < 0.0f ? -v : v;
    return (a > amax || a != a) ? a : amax;
}

// The input quantization a weight gradient reads: input_offset in [-127, 128] (an int8 zero
// point) and 0 < input_scale < 1e30; MT_ERR_PARAM otherwise.
mt_status mt_grad_input_check(const mt_grad_params *grad);

// After the first pass over an int8 output: store scale = amax / 127 and return 127 / amax (both
// 0 when amax < 1e-30: the tensor counts as zero). MT_ERR_PARAM for an infinite or NaN gradient.
mt_status mt_grad_begin(const mt_grad_dst *g, float amax, float *inv);

// Store v: as is (float32), or round(v * inv) half away from zero, saturated to +-127.
static inline void mt_grad_put(const mt_grad_dst *g, int32_t i, float v, float inv) {
    if (g->f) {
        g->f[i] = v;
        return;
    }
    float t = v * inv;
    int32_t q = (int32_t)(t + (t >= 0.0f ? 0.5f : -0.5f));
    g->q[i] = (int8_t)(q > 127 ? 127 : (q < -127 ? -127 : q));
}

// Passes a kernel makes over its output: 1 for float32, 2 for int8.
static inline int mt_grad_first_pass(const mt_grad_dst *g) {
    return g->f ? 1 : 0;
}

// The value of output element (n, y, x, c), computed by a kernel from its own read-only context.
typedef float (*mt_grad_value_fn)(const void *ctx, int32_t n, int32_t y, int32_t x, int32_t c);

// The output loop of the gradient kernels: g[n,y,x,c] = value(ctx, n, y, x, c) over `dims` in
// NHWC order (accumulate: old + value). int8 takes two passes (value is computed twice: the
// largest |value| first, then the values again, quantized), float32 one. dims already checked
// (or with a zero count).
mt_status mt_grad_write(const mt_grad_dst *g, const mt_dims *dims, int32_t accumulate,
                        mt_grad_value_fn value, const void *ctx);

// mt_grad_write for a value that depends on (n, c) only: computed once per (n, c) and pass, not
// per element (a global pool's spread: one soft-float division per channel on a Cortex-M0, not
// per element). The same bytes.
mt_status mt_grad_write_per_channel(const mt_grad_dst *g, const mt_dims *dims,
                                    int32_t accumulate, mt_grad_value_fn value, const void *ctx);

#endif
