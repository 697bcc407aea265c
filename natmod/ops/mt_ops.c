// SPDX-License-Identifier: MIT
#include "mt_ops.h"
#include "mt_op_adapters.h"

// Op ids are positions in this table. The host reads names and ids from the built library,
// never from a second list, and a training program records which table it was compiled for.
static const mt_op_info op_table[] = {
    {"mt_dot_s8", mt_op_dot_s8, 0, 3, "bbi", 1u << 2},
    {"mt_conv2d_s8_fwd", mt_op_conv2d_s8_fwd, 20, 6, "iibbib", 1u << 5},
    {"mt_pwconv2d_s8_fwd", mt_op_pwconv2d_s8_fwd, 20, 6, "iibbib", 1u << 5},
    {"mt_dwconv2d_s8_fwd", mt_op_dwconv2d_s8_fwd, 20, 6, "iibbib", 1u << 5},
    {"mt_fc_s8_fwd", mt_op_fc_s8_fwd, 16, 6, "iibbib", 1u << 5},
    {"mt_add_s8_fwd", mt_op_add_s8_fwd, 15, 3, "bbb", 1u << 2},
    {"mt_avgpool_s8_fwd", mt_op_avgpool_s8_fwd, 12, 2, "bb", 1u << 1},
    {"mt_dequant_s8_f32", mt_op_dequant_s8_f32, 6, 2, "bf", 1u << 1},
    {"mt_quant_f32_s8", mt_op_quant_f32_s8, 6, 2, "fb", 1u << 1},
    {"mt_conv2d_s8_grad_in", mt_op_conv2d_s8_grad_in, 21, 4, "ffbf", 1u << 1},
    {"mt_conv2d_s8_grad_w", mt_op_conv2d_s8_grad_w, 21, 3, "bff", 1u << 1},
    {"mt_pwconv2d_s8_grad_in", mt_op_pwconv2d_s8_grad_in, 21, 4, "ffbf", 1u << 1},
    {"mt_pwconv2d_s8_grad_w", mt_op_pwconv2d_s8_grad_w, 21, 3, "bff", 1u << 1},
    {"mt_dwconv2d_s8_grad_in", mt_op_dwconv2d_s8_grad_in, 21, 4, "ffbf", 1u << 1},
    {"mt_dwconv2d_s8_grad_w", mt_op_dwconv2d_s8_grad_w, 21, 4, "biff", 1u << 2},
    {"mt_fc_s8_grad_in", mt_op_fc_s8_grad_in, 17, 4, "ffbf", 1u << 1},
    {"mt_fc_s8_grad_w", mt_op_fc_s8_grad_w, 17, 3, "bff", 1u << 1},
    {"mt_bias_f32_grad_b", mt_op_bias_f32_grad_b, 4, 2, "ff", 1u << 1},
    {"mt_clamp_s8_grad_in", mt_op_clamp_s8_grad_in, 6, 2, "bf", 1u << 1},
    {"mt_add_f32_grad_in", mt_op_add_f32_grad_in, 5, 2, "ff", 1u << 1},
    {"mt_avgpool_f32_grad_in", mt_op_avgpool_f32_grad_in, 5, 2, "ff", 1u << 1},
    {"mt_xent_s8_grad_in", mt_op_xent_s8_grad_in, 4, 4, "biff", 3u << 2},
    {"mt_mse_s8_grad_in", mt_op_mse_s8_grad_in, 4, 4, "bfff", 3u << 2},
    {"mt_chansel_s8_fwd", mt_op_chansel_s8_fwd, 5, 3, "bib", 1u << 2},
    {"mt_qas_s8_update", mt_op_qas_s8_update, 9, 7, "bffiffi", 1u | 7u << 4},
    {"mt_qas_s32_update", mt_op_qas_s32_update, 5, 6, "iffffi", 1u | 7u << 3},
    {"mt_qas_s8_init", mt_op_qas_s8_init, 5, 4, "biff", 3u << 2},
    {"mt_qas_s32_init", mt_op_qas_s32_init, 1, 3, "iff", 3u << 1},
    {"mt_conv2d_q8_grad_in", mt_op_conv2d_q8_grad_in, 21, 7, "fbfbbfb", 3u << 1 | 1u << 6},
    {"mt_pwconv2d_q8_grad_in", mt_op_pwconv2d_q8_grad_in, 21, 7, "fbfbbfb", 3u << 1 | 1u << 6},
    {"mt_dwconv2d_q8_grad_in", mt_op_dwconv2d_q8_grad_in, 21, 6, "fbfbbf", 3u << 1},
    {"mt_fc_q8_grad_in", mt_op_fc_q8_grad_in, 17, 7, "fbfbbfb", 3u << 1 | 1u << 6},
    {"mt_conv2d_q8_update", mt_op_conv2d_q8_update, 25, 9, "bibfbfffi", 1u << 2 | 7u << 6},
    {"mt_pwconv2d_q8_update", mt_op_pwconv2d_q8_update, 25, 9, "bibfbfffi", 1u << 2 | 7u << 6},
    {"mt_dwconv2d_q8_update", mt_op_dwconv2d_q8_update, 25, 9, "bibfbfffi", 1u << 2 | 7u << 6},
    {"mt_fc_q8_update", mt_op_fc_q8_update, 21, 9, "bibfbfffi", 1u << 2 | 7u << 6},
    {"mt_bias_q8_update", mt_op_bias_q8_update, 8, 7, "ifbfffi", 1u | 7u << 4},
    {"mt_clamp_q8_grad_in", mt_op_clamp_q8_grad_in, 6, 2, "bb", 1u << 1},
    {"mt_add_q8_grad_in", mt_op_add_q8_grad_in, 5, 4, "bfbf", 3u << 2},
    {"mt_avgpool_q8_grad_in", mt_op_avgpool_q8_grad_in, 5, 4, "bfbf", 3u << 2},
    {"mt_xent_q8_grad_in", mt_op_xent_q8_grad_in, 4, 5, "bifbf", 7u << 2},
    {"mt_mse_q8_grad_in", mt_op_mse_q8_grad_in, 4, 5, "bffbf", 7u << 2},
    {"mt_chanmerge_s8_fwd", mt_op_chanmerge_s8_fwd, 5, 4, "bbib", 1u << 3},
    {"mt_clampmask_s8_fwd", mt_op_clampmask_s8_fwd, 6, 2, "bb", 1u << 1},
    {"mt_clampmask_f32_grad_in", mt_op_clampmask_f32_grad_in, 4, 2, "bf", 1u << 1},
    {"mt_clampmask_q8_grad_in", mt_op_clampmask_q8_grad_in, 4, 2, "bb", 1u << 1},
    {"mt_mean_s8_fwd", mt_op_mean_s8_fwd, 14, 2, "bb", 1u << 1},
    {"mt_pwconv2d_split_s8_fwd", mt_op_pwconv2d_split_s8_fwd, 21, 9, "iibbibbib",
     1u << 5 | 1u << 8},
    {"mt_pwconv2d_split_q8_grad_in", mt_op_pwconv2d_split_q8_grad_in, 22, 9, "fbfbbfbbi",
     3u << 1 | 1u << 6},
};

size_t mt_op_count(void) {
    return sizeof(op_table) / sizeof(op_table[0]);
}

const mt_op_info *mt_op_get(uint32_t op_id) {
    if (op_id >= mt_op_count()) {
        return NULL;
    }
    return &op_table[op_id];
}

mt_status mt_op_run(uint32_t op_id, const int32_t *args, size_t n_args, const mt_buf *bufs,
                    size_t n_bufs) {
    const mt_op_info *op = mt_op_get(op_id);
    if (op == NULL) {
        return MT_ERR_UNKNOWN_OP;
    }
    if (n_args != op->n_args || n_bufs != op->n_bufs) {
        return MT_ERR_ARGS;
    }
    return op->fn(args, n_args, bufs, n_bufs);
}
