// SPDX-License-Identifier: MIT
// Argument unpacking shared by the backward and update adapters (on top of mt_op_args.h).
// Conv-shaped backward ops take the forward's 20 args (conv params, input, filter and output
// dims) plus one: accumulate (grad_in) or the input scale as float32 bits (grad_w).
#ifndef MT_OP_GRAD_ARGS_H
#define MT_OP_GRAD_ARGS_H

#include "mt_op_args.h"
#include "../kernels/mt_grad.h"

#define MT_OP_CONV_GRAD_ARGS (MT_OP_CONV_ARGS + 3 * MT_OP_DIMS_ARGS + 1)

// An optional buffer: length 0 means absent (NULL); otherwise it must hold `count` elements.
mt_status mt_op_optional_buf(const mt_buf *buf, int32_t count, size_t elem_size, void **data);

// conv2d / pwconv2d / dwconv2d grad_in and grad_w share one adapter body each; `kind` says
// which kernel and which channel rule applies.
typedef enum { MT_GRAD_CONV2D, MT_GRAD_PWCONV2D, MT_GRAD_DWCONV2D } mt_grad_kind;

// args: conv params (8), input dims, filter dims, output dims, accumulate
// bufs: filter_scale (f [c_out]), grad_in (f, written), filter (b), grad_out (f)
mt_status mt_op_call_conv_grad_in(mt_grad_kind kind, const int32_t *args, const mt_buf *bufs);

// args: conv params (8), input dims {n,h,w,k}, filter dims (c = k), output dims, input_scale
// bufs conv2d/pwconv2d: input (b, the k saved channels), grad_w (f, written), grad_out (f)
// bufs dwconv2d:        input (b), channels (i [k] or empty: first k), grad_w (f), grad_out (f)
mt_status mt_op_call_conv_grad_w(mt_grad_kind kind, const int32_t *args, const mt_buf *bufs);

#endif
