// SPDX-License-Identifier: MIT
// Shared parts of the backward kernels: the gradient number format and the params
// struct.
//
// Gradient tensors are float32 in real units (dL/dx for x = s_x * (q - z)), NHWC like the
// activation they belong to. docs/numerics.md gives the measurements that chose this over int8
// with a dynamic per-tensor scale and over int16.
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

#endif
