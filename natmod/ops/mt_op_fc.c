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
    const int32_t *dims_args = args + MT_OP_ACT_ARGS;
    const mt_dims in = mt_op_dims(dims_args);
    const mt_dims filter = mt_op_dims(dims_args + MT_OP_DIMS_ARGS);
    const mt_dims out = mt_op_dims(dims_args + 2 * MT_OP_DIMS_ARGS);
    mt_status st;
    if ((st = mt_op_check_tensor(&bufs[2], &in, 1)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[3], &filter, 1)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[5], &out, 1)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[0], out.c, 4)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[1], out.c, 4)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[4], out.c, 4)) != MT_OK) {
        return st;
    }
    const mt_quant_params quant = {(const int32_t *)bufs[0].data, (const int32_t *)bufs[1].data};
    return mt_fc_s8_fwd(&act, &quant, &in, (const int8_t *)bufs[2].data, &filter,
                        (const int8_t *)bufs[3].data, (const int32_t *)bufs[4].data, &out,
                        (int8_t *)bufs[5].data);
}
