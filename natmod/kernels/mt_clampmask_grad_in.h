// SPDX-License-Identifier: MIT
#ifndef MT_CLAMPMASK_GRAD_IN_H
#define MT_CLAMPMASK_GRAD_IN_H

#include "mt_grad.h"

// grad[i] = 0 where bit i of mask (from mt_clampmask_s8_fwd) is 0, in place (an int8 gradient
// keeps its scale): the same bytes as mt_clamp_s8_grad_in on the output the mask was made from.
mt_status mt_clampmask_grad_in(int32_t count, const uint8_t *mask, const mt_grad_dst *grad);

#endif
