// SPDX-License-Identifier: MIT
#ifndef MT_BIAS_F32_GRAD_B_H
#define MT_BIAS_F32_GRAD_B_H

#include "mt_grad.h"

// Gradient w.r.t. the bias of any layer whose output is NHWC with the bias on the last axis
// (conv2d, dwconv2d, pwconv2d, fc): grad_b[c] = sum over n, h, w (in that order, from 0.0f) of
// grad_out[n,h,w,c]. dL/db in real units; the clamp mask is applied before (mt_clamp_s8_grad_in).
mt_status mt_bias_f32_grad_b(const mt_dims *output_dims, const mt_grad_src *grad_out,
                             float *grad_b);

// One channel of it, for the fused update (mt_bias_s32_update); dims already checked.
float mt_bias_f32_grad_b_element(const mt_dims *output_dims, const mt_grad_src *grad_out,
                                 int32_t c);

#endif
