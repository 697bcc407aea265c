// SPDX-License-Identifier: MIT
// Adapters of the QAS update kernels and their state initialisers. Optional buffers (channels,
// momentum, master, rng) are passed empty when absent.
#include "mt_op_adapters.h"
#include "mt_op_grad_args.h"
#include "../kernels/mt_qas_s32_init.h"
#include "../kernels/mt_qas_s32_update.h"
#include "../kernels/mt_qas_s8_init.h"
#include "../kernels/mt_qas_s8_update.h"

// The layout (args[0..5)) and its buffers: weights bufs[0], channels bufs[ch].
static mt_status unpack_layout(const int32_t *args, const mt_buf *bufs, size_t ch,
                               mt_qas_layout *layout) {
    const mt_qas_layout l = {args[0], args[1], args[2], args[3], args[4], 0};
    *layout = l;
    if (l.outer < 1 || l.inner < 1 || l.c_total < 1 ||
        (int64_t)l.outer * l.inner * l.c_total > INT32_MAX) {
        return MT_ERR_SHAPE;
    }
    void *channels;
    mt_status st;
    if ((st = mt_op_check_buf(&bufs[0], l.outer * l.inner * l.c_total, 1)) != MT_OK ||
        (st = mt_op_optional_buf(&bufs[ch], l.k, 4, &channels)) != MT_OK) {
        return st;
    }
    layout->channels = (const int32_t *)channels;
    return mt_qas_layout_check(layout);
}

// The bias count (args[0]) and its buffer bufs[0].
static mt_status unpack_bias(const int32_t *args, const mt_buf *bufs, int32_t *count) {
    *count = args[0];
    return *count < 1 ? MT_ERR_SHAPE : mt_op_check_buf(&bufs[0], *count, 4);
}

// args: outer, inner, c_total, k, scale_on_channel, qas (0/1), rounding (mt_rounding),
//       lr (float32 bits), momentum (float32 bits)
// bufs: weights (b [outer*inner*c_total], written), grad (f [outer*inner*k]),
//       scale (f [outer], or [c_total] when scale_on_channel), channels (i [k] or empty),
//       momentum (f [outer*inner*k] or empty, written), master (same, written),
//       rng (i [1] or empty, written)
mt_status mt_op_qas_s8_update(const int32_t *args, size_t n_args, const mt_buf *bufs,
                              size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    mt_qas_layout layout;
    mt_status st = unpack_layout(args, bufs, 3, &layout);
    if (st != MT_OK) {
        return st;
    }
    const int32_t count = layout.outer * layout.inner * layout.k;
    const int32_t n_scales = layout.scale_on_channel ? layout.c_total : layout.outer;
    mt_update_state state;
    if ((st = mt_op_check_buf(&bufs[1], count, 4)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[2], n_scales, 4)) != MT_OK ||
        (st = mt_op_update_state(&bufs[4], count, &state)) != MT_OK) {
        return st;
    }
    const mt_update_params params = mt_op_update_params(args + 5);
    return mt_qas_s8_update(&params, &layout, (int8_t *)bufs[0].data, (const float *)bufs[1].data,
                            (const float *)bufs[2].data, &state);
}

// args: count, qas (0/1), rounding (mt_rounding), lr (float32 bits), momentum (float32 bits)
// bufs: bias (i [count], written), grad (f [count]), scale (f [count]: s_x * s_w[c]),
//       momentum (f [count] or empty, written), master (same, written), rng (i [1] or empty)
mt_status mt_op_qas_s32_update(const int32_t *args, size_t n_args, const mt_buf *bufs,
                               size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    int32_t count;
    mt_update_state state;
    mt_status st;
    if ((st = unpack_bias(args, bufs, &count)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[1], count, 4)) != MT_OK ||
        (st = mt_op_check_buf(&bufs[2], count, 4)) != MT_OK ||
        (st = mt_op_update_state(&bufs[3], count, &state)) != MT_OK) {
        return st;
    }
    const mt_update_params params = mt_op_update_params(args + 1);
    return mt_qas_s32_update(&params, count, (int32_t *)bufs[0].data, (const float *)bufs[1].data,
                             (const float *)bufs[2].data, &state);
}

// args: outer, inner, c_total, k, scale_on_channel
// bufs: weights (b), channels (i [k] or empty), momentum (f or empty, written),
//       master (f or empty, written)
mt_status mt_op_qas_s8_init(const int32_t *args, size_t n_args, const mt_buf *bufs,
                            size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    mt_qas_layout layout;
    mt_status st = unpack_layout(args, bufs, 1, &layout);
    if (st != MT_OK) {
        return st;
    }
    const int32_t count = layout.outer * layout.inner * layout.k;
    mt_update_state state;
    if ((st = mt_op_master_state(&bufs[2], count, &state)) != MT_OK) {
        return st;
    }
    return mt_qas_s8_init(&layout, (const int8_t *)bufs[0].data, &state);
}

// args: count
// bufs: bias (i [count]), momentum (f [count] or empty, written), master (same, written)
mt_status mt_op_qas_s32_init(const int32_t *args, size_t n_args, const mt_buf *bufs,
                             size_t n_bufs) {
    (void)n_args;
    (void)n_bufs;
    int32_t count;
    mt_update_state state;
    mt_status st;
    if ((st = unpack_bias(args, bufs, &count)) != MT_OK ||
        (st = mt_op_master_state(&bufs[1], count, &state)) != MT_OK) {
        return st;
    }
    return mt_qas_s32_init(count, (const int32_t *)bufs[0].data, &state);
}
