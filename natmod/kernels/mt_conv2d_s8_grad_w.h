// SPDX-License-Identifier: MIT
#ifndef MT_CONV2D_S8_GRAD_W_H
#define MT_CONV2D_S8_GRAD_W_H

#include "mt_grad.h"

// Gradient w.r.t. the weights of an int8 conv2d (groups = 1), for a subset of k input channels:
//   grad_w[co,ky,kx,j] = s_x * sum over n, oy, ox of grad_out[n,oy,ox,co] * (x[n,iy,ix,j] - z_x)
// with iy = oy*stride_h - pad_h + ky (same for x); padded taps add nothing. The input is the
// compact saved activation holding only the k selected channels (dims {n, h, w, k}), so which
// channels they are matters only to the update (mt_qas_s8_update). Terms are added in the order
// n, oy, ox from 0.0f; the sum is multiplied by s_x last. dL/dW is in real units.
// Uses grad->input_scale and grad->input_offset. grad_w dims {c_out, kh, kw, k}.
mt_status mt_conv2d_s8_grad_w(const mt_conv_params *params, const mt_grad_params *grad,
                              const mt_dims *input_dims, const int8_t *input,
                              const mt_dims *filter_dims, float *grad_w,
                              const mt_dims *output_dims, const mt_grad_src *grad_out);

#endif
