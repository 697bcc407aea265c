// SPDX-License-Identifier: MIT
// Adapters of the small backward kernels: bias gradient and update, activation clamp, add,
// average pool. f32 ops keep gradients in float32, q8 ops in int8 with a float32 [1] scale.
#include "mt_op_adapters.h"
#include "mt_op_grad_args.h"
#include "../kernels/mt_add_f32_grad_in.h"
#include "../kernels/mt_avgpool_f32_grad_in.h"
#include "../kernels/mt_bias_f32_grad_b.h"
#include "../kernels/mt_bias_s32_update.h"
#include "../kernels/mt_clampmask_grad_in.h"
#include "../kernels/mt_clampmask_s8_fwd.h"
#include "../kernels/mt_clamp_s8_grad_in.h"

// args: output dims (4)
// bufs: grad_out (f), grad_b (f [c], written)
MT_OP_ADAPTER(mt_op_bias_f32_grad_b) {
    (void)n_args;
    (void)n_bufs;
    const mt_dims out = mt_op_dims(args);
    int32_t count;
    mt_grad_src grad_out;
    mt_status st;
    if ((st = mt_dims_count(&out, &count)) != MT_OK ||
        (st = mt_op_grad_src(&bufs[0], 0, count, &grad_out)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[1], out.c, 4)) != MT_OK) {
        return st;
    }
    return mt_bias_f32_grad_b(&out, &grad_out, (float *)bufs[1].data);
}

// Bias gradient and QAS update fused.
// args: output dims (4), qas (0/1), rounding (mt_rounding), lr, momentum (float32 bits)
// bufs: bias (i [c], written), bias_scale (f [c]: s_x * s_w[c]), grad_out (b),
//       grad_out_scale (f [1]), momentum (f [c] or empty, written), master (same, written),
//       rng (i [1] or empty, written)
MT_OP_ADAPTER(mt_op_bias_q8_update) {
    (void)n_args;
    (void)n_bufs;
    const mt_dims out = mt_op_dims(args);
    int32_t count;
    mt_grad_src grad_out;
    mt_update_state state;
    mt_status st;
    if ((st = mt_dims_count(&out, &count)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[0], out.c, 4)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[1], out.c, 4)) != MT_OK ||
        (st = mt_op_grad_src(&bufs[2], 1, count, &grad_out)) != MT_OK ||
        (st = mt_op_update_state(&bufs[4], out.c, &state)) != MT_OK) {
        return st;
    }
    const mt_update_params update = mt_op_update_params(args + MT_OP_DIMS_ARGS);
    return mt_bias_s32_update(&update, &out, (int32_t *)bufs[0].data, (const float *)bufs[1].data,
                              &state, &grad_out);
}

// Bytes of the bit mask of `count` values.
static int32_t mask_bytes(int32_t count) {
    return count / 8 + (count % 8 != 0);
}

// The clamp's gradient, in place, from the saved int8 output (args: act_min, act_max, dims)
// or from its bit mask (args: dims).
static mt_status clamp(int q8, int from_mask, const int32_t *args, const mt_buf *bufs) {
    const mt_act_params act = {0, 0, from_mask ? -128 : args[0], from_mask ? 127 : args[1]};
    const mt_dims dims = mt_op_dims(from_mask ? args : args + 2);
    int32_t count;
    mt_grad_dst grad = {0, 0, 0};
    mt_status st;
    if ((st = mt_dims_count(&dims, &count)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[0], from_mask ? mask_bytes(count) : count, 1)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[1], count, q8 ? 1 : 4)) != MT_OK) {
        return st;
    }
    if (q8) {
        grad.q = (int8_t *)bufs[1].data;
    } else {
        grad.f = (float *)bufs[1].data;
    }
    if (from_mask) {
        return mt_clampmask_grad_in(count, (const uint8_t *)bufs[0].data, &grad);
    }
    return mt_clamp_s8_grad_in(&act, count, (const int8_t *)bufs[0].data, &grad);
}

// args: act_min, act_max, output dims (4)
// bufs: output (b, the saved forward output), grad (f, written in place)
MT_OP_ADAPTER(mt_op_clamp_s8_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return clamp(0, 0, args, bufs);
}

// args: as mt_clamp_s8_grad_in
// bufs: output (b), grad (b, written in place; its scale does not change)
MT_OP_ADAPTER(mt_op_clamp_q8_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return clamp(1, 0, args, bufs);
}

// args: act_min, act_max, output dims (4)
// bufs: output (b, the forward output), mask (b [(count + 7) / 8], written)
MT_OP_ADAPTER(mt_op_clampmask_s8_fwd) {
    (void)n_args;
    (void)n_bufs;
    const mt_act_params act = {0, 0, args[0], args[1]};
    const mt_dims dims = mt_op_dims(args + 2);
    int32_t count;
    mt_status st;
    if ((st = mt_dims_count(&dims, &count)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[0], count, 1)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[1], mask_bytes(count), 1)) != MT_OK) {
        return st;
    }
    return mt_clampmask_s8_fwd(&act, count, (const int8_t *)bufs[0].data,
                               (uint8_t *)bufs[1].data);
}

// args: output dims (4)
// bufs: mask (b, from mt_clampmask_s8_fwd), grad (f, written in place)
MT_OP_ADAPTER(mt_op_clampmask_f32_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return clamp(0, 1, args, bufs);
}

// args: as mt_clampmask_f32_grad_in
// bufs: mask (b), grad (b, written in place; its scale does not change)
MT_OP_ADAPTER(mt_op_clampmask_q8_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return clamp(1, 1, args, bufs);
}

// Shared by add and avgpool: dims (4) and accumulate, grad_out then grad_in buffers.
static mt_status pass_through(int q8, int avgpool, const int32_t *args, const mt_buf *bufs) {
    const mt_dims dims = mt_op_dims(args);
    const int32_t accumulate = args[4];
    int32_t count;
    mt_grad_src grad_out;
    mt_grad_dst grad_in;
    mt_status st;
    if (accumulate != 0 && accumulate != 1) {
        return MT_ERR_PARAM;
    }
    if ((st = mt_dims_count(&dims, &count)) != MT_OK ||
        (st = mt_op_grad_src(&bufs[0], q8, avgpool ? dims.n * dims.c : count, &grad_out)) !=
            MT_OK ||
        (st = mt_op_grad_dst(&bufs[q8 ? 2 : 1], q8, count, &grad_in)) != MT_OK) {
        return st;
    }
    if (avgpool) {
        return mt_avgpool_f32_grad_in(&dims, &grad_in, accumulate, &grad_out);
    }
    return mt_add_f32_grad_in(count, accumulate, &grad_out, &grad_in);
}

// args: dims (4), accumulate (0 or 1)
// bufs: grad_out (f), grad_in (f, written)
MT_OP_ADAPTER(mt_op_add_f32_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return pass_through(0, 0, args, bufs);
}

// args: as mt_add_f32_grad_in
// bufs: grad_out (b), grad_out_scale (f [1]), grad_in (b, written), grad_in_scale (f, written)
MT_OP_ADAPTER(mt_op_add_q8_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return pass_through(1, 0, args, bufs);
}

// args: input dims (4), accumulate (0 or 1)
// bufs: grad_out (f [n*c]), grad_in (f, written)
MT_OP_ADAPTER(mt_op_avgpool_f32_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return pass_through(0, 1, args, bufs);
}

// args: as mt_avgpool_f32_grad_in
// bufs: grad_out (b [n*c]), grad_out_scale (f [1]), grad_in (b, written), grad_in_scale (f [1],
//       written)
MT_OP_ADAPTER(mt_op_avgpool_q8_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return pass_through(1, 1, args, bufs);
}
