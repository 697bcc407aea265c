// SPDX-License-Identifier: MIT
#include "mt_op_adapters.h"
#include "mt_op_args.h"
#include "../kernels/mt_dequant_s8_f32.h"

// args: input_offset, scale (float32 bits), dims (4)
// bufs: input (b), output (f, written); both have `dims`
mt_status mt_op_dequant_s8_f32(const int32_t *args, size_t n_args, const mt_buf *bufs,
                               size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    const mt_dequant_params params = {args[0], mt_op_float(args[1])};
    const mt_dims dims = mt_op_dims(args + 2);
    mt_status st;
    if ((st = mt_op_check_tensor(&bufs[0], &dims, 1)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[1], &dims, 4)) != MT_OK) {
        return st;
    }
    return mt_dequant_s8_f32(&params, &dims, (const int8_t *)bufs[0].data,
                             (float *)bufs[1].data);
}
