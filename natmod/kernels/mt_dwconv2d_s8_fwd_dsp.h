// SPDX-License-Identifier: MIT
// The Cortex-M DSP-extension path of mt_dwconv2d_s8_fwd (mt_dwconv2d_s8_fwd_dsp.c).
#ifndef MT_DWCONV2D_S8_FWD_DSP_H
#define MT_DWCONV2D_S8_FWD_DSP_H

#include "mt_types.h"

#if defined(__ARM_FEATURE_DSP)
// The layer's channels in groups of 4 (the same bytes as the portable loop), for filters of at
// most 49 taps (a 7x7 filter) and any shift, bias and clamp. Returns how many leading channels
// it computed (c rounded down to a multiple of 4; 0 for larger filters): the caller does the
// rest. The arguments are checked by the caller.
int32_t mt_dwconv2d_s8_fwd_dsp(const mt_conv_params *params, const mt_quant_params *quant,
                               const mt_dims *input_dims, const int8_t *input,
                               const mt_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias, const mt_dims *output_dims, int8_t *output);
#endif

#endif
