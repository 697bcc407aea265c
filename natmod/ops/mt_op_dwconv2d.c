// SPDX-License-Identifier: MIT
#include "mt_op_adapters.h"
#include "mt_op_args.h"
#include "../kernels/mt_dwconv2d_s8_fwd.h"

// args: stride_h, stride_w, pad_h, pad_w, input_offset, output_offset, act_min, act_max,
//       input dims (4), filter dims (4), output dims (4)
// bufs: multiplier (i), shift (i), input (b), filter (b), bias (i), output (b, written)
mt_status mt_op_dwconv2d_s8_fwd(const int32_t *args, size_t n_args, const mt_buf *bufs,
                             size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    return mt_op_call_conv(mt_dwconv2d_s8_fwd, args, bufs);
}
