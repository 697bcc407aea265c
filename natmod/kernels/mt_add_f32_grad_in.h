// SPDX-License-Identifier: MIT
#ifndef MT_ADD_F32_GRAD_IN_H
#define MT_ADD_F32_GRAD_IN_H

#include "mt_grad.h"

// Gradient w.r.t. one input of a residual add. In real units y = x1 + x2 before the output
// clamp, so each input receives grad_out unchanged: grad_in = grad_out, or grad_in = old +
// grad_out with accumulate (the skip tensor also feeds a branch). Called once per input; for
// float32 the compiler may instead alias the buffers and not emit it.
mt_status mt_add_f32_grad_in(int32_t count, int32_t accumulate, const mt_grad_src *grad_out,
                             const mt_grad_dst *grad_in);

#endif
