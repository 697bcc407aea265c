// SPDX-License-Identifier: MIT
#ifndef MT_CLAMPMASK_S8_FWD_H
#define MT_CLAMPMASK_S8_FWD_H

#include "mt_grad.h"

// The mask of a fused activation clamp, saved in the forward instead of the int8 output: a
// learn step keeps 1 bit per value of a layer's output for its activation gradient
// (mt_clampmask_grad_in) and lets the output itself die after its consumer (8x less memory
// held until the backward). Bit i (mask[i / 8], bit i % 8, least significant first) = 1 where
// the output lies strictly inside (act_min, act_max), i.e. where mt_clamp_s8_grad_in keeps the
// gradient. mask holds (count + 7) / 8 bytes; the unused bits of the last byte are 0.
mt_status mt_clampmask_s8_fwd(const mt_act_params *act, int32_t count, const int8_t *output,
                              uint8_t *mask);

#endif
