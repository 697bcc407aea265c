// SPDX-License-Identifier: MIT
#include "mt_op_adapters.h"
#include "mt_op_grad_args.h"

// args: stride_h, stride_w, pad_h, pad_w, input_offset, output_offset, act_min, act_max,
//       input dims (4), filter dims (4), output dims (4), accumulate (0 or 1)
// bufs: filter_scale (f [c_out]), grad_in (f, written), filter (b), grad_out (f)
mt_status mt_op_dwconv2d_s8_grad_in(const int32_t *args, size_t n_args, const mt_buf *bufs,
                                    size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    return mt_op_call_conv_grad_in(MT_GRAD_DWCONV2D, args, bufs);
}

// args: as grad_in, but input dims {n, h, w, k} and filter dims with c = k (the k selected
//       input channels), and input_scale (float32 bits) last; input_offset is the input's
// bufs: input (b), channels (i [k] or empty: the first k), grad_w (f, written),
//       grad_out (f)
mt_status mt_op_dwconv2d_s8_grad_w(const int32_t *args, size_t n_args, const mt_buf *bufs,
                                   size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    return mt_op_call_conv_grad_w(MT_GRAD_DWCONV2D, args, bufs);
}
