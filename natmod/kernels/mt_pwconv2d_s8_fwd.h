// SPDX-License-Identifier: MIT
#ifndef MT_PWCONV2D_S8_FWD_H
#define MT_PWCONV2D_S8_FWD_H

#include <stdbool.h>

#include "mt_types.h"

// The fast path of mt_conv2d_s8_fwd for a 1x1 filter with no padding (any stride): each output
// pixel is a matrix-vector product over channels. Same dims, same results bit for bit.
mt_status mt_pwconv2d_s8_fwd(const mt_conv_params *params, const mt_quant_params *quant,
                             const mt_dims *input_dims, const int8_t *input,
                             const mt_dims *filter_dims, const int8_t *filter,
                             const int32_t *bias, const mt_dims *output_dims, int8_t *output);

// The named predicate the conv2d dispatcher asks: is this a pointwise conv?
bool mt_pwconv2d_s8_fwd_applies(const mt_conv_params *params, const mt_dims *filter_dims);

#endif
