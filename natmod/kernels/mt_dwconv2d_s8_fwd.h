// SPDX-License-Identifier: MIT
#ifndef MT_DWCONV2D_S8_FWD_H
#define MT_DWCONV2D_S8_FWD_H

#include "mt_types.h"

// int8 depthwise convolution, channel multiplier 1 (TFLite DEPTHWISE_CONV_2D, per-channel
// weights). Dims: input {n, h, w, c}, filter {1, kh, kw, c}, bias int32 [c],
// output {n, out_h, out_w, c}.
mt_status mt_dwconv2d_s8_fwd(const mt_conv_params *params, const mt_quant_params *quant,
                             const mt_dims *input_dims, const int8_t *input,
                             const mt_dims *filter_dims, const int8_t *filter,
                             const int32_t *bias, const mt_dims *output_dims, int8_t *output);

#endif
