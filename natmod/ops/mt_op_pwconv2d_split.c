// SPDX-License-Identifier: MIT
// A pointwise layer that learns k of its input channels, run from its frozen filter (flash) and
// the learned columns (RAM) without a whole copy of the filter (mt_pwconv2d_split_s8_fwd.h).
#include "mt_op_adapters.h"
#include "mt_op_grad_args.h"
#include "../kernels/mt_pwconv2d_split_s8_fwd.h"

// args: as mt_pwconv2d_s8_fwd (conv params, input, filter and output dims), then k
// bufs: multiplier (i), shift (i), input (b), filter (b), bias (i), output (b, written),
//       learned (b [c_out * k]), channels (i [k] or empty: the first k),
//       scratch (b, written, at least mt_pwconv2d_split_scratch_min bytes)
MT_OP_ADAPTER(mt_op_pwconv2d_split_s8_fwd) {
    (void)n_args;
    (void)n_bufs;
    const mt_conv_params params = mt_op_conv_params(args);
    const int32_t k = args[MT_OP_CONV_ARGS + 3 * MT_OP_DIMS_ARGS];
    mt_op_layer l;
    mt_status st = mt_op_layer_unpack(args + MT_OP_CONV_ARGS, bufs, &l);
    if (st != MT_OK) {
        return st;
    }
    if (k < 1 || k > l.filter.c) {
        return MT_ERR_PARAM;
    }
    const mt_dims learned = {l.filter.n, 1, 1, k};
    int32_t need;
    void *channels;
    if ((st = mt_op_check_tensor(&bufs[6], &learned, 1)) != MT_OK ||
        (st = mt_op_optional_buf(&bufs[7], k, 4, &channels)) != MT_OK ||
        (st = mt_pwconv2d_split_scratch_min(&l.filter, &l.out, &need)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[8], need, 1)) != MT_OK) {
        return st;
    }
    return mt_pwconv2d_split_s8_fwd(&params, &l.quant, &l.in, l.input, &l.filter, l.weights,
                                    (const int8_t *)bufs[6].data, (const int32_t *)channels, k,
                                    l.bias, &l.out, l.output, (int8_t *)bufs[8].data,
                                    bufs[8].len);
}

// args: as mt_pwconv2d_q8_grad_in (conv params, dims, accumulate), then k
// bufs: as mt_pwconv2d_q8_grad_in (the same scratch), then
//       learned (b [c_out * k]) and channels (i [k] or empty: the first k)
MT_OP_ADAPTER(mt_op_pwconv2d_split_q8_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return mt_op_call_pwconv2d_split_grad_in(args, bufs);
}
