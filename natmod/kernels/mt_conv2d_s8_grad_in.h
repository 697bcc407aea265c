// SPDX-License-Identifier: MIT
#ifndef MT_CONV2D_S8_GRAD_IN_H
#define MT_CONV2D_S8_GRAD_IN_H

#include "mt_grad.h"

// Gradient w.r.t. the input of an int8 conv2d (groups = 1):
//   grad_in[n,iy,ix,ci] (+)= sum over ky, kx, co of
//                            (W[co,ky,kx,ci] * s_w[co]) * grad_out[n,oy,ox,co]
// for every (ky, kx) with iy = oy*stride_h - pad_h + ky (same for x). Terms are added in the order
// ky, kx, co, starting from 0.0f; the sum is then stored or added to grad_in (accumulate: old +
// sum). grad_out values are read as float32 (int8: scale * (float)q). Uses grad->filter_scale
// and grad->accumulate. Filter dims {c_out, kh, kw, c_in}.
mt_status mt_conv2d_s8_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                               const mt_dims *input_dims, const mt_grad_dst *grad_in,
                               const mt_dims *filter_dims, const int8_t *filter,
                               const mt_dims *output_dims, const mt_grad_src *grad_out);

#endif
