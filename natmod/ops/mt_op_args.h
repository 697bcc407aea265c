// SPDX-License-Identifier: MIT
// Unpacking of the flat int32 argument lists shared by the op adapters, and the buffer checks
// every adapter makes before it calls a kernel. The argument groups (docs/kernels.md):
//   dims         4 args: n, h, w, c
//   act params   4 args: input_offset, output_offset, act_min, act_max
//   conv params  8 args: stride_h, stride_w, pad_h, pad_w, then act params
#ifndef MT_OP_ARGS_H
#define MT_OP_ARGS_H

#include "mt_ops.h"
#include "../kernels/mt_types.h"

#define MT_OP_DIMS_ARGS 4
#define MT_OP_ACT_ARGS 4
#define MT_OP_CONV_ARGS 8

mt_dims mt_op_dims(const int32_t *args);
mt_act_params mt_op_act_params(const int32_t *args);
mt_conv_params mt_op_conv_params(const int32_t *args);

// float32 argument from its IEEE-754 bits.
float mt_op_float(int32_t bits);

// The buffer holds at least `count` elements of `elem_size` bytes and is aligned to elem_size
// (a word load from an odd address faults on Cortex-M0).
mt_status mt_op_check_buf(const mt_buf *buf, int32_t count, size_t elem_size);

// As mt_op_check_buf, for a tensor of `dims` (which must be valid: positive, count fits int32).
mt_status mt_op_check_tensor(const mt_buf *buf, const mt_dims *dims, size_t elem_size);

// The dims and buffers of a forward layer (conv-shaped or fc). dims_args: input, filter and
// output dims (12 args); bufs: multiplier (int32 [c_out]), shift (int32 [c_out]), input,
// filter, bias (int32 [c_out]), output, with c_out the output's channel count.
typedef struct {
    mt_dims in, filter, out;
    mt_quant_params quant;
    const int8_t *input, *weights;
    const int32_t *bias;
    int8_t *output;
} mt_op_layer;

mt_status mt_op_layer_unpack(const int32_t *dims_args, const mt_buf *bufs, mt_op_layer *layer);

// Every conv-shaped kernel (conv2d, pwconv2d, dwconv2d) has this signature.
typedef mt_status (*mt_conv_kernel)(const mt_conv_params *params, const mt_quant_params *quant,
                                    const mt_dims *input_dims, const int8_t *input,
                                    const mt_dims *filter_dims, const int8_t *filter,
                                    const int32_t *bias, const mt_dims *output_dims,
                                    int8_t *output);

// The adapter of a conv-shaped kernel. args: conv params (8), then the layer's dims; bufs: the
// layer's (mt_op_layer_unpack).
mt_status mt_op_call_conv(mt_conv_kernel kernel, const int32_t *args, const mt_buf *bufs);

#endif
