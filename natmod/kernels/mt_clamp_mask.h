// SPDX-License-Identifier: MIT
#ifndef MT_CLAMP_MASK_H
#define MT_CLAMP_MASK_H

#include "mt_grad.h"

// The clamp of mt_clamp_s8_grad_in from a saved bit mask instead of the saved int8 output:
// a learn step keeps 1 bit per value of a layer's output for its activation gradient and may
// let the output itself die after the forward (8x less memory held until the backward).
//
// mt_clamp_mask_pack: bit i (mask[i / 8], bit i % 8, least significant first) = 1 where the
// output lies strictly inside (act_min, act_max), i.e. where mt_clamp_s8_grad_in keeps the
// gradient. mask holds (count + 7) / 8 bytes; the unused bits of the last byte are 0.
mt_status mt_clamp_mask_pack(const mt_act_params *act, int32_t count, const int8_t *output,
                             uint8_t *mask);

// grad[i] = 0 where bit i of mask is 0, in place (an int8 gradient keeps its scale): the same
// bytes as mt_clamp_s8_grad_in on the output the mask was packed from.
mt_status mt_clamp_mask_grad_in(int32_t count, const uint8_t *mask, const mt_grad_dst *grad);

#endif
