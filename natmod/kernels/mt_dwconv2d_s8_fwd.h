// SPDX-License-Identifier: MIT
#ifndef MT_DWCONV2D_S8_FWD_H
#define MT_DWCONV2D_S8_FWD_H

#include "mt_types.h"

// int8 depthwise convolution, channel multiplier 1 (TFLite DEPTHWISE_CONV_2D, per-channel
// weights). Dims: input {n, h, w, c}, filter {1, kh, kw, c}, bias int32 [c],
// output {n, out_h, out_w, c}.
//
// In-place contract (every code path obeys it: portable C, the Cortex-M DSP path, any later
// SIMD path; compiler/inplace.py models it): per channel, output pixels are produced in raster
// order (n, oy, ox), one pixel a step; channel k of the input is read only to produce channel k
// of the output, and a step writes its pixel's channel k after its last read of channel k. The
// channels (or groups of them) may be produced in any order: the DSP path runs each group of 4
// over every pixel of an image, then the next group. So an output byte may cover input of its
// own channel whose last reading pixel is the same or earlier, and never another channel's.
mt_status mt_dwconv2d_s8_fwd(const mt_conv_params *params, const mt_quant_params *quant,
                             const mt_dims *input_dims, const int8_t *input,
                             const mt_dims *filter_dims, const int8_t *filter,
                             const int32_t *bias, const mt_dims *output_dims, int8_t *output);

#endif
