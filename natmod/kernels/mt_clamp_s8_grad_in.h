// SPDX-License-Identifier: MIT
#ifndef MT_CLAMP_S8_GRAD_IN_H
#define MT_CLAMP_S8_GRAD_IN_H

#include "mt_grad.h"

// The gradient through a fused activation clamp (ReLU, ReLU6, or int8 saturation), in place:
// grad[i] = 0 where the saved int8 output sits on a bound (output <= act_min or >= act_max),
// because there the forward clamped it (or sat exactly on the kink, where we take the
// derivative as 0). The mask comes from the output the forward saved anyway, so no mask buffer.
// An int8 gradient keeps its scale.
mt_status mt_clamp_s8_grad_in(const mt_act_params *act, int32_t count, const int8_t *output,
                              const mt_grad_dst *grad);

#endif
