// SPDX-License-Identifier: MIT
#ifndef MT_AVGPOOL_F32_GRAD_IN_H
#define MT_AVGPOOL_F32_GRAD_IN_H

#include "mt_grad.h"

// Gradient w.r.t. the input of a global average pool ({n,h,w,c} -> {n,1,1,c}):
//   grad_in[n,y,x,c] = grad_out[n,c] / (float)(h * w)    (accumulate: old + that)
mt_status mt_avgpool_f32_grad_in(const mt_dims *input_dims, const mt_grad_dst *grad_in,
                                 int32_t accumulate, const mt_grad_src *grad_out);

#endif
