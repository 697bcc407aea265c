// SPDX-License-Identifier: MIT
#ifndef MT_QUANT_F32_S8_H
#define MT_QUANT_F32_S8_H

#include "mt_types.h"

typedef struct {
    int32_t output_offset;  // zero point of the int8 tensor
    float inverse_scale;    // 1 / scale, so the device multiplies instead of divides
} mt_quant_params_f32;

// Float input (a sample from the user) -> int8 activation: q = clamp(round(x / s) + z), rounding
// half away from zero. The product and the +-0.5 are single float32 operations, so the numpy
// reference (reference/mt_quant_f32_s8.py) does exactly the same. A NaN or infinite input is
// refused (MT_ERR_NOT_FINITE) before anything is written.
mt_status mt_quant_f32_s8(const mt_quant_params_f32 *params, const mt_dims *dims,
                          const float *input, int8_t *output);

#endif
