// SPDX-License-Identifier: MIT
// Checks every kernel makes before it touches a byte: dims are positive and their element count
// fits int32 (so int32 indexing cannot overflow), conv output dims follow from the input, and
// quantization parameters are in the ranges the integer arithmetic is exact for.
#ifndef MT_CHECK_H
#define MT_CHECK_H

#include <stdint.h>

#include "mt_types.h"

// Largest number of int8 products one int32 accumulator may sum: 2^16 * 128 * 255 < 2^31.
#define MT_MAX_ACC_TERMS 65536

// n * h * w * c, each >= 1 and the product <= INT32_MAX; MT_ERR_SHAPE otherwise.
mt_status mt_dims_count(const mt_dims *d, int32_t *count);

// mt_dims_count of a layer's input, filter and output dims, in that order.
mt_status mt_layer_dims_check(const mt_dims *input_dims, const mt_dims *filter_dims,
                              const mt_dims *output_dims);

// One spatial axis of a conv: 0 <= pad < k, stride >= 1, and `out` is what TFLite's SAME or VALID
// padding (or any explicit padding below k) gives: every window overlaps the input and one more
// output would need more than k - 1 rows of bottom padding.
mt_status mt_conv_axis_check(int32_t in, int32_t k, int32_t stride, int32_t pad, int32_t out);

// The dims of a conv (plain, pointwise or depthwise): mt_layer_dims_check, batch agrees, and both
// spatial axes pass mt_conv_axis_check. Channel rules are the caller's (they differ per kind).
mt_status mt_conv_dims_check(const mt_conv_params *params, const mt_dims *input_dims,
                             const mt_dims *filter_dims, const mt_dims *output_dims);

// A depthwise conv's dims: mt_conv_dims_check, and filter {1, kh, kw, c} with c the input's and
// the output's channels (MT_ERR_SHAPE otherwise).
mt_status mt_dwconv_dims_check(const mt_conv_params *params, const mt_dims *input_dims,
                               const mt_dims *filter_dims, const mt_dims *output_dims);

// input_offset in [-127, 128] (a zero point in int8), output_offset in [-128, 127] and
// -128 <= act_min <= act_max <= 127.
mt_status mt_act_check(const mt_act_params *act);

// 1 if none of the `count` floats is NaN or infinite (exponent bits all ones), else 0.
int mt_all_finite(const float *values, int32_t count);

// A global pool's dims: valid counts, output (n, 1, 1, c) of input (n, h, w, c), and a window
// h * w of at most max_window (its sum must fit int32); *window = h * w.
mt_status mt_global_pool_dims_check(const mt_dims *input_dims, const mt_dims *output_dims,
                                    int32_t max_window, int32_t *window);

// Every per-channel shift within [MT_SHIFT_MIN, MT_SHIFT_MAX].
mt_status mt_quant_check(const mt_quant_params *quant, int32_t channels);

#endif
