// SPDX-License-Identifier: MIT
// Adapters listed in the op table (mt_ops.c). Each unpacks args/bufs and calls one kernel.
// mt_op_run has already checked n_args and n_bufs against the table, so adapters only check
// sizes that depend on the arguments.
#ifndef MT_OP_ADAPTERS_H
#define MT_OP_ADAPTERS_H

#include "mt_ops.h"

#define MT_OP_ADAPTER(fn_name) \
    mt_status fn_name(const int32_t *args, size_t n_args, const mt_buf *bufs, size_t n_bufs)

MT_OP_ADAPTER(mt_op_dot_s8);
MT_OP_ADAPTER(mt_op_conv2d_s8_fwd);
MT_OP_ADAPTER(mt_op_pwconv2d_s8_fwd);
MT_OP_ADAPTER(mt_op_dwconv2d_s8_fwd);
MT_OP_ADAPTER(mt_op_fc_s8_fwd);
MT_OP_ADAPTER(mt_op_add_s8_fwd);
MT_OP_ADAPTER(mt_op_avgpool_s8_fwd);
MT_OP_ADAPTER(mt_op_dequant_s8_f32);
MT_OP_ADAPTER(mt_op_quant_f32_s8);
MT_OP_ADAPTER(mt_op_conv2d_s8_grad_in);
MT_OP_ADAPTER(mt_op_conv2d_s8_grad_w);
MT_OP_ADAPTER(mt_op_pwconv2d_s8_grad_in);
MT_OP_ADAPTER(mt_op_pwconv2d_s8_grad_w);
MT_OP_ADAPTER(mt_op_dwconv2d_s8_grad_in);
MT_OP_ADAPTER(mt_op_dwconv2d_s8_grad_w);
MT_OP_ADAPTER(mt_op_fc_s8_grad_in);
MT_OP_ADAPTER(mt_op_fc_s8_grad_w);
MT_OP_ADAPTER(mt_op_bias_f32_grad_b);
MT_OP_ADAPTER(mt_op_clamp_s8_grad_in);
MT_OP_ADAPTER(mt_op_add_f32_grad_in);
MT_OP_ADAPTER(mt_op_avgpool_f32_grad_in);
MT_OP_ADAPTER(mt_op_xent_s8_grad_in);
MT_OP_ADAPTER(mt_op_mse_s8_grad_in);
MT_OP_ADAPTER(mt_op_chansel_s8_fwd);
MT_OP_ADAPTER(mt_op_qas_s8_update);
MT_OP_ADAPTER(mt_op_qas_s32_update);
MT_OP_ADAPTER(mt_op_qas_s8_init);
MT_OP_ADAPTER(mt_op_qas_s32_init);
MT_OP_ADAPTER(mt_op_conv2d_q8_grad_in);
MT_OP_ADAPTER(mt_op_pwconv2d_q8_grad_in);
MT_OP_ADAPTER(mt_op_dwconv2d_q8_grad_in);
MT_OP_ADAPTER(mt_op_fc_q8_grad_in);
MT_OP_ADAPTER(mt_op_conv2d_q8_update);
MT_OP_ADAPTER(mt_op_pwconv2d_q8_update);
MT_OP_ADAPTER(mt_op_dwconv2d_q8_update);
MT_OP_ADAPTER(mt_op_fc_q8_update);
MT_OP_ADAPTER(mt_op_bias_q8_update);
MT_OP_ADAPTER(mt_op_clamp_q8_grad_in);
MT_OP_ADAPTER(mt_op_add_q8_grad_in);
MT_OP_ADAPTER(mt_op_avgpool_q8_grad_in);
MT_OP_ADAPTER(mt_op_xent_q8_grad_in);
MT_OP_ADAPTER(mt_op_mse_q8_grad_in);
MT_OP_ADAPTER(mt_op_chanmerge_s8_fwd);
MT_OP_ADAPTER(mt_op_pwconv2d_split_s8_fwd);
MT_OP_ADAPTER(mt_op_pwconv2d_split_q8_grad_in);
MT_OP_ADAPTER(mt_op_clampmask_s8_fwd);
MT_OP_ADAPTER(mt_op_clampmask_f32_grad_in);
MT_OP_ADAPTER(mt_op_clampmask_q8_grad_in);
MT_OP_ADAPTER(mt_op_mean_s8_fwd);

#endif
