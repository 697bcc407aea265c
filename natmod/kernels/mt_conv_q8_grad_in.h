// SPDX-License-Identifier: MIT
// Gradient w.r.t. the input of the int8 convs with int8 gradients (the "q8" grad_in ops), summed
// in integers: exact, so any order (and the DSP fast path) gives the same bits, and the numpy
// reference (microtrain_tools.reference.grad_in_q8) agrees bit for bit. docs/numerics.md has
// the numerics and their error bound.
//
// conv2d, pwconv2d, fc (a 1x1 conv on a 1x1 image), filter {c_out, kh, kw, c_in}:
//   T = c_out * kh * kw; M = the largest power of two <= 256 with T * 128 * 128 * M < 2^31
//   (none: MT_ERR_SHAPE); s_max = max s_w; f = (float)M / s_max; m[o] = (int32)(s_w[o] * f + 0.5f)
//   acc[n,iy,ix,i] = sum over valid (ky, kx, o) of (q[n,oy,ox,o] * m[o]) * W[o,ky,kx,i]  (int32)
//   v = (float)acc * c,  c = s_g * (s_max / (float)M)
// dwconv2d, filter {1, kh, kw, c}:
//   acc[n,iy,ix,c] = sum over valid (ky, kx) of q[n,oy,ox,c] * W[0,ky,kx,c]  (int32)
//   v = (float)acc * (s_g * s_w[c])
// with iy = oy*stride_h - pad_h + ky (same for x). Then, as every int8 gradient (mt_grad.h):
// accumulate: v = old_scale * q_old + v; two passes, the largest |v| first, then the values.
// grad_in and grad_out must be int8 (q set); s_w[o] finite and > 0 (MT_ERR_PARAM otherwise).
#ifndef MT_CONV_Q8_GRAD_IN_H
#define MT_CONV_Q8_GRAD_IN_H

#include "mt_grad.h"

// The scratch bytes mt_conv_q8_grad_in needs for filter {c_out, kh, kw, c_in}, written to
// *bytes: int16 q*m and int16 m (c_out rounded up to even each), then, when kh * kw > 1, an
// int32 sum per input channel: 4 * (c_out + c_out % 2) + (kh * kw > 1 ? 4 * c_in : 0).
// MT_ERR_SIZE if that does not fit an int32.
mt_status mt_conv_q8_grad_in_scratch(const mt_dims *filter_dims, int32_t *bytes);

// conv2d / pwconv2d / fc. scratch: 4-byte aligned, at least mt_conv_q8_grad_in_scratch bytes
// (MT_ERR_BUFFER_SIZE otherwise, before anything is written; every build, with or without the
// DSP path, needs the same). Its first mt_conv_q8_grad_in_scratch bytes are left zero.
mt_status mt_conv_q8_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                             const mt_dims *input_dims, const mt_grad_dst *grad_in,
                             const mt_dims *filter_dims, const int8_t *filter,
                             const mt_dims *output_dims, const mt_grad_src *grad_out,
                             void *scratch, size_t scratch_len);

// pwconv2d of a layer that learns k input channels (mt_pwconv2d_split_s8_fwd.h): column
// channels[j] (strictly increasing; NULL: the first k) of the frozen filter is replaced by
// learned[o * k + j]. Same bytes as mt_conv_q8_grad_in on the merged filter, without a copy of
// it: runs of frozen and of learned columns are summed from where they live. Scratch: as
// mt_conv_q8_grad_in's.
mt_status mt_pwconv2d_split_q8_grad_in(const mt_conv_params *params, const mt_grad_params *grad,
                                       const mt_dims *input_dims, const mt_grad_dst *grad_in,
                                       const mt_dims *filter_dims, const int8_t *filter,
                                       const int8_t *learned, const int32_t *channels,
                                       int32_t k, const mt_dims *output_dims,
                                       const mt_grad_src *grad_out, void *scratch,
                                       size_t scratch_len);
// dwconv2d: mt_dwconv2d_q8_grad_in.h (no scratch).

#endif
