// SPDX-License-Identifier: MIT
// Gradient w.r.t. the input of the int8 depthwise conv with int8 gradients, summed in integers
// (numerics: mt_conv_q8_grad_in.h and docs/numerics.md):
//   acc[n,iy,ix,c] = sum over valid (ky, kx) of q[n,oy,ox,c] * W[0,ky,kx,c]  (int32)
//   v = (float)acc * (s_g * s_w[c]), then the int8 gradient's two passes (mt_grad.h).
#ifndef MT_DWCONV2D_Q8_GRAD_IN_H
#define MT_DWCONV2D_Q8_GRAD_IN_H

#include "mt_grad.h"

// No scratch (the DSP path keeps a 1 KB workspace on the stack: a weight table and a copy of
// part of grad_out). MT_ERR_SHAPE when kh * kw * 128 * 128 does not fit an int32.
mt_status mt_dwconv2d_q8_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                                 const mt_dims *input_dims, const mt_grad_dst *grad_in,
                                 const mt_dims *filter_dims, const int8_t *filter,
                                 const mt_dims *output_dims, const mt_grad_src *grad_out);

#endif
