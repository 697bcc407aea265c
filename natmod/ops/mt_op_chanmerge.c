// SPDX-License-Identifier: MIT
#include "mt_op_adapters.h"
#include "mt_op_grad_args.h"
#include "../kernels/mt_chanmerge_s8_fwd.h"

// args: dims (4) of the whole tensor, k
// bufs: base (b [n*h*w*c]), compact (b [n*h*w*k]), channels (i [k] or empty: the first k),
//       output (b [n*h*w*c], written)
mt_status mt_op_chanmerge_s8_fwd(const int32_t *args, size_t n_args, const mt_buf *bufs,
                                 size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    const mt_dims dims = mt_op_dims(args);
    const int32_t k = args[4];
    if (k < 1 || k > dims.c) {
        return MT_ERR_PARAM;
    }
    const mt_dims compact = {dims.n, dims.h, dims.w, k};
    void *channels;
    mt_status st;
    if ((st = mt_op_check_tensor(&bufs[0], &dims, 1)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[1], &compact, 1)) != MT_OK ||
        (st = mt_op_optional_buf(&bufs[2], k, 4, &channels)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[3], &dims, 1)) != MT_OK) {
        return st;
    }
    return mt_chanmerge_s8_fwd(&dims, (const int8_t *)bufs[0].data, (const int8_t *)bufs[1].data,
                               (const int32_t *)channels, k, (int8_t *)bufs[3].data);
}
