// SPDX-License-Identifier: MIT
#include "mt_op_grad_args.h"

#include "../kernels/mt_conv2d_s8_grad_in.h"
#include "../kernels/mt_conv2d_s8_grad_w.h"
#include "../kernels/mt_dwconv2d_s8_grad_in.h"
#include "../kernels/mt_dwconv2d_s8_grad_w.h"

mt_status mt_op_optional_buf(const mt_buf *buf, int32_t count, size_t elem_size, void **data) {
    if (buf->len == 0) {
        *data = 0;
        return MT_OK;
    }
    mt_status st = mt_op_check_buf(buf, count, elem_size);
    *data = st == MT_OK ? buf->data : 0;
    return st;
}

typedef struct {
    mt_conv_params params;
    mt_dims in, filter, out;
    int32_t extra;  // the 21st arg
} conv_grad_args;

static conv_grad_args unpack(const int32_t *args) {
    conv_grad_args a;
    a.params = mt_op_conv_params(args);
    a.in = mt_op_dims(args + MT_OP_CONV_ARGS);
    a.filter = mt_op_dims(args + MT_OP_CONV_ARGS + MT_OP_DIMS_ARGS);
    a.out = mt_op_dims(args + MT_OP_CONV_ARGS + 2 * MT_OP_DIMS_ARGS);
    a.extra = args[MT_OP_CONV_ARGS + 3 * MT_OP_DIMS_ARGS];
    return a;
}

static int is_pointwise(const conv_grad_args *a) {
    return a->filter.h == 1 && a->filter.w == 1 && a->params.pad_h == 0 && a->params.pad_w == 0;
}

mt_status mt_op_call_conv_grad_in(mt_grad_kind kind, const int32_t *args, const mt_buf *bufs) {
    const conv_grad_args a = unpack(args);
    if (kind == MT_GRAD_PWCONV2D && !is_pointwise(&a)) {
        return MT_ERR_PARAM;
    }
    if (a.extra != 0 && a.extra != 1) {
        return MT_ERR_PARAM;
    }
    mt_status st;
    if ((st = mt_op_check_buf(&bufs[0], a.out.c, 4)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[1], &a.in, 4)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[2], &a.filter, 1)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[3], &a.out, 4)) != MT_OK) {
        return st;
    }
    const mt_grad_params grad = {0.0f, 0, (const float *)bufs[0].data, a.extra};
    if (kind == MT_GRAD_DWCONV2D) {
        return mt_dwconv2d_s8_grad_in(&a.params, &grad, &a.in, (float *)bufs[1].data, &a.filter,
                                      (const int8_t *)bufs[2].data, &a.out,
                                      (const float *)bufs[3].data);
    }
    return mt_conv2d_s8_grad_in(&a.params, &grad, &a.in, (float *)bufs[1].data, &a.filter,
                                (const int8_t *)bufs[2].data, &a.out,
                                (const float *)bufs[3].data);
}

mt_status mt_op_call_conv_grad_w(mt_grad_kind kind, const int32_t *args, const mt_buf *bufs) {
    const conv_grad_args a = unpack(args);
    if (kind == MT_GRAD_PWCONV2D && !is_pointwise(&a)) {
        return MT_ERR_PARAM;
    }
    const mt_grad_params grad = {mt_op_float(a.extra), a.params.act.input_offset, 0, 0};
    if (!(grad.input_scale > 0.0f && grad.input_scale < 1e30f)) {
        return MT_ERR_PARAM;
    }
    const int dw = kind == MT_GRAD_DWCONV2D;
    const mt_buf *grad_w = &bufs[dw ? 2 : 1];
    const mt_buf *grad_out = &bufs[dw ? 3 : 2];
    mt_status st;
    if ((st = mt_op_check_tensor(&bufs[0], &a.in, 1)) != MT_OK ||
        (st = mt_op_check_tensor(grad_w, &a.filter, 4)) != MT_OK ||
        (st = mt_op_check_tensor(grad_out, &a.out, 4)) != MT_OK) {
        return st;
    }
    if (!dw) {
        return mt_conv2d_s8_grad_w(&a.params, &grad, &a.in, (const int8_t *)bufs[0].data,
                                   &a.filter, (float *)grad_w->data, &a.out,
                                   (const float *)grad_out->data);
    }
    void *channels;
    if ((st = mt_op_optional_buf(&bufs[1], a.in.c, 4, &channels)) != MT_OK) {
        return st;
    }
    return mt_dwconv2d_s8_grad_w(&a.params, &grad, &a.in, (const int8_t *)bufs[0].data,
                                 (const int32_t *)channels, &a.filter, (float *)grad_w->data,
                                 &a.out, (const float *)grad_out->data);
}
