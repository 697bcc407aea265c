// SPDX-License-Identifier: MIT
#include "mt_check.h"

#include "mt_requant.h"

mt_status mt_dims_count(const mt_dims *d, int32_t *count) {
    const int32_t dims[4] = {d->n, d->h, d->w, d->c};
    int64_t total = 1;
    for (int i = 0; i < 4; i++) {
        if (dims[i] < 1) {
            return MT_ERR_SHAPE;
        }
        total *= dims[i];
        if (total > INT32_MAX) {
            return MT_ERR_SHAPE;
        }
    }
    *count = (int32_t)total;
    return MT_OK;
}

mt_status mt_conv_axis_check(int32_t in, int32_t k, int32_t stride, int32_t pad, int32_t out) {
    if (in < 1 || k < 1 || stride < 1 || out < 1) {
        return MT_ERR_SHAPE;
    }
    if (pad < 0 || pad >= k) {
        return MT_ERR_PARAM;
    }
    // slack = input rows after the last window minus the bottom padding that window needs.
    int64_t slack = (int64_t)in + pad - ((int64_t)(out - 1) * stride + k);
    if (slack < -(int64_t)(k - 1) || slack > (int64_t)(stride - 1)) {
        return MT_ERR_SHAPE;
    }
    return MT_OK;
}

mt_status mt_layer_dims_check(const mt_dims *input_dims, const mt_dims *filter_dims,
                              const mt_dims *output_dims) {
    int32_t count;
    mt_status st;
    if ((st = mt_dims_count(input_dims, &count)) != MT_OK ||
        (st = mt_dims_count(filter_dims, &count)) != MT_OK) {
        return st;
    }
    return mt_dims_count(output_dims, &count);
}

mt_status mt_conv_dims_check(const mt_conv_params *params, const mt_dims *input_dims,
                             const mt_dims *filter_dims, const mt_dims *output_dims) {
    mt_status st = mt_layer_dims_check(input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    if (output_dims->n != input_dims->n) {
        return MT_ERR_SHAPE;
    }
    if ((st = mt_conv_axis_check(input_dims->h, filter_dims->h, params->stride_h, params->pad_h,
                                 output_dims->h)) != MT_OK) {
        return st;
    }
    return mt_conv_axis_check(input_dims->w, filter_dims->w, params->stride_w, params->pad_w,
                              output_dims->w);
}

mt_status mt_dwconv_dims_check(const mt_conv_params *params, const mt_dims *input_dims,
                               const mt_dims *filter_dims, const mt_dims *output_dims) {
    mt_status st = mt_conv_dims_check(params, input_dims, filter_dims, output_dims);
    if (st != MT_OK) {
        return st;
    }
    const int32_t c = input_dims->c;
    return filter_dims->n == 1 && filter_dims->c == c && output_dims->c == c ? MT_OK
                                                                               : MT_ERR_SHAPE;
}

mt_status mt_global_pool_dims_check(const mt_dims *input_dims, const mt_dims *output_dims,
                                    int32_t max_window, int32_t *window) {
    int32_t count;
    mt_status st;
    if ((st = mt_dims_count(input_dims, &count)) != MT_OK ||
        (st = mt_dims_count(output_dims, &count)) != MT_OK) {
        return st;
    }
    if (output_dims->n != input_dims->n || output_dims->h != 1 || output_dims->w != 1 ||
        output_dims->c != input_dims->c) {
        return MT_ERR_SHAPE;
    }
    *window = input_dims->h * input_dims->w;
    return *window > max_window ? MT_ERR_SHAPE : MT_OK;
}

mt_status mt_act_check(const mt_act_params *act) {
    if (act->input_offset < -127 || act->input_offset > 128) {
        return MT_ERR_PARAM;
    }
    if (act->output_offset < -128 || act->output_offset > 127) {
        return MT_ERR_PARAM;
    }
    if (act->act_min < -128 || act->act_max > 127 || act->act_min > act->act_max) {
        return MT_ERR_PARAM;
    }
    return MT_OK;
}

mt_status mt_quant_check(const mt_quant_params *quant, int32_t channels) {
    for (int32_t c = 0; c < channels; c++) {
        if (quant->shift[c] < MT_SHIFT_MIN || quant->shift[c] > MT_SHIFT_MAX) {
            return MT_ERR_PARAM;
        }
    }
    return MT_OK;
}

int mt_all_finite(const float *values, int32_t count) {
    // Bits, not float compares: no soft-float call on cores without an FPU.
    for (int32_t i = 0; i < count; i++) {
        union {
            float f;
            uint32_t u;
        } v;
        v.f = values[i];
        if ((v.u & 0x7F800000u) == 0x7F800000u) {
            return 0;
        }
    }
    return 1;
}
