// SPDX-License-Identifier: MIT
// The fused weight gradient and QAS update of the q8 conv-shaped ops (conv2d, pwconv2d, fc,
// dwconv2d), with integer gradient sums:
//     acc = sum over the valid output pixels (n, oy, ox) of q[n,oy,ox,o] * (x[n,iy,ix,j] + offset)
// exact in int32 (so any order, and SIMD, gives the same bits), then
//     grad = (float)acc * (s_g * s_x)      (s_g * s_x rounded to float32 once per call)
// and the QAS element update of mt_qas.h, unchanged, element by element in the order
// (outer, ky, kx, j) of mt_qas_s8_update. docs/numerics.md has the whole statement. An fc
// up to batch 8 sums row by row directly (mt_qas_q8_row_products), with the same bits.
#ifndef MT_CONV_Q8_UPDATE_H
#define MT_CONV_Q8_UPDATE_H

#include "mt_grad.h"
#include "mt_qas_s8_update.h"

// The most output pixels (n * out_h * out_w) a sum may have: each term is at most
// 128 * 255 = 32640 in magnitude, and 32640 * 65793 = 2^31 - 128 still fits int32.
#define MT_UPDATE_MAX_PIXELS 65793

// layout {c_out, kh*kw, c_in, k, 0, channels} (conv) or {1, kh*kw, c, k, 1, channels}
// (depthwise: grad_out is read at the element's channel). grad_out must be int8 (q8);
// MT_ERR_ARGS for a float32 one, MT_ERR_SIZE for more than MT_UPDATE_MAX_PIXELS pixels, both
// before a weight is touched. Conv dims already checked.
mt_status mt_conv_q8_update(const mt_conv_params *params, const mt_grad_params *grad,
                            const mt_dims *input_dims, const int8_t *input,
                            const mt_qas_layout *layout, const mt_dims *filter_dims,
                            int8_t *weights, const float *w_scale,
                            const mt_update_params *update, const mt_update_state *state,
                            const mt_dims *output_dims, const mt_grad_src *grad_out);

#endif
