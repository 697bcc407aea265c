// SPDX-License-Identifier: MIT
#include "mt_op_adapters.h"
#include "mt_op_args.h"
#include "../kernels/mt_fc_s8_fwd.h"

// args: input_offset, output_offset, act_min, act_max,
//       input dims (4), filter dims (4), output dims (4)
// bufs: multiplier (i), shift (i), input (b), filter (b), bias (i), output (b, written)
mt_status mt_op_fc_s8_fwd(const int32_t *args, size_t n_args, const mt_buf *bufs,
                          size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    const mt_act_params act = mt_op_act_params(args);
    mt_op_layer l;
    mt_status st = mt_op_layer_unpack(args + MT_OP_ACT_ARGS, bufs, &l);
    if (st != MT_OK) {
        return st;
    }
    return mt_fc_s8_fwd(&act, &l.quant, &l.in, l.input, &l.filter, l.weights, l.bias, &l.out,
                        l.output);
}
