// SPDX-License-Identifier: MIT
#include "mt_op_adapters.h"
#include "mt_op_args.h"
#include "../kernels/mt_quant_f32_s8.h"

// args: output_offset (zero point), inverse scale (float32 bits), dims (4)
// bufs: input (f), output (b, written); both have `dims`
mt_status mt_op_quant_f32_s8(const int32_t *args, size_t n_args, const mt_buf *bufs,
                             size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    const mt_quant_params_f32 params = {args[0], mt_op_float(args[1])};
    const mt_dims dims = mt_op_dims(args + 2);
    mt_status st;
    if ((st = mt_op_check_tensor(&bufs[0], &dims, 4)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[1], &dims, 1)) != MT_OK) {
        return st;
    }
    return mt_quant_f32_s8(&params, &dims, (const float *)bufs[0].data, (int8_t *)bufs[1].data);
}
