// SPDX-License-Identifier: MIT
#ifndef MT_AVGPOOL_S8_FWD_H
#define MT_AVGPOOL_S8_FWD_H

#include "mt_types.h"

// Global average pool with TFLite's int8 AVERAGE_POOL_2D arithmetic (filter = the whole h x w,
// VALID padding): the sum of the raw int8 values divided by h*w, rounded half away from zero,
// clamped to [act_min, act_max]. Input and output share one scale and zero point, so the
// offsets must be opposite (input_offset == -output_offset).
// Dims: input {n, h, w, c}, output {n, 1, 1, c}.
mt_status mt_avgpool_s8_fwd(const mt_act_params *act, const mt_dims *input_dims,
                            const int8_t *input, const mt_dims *output_dims, int8_t *output);

#endif
