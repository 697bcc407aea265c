// SPDX-License-Identifier: MIT
#include "mt_op_adapters.h"
#include "mt_op_args.h"
#include "../kernels/mt_mean_s8_fwd.h"

// args: input_offset, output_offset, act_min, act_max, multiplier, shift, input dims (4),
//       output dims (4)
// bufs: input (b), output (b, written)
mt_status mt_op_mean_s8_fwd(const int32_t *args, size_t n_args, const mt_buf *bufs,
                            size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    const mt_act_params act = mt_op_act_params(args);
    const mt_dims in = mt_op_dims(args + MT_OP_ACT_ARGS + 2);
    const mt_dims out = mt_op_dims(args + MT_OP_ACT_ARGS + 2 + MT_OP_DIMS_ARGS);
    mt_status st;
    if ((st = mt_op_check_tensor(&bufs[0], &in, 1)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[1], &out, 1)) != MT_OK) {
        return st;
    }
    return mt_mean_s8_fwd(&act, args[MT_OP_ACT_ARGS], args[MT_OP_ACT_ARGS + 1], &in,
                          (const int8_t *)bufs[0].data, &out, (int8_t *)bufs[1].data);
}
