// SPDX-License-Identifier: MIT
#ifndef MT_PWCONV2D_S8_FWD_H
#define MT_PWCONV2D_S8_FWD_H

#include <stdbool.h>

#include "mt_types.h"

// The fast path of mt_conv2d_s8_fwd for a 1x1 filter with no padding (any stride): each output
// pixel is a matrix-vector product over channels. Same dims, same results bit for bit.
//
// In-place contract (every code path obeys it: portable C, the Cortex-M DSP path, any later
// SIMD path; host_tools/microtrain_tools/compiler/inplace.py models it to lay the output over
// a dying input): output pixels are produced in raster order (n, oy, ox) over the flattened
// n*out_h*out_w run, in steps aligned on that run of at most 2 pixels (step s holds pixels 2s
// and 2s + 1; the portable path's single pixels refine that). A step reads only its pixels'
// input pixels, writes only its output pixels, and may read its input after writing any of its
// output. So input pixel q is last read in the step holding the last output pixel that reads q,
// and an output byte may cover it only if written in a later step.
mt_status mt_pwconv2d_s8_fwd(const mt_conv_params *params, const mt_quant_params *quant,
                             const mt_dims *input_dims, const int8_t *input,
                             const mt_dims *filter_dims, const int8_t *filter,
                             const int32_t *bias, const mt_dims *output_dims, int8_t *output);

// The named predicate the conv2d dispatcher asks: is this a pointwise conv?
bool mt_pwconv2d_s8_fwd_applies(const mt_conv_params *params, const mt_dims *filter_dims);

#endif
