// SPDX-License-Identifier: MIT
#ifndef MT_FC_S8_FWD_H
#define MT_FC_S8_FWD_H

#include "mt_types.h"

// int8 fully connected (TFLite FULLY_CONNECTED, weights per output channel or per tensor with
// every channel's multiplier equal). The input {n, h, w, c} is read as n rows of h*w*c features,
// so a flatten in front is free. Dims: filter {c_out, 1, 1, h*w*c}, bias int32 [c_out],
// output {n, 1, 1, c_out}.
mt_status mt_fc_s8_fwd(const mt_act_params *act, const mt_quant_params *quant,
                       const mt_dims *input_dims, const int8_t *input, const mt_dims *filter_dims,
                       const int8_t *filter, const int32_t *bias, const mt_dims *output_dims,
                       int8_t *output);

#endif
