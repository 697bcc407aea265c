// SPDX-License-Identifier: MIT
// Adapters of the loss kernels: loss value and gradient at the int8 logits.
#include "mt_op_adapters.h"
#include "mt_op_grad_args.h"
#include "../kernels/mt_mse_s8_grad_in.h"
#include "../kernels/mt_xent_s8_grad_in.h"

// Shared checks; the target buffer holds `per_sample` ? c values per sample : one label.
static mt_status unpack(const int32_t *args, const mt_buf *bufs, int per_sample, int q8,
                        mt_loss_params *p, mt_grad_dst *grad) {
    const mt_loss_params params = {args[0], args[1], args[2], mt_op_float(args[3])};
    *p = params;
    if (p->batch < 1 || p->classes < 1 || (int64_t)p->batch * p->classes > INT32_MAX) {
        return MT_ERR_SHAPE;
    }
    const int32_t count = p->batch * p->classes;
    mt_status st;
    if ((st = mt_op_check_buf(&bufs[0], count, 1)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[1], per_sample ? count : p->batch, 4)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[2], 1, 4)) != MT_OK ||
        (st = mt_op_grad_dst(&bufs[3], q8, count, grad)) != MT_OK) {
        return st;
    }
    return MT_OK;
}

static mt_status xent(int q8, const int32_t *args, const mt_buf *bufs) {
    mt_loss_params p;
    mt_grad_dst grad;
    mt_status st = unpack(args, bufs, 0, q8, &p, &grad);
    if (st != MT_OK) {
        return st;
    }
    return mt_xent_s8_grad_in(&p, (const int8_t *)bufs[0].data, (const int32_t *)bufs[1].data,
                              (float *)bufs[2].data, &grad);
}

static mt_status mse(int q8, const int32_t *args, const mt_buf *bufs) {
    mt_loss_params p;
    mt_grad_dst grad;
    mt_status st = unpack(args, bufs, 1, q8, &p, &grad);
    if (st != MT_OK) {
        return st;
    }
    return mt_mse_s8_grad_in(&p, (const int8_t *)bufs[0].data, (const float *)bufs[1].data,
                             (float *)bufs[2].data, &grad);
}

// args: batch, classes, input_offset (-zero point of the logits), input_scale (float32 bits)
// bufs: logits (b [n*c]), labels (i [n]), loss (f [1], written), grad (f [n*c], written)
MT_OP_ADAPTER(mt_op_xent_s8_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return xent(0, args, bufs);
}

// args: as mt_xent_s8_grad_in
// bufs: logits (b), labels (i [n]), loss (f [1], written), grad (b [n*c], written),
//       grad_scale (f [1], written)
MT_OP_ADAPTER(mt_op_xent_q8_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return xent(1, args, bufs);
}

// args: as mt_xent_s8_grad_in
// bufs: outputs (b [n*c]), targets (f [n*c]), loss (f [1], written), grad (f [n*c], written)
MT_OP_ADAPTER(mt_op_mse_s8_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return mse(0, args, bufs);
}

// args: as mt_xent_s8_grad_in
// bufs: outputs (b), targets (f [n*c]), loss (f [1], written), grad (b [n*c], written),
//       grad_scale (f [1], written)
MT_OP_ADAPTER(mt_op_mse_q8_grad_in) {
    (void)n_args;
    (void)n_bufs;
    return mse(1, args, bufs);
}
