// SPDX-License-Identifier: MIT
#ifndef MT_PWCONV2D_SPLIT_S8_FWD_H
#define MT_PWCONV2D_SPLIT_S8_FWD_H
#include <stddef.h>
#include "mt_types.h"
// mt_pwconv2d_s8_fwd of a layer that learns k of its input channels, without a whole copy of
// its weight in RAM: row o of the filter is the frozen row filter[o] (flash) with channel
// channels[j] taken from learned[o * k + j] (RAM). Same dims and bytes as mt_pwconv2d_s8_fwd on
// the merged filter (mt_chanmerge_s8_fwd): each output channel depends only on its own row, so
// the kernel merges a group of rows into the scratch, runs mt_pwconv2d_s8_fwd on them into the
// scratch and copies that group's channels out.
//
// channels: k strictly increasing input channels (NULL: the first k). scratch: at least
// mt_pwconv2d_split_scratch_min bytes (more: larger groups, fewer calls); left zero.
// Not in place: every group reads the whole input (output must not overlap it).
mt_status mt_pwconv2d_split_s8_fwd(const mt_conv_params *params, const mt_quant_params *quant,
                                   const mt_dims *input_dims, const int8_t *input,
                                   const mt_dims *filter_dims, const int8_t *filter,
                                   const int8_t *learned, const int32_t *channels, int32_t k,
                                   const int32_t *bias, const mt_dims *output_dims,
                                   int8_t *output, int8_t *scratch, size_t scratch_len);
// The bytes of one row group: a merged filter row (c_in) and its output channel (n*h*w of the
// output). MT_ERR_SHAPE if that does not fit an int32.
mt_status mt_pwconv2d_split_scratch_min(const mt_dims *filter_dims, const mt_dims *output_dims,
                                        int32_t *bytes);
// The k learned channels are strictly increasing and below c (or NULL); MT_ERR_PARAM if not.
mt_status mt_learned_channels_check(const int32_t *channels, int32_t k, int32_t c);
#endif
