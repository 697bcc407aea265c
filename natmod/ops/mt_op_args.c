// SPDX-License-Identifier: MIT
#include "mt_op_args.h"

#include <stdint.h>

#include "../kernels/mt_check.h"

mt_dims mt_op_dims(const int32_t *args) {
    mt_dims d = {args[0], args[1], args[2], args[3]};
    return d;
}

mt_act_params mt_op_act_params(const int32_t *args) {
    mt_act_params a = {args[0], args[1], args[2], args[3]};
    return a;
}

mt_conv_params mt_op_conv_params(const int32_t *args) {
    mt_conv_params p = {args[0], args[1], args[2], args[3], mt_op_act_params(args + 4)};
    return p;
}

float mt_op_float(int32_t bits) {
    // A union, not memcpy: no library call in a freestanding build.
    union {
        int32_t i;
        float f;
    } u;
    u.i = bits;
    return u.f;
}

mt_status mt_op_check_buf(const mt_buf *buf, int32_t count, size_t elem_size) {
    if (elem_size != 1 && elem_size != 2 && elem_size != 4) {
        return MT_ERR_PARAM;
    }
    // Division by a constant only: lx106's libgcc has no __udivsi3.
    size_t capacity = elem_size == 4 ? buf->len / 4 : elem_size == 2 ? buf->len / 2 : buf->len;
    if (count < 0 || capacity < (size_t)count) {
        return MT_ERR_BUFFER_SIZE;
    }
    if (((uintptr_t)buf->data & (elem_size - 1)) != 0) {
        return MT_ERR_ALIGN;
    }
    return MT_OK;
}

mt_status mt_op_check_tensor(const mt_buf *buf, const mt_dims *dims, size_t elem_size) {
    int32_t count;
    mt_status st = mt_dims_count(dims, &count);
    if (st != MT_OK) {
        return st;
    }
    return mt_op_check_buf(buf, count, elem_size);
}

mt_status mt_op_layer_unpack(const int32_t *dims_args, const mt_buf *bufs, mt_op_layer *layer) {
    layer->in = mt_op_dims(dims_args);
    layer->filter = mt_op_dims(dims_args + MT_OP_DIMS_ARGS);
    layer->out = mt_op_dims(dims_args + 2 * MT_OP_DIMS_ARGS);
    mt_status st;
    if ((st = mt_op_check_tensor(&bufs[2], &layer->in, 1)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[3], &layer->filter, 1)) != MT_OK ||
        (st = mt_op_check_tensor(&bufs[5], &layer->out, 1)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[0], layer->out.c, 4)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[1], layer->out.c, 4)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[4], layer->out.c, 4)) != MT_OK) {
        return st;
    }
    layer->quant.multiplier = (const int32_t *)bufs[0].data;
    layer->quant.shift = (const int32_t *)bufs[1].data;
    layer->input = (const int8_t *)bufs[2].data;
    layer->weights = (const int8_t *)bufs[3].data;
    layer->bias = (const int32_t *)bufs[4].data;
    layer->output = (int8_t *)bufs[5].data;
    return MT_OK;
}

mt_status mt_op_call_conv(mt_conv_kernel kernel, const int32_t *args, const mt_buf *bufs) {
    const mt_conv_params params = mt_op_conv_params(args);
    mt_op_layer l;
    mt_status st = mt_op_layer_unpack(args + MT_OP_CONV_ARGS, bufs, &l);
    if (st != MT_OK) {
        return st;
    }
    return kernel(&params, &l.quant, &l.in, l.input, &l.filter, l.weights, l.bias, &l.out,
                  l.output);
}
