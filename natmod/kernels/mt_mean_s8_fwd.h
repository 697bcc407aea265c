// SPDX-License-Identifier: MIT
#ifndef MT_MEAN_S8_FWD_H
#define MT_MEAN_S8_FWD_H

#include "mt_types.h"

// Global mean over h and w that changes the quantization, TFLite's int8 MEAN
// (QuantizedMeanOrSum): per channel, the sum of the raw int8 values plus h*w times the input
// offset, scaled by (multiplier, shift) with 1/(h*w) already folded in by the host
// (tflite_params.mean_multiplier), rounded as mt_requant_s8, plus the output offset, clamped to
// [act_min, act_max]. Dims: input {n, h, w, c} with h*w <= 2^22, output {n, 1, 1, c}.
mt_status mt_mean_s8_fwd(const mt_act_params *act, int32_t multiplier, int32_t shift,
                         const mt_dims *input_dims, const int8_t *input,
                         const mt_dims *output_dims, int8_t *output);

#endif
