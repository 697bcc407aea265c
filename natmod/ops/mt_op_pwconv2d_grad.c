// SPDX-License-Identifier: MIT
#include "mt_op_adapters.h"
#include "mt_op_grad_args.h"

// args: stride_h, stride_w, pad_h, pad_w, input_offset, output_offset, act_min, act_max,
//       input dims (4), filter dims (4), output dims (4), accumulate (0 or 1)
// bufs: filter_scale (f [c_out]), grad_in (f, written), filter (b), grad_out (f)
MT_OP_ADAPTER(mt_op_pwconv2d_s8_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return mt_op_call_conv_grad_in(MT_GRAD_PWCONV2D, 0, args, bufs);
}

// args: as mt_pwconv2d_s8_grad_in
// bufs: filter_scale (f [c_out]), grad_in (b, written), grad_in_scale (f [1], written),
//       filter (b), grad_out (b), grad_out_scale (f [1]), scratch (b, written, 4-aligned,
//       mt_conv_q8_grad_in_scratch bytes)
MT_OP_ADAPTER(mt_op_pwconv2d_q8_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return mt_op_call_conv_grad_in(MT_GRAD_PWCONV2D, 1, args, bufs);
}

// args: as grad_in, but input dims {n, h, w, k} and filter dims with c = k (the k selected
//       input channels), and input_scale (float32 bits) last; input_offset is the input's
// bufs: input (b), grad_w (f, written), grad_out (f)
MT_OP_ADAPTER(mt_op_pwconv2d_s8_grad_w) {
    (void)n_args;
    (void)n_bufs;
    return mt_op_call_conv_grad_w(MT_GRAD_PWCONV2D, args, bufs);
}

// Weight gradient and QAS update fused (int8 gradient at the output).
// args: conv params (8), input dims {n, h, w, k}, filter dims (the whole weight tensor),
//       output dims, input_scale (float32 bits), qas (0/1), rounding (mt_rounding),
//       lr (float32 bits), momentum (float32 bits)
// bufs: input (b, the k saved channels), channels (i [k] or empty: the first k),
//       weights (b, written), w_scale (f), grad_out (b), grad_out_scale (f [1]),
//       momentum (f or empty, written), master (f or empty, written), rng (i [1] or empty)
MT_OP_ADAPTER(mt_op_pwconv2d_q8_update) {
    (void)n_args;
    (void)n_bufs;
    return mt_op_call_conv_update(MT_GRAD_PWCONV2D, args, bufs);
}
