// SPDX-License-Identifier: MIT
#ifndef MT_DWCONV2D_S8_GRAD_W_H
#define MT_DWCONV2D_S8_GRAD_W_H

#include "mt_grad.h"

// Gradient w.r.t. the weights of an int8 depthwise conv, for k selected channels (the same
// channels in and out): with c = channels[j] (or j when channels is NULL: the first k),
//   grad_w[ky,kx,j] = s_x * sum over n, oy, ox of grad_out[n,oy,ox,c] * (x[n,iy,ix,j] - z_x)
// where x is the compact saved input holding only the selected channels (dims {n, h, w, k}) and
// grad_out is the full output gradient (c_total channels). Terms in the order n, oy, ox from
// 0.0f, times s_x last. grad_w dims {1, kh, kw, k}. Uses grad->input_scale, grad->input_offset.
mt_status mt_dwconv2d_s8_grad_w(const mt_conv_params *params, const mt_grad_params *grad,
                                const mt_dims *input_dims, const int8_t *input,
                                const int32_t *channels, const mt_dims *filter_dims,
                                float *grad_w, const mt_dims *output_dims,
                                const mt_grad_src *grad_out);

#endif
