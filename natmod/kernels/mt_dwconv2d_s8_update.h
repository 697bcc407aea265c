// SPDX-License-Identifier: MIT
#ifndef MT_DWCONV2D_S8_UPDATE_H
#define MT_DWCONV2D_S8_UPDATE_H

#include "mt_grad.h"
#include "mt_qas.h"

// Weight gradient and QAS update fused for the k selected channels of an int8 depthwise conv
// (the same channels in and out): mt_dwconv2d_s8_grad_w then mt_qas_s8_update (scale on the
// channel) bit for bit, in element order (ky, kx, j), with no weight-gradient buffer.
// input dims {n, h, w, k}; filter dims {1, kh, kw, c}: the whole tensor, updated in place;
// w_scale [c]; output dims {n, out_h, out_w, c}.
mt_status mt_dwconv2d_s8_update(const mt_conv_params *params, const mt_grad_params *grad,
                                const mt_dims *input_dims, const int8_t *input,
                                const int32_t *channels, const mt_dims *filter_dims,
                                int8_t *weights, const float *w_scale,
                                const mt_update_params *update, const mt_update_state *state,
                                const mt_dims *output_dims, const mt_grad_src *grad_out);

#endif
