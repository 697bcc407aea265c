// SPDX-License-Identifier: MIT
// Shared structs of every kernel. One argument order for all kernels (as CMSIS-NN does):
//   (params, quant, input dims, input, filter dims, filter, bias, output dims, output, [scratch])
// Backward kernels take the same structs as their forward.
//
// Layouts (written down once):
//   activations    NHWC, int8 (batch n >= 1; conv1d is H = 1)
//   conv weights   OHWI: [c_out][kh][kw][c_in], int8, per-output-channel symmetric scale
//   depthwise      [kh][kw][c] (channel multiplier 1): filter dims {1, kh, kw, c}
//   fc weights     [c_out][c_in] (filter dims {c_out, 1, 1, c_in})
//   bias           int32 [c_out] at scale s_x * s_w[c]
#ifndef MT_TYPES_H
#define MT_TYPES_H

#include <stdint.h>

#include "mt_status.h"

typedef struct {
    int32_t n, h, w, c;
} mt_dims;

// Activation quantization of one tensor: real = scale * (q - zero_point).
typedef struct {
    int32_t input_offset;   // -input zero point
    int32_t output_offset;  // +output zero point
    int32_t act_min;        // fused activation clamp, in output int8 units
    int32_t act_max;
} mt_act_params;

typedef struct {
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;  // top/left padding; bottom/right follow from the output dims
    mt_act_params act;
} mt_conv_params;

// Per-output-channel requantization: scale[c] ~= multiplier[c] * 2^(shift[c] - 31).
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
} mt_quant_params;

// Residual add with TFLite's int8 ADD arithmetic: each input (q + offset) is shifted left by
// MT_ADD_LEFT_SHIFT, scaled by its own multiplier (s_i / (2 max(s_1, s_2))), the two are summed
// and the sum is scaled by the output multiplier (2 max(s_1, s_2) / (2^20 s_out)).
#define MT_ADD_LEFT_SHIFT 20

typedef struct {
    int32_t offset;  // -zero point of this input
    int32_t multiplier;
    int32_t shift;
} mt_add_input_params;

typedef struct {
    mt_add_input_params in1, in2;
    int32_t output_multiplier;
    int32_t output_shift;
    int32_t output_offset;  // +output zero point
    int32_t act_min, act_max;
} mt_add_params;

#endif
