// SPDX-License-Identifier: MIT
#ifndef MT_BIAS_S32_UPDATE_H
#define MT_BIAS_S32_UPDATE_H

#include "mt_grad.h"
#include "mt_qas.h"

// Bias gradient and QAS update fused: mt_bias_f32_grad_b then mt_qas_s32_update bit for bit,
// channel by channel, with no gradient buffer. bias_scale[c] = s_x * s_w[c].
mt_status mt_bias_s32_update(const mt_update_params *update, const mt_dims *output_dims,
                             int32_t *bias, const float *bias_scale,
                             const mt_update_state *state, const mt_grad_src *grad_out);

#endif
