// SPDX-License-Identifier: MIT
#include "mt_op_grad_args.h"

#include "../kernels/mt_conv2d_s8_grad_in.h"
#include "../kernels/mt_conv2d_s8_grad_w.h"
#include "../kernels/mt_conv2d_s8_update.h"
#include "../kernels/mt_conv_q8_grad_in.h"
#include "../kernels/mt_dwconv2d_q8_grad_in.h"
#include "../kernels/mt_dwconv2d_s8_grad_in.h"
#include "../kernels/mt_dwconv2d_s8_grad_w.h"
#include "../kernels/mt_dwconv2d_s8_update.h"

mt_status mt_op_optional_buf(const mt_buf *buf, int32_t count, size_t elem_size, void **data) {
    if (buf->len == 0) {
        *data = 0;
        return MT_OK;
    }
    mt_status st = mt_op_check_buf(buf, count, elem_size);
    *data = st == MT_OK ? buf->data : 0;
    return st;
}

// A gradient tensor's buffers: `count` values (int8 or float32), and the int8 one's scale.
static mt_status check_grad_bufs(const mt_buf *bufs, int q8, int32_t count) {
    mt_status st = mt_op_check_buf(&bufs[0], count, q8 ? 1 : 4);
    return st == MT_OK && q8 ? mt_op_check_buf(&bufs[1], 1, 4) : st;
}

mt_status mt_op_grad_src(const mt_buf *bufs, int q8, int32_t count, mt_grad_src *src) {
    mt_status st = check_grad_bufs(bufs, q8, count);
    if (st != MT_OK) {
        return st;
    }
    src->f = q8 ? 0 : (const float *)bufs[0].data;
    src->q = q8 ? (const int8_t *)bufs[0].data : 0;
    src->scale = q8 ? *(const float *)bufs[1].data : 0.0f;
    return MT_OK;
}

mt_status mt_op_grad_dst(const mt_buf *bufs, int q8, int32_t count, mt_grad_dst *dst) {
    mt_status st = check_grad_bufs(bufs, q8, count);
    if (st != MT_OK) {
        return st;
    }
    dst->f = q8 ? 0 : (float *)bufs[0].data;
    dst->q = q8 ? (int8_t *)bufs[0].data : 0;
    dst->scale = q8 ? (float *)bufs[1].data : 0;
    return MT_OK;
}

mt_update_params mt_op_update_params(const int32_t *args) {
    const mt_update_params p = {mt_op_float(args[2]), mt_op_float(args[3]), args[0], args[1]};
    return p;
}

mt_status mt_op_master_state(const mt_buf *bufs, int32_t count, mt_update_state *state) {
    void *momentum, *master;
    mt_status st;
    if ((st = mt_op_optional_buf(&bufs[0], count, 4, &momentum)) != MT_OK ||
        (st = mt_op_optional_buf(&bufs[1], count, 4, &master)) != MT_OK) {
        return st;
    }
    state->momentum = (float *)momentum;
    state->master = (float *)master;
    state->rng = 0;
    return MT_OK;
}

mt_status mt_op_update_state(const mt_buf *bufs, int32_t count, mt_update_state *state) {
    void *rng;
    mt_status st;
    if ((st = mt_op_master_state(bufs, count, state)) != MT_OK ||
        (st = mt_op_optional_buf(&bufs[2], 1, 4, &rng)) != MT_OK) {
        return st;
    }
    state->rng = (uint32_t *)rng;
    return MT_OK;
}

static mt_status unpack(mt_grad_kind kind, const int32_t *args, mt_op_conv_grad_args *a) {
    a->params = mt_op_conv_params(args);
    a->in = mt_op_dims(args + MT_OP_CONV_ARGS);
    a->filter = mt_op_dims(args + MT_OP_CONV_ARGS + MT_OP_DIMS_ARGS);
    a->out = mt_op_dims(args + MT_OP_CONV_ARGS + 2 * MT_OP_DIMS_ARGS);
    int32_t filter_count;
    mt_status st;
    if ((st = mt_dims_count(&a->in, &a->in_count)) != MT_OK ||
        (st = mt_dims_count(&a->out, &a->out_count)) != MT_OK ||
        (st = mt_dims_count(&a->filter, &filter_count)) != MT_OK) {
        return st;
    }
    const int pointwise = a->filter.h == 1 && a->filter.w == 1 && a->params.pad_h == 0 &&
                          a->params.pad_w == 0;
    return kind == MT_GRAD_PWCONV2D && !pointwise ? MT_ERR_PARAM : MT_OK;
}

static mt_status input_scale(int32_t bits, mt_grad_params *grad) {
    grad->input_scale = mt_op_float(bits);
    return grad->input_scale > 0.0f && grad->input_scale < 1e30f ? MT_OK : MT_ERR_PARAM;
}

// The q8 kernels (integer sums); conv2d, pwconv2d and fc take a scratch buffer (bufs[6]).
static mt_status q8_grad_in(mt_grad_kind kind, const mt_op_conv_grad_args *a,
                            const mt_grad_params *grad, const mt_grad_dst *grad_in,
                            const int8_t *filter, const mt_grad_src *grad_out,
                            const mt_buf *bufs) {
    if (kind == MT_GRAD_DWCONV2D) {
        return mt_dwconv2d_q8_grad_in(&a->params, grad, &a->in, grad_in, &a->filter, filter,
                                      &a->out, grad_out);
    }
    int32_t need;
    mt_status st = mt_conv_q8_grad_in_scratch(&a->filter, &need);
    if (st != MT_OK || (st = mt_op_check_buf(&bufs[6], need / 4, 4)) != MT_OK) {
        return st;
    }
    return mt_conv_q8_grad_in(&a->params, grad, &a->in, grad_in, &a->filter, filter, &a->out,
                              grad_out, bufs[6].data, bufs[6].len);
}

mt_status mt_op_call_conv_grad_in(mt_grad_kind kind, int q8, const int32_t *args,
                                  const mt_buf *bufs) {
    mt_op_conv_grad_args a;
    mt_status st = unpack(kind, args, &a);
    const int32_t accumulate = args[MT_OP_CONV_GRAD_ARGS - 1];
    return st != MT_OK ? st : mt_op_conv_grad_in(kind, q8, &a, accumulate, bufs);
}

// The buffers every conv-shaped grad_in op shares: filter_scale, grad_in (and its scale), the
// filter, grad_out (and its scale), checked against the args; the kernel's views of them.
typedef struct {
    mt_grad_params grad;
    mt_grad_dst grad_in;
    mt_grad_src grad_out;
    const int8_t *filter;
} grad_in_views;

static mt_status grad_in_bufs(int q8, const mt_op_conv_grad_args *a, int32_t accumulate,
                              const mt_buf *bufs, grad_in_views *v) {
    if (accumulate != 0 && accumulate != 1) {
        return MT_ERR_PARAM;
    }
    mt_status st;
    const size_t f = q8 ? 3 : 2;  // the filter's buffer; grad_out follows it
    if ((st = mt_op_check_buf(&bufs[0], a->out.c, 4)) != MT_OK ||
        (st = mt_op_grad_dst(&bufs[1], q8, a->in_count, &v->grad_in)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[f], &a->filter, 1)) != MT_OK ||
        (st = mt_op_grad_src(&bufs[f + 1], q8, a->out_count, &v->grad_out)) != MT_OK) {
        return st;
    }
    const mt_grad_params grad = {0.0f, 0, (const float *)bufs[0].data, accumulate};
    v->grad = grad;
    v->filter = (const int8_t *)bufs[f].data;
    return MT_OK;
}

mt_status mt_op_conv_grad_in(mt_grad_kind kind, int q8, const mt_op_conv_grad_args *a,
                             int32_t accumulate, const mt_buf *bufs) {
    grad_in_views v;
    mt_status st = grad_in_bufs(q8, a, accumulate, bufs, &v);
    if (st != MT_OK) {
        return st;
    }
    if (q8) {
        return q8_grad_in(kind, a, &v.grad, &v.grad_in, v.filter, &v.grad_out, bufs);
    }
    if (kind == MT_GRAD_DWCONV2D) {
        return mt_dwconv2d_s8_grad_in(&a->params, &v.grad, &a->in, &v.grad_in, &a->filter,
                                      v.filter, &a->out, &v.grad_out);
    }
    return mt_conv2d_s8_grad_in(&a->params, &v.grad, &a->in, &v.grad_in, &a->filter, v.filter,
                                &a->out, &v.grad_out);
}

mt_status mt_op_call_pwconv2d_split_grad_in(const int32_t *args, const mt_buf *bufs) {
    mt_op_conv_grad_args a;
    grad_in_views v;
    mt_status st = unpack(MT_GRAD_PWCONV2D, args, &a);
    if (st != MT_OK ||
        (st = grad_in_bufs(1, &a, args[MT_OP_CONV_GRAD_ARGS - 1], bufs, &v)) != MT_OK) {
        return st;
    }
    const int32_t k = args[MT_OP_CONV_GRAD_ARGS];
    int32_t need, learned_count;
    void *channels;
    if (k < 1 || k > a.filter.c) {
        return MT_ERR_PARAM;
    }
    const mt_dims learned = {a.filter.n, 1, 1, k};
    if ((st = mt_conv_q8_grad_in_scratch(&a.filter, &need)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[6], need / 4, 4)) != MT_OK ||
        (st = mt_dims_count(&learned, &learned_count)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[7], learned_count, 1)) != MT_OK ||
        (st = mt_op_optional_buf(&bufs[8], k, 4, &channels)) != MT_OK) {
        return st;
    }
    return mt_pwconv2d_split_q8_grad_in(&a.params, &v.grad, &a.in, &v.grad_in, &a.filter,
                                        v.filter, (const int8_t *)bufs[7].data,
                                        (const int32_t *)channels, k, &a.out, &v.grad_out,
                                        bufs[6].data, bufs[6].len);
}

mt_status mt_op_call_conv_grad_w(mt_grad_kind kind, const int32_t *args, const mt_buf *bufs) {
    mt_op_conv_grad_args a;
    mt_status st = unpack(kind, args, &a);
    return st != MT_OK ? st : mt_op_conv_grad_w(kind, &a, args[MT_OP_CONV_GRAD_ARGS - 1], bufs);
}

mt_status mt_op_conv_grad_w(mt_grad_kind kind, const mt_op_conv_grad_args *a,
                            int32_t input_scale_bits, const mt_buf *bufs) {
    mt_grad_params grad = {0.0f, a->params.act.input_offset, 0, 0};
    mt_status st = input_scale(input_scale_bits, &grad);
    if (st != MT_OK) {
        return st;
    }
    const int dw = kind == MT_GRAD_DWCONV2D;
    const mt_buf *grad_w = &bufs[dw ? 2 : 1];
    mt_grad_src grad_out;
    if ((st = mt_op_check_tensor(&bufs[0], &a->in, 1)) != MT_OK ||
        (st = mt_op_check_tensor(grad_w, &a->filter, 4)) != MT_OK ||
        (st = mt_op_grad_src(&bufs[dw ? 3 : 2], 0, a->out_count, &grad_out)) != MT_OK) {
        return st;
    }
    if (!dw) {
        return mt_conv2d_s8_grad_w(&a->params, &grad, &a->in, (const int8_t *)bufs[0].data,
                                   &a->filter, (float *)grad_w->data, &a->out, &grad_out);
    }
    void *channels;
    if ((st = mt_op_optional_buf(&bufs[1], a->in.c, 4, &channels)) != MT_OK) {
        return st;
    }
    return mt_dwconv2d_s8_grad_w(&a->params, &grad, &a->in, (const int8_t *)bufs[0].data,
                                 (const int32_t *)channels, &a->filter, (float *)grad_w->data,
                                 &a->out, &grad_out);
}

mt_status mt_op_call_conv_update(mt_grad_kind kind, const int32_t *args, const mt_buf *bufs) {
    mt_op_conv_grad_args a;
    mt_status st = unpack(kind, args, &a);
    return st != MT_OK ? st : mt_op_conv_update(kind, &a, args + MT_OP_CONV_GRAD_ARGS - 1, bufs);
}

mt_status mt_op_conv_update(mt_grad_kind kind, const mt_op_conv_grad_args *a,
                            const int32_t *tail_args, const mt_buf *bufs) {
    mt_grad_params grad = {0.0f, a->params.act.input_offset, 0, 0};
    mt_status st = input_scale(tail_args[0], &grad);
    if (st != MT_OK) {
        return st;
    }
    const int dw = kind == MT_GRAD_DWCONV2D;
    const int32_t k = a->in.c;
    if (k > a->filter.c) {  // before the count below, which could overflow otherwise
        return MT_ERR_SHAPE;
    }
    const int32_t count = (dw ? 1 : a->filter.n) * a->filter.h * a->filter.w * k;
    void *channels;
    mt_grad_src grad_out;
    mt_update_state state;
    if ((st = mt_op_check_tensor(&bufs[0], &a->in, 1)) != MT_OK ||
        (st = mt_op_optional_buf(&bufs[1], k, 4, &channels)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[2], &a->filter, 1)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[3], dw ? a->filter.c : a->filter.n, 4)) != MT_OK ||
        (st = mt_op_grad_src(&bufs[4], 1, a->out_count, &grad_out)) != MT_OK ||
        (st = mt_op_update_state(&bufs[6], count, &state)) != MT_OK) {
        return st;
    }
    const mt_update_params update = mt_op_update_params(tail_args + 1);
    const int8_t *input = (const int8_t *)bufs[0].data;
    const float *w_scale = (const float *)bufs[3].data;
    if (dw) {
        return mt_dwconv2d_s8_update(&a->params, &grad, &a->in, input, (const int32_t *)channels,
                                     &a->filter, (int8_t *)bufs[2].data, w_scale, &update,
                                     &state, &a->out, &grad_out);
    }
    return mt_conv2d_s8_update(&a->params, &grad, &a->in, input, (const int32_t *)channels,
                               &a->filter, (int8_t *)bufs[2].data, w_scale, &update, &state,
                               &a->out, &grad_out);
}
