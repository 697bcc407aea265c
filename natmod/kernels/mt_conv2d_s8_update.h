// SPDX-License-Identifier: MIT
#ifndef MT_CONV2D_S8_UPDATE_H
#define MT_CONV2D_S8_UPDATE_H

#include "mt_grad.h"
#include "mt_qas.h"

// Weight gradient and QAS update fused, for the k selected input channels of an int8 conv2d
// (groups = 1; pwconv2d and fc are the 1x1 case): each weight's dL/dW is computed exactly as
// mt_conv2d_s8_grad_w does and applied at once as mt_qas_s8_update does, in the same element
// order (co, ky, kx, j), so the result equals grad_w followed by the update bit for bit but no
// weight-gradient buffer exists (the paper's operator reordering, taken down to one weight).
// input dims {n, h, w, k}: the saved channels; filter dims {c_out, kh, kw, c_in}: the whole
// weight tensor, updated in place at channels[j] (NULL: the first k). w_scale [c_out].
mt_status mt_conv2d_s8_update(const mt_conv_params *params, const mt_grad_params *grad,
                              const mt_dims *input_dims, const int8_t *input,
                              const int32_t *channels, const mt_dims *filter_dims,
                              int8_t *weights, const float *w_scale,
                              const mt_update_params *update, const mt_update_state *state,
                              const mt_dims *output_dims, const mt_grad_src *grad_out);

#endif
