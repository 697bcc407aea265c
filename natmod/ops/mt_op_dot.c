// SPDX-License-Identifier: MIT
#include "mt_op_adapters.h"
#include "../kernels/mt_dot_s8.h"

// bufs: a (int8, n), b (int8, n), out (int32, 1). No int arguments.
mt_status mt_op_dot_s8(const int32_t *args, size_t n_args, const mt_buf *bufs, size_t n_bufs) {
    (void)args;
    (void)n_args;
    (void)n_bufs;
    if (bufs[0].len != bufs[1].len) {
        return MT_ERR_SHAPE;
    }
    if (bufs[2].len < sizeof(int32_t)) {
        return MT_ERR_BUFFER_SIZE;
    }
    return mt_dot_s8((const int8_t *)bufs[0].data, (const int8_t *)bufs[1].data, bufs[0].len,
                     (int32_t *)bufs[2].data);
}
