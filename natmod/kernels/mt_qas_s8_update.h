// SPDX-License-Identifier: MIT
#ifndef MT_QAS_S8_UPDATE_H
#define MT_QAS_S8_UPDATE_H

#include "mt_qas.h"

// Which weights a compact weight gradient belongs to. The weights are viewed as
// [outer][inner][c_total] (conv: c_out, kh*kw, c_in; fc and pwconv: c_out, 1, c_in;
// depthwise: 1, kh*kw, c) and the gradient as [outer][inner][k] over the k selected input
// channels channels[0..k) (NULL: the first k). The scale of an element is s_w[outer index], or
// s_w[channel] when scale_on_channel is 1 (depthwise, where the channel is the output channel).
typedef struct {
    int32_t outer, inner, c_total, k;
    int32_t scale_on_channel;
    const int32_t *channels;
} mt_qas_layout;

// SGD step with QAS on int8 weights in place, for the selected channels only (see mt_qas.h for
// the arithmetic). Elements are visited in gradient order (outer, inner, j); the momentum and
// master state and the stochastic-rounding draws follow that order. scale has outer entries
// (c_total when scale_on_channel).
mt_status mt_qas_s8_update(const mt_update_params *params, const mt_qas_layout *layout,
                           int8_t *weights, const float *grad, const float *scale,
                           const mt_update_state *state);

// Check a layout: positive sizes, k <= c_total, channels in range, element count in int32.
mt_status mt_qas_layout_check(const mt_qas_layout *layout);

// mt_qas_layout_check, then mt_qas_check_scales over the layout's scales.
mt_status mt_qas_s8_check(const mt_update_params *params, const mt_qas_layout *layout,
                          const float *scale, const mt_update_state *state);

#endif
