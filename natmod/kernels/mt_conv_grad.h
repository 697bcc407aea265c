// SPDX-License-Identifier: MIT
// The parts the conv2d and depthwise backward kernels share; their public headers state the
// formulas and the summation orders. A depthwise conv is the conv whose output channel c reads
// only input channel c, so one gather serves both.
#ifndef MT_CONV_GRAD_H
#define MT_CONV_GRAD_H

#include "mt_grad.h"
#include "mt_qas_s8_update.h"

// The checks every weight-gradient kernel makes first: mt_conv_dims_check, mt_grad_input_check.
mt_status mt_conv_grad_w_check(const mt_conv_params *params, const mt_grad_params *grad,
                               const mt_dims *input_dims, const mt_dims *filter_dims,
                               const mt_dims *output_dims);

// grad_in of a conv (depthwise 0) or a depthwise conv (depthwise 1), dims already checked.
mt_status mt_conv_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                          const mt_dims *input_dims, const mt_grad_dst *grad_in,
                          const mt_dims *filter_dims, const int8_t *filter,
                          const mt_dims *output_dims, const mt_grad_src *grad_out,
                          int32_t depthwise);

#endif
