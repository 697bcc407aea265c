// SPDX-License-Identifier: MIT
#ifndef MT_BIAS_S32_UPDATE_H
#define MT_BIAS_S32_UPDATE_H

#include "mt_grad.h"
#include "mt_qas.h"

// The most output pixels (n * h * w) a bias sum may have: |q| <= 128, and 128 * 16777215 fits
// int32.
#define MT_BIAS_MAX_PIXELS 16777215

// Bias gradient and QAS update fused, channel by channel, with no gradient buffer:
//     acc[c] = sum over the pixels of q[..., c]   (exact int32, any order)
//     grad = (float)acc[c] * s_g                   (grad_out's scale)
// then the QAS element update of mt_qas.h (mt_qas_s32_update's), element c. grad_out must be
// int8 (MT_ERR_ARGS otherwise); more than MT_BIAS_MAX_PIXELS pixels: MT_ERR_SIZE, before a bias
// is touched. bias_scale[c] = s_x * s_w[c].
mt_status mt_bias_s32_update(const mt_update_params *update, const mt_dims *output_dims,
                             int32_t *bias, const float *bias_scale,
                             const mt_update_state *state, const mt_grad_src *grad_out);

#endif
