// SPDX-License-Identifier: MIT
#ifndef MT_MSE_S8_GRAD_IN_H
#define MT_MSE_S8_GRAD_IN_H

#include "mt_grad.h"
#include "mt_loss.h"

// Mean squared error of int8 outputs against float32 targets, over all n*c values:
//   d_i = s * (float)(q_i - zp) - t_i;  loss = (d_0*d_0 + d_1*d_1 + ...) / (float)(n*c)
//   grad_i = d_i * (2.0f / (float)(n*c))
// A NaN or infinite target: MT_ERR_NOT_FINITE, before anything is written.
mt_status mt_mse_s8_grad_in(const mt_loss_params *params, const int8_t *outputs,
                            const float *targets, float *loss, const mt_grad_dst *grad);

#endif
