// SPDX-License-Identifier: MIT
// fc backward through the conv2d kernels: an fc is a 1x1 conv on a 1x1 image whose channels are
// the input's h*w*c features (the forward reads the input that way, so a flatten is free).
#include "mt_op_adapters.h"
#include "mt_op_grad_args.h"
#include "../kernels/mt_conv2d_s8_grad_in.h"
#include "../kernels/mt_conv2d_s8_grad_w.h"

typedef struct {
    mt_conv_params params;
    mt_dims in, filter, out;  // as a 1x1 conv
    int32_t extra;
} fc_grad_args;

static mt_status unpack(const int32_t *args, fc_grad_args *a) {
    const mt_act_params act = mt_op_act_params(args);
    const mt_dims in = mt_op_dims(args + MT_OP_ACT_ARGS);
    a->filter = mt_op_dims(args + MT_OP_ACT_ARGS + MT_OP_DIMS_ARGS);
    a->out = mt_op_dims(args + MT_OP_ACT_ARGS + 2 * MT_OP_DIMS_ARGS);
    a->extra = args[MT_OP_ACT_ARGS + 3 * MT_OP_DIMS_ARGS];
    int32_t features;
    mt_status st = mt_dims_count(&in, &features);
    if (st != MT_OK) {
        return st;
    }
    features /= in.n;
    if (a->filter.h != 1 || a->filter.w != 1 || a->filter.c != features || a->out.h != 1 ||
        a->out.w != 1) {
        return MT_ERR_SHAPE;
    }
    const mt_conv_params params = {1, 1, 0, 0, act};
    const mt_dims flat = {in.n, 1, 1, features};
    a->params = params;
    a->in = flat;
    return MT_OK;
}

// args: input_offset, output_offset, act_min, act_max, input dims (4), filter dims (4),
//       output dims (4), accumulate (0 or 1)
// bufs: filter_scale (f [c_out]), grad_in (f, written), filter (b), grad_out (f)
mt_status mt_op_fc_s8_grad_in(const int32_t *args, size_t n_args, const mt_buf *bufs,
                              size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    fc_grad_args a;
    mt_status st = unpack(args, &a);
    if (st != MT_OK) {
        return st;
    }
    if (a.extra != 0 && a.extra != 1) {
        return MT_ERR_PARAM;
    }
    if ((st = mt_op_check_buf(&bufs[0], a.out.c, 4)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[1], &a.in, 4)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[2], &a.filter, 1)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[3], &a.out, 4)) != MT_OK) {
        return st;
    }
    const mt_grad_params grad = {0.0f, 0, (const float *)bufs[0].data, a.extra};
    return mt_conv2d_s8_grad_in(&a.params, &grad, &a.in, (float *)bufs[1].data, &a.filter,
                                (const int8_t *)bufs[2].data, &a.out,
                                (const float *)bufs[3].data);
}

// args: as grad_in, with input dims {n, 1, 1, k} (the k selected features), filter dims
//       {c_out, 1, 1, k}, and input_scale (float32 bits) last; input_offset is the input's
// bufs: input (b, the k saved features), grad_w (f, written), grad_out (f)
mt_status mt_op_fc_s8_grad_w(const int32_t *args, size_t n_args, const mt_buf *bufs,
                             size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    fc_grad_args a;
    mt_status st = unpack(args, &a);
    if (st != MT_OK) {
        return st;
    }
    const mt_grad_params grad = {mt_op_float(a.extra), a.params.act.input_offset, 0, 0};
    if (!(grad.input_scale > 0.0f && grad.input_scale < 1e30f)) {
        return MT_ERR_PARAM;
    }
    if ((st = mt_op_check_tensor(&bufs[0], &a.in, 1)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[1], &a.filter, 4)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[2], &a.out, 4)) != MT_OK) {
        return st;
    }
    return mt_conv2d_s8_grad_w(&a.params, &grad, &a.in, (const int8_t *)bufs[0].data, &a.filter,
                               (float *)bufs[1].data, &a.out, (const float *)bufs[2].data);
}
