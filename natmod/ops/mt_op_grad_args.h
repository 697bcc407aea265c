// SPDX-License-Identifier: MIT
// Argument unpacking shared by the backward and update adapters (on top of mt_op_args.h).
// Conv-shaped backward ops take the forward's 20 args (conv params, input, filter and output
// dims) plus one: accumulate (grad_in) or the input scale as float32 bits (grad_w).
//
// A gradient tensor is one buffer (f32 ops: float32) or two (q8 ops: int8 values, then a
// float32 [1] per-tensor scale).
#ifndef MT_OP_GRAD_ARGS_H
#define MT_OP_GRAD_ARGS_H

#include "mt_op_args.h"
#include "../kernels/mt_grad.h"
#include "../kernels/mt_qas.h"

#define MT_OP_CONV_GRAD_ARGS (MT_OP_CONV_ARGS + 3 * MT_OP_DIMS_ARGS + 1)

// An optional buffer: length 0 means absent (NULL); otherwise it must hold `count` elements.
mt_status mt_op_optional_buf(const mt_buf *buf, int32_t count, size_t elem_size, void **data);

// A gradient tensor of `count` values from bufs[0] (and its scale from bufs[1] when q8).
mt_status mt_op_grad_src(const mt_buf *bufs, int q8, int32_t count, mt_grad_src *src);
mt_status mt_op_grad_dst(const mt_buf *bufs, int q8, int32_t count, mt_grad_dst *dst);

// lr, momentum (float32 bits) and qas, rounding: the four update args, in the order
// qas, rounding, lr, momentum.
mt_update_params mt_op_update_params(const int32_t *args);

// Momentum and master from bufs[0..2), each optional (empty: absent); no rng.
mt_status mt_op_master_state(const mt_buf *bufs, int32_t count, mt_update_state *state);

// Momentum, master and rng from bufs[0..3), each optional (empty: absent).
mt_status mt_op_update_state(const mt_buf *bufs, int32_t count, mt_update_state *state);

// conv2d / pwconv2d / dwconv2d grad_in and grad_w share one adapter body each; `kind` says
// which kernel and which channel rule applies.
typedef enum { MT_GRAD_CONV2D, MT_GRAD_PWCONV2D, MT_GRAD_DWCONV2D } mt_grad_kind;

// args: conv params (8), input dims, filter dims, output dims, accumulate
// bufs f32: filter_scale (f [c_out]), grad_in (f, written), filter (b), grad_out (f)
// bufs q8:  filter_scale, grad_in (b, written), grad_in_scale (f [1], written), filter,
//           grad_out (b), grad_out_scale (f [1]), and for conv2d / pwconv2d (not dwconv2d) a
//           scratch (b, written, 4-aligned, mt_conv_q8_grad_in_scratch bytes)
mt_status mt_op_call_conv_grad_in(mt_grad_kind kind, int q8, const int32_t *args,
                                  const mt_buf *bufs);

// args: conv params (8), input dims {n,h,w,k}, filter dims (c = k), output dims, input_scale
// bufs conv2d/pwconv2d: input (b, the k saved channels), grad_w (f, written), grad_out (f)
// bufs dwconv2d:        input (b), channels (i [k] or empty: first k), grad_w (f), grad_out (f)
mt_status mt_op_call_conv_grad_w(mt_grad_kind kind, const int32_t *args, const mt_buf *bufs);
// mt_pwconv2d_split_q8_grad_in: args as the q8 grad_in ops, then k; bufs as theirs, then
// learned (b [c_out * k]) and channels (i [k] or empty: the first k).
mt_status mt_op_call_pwconv2d_split_grad_in(const int32_t *args, const mt_buf *bufs);

// args: conv params (8), input dims {n,h,w,k}, filter dims (the whole weight tensor), output
//       dims, input_scale (float32 bits), qas, rounding, lr (float32 bits), momentum (bits)
// bufs: input (b), channels (i [k] or empty), weights (b, written), w_scale (f), grad_out (b),
//       grad_out_scale (f [1]), momentum (f or empty), master (f or empty), rng (i [1] or empty)
mt_status mt_op_call_conv_update(mt_grad_kind kind, const int32_t *args, const mt_buf *bufs);

// The conv-shaped view of a backward op's args, unpacked and counted (fc unpacks itself into it
// as a 1x1 conv), and the adapter bodies that take it. accumulate, input_scale_bits and
// tail_args (input_scale bits, qas, rounding, lr, momentum) are the args after the dims.
typedef struct {
    mt_conv_params params;
    mt_dims in, filter, out;
    int32_t in_count, out_count;
} mt_op_conv_grad_args;

mt_status mt_op_conv_grad_in(mt_grad_kind kind, int q8, const mt_op_conv_grad_args *a,
                             int32_t accumulate, const mt_buf *bufs);
mt_status mt_op_conv_grad_w(mt_grad_kind kind, const mt_op_conv_grad_args *a,
                            int32_t input_scale_bits, const mt_buf *bufs);
mt_status mt_op_conv_update(mt_grad_kind kind, const mt_op_conv_grad_args *a,
                            const int32_t *tail_args, const mt_buf *bufs);

#endif
