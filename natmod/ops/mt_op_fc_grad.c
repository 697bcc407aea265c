// SPDX-License-Identifier: MIT
// fc backward through the conv2d kernels: an fc is a 1x1 conv on a 1x1 image whose channels are
// the input's h*w*c features (the forward reads the input that way, so a flatten is free).
#include "mt_op_adapters.h"
#include "mt_op_grad_args.h"
#include "../kernels/mt_conv2d_s8_grad_in.h"
#include "../kernels/mt_conv2d_s8_grad_w.h"
#include "../kernels/mt_conv2d_s8_update.h"

typedef struct {
    mt_conv_params params;
    mt_dims in, filter, out;  // as a 1x1 conv
    int32_t in_count, out_count, extra;
} fc_grad_args;

// features_in_filter: the filter's c must equal the input's features (grad_in, grad_w), or
// may be larger (update: the input holds the k selected features of the filter's c).
static mt_status unpack(const int32_t *args, int features_in_filter, fc_grad_args *a) {
    const mt_act_params act = mt_op_act_params(args);
    const mt_dims in = mt_op_dims(args + MT_OP_ACT_ARGS);
    a->filter = mt_op_dims(args + MT_OP_ACT_ARGS + MT_OP_DIMS_ARGS);
    a->out = mt_op_dims(args + MT_OP_ACT_ARGS + 2 * MT_OP_DIMS_ARGS);
    a->extra = args[MT_OP_ACT_ARGS + 3 * MT_OP_DIMS_ARGS];
    int32_t filter_count;
    mt_status st;
    if ((st = mt_dims_count(&in, &a->in_count)) != MT_OK ||
        (st = mt_dims_count(&a->out, &a->out_count)) != MT_OK ||
        (st = mt_dims_count(&a->filter, &filter_count)) != MT_OK) {
        return st;
    }
    const int32_t features = a->in_count / in.n;
    const int filter_ok = features_in_filter ? a->filter.c == features : a->filter.c >= features;
    if (a->filter.h != 1 || a->filter.w != 1 || !filter_ok || a->out.h != 1 || a->out.w != 1) {
        return MT_ERR_SHAPE;
    }
    const mt_conv_params params = {1, 1, 0, 0, act};
    const mt_dims flat = {in.n, 1, 1, features};
    a->params = params;
    a->in = flat;
    return MT_OK;
}

static mt_status grad_in(int q8, const int32_t *args, const mt_buf *bufs) {
    fc_grad_args a;
    mt_status st = unpack(args, 1, &a);
    if (st != MT_OK) {
        return st;
    }
    if (a.extra != 0 && a.extra != 1) {
        return MT_ERR_PARAM;
    }
    const size_t f = q8 ? 3 : 2;
    mt_grad_src grad_out;
    mt_grad_dst grad_in;
    if ((st = mt_op_check_buf(&bufs[0], a.out.c, 4)) != MT_OK ||
        (st = mt_op_grad_dst(&bufs[1], q8, a.in_count, &grad_in)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[f], &a.filter, 1)) != MT_OK ||
        (st = mt_op_grad_src(&bufs[f + 1], q8, a.out_count, &grad_out)) != MT_OK) {
        return st;
    }
    const mt_grad_params grad = {0.0f, 0, (const float *)bufs[0].data, a.extra};
    return mt_conv2d_s8_grad_in(&a.params, &grad, &a.in, &grad_in, &a.filter,
                                (const int8_t *)bufs[f].data, &a.out, &grad_out);
}

// args: input_offset, output_offset, act_min, act_max, input dims (4), filter dims (4),
//       output dims (4), accumulate (0 or 1)
// bufs: filter_scale (f [c_out]), grad_in (f, written), filter (b), grad_out (f)
MT_OP_ADAPTER(mt_op_fc_s8_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return grad_in(0, args, bufs);
}

// args: as mt_fc_s8_grad_in
// bufs: filter_scale (f [c_out]), grad_in (b, written), grad_in_scale (f [1], written),
//       filter (b), grad_out (b), grad_out_scale (f [1])
MT_OP_ADAPTER(mt_op_fc_q8_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return grad_in(1, args, bufs);
}

// args: as grad_in, with input dims {n, 1, 1, k} (the k selected features), filter dims
//       {c_out, 1, 1, k}, and input_scale (float32 bits) last; input_offset is the input's
// bufs: input (b, the k saved features), grad_w (f, written), grad_out (f)
MT_OP_ADAPTER(mt_op_fc_s8_grad_w) {
    (void)n_args;
    (void)n_bufs;
    fc_grad_args a;
    mt_status st = unpack(args, 1, &a);
    if (st != MT_OK) {
        return st;
    }
    const mt_grad_params grad = {mt_op_float(a.extra), a.params.act.input_offset, 0, 0};
    if (!(grad.input_scale > 0.0f && grad.input_scale < 1e30f)) {
        return MT_ERR_PARAM;
    }
    mt_grad_src grad_out;
    if ((st = mt_op_check_tensor(&bufs[0], &a.in, 1)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[1], &a.filter, 4)) != MT_OK ||
        (st = mt_op_grad_src(&bufs[2], 0, a.out_count, &grad_out)) != MT_OK) {
        return st;
    }
    return mt_conv2d_s8_grad_w(&a.params, &grad, &a.in, (const int8_t *)bufs[0].data, &a.filter,
                               (float *)bufs[1].data, &a.out, &grad_out);
}

// Weight gradient and QAS update fused (int8 gradient at the output).
// args: input_offset, output_offset, act_min, act_max, input dims (the k saved features),
//       filter dims {c_out, 1, 1, features} (the whole weight matrix), output dims,
//       input_scale (float32 bits), qas (0/1), rounding (mt_rounding), lr, momentum (bits)
// bufs: input (b), channels (i [k] or empty: the first k), weights (b, written),
//       w_scale (f [c_out]), grad_out (b), grad_out_scale (f [1]), momentum (f or empty,
//       written), master (f or empty, written), rng (i [1] or empty, written)
MT_OP_ADAPTER(mt_op_fc_q8_update) {
    (void)n_args;
    (void)n_bufs;
    fc_grad_args a;
    mt_status st = unpack(args, 0, &a);
    if (st != MT_OK) {
        return st;
    }
    const mt_grad_params grad = {mt_op_float(a.extra), a.params.act.input_offset, 0, 0};
    if (!(grad.input_scale > 0.0f && grad.input_scale < 1e30f)) {
        return MT_ERR_PARAM;
    }
    const int32_t k = a.in.c;
    void *channels;
    mt_grad_src grad_out;
    mt_update_state state;
    if ((st = mt_op_check_tensor(&bufs[0], &a.in, 1)) != MT_OK ||
        (st = mt_op_optional_buf(&bufs[1], k, 4, &channels)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[2], &a.filter, 1)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[3], a.filter.n, 4)) != MT_OK ||
        (st = mt_op_grad_src(&bufs[4], 1, a.out_count, &grad_out)) != MT_OK ||
        (st = mt_op_update_state(&bufs[6], a.filter.n * k, &state)) != MT_OK) {
        return st;
    }
    const mt_update_params update = mt_op_update_params(args + MT_OP_ACT_ARGS +
                                                        3 * MT_OP_DIMS_ARGS + 1);
    return mt_conv2d_s8_update(&a.params, &grad, &a.in, (const int8_t *)bufs[0].data,
                               (const int32_t *)channels, &a.filter, (int8_t *)bufs[2].data,
                               (const float *)bufs[3].data, &update, &state, &a.out, &grad_out);
}
