// SPDX-License-Identifier: MIT
#include "mt_op_adapters.h"
#include "mt_op_args.h"
#include "../kernels/mt_add_s8_fwd.h"

// args: input1_offset, input1_multiplier, input1_shift, input2_offset, input2_multiplier,
//       input2_shift, output_multiplier, output_shift, output_offset, act_min, act_max, dims (4)
// bufs: input1 (b), input2 (b), output (b, written); all three have `dims`
mt_status mt_op_add_s8_fwd(const int32_t *args, size_t n_args, const mt_buf *bufs,
                           size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    const mt_add_params params = {
        {args[0], args[1], args[2]}, {args[3], args[4], args[5]}, args[6], args[7], args[8],
        args[9], args[10],
    };
    const mt_dims dims = mt_op_dims(args + 11);
    mt_status st;
    for (int i = 0; i < 3; i++) {
        if ((st = mt_op_check_tensor(&bufs[i], &dims, 1)) != MT_OK) {
            return st;
        }
    }
    return mt_add_s8_fwd(&params, &dims, (const int8_t *)bufs[0].data,
                         (const int8_t *)bufs[1].data, (int8_t *)bufs[2].data);
}
