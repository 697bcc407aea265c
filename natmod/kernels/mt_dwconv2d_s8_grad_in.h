// SPDX-License-Identifier: MIT
#ifndef MT_DWCONV2D_S8_GRAD_IN_H
#define MT_DWCONV2D_S8_GRAD_IN_H

#include "mt_grad.h"

// Gradient w.r.t. the input of an int8 depthwise conv (channel multiplier 1):
//   grad_in[n,iy,ix,c] (+)= sum over ky, kx of (W[ky,kx,c] * s_w[c]) * grad_out[n,oy,ox,c]
// for every tap with iy = oy*stride_h - pad_h + ky (same for x), added in the order ky, kx from
// 0.0f (accumulate: old + sum). Uses grad->filter_scale and grad->accumulate.
// Filter dims {1, kh, kw, c}.
mt_status mt_dwconv2d_s8_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                                 const mt_dims *input_dims, const mt_grad_dst *grad_in,
                                 const mt_dims *filter_dims, const int8_t *filter,
                                 const mt_dims *output_dims, const mt_grad_src *grad_out);

#endif
