// SPDX-License-Identifier: MIT
#ifndef MT_CONV2D_S8_FWD_H
#define MT_CONV2D_S8_FWD_H

#include "mt_types.h"

// int8 convolution, groups 1, any kernel size, stride and top/left padding (TFLite CONV_2D with
// per-channel weights; padded input reads as the zero point). Dims: input {n, h, w, c_in},
// filter OHWI {c_out, kh, kw, c_in}, bias int32 [c_out], output {n, out_h, out_w, c_out}.
// A 1x1 filter with no padding goes to mt_pwconv2d_s8_fwd (bit-identical, faster).
//
// In-place contract (compiler/inplace.py models it): output pixels are produced in raster
// order (n, oy, ox), one pixel a step; a step reads only its window (taps inside the input) and
// may re-read it after writing any of its pixel's channels (a pass over the window per output
// channel), so an output byte may cover input only whose last reading pixel comes earlier. A
// 1x1 filter without padding follows mt_pwconv2d_s8_fwd's contract (steps of 2 pixels).
mt_status mt_conv2d_s8_fwd(const mt_conv_params *params, const mt_quant_params *quant,
                           const mt_dims *input_dims, const int8_t *input,
                           const mt_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                           const mt_dims *output_dims, int8_t *output);

#endif
