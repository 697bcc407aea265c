// SPDX-License-Identifier: MIT
// fc backward through the conv2d kernels: an fc is a 1x1 conv on a 1x1 image whose channels are
// the input's h*w*c features (the forward reads the input that way, so a flatten is free).
#include "mt_op_adapters.h"
#include "mt_op_grad_args.h"

// features_in_filter: the filter's c must equal the input's features (grad_in, grad_w), or
// may be larger (update: the input holds the k selected features of the filter's c).
static mt_status unpack(const int32_t *args, int features_in_filter, mt_op_conv_grad_args *a) {
    const mt_act_params act = mt_op_act_params(args);
    const mt_dims in = mt_op_dims(args + MT_OP_ACT_ARGS);
    a->filter = mt_op_dims(args + MT_OP_ACT_ARGS + MT_OP_DIMS_ARGS);
    a->out = mt_op_dims(args + MT_OP_ACT_ARGS + 2 * MT_OP_DIMS_ARGS);
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

// The args after the dims: accumulate (grad_in), input_scale (grad_w), the update's tail.
#define FC_TAIL (MT_OP_ACT_ARGS + 3 * MT_OP_DIMS_ARGS)

static mt_status grad_in(int q8, const int32_t *args, const mt_buf *bufs) {
    mt_op_conv_grad_args a;
    mt_status st = unpack(args, 1, &a);
    return st != MT_OK ? st : mt_op_conv_grad_in(MT_GRAD_CONV2D, q8, &a, args[FC_TAIL], bufs);
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
//       filter (b), grad_out (b), grad_out_scale (f [1]), scratch (b, written, 4-aligned,
//       mt_conv_q8_grad_in_scratch bytes)
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
    mt_op_conv_grad_args a;
    mt_status st = unpack(args, 1, &a);
    return st != MT_OK ? st : mt_op_conv_grad_w(MT_GRAD_CONV2D, &a, args[FC_TAIL], bufs);
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
    mt_op_conv_grad_args a;
    mt_status st = unpack(args, 0, &a);
    return st != MT_OK ? st : mt_op_conv_update(MT_GRAD_CONV2D, &a, args + FC_TAIL, bufs);
}
