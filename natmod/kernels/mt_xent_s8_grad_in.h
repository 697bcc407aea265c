// SPDX-License-Identifier: MIT
#ifndef MT_XENT_S8_GRAD_IN_H
#define MT_XENT_S8_GRAD_IN_H

#include "mt_grad.h"
#include "mt_loss.h"

// Softmax cross-entropy with integer labels, on int8 logits. Per sample, in this order:
//   z_i = s * (float)(q_i - zp); m = s * (float)(max q - zp); e_i = mt_expf(z_i - m)
//   sum = e_0 + e_1 + ... (in class order); loss_b = mt_logf(sum) - (z_label - m)
//   grad_i = (e_i / sum - [i == label]) / (float)n
// loss = (loss_0 + loss_1 + ...) / (float)n, the batch mean. grad holds n*c values.
// Labels outside [0, c) give MT_ERR_PARAM.
mt_status mt_xent_s8_grad_in(const mt_loss_params *params, const int8_t *logits,
                             const int32_t *labels, float *loss, const mt_grad_dst *grad);

#endif
