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

// The fused weight gradient and QAS update of a conv (layout {c_out, kh*kw, c_in, k, 0, channels})
// or a depthwise conv ({1, kh*kw, c, k, 1, channels}): checks the layout, the update and the
// scales, then visits the elements in the order (outer, ky, kx, j) of mt_qas_s8_update, reading
// grad_out at the element's output channel (depthwise: its channel). Dims already checked.
mt_status mt_conv_update(const mt_conv_params *params, const mt_grad_params *grad,
                         const mt_dims *input_dims, const int8_t *input,
                         const mt_qas_layout *layout, const mt_dims *filter_dims,
                         int8_t *weights,
                         const float *w_scale, const mt_update_params *update,
                         const mt_update_state *state, const mt_dims *output_dims,
                         const mt_grad_src *grad_out);

#endif
