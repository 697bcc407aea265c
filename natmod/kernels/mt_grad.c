// SPDX-License-Identifier: MIT
#include "mt_grad.h"

mt_status mt_dims_count(const mt_dims *dims, int32_t *count) {
    const int32_t d[4] = {dims->n, dims->h, dims->w, dims->c};
    int64_t total = 1;
    for (int i = 0; i < 4; i++) {
        if (d[i] < 1 || d[i] > MT_MAX_ELEMS) {
            return MT_ERR_SHAPE;
        }
        total *= d[i];
        if (total > MT_MAX_ELEMS) {
            return MT_ERR_SHAPE;
        }
    }
    *count = (int32_t)total;
    return MT_OK;
}

static mt_status check_axis(int32_t in, int32_t kernel, int32_t stride, int32_t pad, int32_t out) {
    if (kernel < 1 || stride < 1 || pad < 0 || pad >= kernel || in < 1 || out < 1) {
        return MT_ERR_PARAM;
    }
    // The last window starts at (out - 1) * stride - pad and must still touch the input.
    if ((int64_t)(out - 1) * stride - pad >= in) {
        return MT_ERR_SHAPE;
    }
    return MT_OK;
}

mt_status mt_conv_geometry_check(const mt_conv_params *params, const mt_dims *input,
                                 int32_t kernel_h, int32_t kernel_w, const mt_dims *output) {
    if (input->n != output->n) {
        return MT_ERR_SHAPE;
    }
    mt_status st = check_axis(input->h, kernel_h, params->stride_h, params->pad_h, output->h);
    if (st != MT_OK) {
        return st;
    }
    return check_axis(input->w, kernel_w, params->stride_w, params->pad_w, output->w);
}
