// SPDX-License-Identifier: MIT
#include "mt_op_adapters.h"
#include "mt_op_grad_args.h"
#include "../kernels/mt_chansel_s8_fwd.h"

// args: input dims (4), k
// bufs: input (b), channels (i [k] or empty: the first k), output (b [n*h*w*k], written)
mt_status mt_op_chansel_s8_fwd(const int32_t *args, size_t n_args, const mt_buf *bufs,
                               size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    const mt_dims in = mt_op_dims(args);
    const int32_t k = args[4];
    if (k < 1 || k > in.c) {
        return MT_ERR_PARAM;
    }
    const mt_dims out = {in.n, in.h, in.w, k};
    void *channels;
    mt_status st;
    if ((st = mt_op_check_tensor(&bufs[0], &in, 1)) != MT_OK ||
        (st = mt_op_optional_buf(&bufs[1], k, 4, &channels)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[2], &out, 1)) != MT_OK) {
        return st;
    }
    return mt_chansel_s8_fwd(&in, (const int8_t *)bufs[0].data, (const int32_t *)channels, k,
                             (int8_t *)bufs[2].data);
}
