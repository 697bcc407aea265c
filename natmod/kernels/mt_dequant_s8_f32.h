// SPDX-License-Identifier: MIT
#ifndef MT_DEQUANT_S8_F32_H
#define MT_DEQUANT_S8_F32_H

#include "mt_types.h"

typedef struct {
    int32_t input_offset;  // -zero point
    float scale;           // finite and > 0
} mt_dequant_params;

// int8 -> float32 (logits for the loss): out = scale * (q + input_offset), one float32 multiply.
// The product of a float32 scale and an integer of at most 9 bits is exact in double, so this
// equals TFLite's DEQUANTIZE (double product rounded to float) bit for bit.
mt_status mt_dequant_s8_f32(const mt_dequant_params *params, const mt_dims *dims,
                            const int8_t *input, float *output);

#endif
