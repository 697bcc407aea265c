// SPDX-License-Identifier: MIT
// Adapters of the small backward kernels: bias gradient, activation clamp, add, average pool.
#include "mt_op_adapters.h"
#include "mt_op_grad_args.h"
#include "../kernels/mt_add_f32_grad_in.h"
#include "../kernels/mt_avgpool_f32_grad_in.h"
#include "../kernels/mt_bias_f32_grad_b.h"
#include "../kernels/mt_clamp_s8_grad_in.h"

// args: output dims (4)
// bufs: grad_out (f), grad_b (f [c], written)
mt_status mt_op_bias_f32_grad_b(const int32_t *args, size_t n_args, const mt_buf *bufs,
                                size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    const mt_dims out = mt_op_dims(args);
    mt_status st;
    if ((st = mt_op_check_tensor(&bufs[0], &out, 4)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[1], out.c, 4)) != MT_OK) {
        return st;
    }
    return mt_bias_f32_grad_b(&out, (const float *)bufs[0].data, (float *)bufs[1].data);
}

// args: act_min, act_max, output dims (4)
// bufs: output (b, the saved forward output), grad (f, written in place)
mt_status mt_op_clamp_s8_grad_in(const int32_t *args, size_t n_args, const mt_buf *bufs,
                                 size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    const mt_act_params act = {0, 0, args[0], args[1]};
    const mt_dims dims = mt_op_dims(args + 2);
    int32_t count;
    mt_status st;
    if ((st = mt_dims_count(&dims, &count)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[0], count, 1)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[1], count, 4)) != MT_OK) {
        return st;
    }
    return mt_clamp_s8_grad_in(&act, count, (const int8_t *)bufs[0].data, (float *)bufs[1].data);
}

// args: dims (4), accumulate (0 or 1)
// bufs: grad_out (f), grad_in (f, written)
mt_status mt_op_add_f32_grad_in(const int32_t *args, size_t n_args, const mt_buf *bufs,
                                size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    const mt_dims dims = mt_op_dims(args);
    int32_t count;
    mt_status st;
    if (args[4] != 0 && args[4] != 1) {
        return MT_ERR_PARAM;
    }
    if ((st = mt_dims_count(&dims, &count)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[0], count, 4)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[1], count, 4)) != MT_OK) {
        return st;
    }
    return mt_add_f32_grad_in(count, args[4], (const float *)bufs[0].data, (float *)bufs[1].data);
}

// args: input dims (4), accumulate (0 or 1)
// bufs: grad_out (f [n*c]), grad_in (f, written)
mt_status mt_op_avgpool_f32_grad_in(const int32_t *args, size_t n_args, const mt_buf *bufs,
                                    size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    const mt_dims in = mt_op_dims(args);
    mt_status st;
    if (args[4] != 0 && args[4] != 1) {
        return MT_ERR_PARAM;
    }
    if ((st = mt_op_check_tensor(&bufs[1], &in, 4)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[0], in.n * in.c, 4)) != MT_OK) {
        return st;
    }
    return mt_avgpool_f32_grad_in(&in, (float *)bufs[1].data, args[4],
                                  (const float *)bufs[0].data);
}
